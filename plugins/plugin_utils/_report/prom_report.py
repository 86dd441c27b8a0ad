# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.prom: Prometheus text exposition format for node_exporter's textfile collector.

Every series carries ``report="<name>"``, so several fleet reports can share one textfile directory
without two files exposing the same series (node_exporter rejects that as a scrape error).

The rates over the interval since the previous run (``counter_deltas``) are written for the hosts that
have them: a report run with a history, a host audited in both runs whose counters did not restart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import (
    STATUS_RANK, is_finite_number, namespace_state_counts, state_counts, worst_by_rule)
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible
from ansible_collections.tcpops.timewait.plugins.module_utils._audit.rules import SEVERITY_RANK
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.rates import RATE_COUNTERS


def label_value(text):
    """A label value: the format's escapes (backslash, quote, line feed); other control and bidi
    characters, tab and carriage return included, in backslash notation."""
    escaped = visible(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return escaped.replace("\t", "\\\\x09").replace("\r", "\\\\x0d")


class _Escaped(dict):
    """Label values escaped once per report: host names, rule ids and states repeat on every line."""

    def __missing__(self, text):
        escaped = self[text] = label_value(text)
        return escaped


def _metric(lines, name, kind, help_text, keys, samples, report, escaped):
    """``samples``: (label values in the order of ``keys``, value); ``report`` is added as a label."""
    lines.append("# HELP %s %s" % (name, help_text))
    lines.append("# TYPE %s %s" % (name, kind))
    ordered = sorted(list(keys) + ["report"])
    position = dict((key, index) for index, key in enumerate(keys))
    line = "%s{%s} %%s" % (name, ",".join('%s="%%s"' % key for key in ordered))
    for values, value in samples:
        lines.append(line % tuple([escaped[report if key == "report" else values[position[key]]] for key in ordered]
                                  + [value]))


def render(doc, generated_epoch=None, report="audit"):
    hosts = doc["hosts"]
    names = doc["summary"]["hosts_worst_first"]
    lines = []
    escaped = _Escaped()
    _metric(lines, "tcp_audit_host_status", "gauge",
            "Audit status of the host: 0 pass, 1 warn, 2 fail, 3 error, 4 unreachable.",
            ("host",), [((n,), STATUS_RANK[hosts[n]["status"]]) for n in names], report, escaped)
    _metric(lines, "tcp_audit_finding_severity", "gauge",
            "Severity of each rule on each host, the worst of its own namespace and its containers' and pods': "
            "0 pass, 1 warn, 2 fail.",
            ("host", "rule"), [((n, rule_id), SEVERITY_RANK[severity]) for n in names
                               for rule_id, severity in worst_by_rule(
                                   f for f in hosts[n].get("findings") or [] if not f.get("skipped")).items()],
            report, escaped)
    _metric(lines, "tcp_audit_tcp_sockets", "gauge", "TCP sockets per state seen by the audit.",
            ("host", "state"), [((n, state), value) for n in names
                                for state, value in sorted(state_counts(hosts[n]).items()) if value is not None],
            report, escaped)
    in_namespaces = [(n, namespace_state_counts(hosts[n])[0]) for n in names]
    in_namespaces = [(n, counts) for n, counts in in_namespaces if counts is not None]
    if in_namespaces:
        _metric(lines, "tcp_audit_namespaces_tcp_sockets", "gauge",
                "TCP sockets per state in the host's other network namespaces (namespaces: all), summed; "
                "tcp_audit_tcp_sockets leaves them out.",
                ("host", "state"), [((n, state), value) for n, counts in in_namespaces
                                    for state, value in sorted(counts.items())], report, escaped)
    intervals = [(n, hosts[n].get("counter_deltas")) for n in names]
    intervals = [(n, found) for n, found in intervals if isinstance(found, dict) and isinstance(found.get("rates"), dict)
                 and is_finite_number(found.get("interval_seconds"))]
    if intervals:
        _metric(lines, "tcp_audit_interval_seconds", "gauge",
                "Seconds between this run's collection and the previous run's, for the rates.",
                ("host",), [((n, ), found["interval_seconds"]) for n, found in intervals], report, escaped)
        _metric(lines, "tcp_audit_tcp_rate_per_second", "gauge",
                "Events per second over the interval since the previous run, from the kernel's TCP counters.",
                ("host", "rate"), [((n, key), found["rates"][key]) for n, found in intervals
                                   for key, _names in RATE_COUNTERS if is_finite_number(found["rates"].get(key))],
                report, escaped)
    _metric(lines, "tcp_audit_hosts", "gauge", "Hosts per audit status.",
            ("status",), [((status,), count) for status, count in sorted(doc["summary"]["by_status"].items())],
            report, escaped)
    if generated_epoch is not None:
        _metric(lines, "tcp_audit_last_run_timestamp_seconds", "gauge", "When the audit ran (Unix time).",
                (), [((), "%d" % generated_epoch)], report, escaped)
    return "\n".join(lines) + "\n"
