# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sysctl values of the tcp_tuning role, checked against its vetted limits table.

Parsing, formatting and comparing are the collection's one sysctl value parser
(``_sysctl/values.py``), re-exported here for the role's code; this module adds ``validate``.
Standard library only: this runs on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.values import (
    SysctlValueError, canonical, format_port_list, format_port_range, format_port_ranges, parse_int,
    parse_port_list, parse_port_range, port_list_items, same_value)

__all__ = ("SysctlValueError", "canonical", "format_port_list", "format_port_range", "parse_int", "parse_port_list",
           "parse_port_range", "same_value", "validate")


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
    lowest = limit.get("min_port", 1)
    highest = limit.get("max_port", 65535)
    outside = []
    for low, high in port_list_items(value):
        if low < lowest:
            outside.append((low, min(high, lowest - 1)))
        if high > highest:
            outside.append((max(low, highest + 1), high))
    if outside:
        return ["%s: ports %s lie outside %d-%d" % (key, format_port_ranges(outside), lowest, highest)]
    return []


def _join(items):
    return ", ".join(str(item) for item in items)


def _or_unbounded(value):
    return "unbounded" if value is None else str(value)
