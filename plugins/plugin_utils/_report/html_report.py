# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.html: one self-contained page (inline CSS and SVG, no script, nothing fetched).

Every piece of text passes through ``esc``: process names, addresses and messages come from hosts
and may contain anything, markup included (escaped), control and bidi characters too (shown in
backslash notation by ``visible``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import math

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import problems, state_counts
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible

CHART_STATES = (
    ("established", "#4e79a7"),
    ("time_wait", "#f28e2b"),
    ("close_wait", "#e15759"),
    ("fin_wait2", "#b07aa1"),
    ("other", "#bab0ac"),
)
STATUS_COLOURS = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "error": "#6a1b9a",
                  "unreachable": "#37474f"}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
.meta{color:#666}
.cards{display:flex;gap:.8em;flex-wrap:wrap}
.card{border-radius:6px;padding:.6em 1em;color:#fff;min-width:7em}
.card b{display:block;font-size:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
table.findings{table-layout:fixed}
table.findings td{overflow-wrap:anywhere}
.status{display:inline-block;border-radius:4px;padding:0 .45em;color:#fff;font-weight:600}
pre{white-space:pre-wrap;word-break:break-word;background:#f8f8f8;padding:.4em;margin:0;font-size:.85em}
.host{border:1px solid #ccc;border-radius:6px;padding:.3em 1em 1em;margin:1em 0}
.passed{color:#666;font-size:.9em}
td:first-child{white-space:nowrap}
.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
"""


def esc(value):
    return html.escape(visible(value), quote=True)


def _badge(status):
    return '<span class="status" style="background:%s">%s</span>' % (STATUS_COLOURS.get(status, "#555"),
                                                                     esc(status))


def _chart_rows(doc):
    rows = []
    for name in doc["summary"]["hosts_worst_first"]:
        counts = state_counts(doc["hosts"][name])
        if all(value is None for value in counts.values()):
            rows.append((name, None))
            continue
        known = dict((state, counts.get(state) or 0) for state, _colour in CHART_STATES if state != "other")
        other = sum(value or 0 for state, value in counts.items() if state not in known)
        known["other"] = other
        rows.append((name, known))
    return rows


def render_chart(doc):
    """Horizontal stacked bars, one per host: the length is the total on a log scale (a fleet mixes
    hosts with 50 and 50,000 sockets), the segments are each state's share of that total."""
    rows = _chart_rows(doc)
    label_width, bar_width, row_height = 220, 760, 26
    scale = math.log10(max([sum(c.values()) for _n, c in rows if c] + [1]) + 1)
    height = row_height * len(rows) + 10
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="TCP sockets per state and host" '
             'width="%d" height="%d">' % (label_width + bar_width + 90, height)]
    for index, (name, counts) in enumerate(rows):
        y = 5 + index * row_height
        parts.append('<text x="%d" y="%d" text-anchor="end" font-size="13">%s</text>' % (
            label_width - 8, y + 16, esc(name)))
        if counts is None:
            parts.append('<text x="%d" y="%d" font-size="12" fill="#666">no data</text>' % (label_width, y + 16))
            continue
        x = float(label_width)
        total = sum(counts.values())
        length = bar_width * math.log10(total + 1) / scale if total else 0.0
        for state, colour in CHART_STATES:
            value = counts[state]
            if not value:
                continue
            width = length * value / float(total)
            parts.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %d</title>'
                         '</rect>' % (x, y + 3, max(width, 1.0), row_height - 8, colour, esc(name), state, value))
            x += width
        parts.append('<text x="%.1f" y="%d" font-size="12">%d</text>' % (x + 6, y + 16, sum(counts.values())))
    parts.append("</svg>")
    legend = "".join('<span><i style="background:%s"></i>%s</span>' % (colour, state)
                     for state, colour in CHART_STATES)
    return ('<div class="legend">%s<span>bar length: total sockets, log scale</span></div>%s'
            % (legend, "".join(parts)))


def _evidence(evidence):
    lines = ["%s: %s" % (key, json.dumps(value, sort_keys=True, default=str))
             for key, value in sorted(evidence.items())]
    return "<pre>%s</pre>" % esc("\n".join(lines))


def _comparison_cell(comparison, name):
    entry = ((comparison or {}).get("hosts") or {}).get(name)
    if not entry:
        return ""
    if not entry["comparable"]:
        return esc(entry.get("note"))
    parts = []
    for kind in ("new", "resolved", "persisting"):
        if entry[kind]:
            parts.append("%s: %s" % (kind, ", ".join(entry[kind])))
    text = "; ".join(parts) or "no change"
    if entry.get("note"):
        text += " (%s)" % entry["note"]
    return esc(text)


def _remediation_text(result):
    if not result:
        return "tcp_tuning was not applied to this host."
    conflicts = result.get("conflicts") or []
    return esc("tcp_tuning applied profile %s (%s); file %s %s; %d conflicting line(s) reported." % (
        result.get("profile"), result.get("reason"), result.get("file"),
        "changed" if result.get("file_changed") else "unchanged", len(conflicts)))


def _host_section(doc, name):
    entry = doc["hosts"][name]
    facts = entry.get("facts") or {}
    out = ['<section class="host" id="host-%s"><h3>%s %s</h3>' % (esc(name), esc(name), _badge(entry["status"]))]
    if entry.get("reason"):
        out.append("<p>Reason: %s</p>" % esc(entry["reason"]))
    if facts:
        out.append('<p class="meta">kernel %s, backend %s, collected in %s ms</p>' % (
            esc(facts.get("kernel")), esc(facts.get("backend")), esc(facts.get("duration_ms"))))
    if "remediation" in entry:
        out.append("<p>%s</p>" % _remediation_text(entry["remediation"]))
    if "comparison" in doc:
        against = esc(doc["comparison"]["against"])
        out.append("<p>Compared with the %s: %s</p>" % (against, _comparison_cell(doc["comparison"], name)))
    found = problems(entry)
    if found:
        out.append('<table class="findings"><tr><th style="width:16%">rule</th><th style="width:8%">severity</th>'
                   '<th style="width:22%">finding</th><th style="width:32%">evidence</th>'
                   '<th style="width:22%">remediation</th></tr>')
        for finding in found:
            out.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s<br><small>fixed by: %s</small></td>"
                       "</tr>" % (esc(finding["id"]), _badge(finding["severity"]), esc(finding["message"]),
                                  _evidence(finding["evidence"]), esc(finding["remediation"]),
                                  esc(finding["fixed_by"])))
        out.append("</table>")
    passed = [f for f in entry.get("findings") or [] if f["severity"] == "pass"]
    if passed:
        out.append('<p class="passed">passed: %s</p>' % ", ".join(
            esc(f["id"]) + (" (not evaluated)" if f.get("skipped") else "") for f in passed))
    out.append("</section>")
    return "".join(out)


def render(doc, title="TCP TIME_WAIT / CLOSE_WAIT audit"):
    summary = doc["summary"]
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
           "<title>%s</title><style>%s</style></head><body>" % (esc(title), CSS),
           "<h1>%s</h1>" % esc(title),
           '<p class="meta">generated %s, %d hosts, worst status %s</p>' % (
               esc(doc.get("generated_at")), summary["hosts"], esc(summary["worst_status"])),
           '<h2>Fleet summary</h2><div class="cards">']
    for status in ("fail", "warn", "pass", "error", "unreachable"):
        out.append('<div class="card" style="background:%s"><b>%d</b>%s</div>' % (
            STATUS_COLOURS[status], summary["by_status"][status], status))
    out.append("</div>")
    if "comparison" in doc:
        totals = doc["comparison"]["totals"]
        out.append("<p>Compared with the %s (%s): %d new, %d resolved, %d persisting findings.</p>" % (
            esc(doc["comparison"]["against"]), esc(doc["comparison"].get("previous_generated_at")),
            totals["new"], totals["resolved"], totals["persisting"]))
    rule_rows = [(rule_id, c) for rule_id, c in sorted(summary["by_rule"].items()) if c["warn"] or c["fail"]]
    if rule_rows:
        out.append("<table><tr><th>rule</th><th>hosts failing</th><th>hosts warning</th></tr>")
        out.extend("<tr><td>%s</td><td>%d</td><td>%d</td></tr>" % (esc(r), c["fail"], c["warn"])
                   for r, c in rule_rows)
        out.append("</table>")
    out.append("<h2>TCP states per host</h2>")
    out.append(render_chart(doc))
    out.append("<h2>Hosts, worst first</h2><table><tr><th>host</th><th>status</th><th>findings</th>")
    if "comparison" in doc:
        out.append("<th>change</th>")
    out.append("</tr>")
    for name in summary["hosts_worst_first"]:
        entry = doc["hosts"][name]
        found = problems(entry)
        text = "; ".join("%s: %s" % (f["id"], f["message"]) for f in found) or entry.get("reason") or "none"
        out.append('<tr><td><a href="#host-%s">%s</a></td><td>%s</td><td>%s</td>' % (
            esc(name), esc(name), _badge(entry["status"]), esc(text)))
        if "comparison" in doc:
            out.append("<td>%s</td>" % _comparison_cell(doc["comparison"], name))
        out.append("</tr>")
    out.append("</table><h2>Findings per host</h2>")
    out.extend(_host_section(doc, name) for name in summary["hosts_worst_first"])
    out.append("</body></html>\n")
    return "".join(out)
