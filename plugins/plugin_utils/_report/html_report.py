# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.html: one self-contained page (inline CSS and SVG, no script, nothing fetched).

The page is the Jinja2 template ``templates/report.html.j2`` rendered with autoescape: every value
is HTML-escaped unless it is markup the template built itself. Process names, addresses and
messages come from hosts and may contain anything; markup is escaped, and control and bidi
characters are shown in backslash notation (``visible``, applied to every value the template prints).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import problems, state_counts
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE = "report.html.j2"
CHART_STATES = (
    ("established", "#4e79a7"),
    ("time_wait", "#f28e2b"),
    ("close_wait", "#e15759"),
    ("fin_wait2", "#b07aa1"),
    ("other", "#bab0ac"),
)
STATUS_COLOURS = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "error": "#6a1b9a",
                  "unreachable": "#37474f"}
STATUS_ORDER = ("fail", "warn", "pass", "error", "unreachable")


def _shown(value):
    """What the template prints for a value: markup it built as is, anything else as visible text."""
    if isinstance(value, Markup):
        return value
    return visible(value)


def environment():
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=StrictUndefined,
                      finalize=_shown, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["evidence_text"] = _evidence_text
    return env


def _evidence_text(evidence):
    return "\n".join("%s: %s" % (key, json.dumps(value, sort_keys=True, default=str))
                     for key, value in sorted(evidence.items()))


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


def chart(doc):
    """Horizontal stacked bars, one per host: the length is the total on a log scale (a fleet mixes
    hosts with 50 and 50,000 sockets), the segments are each state's share of that total."""
    rows = _chart_rows(doc)
    label_width, bar_width, row_height = 220, 760, 26
    scale = math.log10(max([sum(c.values()) for _n, c in rows if c] + [1]) + 1)
    bars = []
    for index, (name, counts) in enumerate(rows):
        bar = {"name": name, "y": 5 + index * row_height, "segments": [], "total": None}
        if counts is not None:
            x = float(label_width)
            total = sum(counts.values())
            length = bar_width * math.log10(total + 1) / scale if total else 0.0
            for state, colour in CHART_STATES:
                value = counts[state]
                if not value:
                    continue
                width = length * value / float(total)
                bar["segments"].append({"x": "%.1f" % x, "width": "%.1f" % max(width, 1.0), "colour": colour,
                                        "state": state, "value": value})
                x += width
            bar["total"] = total
            bar["end"] = "%.1f" % (x + 6)
        bars.append(bar)
    return {"bars": bars, "label_width": label_width, "row_height": row_height,
            "width": label_width + bar_width + 90, "height": row_height * len(rows) + 10}


def _comparison_text(comparison, name):
    entry = ((comparison or {}).get("hosts") or {}).get(name)
    if not entry:
        return ""
    if not entry["comparable"]:
        return entry.get("note")
    parts = []
    for kind in ("new", "resolved", "persisting"):
        if entry[kind]:
            parts.append("%s: %s" % (kind, ", ".join(entry[kind])))
    text = "; ".join(parts) or "no change"
    if entry.get("note"):
        text += " (%s)" % entry["note"]
    return text


def _remediation_text(result):
    if not result:
        return "tcp_tuning was not applied to this host."
    conflicts = result.get("conflicts") or []
    return "tcp_tuning applied profile %s (%s); file %s %s; %d conflicting line(s) reported." % (
        result.get("profile"), result.get("reason"), result.get("file"),
        "changed" if result.get("file_changed") else "unchanged", len(conflicts))


def _host_view(doc, name):
    entry = doc["hosts"][name]
    found = problems(entry)
    return {
        "name": name,
        "status": entry["status"],
        "reason": entry.get("reason"),
        "facts": entry.get("facts") or {},
        "has_remediation": "remediation" in entry,
        "remediation_text": _remediation_text(entry.get("remediation")),
        "comparison_text": _comparison_text(doc.get("comparison"), name),
        "problems": found,
        "summary_text": "; ".join("%s: %s" % (f["id"], f["message"]) for f in found) or entry.get("reason")
        or "none",
        "passed": [f for f in entry.get("findings") or [] if f["severity"] == "pass"],
    }


def render(doc, title="TCP TIME_WAIT / CLOSE_WAIT audit"):
    summary = doc["summary"]
    rule_rows = [(rule_id, c) for rule_id, c in sorted(summary["by_rule"].items()) if c["warn"] or c["fail"]]
    return environment().get_template(TEMPLATE).render(
        title=title,
        doc=doc,
        summary=summary,
        status_order=STATUS_ORDER,
        status_colours=STATUS_COLOURS,
        comparison=doc.get("comparison"),
        rule_rows=rule_rows,
        chart=chart(doc),
        chart_states=CHART_STATES,
        hosts=[_host_view(doc, name) for name in summary["hosts_worst_first"]],
    )
