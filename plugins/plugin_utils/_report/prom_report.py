# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.prom: Prometheus text exposition format for node_exporter's textfile collector.

Every series carries ``report="<name>"``, so several fleet reports can share one textfile directory
without two files exposing the same series (node_exporter rejects that as a scrape error).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import STATUS_RANK, state_counts
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible
from ansible_collections.tcpops.timewait.plugins.module_utils._audit.rules import SEVERITY_RANK


def label_value(text):
    """A label value: the format's escapes (backslash, quote, line feed); other control and bidi
    characters, tab and carriage return included, in backslash notation."""
    escaped = visible(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return escaped.replace("\t", "\\\\x09").replace("\r", "\\\\x0d")


def _labels(labels):
    return "{%s}" % ",".join('%s="%s"' % (key, label_value(value)) for key, value in sorted(labels.items()))


def _metric(lines, name, kind, help_text, samples, report):
    lines.append("# HELP %s %s" % (name, help_text))
    lines.append("# TYPE %s %s" % (name, kind))
    for labels, value in samples:
        labels = dict(labels, report=report)
        lines.append("%s%s %s" % (name, _labels(labels), value))


def render(doc, generated_epoch=None, report="audit"):
    hosts = doc["hosts"]
    names = doc["summary"]["hosts_worst_first"]
    lines = []
    _metric(lines, "tcp_audit_host_status", "gauge",
            "Audit status of the host: 0 pass, 1 warn, 2 fail, 3 error, 4 unreachable.",
            [({"host": n}, STATUS_RANK[hosts[n]["status"]]) for n in names], report)
    _metric(lines, "tcp_audit_finding_severity", "gauge",
            "Severity of each rule on each host: 0 pass, 1 warn, 2 fail.",
            [({"host": n, "rule": f["id"]}, SEVERITY_RANK[f["severity"]])
             for n in names for f in hosts[n].get("findings") or [] if not f.get("skipped")], report)
    _metric(lines, "tcp_audit_tcp_sockets", "gauge", "TCP sockets per state seen by the audit.",
            [({"host": n, "state": state}, value) for n in names
             for state, value in sorted(state_counts(hosts[n]).items()) if value is not None], report)
    _metric(lines, "tcp_audit_hosts", "gauge", "Hosts per audit status.",
            [({"status": status}, count) for status, count in sorted(doc["summary"]["by_status"].items())], report)
    if generated_epoch is not None:
        _metric(lines, "tcp_audit_last_run_timestamp_seconds", "gauge", "When the audit ran (Unix time).",
                [({}, "%d" % generated_epoch)], report)
    return "\n".join(lines) + "\n"
