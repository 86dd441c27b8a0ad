# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sysctl values of the tcp_tuning role: parse, format, compare and validate.

Three kinds of value exist among the keys the role manages:
``int`` (most keys), ``port_range`` (``ip_local_port_range``: two ports) and
``port_list`` (``ip_local_reserved_ports``: comma separated ports and ranges).
Standard library only: this runs on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

KERNEL_DEFAULT_PORT_SPAN = 60999 - 32768 + 1

_INT_RE = re.compile(r"^-?[0-9]+$")


class TuningValueError(ValueError):
    """A value that cannot be parsed for its kind."""


def parse_int(value):
    if isinstance(value, bool):
        raise TuningValueError("expected an integer, got the boolean %r" % (value,))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not _INT_RE.match(text):
        raise TuningValueError("expected an integer, got %r" % (value,))
    return int(text)


def parse_port_range(value):
    """``"32768 60999"`` (any white space), ``"32768-60999"`` or a two-item list -> (low, high)."""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = str(value).replace("-", " ").split()
    if len(parts) != 2:
        raise TuningValueError("expected two ports 'LOW HIGH', got %r" % (value,))
    return parse_int(parts[0]), parse_int(parts[1])


def format_port_range(low, high):
    return "%d %d" % (low, high)


def parse_port_list(value):
    """``"8080,9000-9002"``, ``""``, None or a list of ports / ranges -> sorted list of ints."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
    else:
        items = str(value).replace(" ", ",").split(",")
    ports = set()
    for item in items:
        item = item.strip()
        if not item:
            continue
        if "-" in item:
            low, high = parse_port_range(item)
            if low > high:
                raise TuningValueError("port range %r goes backwards" % (item,))
            ports.update(range(low, high + 1))
        else:
            ports.add(parse_int(item))
    return sorted(ports)


def format_port_list(ports):
    """Sorted ports -> the kernel's own compact form, ``"8080,9000-9002"``."""
    ports = sorted(set(ports))
    chunks = []
    start = prev = None
    for port in ports:
        if start is None:
            start = prev = port
        elif port == prev + 1:
            prev = port
        else:
            chunks.append(_chunk(start, prev))
            start = prev = port
    if start is not None:
        chunks.append(_chunk(start, prev))
    return ",".join(chunks)


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


def validate(key, value, limit):
    """Check one value against its row of the vetted limits table.

    Returns a list of messages, empty when the value is acceptable. Each message names the key
    and says what an acceptable value looks like.
    """
    kind = limit.get("kind", "int")
    try:
        if kind == "port_range":
            return _validate_port_range(key, value, limit)
        if kind == "port_list":
            return _validate_port_list(key, value, limit)
        return _validate_int(key, parse_int(value), limit)
    except ValueError as exc:
        return ["%s: %s" % (key, exc)]


def _validate_int(key, number, limit):
    choices = limit.get("choices")
    if choices is not None and number not in choices:
        return ["%s = %d is not one of the vetted values %s" % (key, number, _join(choices))]
    low = limit.get("min")
    high = limit.get("max")
    if low is not None and number < low:
        return ["%s = %d is below the vetted minimum %d: use a value from %s to %s"
                % (key, number, low, low, _or_unbounded(high))]
    if high is not None and number > high:
        return ["%s = %d is above the vetted maximum %d: use a value from %s to %s"
                % (key, number, high, _or_unbounded(low), high)]
    return []


def _validate_port_range(key, value, limit):
    low, high = parse_port_range(value)
    lowest = limit.get("min_port", 1024)
    highest = limit.get("max_port", 65535)
    min_span = limit.get("min_span", 1)
    errors = []
    if low < lowest or high > highest:
        errors.append("%s = %d %d leaves the vetted bounds: both ports must lie within %d-%d"
                      % (key, low, high, lowest, highest))
    if low >= high:
        errors.append("%s = %d %d: the first port must be lower than the second" % (key, low, high))
    elif high - low + 1 < min_span:
        errors.append("%s = %d %d spans %d ports, fewer than the vetted minimum %d: widen it"
                      % (key, low, high, high - low + 1, min_span))
    return errors


def _validate_port_list(key, value, limit):
    ports = parse_port_list(value)
    lowest = limit.get("min_port", 1)
    highest = limit.get("max_port", 65535)
    bad = [port for port in ports if port < lowest or port > highest]
    if bad:
        return ["%s: ports %s lie outside %d-%d" % (key, format_port_list(bad), lowest, highest)]
    return []


def _join(items):
    return ", ".join(str(item) for item in items)


def _or_unbounded(value):
    return "unbounded" if value is None else str(value)
