# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rows a profile asks for: the vetted table's rows with ``tcp_tuning_overrides`` laid over them.

Pure functions of the role's tables and the operator's overrides; the host is not looked at here
(``resolve`` does that). Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import TW_RECYCLE


def kind_of(limits, key):
    """The kind of a key's value (``int``, ``port_range``, ``port_list``) from the vetted limits table."""
    return (limits.get(key) or {}).get("kind", "int")


def managed_kinds(limits):
    """Every key the role may ever write, with its kind: the vetted limits and the forced tcp_tw_recycle."""
    kinds = dict((key, kind_of(limits, key)) for key in limits)
    kinds[TW_RECYCLE] = "int"
    return kinds


def compose_rows(profile, table_rows, overrides, limits):
    """``(rows, dropped)``: the profile's rows with the overrides laid over them, in the table's order.

    An override of ``None`` drops the row (listed in ``dropped`` with the reason); an override of a
    vetted key the profile does not set adds a row after the profile's. ``tcp_tw_recycle`` and keys
    outside ``limits`` are never added (the refusals name them).
    """
    rows, dropped, seen = [], [], set()
    for row in table_rows:
        row = dict(row)
        key = row["key"]
        seen.add(key)
        if key in overrides:
            override = overrides[key]
            if override is None:
                dropped.append({"key": key, "value": row.get("value"), "reason": "dropped by tcp_tuning_overrides"})
                continue
            row.update({"value": override, "why": "set by tcp_tuning_overrides (vetted %s: %s)"
                        % (profile, row.get("why", "")), "at_least": False, "override": True})
        rows.append(row)
    for key in sorted(overrides):
        if key in seen or key == TW_RECYCLE or key not in limits or overrides[key] is None:
            continue
        rows.append({"key": key, "value": overrides[key], "override": True,
                     "why": "set by tcp_tuning_overrides (not part of the %s profile)" % profile})
    return rows, dropped
