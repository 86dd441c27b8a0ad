# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.csv: one row per host, worst first. Every cell passes through ``csv_cell``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import (
    namespace_state_counts, problems, state_counts, worst_by_rule)
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import csv_cell
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.rates import RATE_COUNTERS

# the rates over the interval since the previous run (counter_deltas) close the row, empty without one
RATE_COLUMNS = tuple("%s_per_second" % key for key, _names in RATE_COUNTERS)
# then the host's other network namespaces (containers, pods): how many are listed in full, how many it
# has, how many the sums cover (every one read; those listed, for facts of a module that did not sum them)
# and their sockets summed; empty without namespaces: all
NAMESPACE_STATES = ("established", "time_wait", "close_wait", "fin_wait2")
NAMESPACE_COLUMNS = ("namespaces_listed", "namespaces_total", "namespaces_summed") + tuple(
    "namespaces_%s" % state for state in NAMESPACE_STATES)
COLUMNS = ("host", "status", "fail_count", "warn_count", "failing_rules", "warning_rules", "established",
           "time_wait", "close_wait", "fin_wait2", "close_wait_owners", "kernel", "backend", "reason",
           "interval_seconds") + RATE_COLUMNS + NAMESPACE_COLUMNS


def _interval(found):
    if not isinstance(found, dict) or not isinstance(found.get("rates"), dict):
        return (None,) * (1 + len(RATE_COLUMNS))
    return (found.get("interval_seconds"),) + tuple(found["rates"].get(key) for key, _names in RATE_COUNTERS)


def _namespaces(entry):
    counts, summed_over, listed, total = namespace_state_counts(entry)
    if counts is None:
        return (None,) * len(NAMESPACE_COLUMNS)
    return (listed, total, summed_over) + tuple(counts[state] for state in NAMESPACE_STATES)


def render(doc):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for name in doc["summary"]["hosts_worst_first"]:
        entry = doc["hosts"][name]
        found = problems(entry)
        worst = worst_by_rule(found)
        facts = entry.get("facts") or {}
        counts = state_counts(entry)
        owners = ((facts.get("close_wait") or {}).get("top_processes")) or []
        row = (
            name,
            entry["status"],
            sum(1 for f in found if f["severity"] == "fail"),
            sum(1 for f in found if f["severity"] == "warn"),
            " ".join(rule_id for rule_id, severity in worst.items() if severity == "fail"),
            " ".join(rule_id for rule_id, severity in worst.items() if severity == "warn"),
            counts["established"],
            counts["time_wait"],
            counts["close_wait"],
            counts["fin_wait2"],
            " ".join("%s/%s:%s" % (o.get("comm"), o.get("pid"), o.get("count")) for o in owners),
            facts.get("kernel"),
            facts.get("backend"),
            entry.get("reason"),
        ) + _interval(entry.get("counter_deltas")) + _namespaces(entry)
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()
