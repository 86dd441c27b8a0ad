# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sysctl values: the one parser of integers, port ranges and port lists, and their canonical text.

Three kinds of value exist among the keys the collection reads and writes: ``int`` (most keys),
``port_range`` (``ip_local_port_range``: two ports) and ``port_list`` (``ip_local_reserved_ports``:
comma separated ports and ranges, the kernel's own compact form). A value that does not parse as
its kind raises ``SysctlValueError`` (a ``ValueError``) saying what was expected. Ports are
0-65535 and a list expands to at most 65,536 ports whatever its text says.
Standard library only, and cheap to import: summary mode loads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAX_PORT = 65535


class SysctlValueError(ValueError):
    """A value that cannot be parsed for its kind."""


def parse_int(value):
    """An int from an int or from text of ASCII digits with an optional leading ``-``."""
    if isinstance(value, bool):
        raise SysctlValueError("expected an integer, got the boolean %r" % (value,))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise SysctlValueError("expected an integer, got %r" % (value,))
    return int(text)


def int_or_none(text):
    """``parse_int`` that answers None instead of raising."""
    try:
        return parse_int(text)
    except ValueError:
        return None


def int_or_text(text):
    """A live value as the facts report it: an int when it is one integer, else the folded text."""
    folded = " ".join(text.split())
    number = int_or_none(folded)
    return folded if number is None else number


def parse_port(value):
    port = parse_int(value)
    if not 0 <= port <= MAX_PORT:
        raise SysctlValueError("port %d out of 0-%d" % (port, MAX_PORT))
    return port


def parse_port_range(value):
    """``"32768 60999"`` (any white space), ``"32768-60999"`` or a two-item list -> (low, high)."""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = str(value).replace("-", " ").split()
    if len(parts) != 2:
        raise SysctlValueError("expected two ports 'LOW HIGH', got %r" % (value,))
    return parse_int(parts[0]), parse_int(parts[1])


def format_port_range(low, high):
    return "%d %d" % (low, high)


def port_list_items(value):
    """``"8080,9000-9002"``, ``""``, None or a list of ports / ranges -> its ``(low, high)`` pairs, as written.

    Raise ``SysctlValueError`` for an item that is not a port or ``LOW-HIGH``, or a range that goes backwards.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
    else:
        items = str(value).replace(" ", ",").split(",")
    pairs = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if "-" in item:
            low, high = parse_port_range(item)
            if low > high:
                raise SysctlValueError("port range %r goes backwards" % (item,))
        else:
            low = high = parse_int(item)
        pairs.append((low, high))
    return pairs


def parse_port_list(value):
    """The sorted ports of a port list (``port_list_items``); a port outside 0-65535 raises."""
    ports = set()
    for low, high in port_list_items(value):
        ports.update(range(parse_port(low), parse_port(high) + 1))
    return sorted(ports)


def format_port_ranges(pairs):
    """``(low, high)`` pairs -> the kernel's own compact form, ``"8080,9000-9002"``, merged and sorted."""
    chunks = []
    start = end = None
    for low, high in sorted(pairs):
        if start is not None and low <= end + 1:
            end = max(end, high)
            continue
        if start is not None:
            chunks.append(_chunk(start, end))
        start, end = low, high
    if start is not None:
        chunks.append(_chunk(start, end))
    return ",".join(chunks)


def format_port_list(ports):
    """Ports -> the kernel's own compact form, ``"8080,9000-9002"``."""
    return format_port_ranges((port, port) for port in ports)


def _chunk(start, end):
    return str(start) if start == end else "%d-%d" % (start, end)


def canonical(kind, value):
    """The text a sysctl file and /proc/sys would both agree on for this value."""
    if kind == "port_range":
        return format_port_range(*parse_port_range(value))
    if kind == "port_list":
        return format_port_list(parse_port_list(value))
    return str(parse_int(value))


def same_value(kind, left, right):
    """True when two values mean the same thing (white space and list order do not matter)."""
    if left is None or right is None:
        return left is None and right is None
    try:
        return canonical(kind, left) == canonical(kind, right)
    except ValueError:
        return " ".join(str(left).split()) == " ".join(str(right).split())
