# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Composed rows resolved against one host's kernel: the values to write, and the keys left out.

A row is left out when this kernel lacks its key, cannot write it, or (``requires: conntrack``)
has no conntrack table. ``at_least`` rows never go below the live value; the ``reserve_listening``
row becomes the ports already reserved, plus the override's, plus every listening port inside the
effective port range. Where the kernel still has ``tcp_tw_recycle`` a row forcing it to 0 comes
first. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import (
    CONNTRACK_MAX, PORT_RANGE, TW_RECYCLE)
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.compose import kind_of

KERNEL_DEFAULT_PORT_RANGE = (32768, 60999)


def needs_listen_ports(rows):
    return any(row.get("reserve_listening") for row in rows)


def listen_ports(facts):
    """The listening ports from full-mode tcp_state facts; None when the facts do not say."""
    listen = (facts or {}).get("listen")
    if not listen or listen.get("ports") is None:
        return None
    return [int(port) for port in listen["ports"]]


def effective_port_range(rows, kernel):
    """The ephemeral range after the role: the composed row's, else the live one, else the kernel default."""
    for row in rows:
        if row["key"] == PORT_RANGE:
            return values.parse_port_range(row["value"])
    live = kernel.read(PORT_RANGE)
    return values.parse_port_range(live) if live else KERNEL_DEFAULT_PORT_RANGE


def skip_reason(row, kernel):
    key = row["key"]
    if row.get("requires") == "conntrack" and not kernel.exists(CONNTRACK_MAX):
        return "nf_conntrack is not loaded: no conntrack table to tune"
    if not kernel.exists(key):
        return "this kernel has no %s" % key
    if not kernel.writable(key):
        return "not writable here (read-only in this network namespace)"
    return None


def resolve_value(row, kind, live, ports, port_range):
    """The value to write for one row, given the key's live value; None when nothing is left to reserve."""
    value = row.get("value")
    if row.get("reserve_listening"):
        extra = values.parse_port_list(value) if row.get("override") else []
        low, high = port_range
        inside = [port for port in ports if low <= port <= high]
        reserved = set(values.parse_port_list(live)) | set(extra) | set(inside)
        return values.format_port_list(reserved) if reserved else None
    if row.get("at_least"):
        number = values.parse_int(value)
        try:
            number = max(number, values.parse_int(live))
        except ValueError:
            pass
        return number
    return values.parse_int(value) if kind == "int" else values.canonical(kind, value)


def resolve_rows(rows, kernel, limits, ports, tw_recycle_why):
    """``(settings, left_out)``: each setting ``key``, ``value``, ``why``; each left-out row ``key``, ``value``, ``reason``."""
    port_range = effective_port_range(rows, kernel)
    if kernel.exists(TW_RECYCLE):
        rows = [{"key": TW_RECYCLE, "value": 0, "why": tw_recycle_why}] + list(rows)
    settings, left_out = [], []
    for row in rows:
        reason = skip_reason(row, kernel)
        if reason:
            left_out.append({"key": row["key"], "value": row.get("value"), "reason": reason})
            continue
        value = resolve_value(row, kind_of(limits, row["key"]), kernel.read(row["key"]), ports or [], port_range)
        if value is None:
            left_out.append({"key": row["key"], "value": None,
                             "reason": "no listening port inside %d-%d and nothing reserved" % port_range})
            continue
        settings.append({"key": row["key"], "value": value, "why": row.get("why", "")})
    return settings, left_out
