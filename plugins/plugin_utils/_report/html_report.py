# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.html: one self-contained page (inline CSS and SVG, no script, nothing fetched).

The page is the Jinja2 template ``templates/report.html.j2`` rendered with autoescape: every value
is HTML-escaped unless it is markup the template built itself. Process names, addresses and
messages come from hosts and may contain anything; markup is escaped, and control and bidi
characters are shown in backslash notation (``visible``, applied to every value the template prints).

This module turns the fleet document into the small views the template prints (numbers already
formatted, gauge widths, chart coordinates); the template decides nothing but layout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import STATUS_RANK, problems
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import trends
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE = "report.html.j2"
STATE_COLOURS = (
    ("established", "#4e79a7"),
    ("time_wait", "#f28e2b"),
    ("close_wait", "#e15759"),
    ("fin_wait2", "#b07aa1"),
    ("listen", "#59a14f"),
    ("syn_sent", "#76b7b2"),
    ("syn_recv", "#edc948"),
    ("fin_wait1", "#ff9da7"),
    ("last_ack", "#9c755f"),
    ("closing", "#d37295"),
    ("close", "#bab0ac"),
)
STATUS_COLOURS = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "error": "#6a1b9a",
                  "unreachable": "#37474f"}
STATUS_ORDER = ("fail", "warn", "pass", "error", "unreachable")
# the sysctls a reader checks first, live and as the sysctl files set them
KEY_SYSCTLS = ("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_max_tw_buckets",
               "net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_port_range")
EVIDENCE_TABLE_ROWS = 3
FLEET_TOP = 10
LISTENERS_SHOWN = 10
FILLING_QUEUE = 0.5  # a listener whose accept queue holds half its backlog or more is shown
SORT_KEYS = ("worst", "name", "port", "time_wait", "close_wait")
# shown even at zero; the rarer states only when a host has some
MAIN_STATES = ("established", "time_wait", "close_wait", "fin_wait2", "listen")


def _shown(value):
    """What the template prints for a value: markup it built as is, anything else as visible text."""
    if isinstance(value, Markup):
        return value
    return visible(value)


def environment():
    return Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=StrictUndefined,
                       finalize=_shown, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


# --- numbers as a reader wants them ----------------------------------------------------------------

def number(value):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return "{:,}".format(value)
    if isinstance(value, float):
        return "{:,.4g}".format(value)
    return value


def percent(fraction):
    if fraction is None:
        return "n/a"
    value = fraction * 100
    return "%.1f%%" % value if 0 < value < 10 else "%.0f%%" % value


def _width(fraction):
    """A gauge width in percent, 0 to 100, never a hairline for a non-zero value."""
    if not fraction:
        return "0"
    return "%.1f" % min(100.0, max(0.8, fraction * 100))


def _is_fraction_key(key, value):
    return isinstance(value, float) and 0 <= value <= 1 and ("usage" in key or key.endswith("_at"))


def _is_identifier_key(key):
    """Ports, pids and line numbers are names, not amounts: no thousands separator."""
    return key in ("port", "pid", "line", "local_ports", "port_range") or key.endswith("_port")


def _scalar_text(key, value):
    if _is_fraction_key(key, value):
        return percent(value)
    if _is_identifier_key(key) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return number(value)


def _list_text(key, values):
    return ", ".join(str(_scalar_text(key, v)) for v in values)


# --- evidence: sentences and small tables, not dumps -------------------------------------------------

def evidence_view(evidence):
    """Each evidence item as ``{"label", "text"}`` or ``{"label", "columns", "rows", "more"}``.

    Empty items are left out; a list of records becomes a table of at most EVIDENCE_TABLE_ROWS rows
    and says how many more there are; a record becomes one line of ``name value`` pairs.
    """
    items = []
    evidence = dict(evidence or {})
    limits = [(word, evidence.pop(key)) for word, key in (("warn", "warn_at"), ("fail", "fail_at")) if key in evidence]
    for key in sorted(evidence):
        value = evidence[key]
        if value is None or value == [] or value == {}:
            continue
        label = key.replace("_", " ") if not key.startswith(("tcp_", "ip_")) and "." not in key else key
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            columns = []
            for record in value:
                columns.extend(c for c in record if c not in columns)
            rows = [[_list_text(c, record.get(c)) if isinstance(record.get(c), list)
                     else _scalar_text(c, record.get(c)) for c in columns]
                    for record in value[:EVIDENCE_TABLE_ROWS]]
            items.append({"label": label, "columns": [c.replace("_", " ") for c in columns], "rows": rows,
                          "more": max(0, len(value) - EVIDENCE_TABLE_ROWS)})
        elif isinstance(value, list):
            items.append({"label": label, "text": _list_text(key, value)})
        elif isinstance(value, dict):
            items.append({"label": label, "text": ", ".join(
                "%s %s" % (k.replace("_", " "), _scalar_text(k, v)) for k, v in value.items())})
        else:
            items.append({"label": label, "text": _scalar_text(key, value)})
    if limits:
        items.append({"label": "thresholds", "text": ", ".join(
            "%s at %s" % (word, _scalar_text(word + "_at", value)) for word, value in limits)})
    return items


# --- one host -----------------------------------------------------------------------------------------

def _states(counts):
    total = sum(counts.get(state) or 0 for state, _c in STATE_COLOURS)
    states = []
    for state, colour in STATE_COLOURS:
        value = counts.get(state)
        if value is None or (not value and state not in MAIN_STATES):
            continue
        states.append({"state": state, "colour": colour, "value": number(value), "count": value,
                       "width": "%.2f" % (100.0 * value / total) if total and value else "0"})
    return states, total


def worst_port_usage(facts):
    destinations = ((facts or {}).get("time_wait") or {}).get("top_destinations") or []
    usages = [d.get("port_usage") for d in destinations if isinstance(d.get("port_usage"), (int, float))]
    return max(usages) if usages else None


def _ports(facts):
    ports = facts.get("ephemeral_ports") or {}
    if not ports:
        return None
    return {"low": ports.get("low"), "high": ports.get("high"), "size": number(ports.get("size")),
            "reserved": number(ports.get("reserved_in_range")), "usable": number(ports.get("usable"))}


def _sysctls(facts, sysctl_config):
    live = facts.get("sysctl") or {}
    effective = (sysctl_config or {}).get("effective") if sysctl_config else None
    rows = []
    for key in KEY_SYSCTLS:
        where = (effective or {}).get(key)
        if effective is None:
            configured = "sysctl files not read"
        elif where:
            configured = "%s (%s:%s)" % (where.get("value"), where.get("path"), where.get("line"))
        else:
            configured = "not set in any sysctl file"
        value = live.get(key)
        rows.append({"key": key, "live": "absent on this kernel" if value is None and key in live else number(value),
                     "configured": configured})
    return rows


def _destinations(facts, thresholds):
    destinations = (facts.get("time_wait") or {}).get("top_destinations") or []
    warn, fail = thresholds.get("port_usage_warn"), thresholds.get("port_usage_fail")
    rows = []
    for d in destinations:
        usage = d.get("port_usage")
        level = "ok"
        if isinstance(usage, (int, float)) and fail is not None and usage >= fail:
            level = "fail"
        elif isinstance(usage, (int, float)) and warn is not None and usage >= warn:
            level = "warn"
        rows.append({"address": d.get("address"), "port": d.get("port"), "count": number(d.get("count")),
                     "usage": percent(usage), "width": _width(usage), "level": level})
    return {"rows": rows, "warn": _width(warn), "fail": _width(fail), "warn_text": percent(warn),
            "fail_text": percent(fail)}


def _close_wait(facts):
    close_wait = facts.get("close_wait") or {}
    if not close_wait:
        return None
    owners = [{"comm": o.get("comm"), "pid": o.get("pid"), "count": number(o.get("count")),
               "ports": ", ".join(str(p) for p in (o.get("local_ports") or []))}
              for o in close_wait.get("top_processes") or []]
    return {"total": number(close_wait.get("total")), "available": bool(close_wait.get("owners_available")),
            "reason": close_wait.get("owners_reason") or "unknown reason", "owners": owners,
            "unowned": close_wait.get("unowned")}


def _listeners(facts):
    listen = facts.get("listen") or {}
    sockets = listen.get("sockets") or []
    filling = []
    for s in sockets:
        backlog, queue = s.get("backlog"), s.get("queue")
        if isinstance(backlog, int) and isinstance(queue, int) and backlog > 0 and queue / float(backlog) >= FILLING_QUEUE:
            filling.append({"address": s.get("address"), "port": s.get("port"), "queue": number(queue),
                            "backlog": number(backlog), "fill": percent(queue / float(backlog)),
                            "width": _width(queue / float(backlog))})
    filling.sort(key=lambda row: float(row["width"]), reverse=True)
    return {"total": number(listen.get("total")), "filling": filling[:LISTENERS_SHOWN],
            "more": max(0, len(filling) - LISTENERS_SHOWN)}


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


def _shortened(text, limit=160):
    """A reason short enough for a table cell; the host's section has it whole."""
    if not text or len(text) <= limit:
        return text
    return text[:limit].rstrip() + "\u2026"


def host_view(doc, name, host_trend=None):
    entry = doc["hosts"][name]
    facts = entry.get("facts") or {}
    found = problems(entry)
    counts = facts.get("counts") or {}
    states, total = _states(counts)
    view = {
        "name": name,
        "status": entry["status"],
        "reason": entry.get("reason"),
        "facts": facts,
        "has_remediation": "remediation" in entry,
        "remediation_text": _remediation_text(entry.get("remediation")),
        "comparison_text": _comparison_text(doc.get("comparison"), name),
        "problems": [dict(f, evidence_items=evidence_view(f.get("evidence"))) for f in found],
        "problem_ids": ", ".join(f["id"] for f in found) or _shortened(entry.get("reason")) or "none",
        "passed": [f for f in entry.get("findings") or [] if f["severity"] == "pass"],
        "states": states,
        "total": number(total),
        "worst_usage": worst_port_usage(facts),
        "time_wait": counts.get("time_wait"),
        "close_wait_count": counts.get("close_wait"),
        "established": counts.get("established"),
        "trend": host_trend,
    }
    if facts:
        view.update(ports=_ports(facts), sysctls=_sysctls(facts, entry.get("sysctl_config")),
                    destinations=_destinations(facts, entry.get("thresholds") or {}),
                    close_wait=_close_wait(facts), listeners=_listeners(facts))
    return view


# --- the fleet ------------------------------------------------------------------------------------------

def _ranks(hosts, order):
    """{sort key: {host: position}}: the page sorts its host table with CSS ``order``, no script."""
    def by(value_of, reverse=True):
        present = [h for h in order if value_of(h) is not None]
        absent = [h for h in order if value_of(h) is None]
        ranked = sorted(present, key=value_of, reverse=reverse) + absent
        return dict((name, index) for index, name in enumerate(ranked))
    return {
        "worst": dict((name, index) for index, name in enumerate(order)),
        "name": by(lambda h: h, reverse=False),
        "port": by(lambda h: hosts[h]["worst_usage"]),
        "time_wait": by(lambda h: hosts[h]["time_wait"]),
        "close_wait": by(lambda h: hosts[h]["close_wait_count"]),
    }


def fleet_states_chart(views):
    """One bar per TCP state, the fleet's total (one host: that host's), linear, with the number."""
    totals = []
    for state, colour in STATE_COLOURS:
        values = [v["facts"].get("counts", {}).get(state) for v in views if v["facts"]]
        if all(value is None for value in values) or (state not in MAIN_STATES and not any(values)):
            continue
        totals.append((state, colour, sum(value or 0 for value in values)))
    label_width, bar_width, row_height = 110, 520, 22
    top = max([value for _s, _c, value in totals] + [1])
    bars = []
    for index, (state, colour, value) in enumerate(totals):
        width = bar_width * value / float(top)
        bars.append({"state": state, "colour": colour, "value": number(value), "y": 4 + index * row_height,
                     "width": "%.1f" % (max(width, 2.0) if value else 0), "end": "%.1f" % (label_width + width + 6),
                     "drawn": bool(value)})
    return {"bars": bars, "label_width": label_width, "row_height": row_height,
            "width": label_width + bar_width + 90, "height": row_height * len(bars) + 8}


def render(doc, title="TCP TIME_WAIT / CLOSE_WAIT audit", trend_runs=None):
    """The page; ``trend_runs`` (earlier runs from trends.read_runs, oldest first) adds the trends."""
    summary = doc["summary"]
    order = summary["hosts_worst_first"]
    history = trends.series(trend_runs or [], doc) if trend_runs else None
    views = [host_view(doc, name, history["hosts"].get(name) if history else None) for name in order]
    by_name = dict((v["name"], v) for v in views)
    ranks = _ranks(by_name, order)
    for view in views:
        view["ranks"] = dict((key, ranks[key][view["name"]]) for key in SORT_KEYS)
    exposed = sorted((v for v in views if v["worst_usage"] is not None),
                     key=lambda v: (-v["worst_usage"], STATUS_RANK.get(v["status"], 0) * -1, v["name"]))[:FLEET_TOP]
    thresholds = next((doc["hosts"][v["name"]].get("thresholds") for v in views
                       if doc["hosts"][v["name"]].get("thresholds")), None) or {}
    rule_rows = sorted(((rule_id, c) for rule_id, c in summary["by_rule"].items() if c["warn"] or c["fail"]),
                       key=lambda item: (-(item[1]["fail"] + item[1]["warn"]), -item[1]["fail"], item[0]))
    most = max([c["fail"] + c["warn"] for _r, c in rule_rows] + [1])
    return environment().get_template(TEMPLATE).render(
        title=title,
        doc=doc,
        summary=summary,
        status_order=STATUS_ORDER,
        status_colours=STATUS_COLOURS,
        comparison=doc.get("comparison"),
        rule_rows=[{"id": r, "fail": c["fail"], "warn": c["warn"],
                    "fail_width": "%.1f" % (100.0 * c["fail"] / most), "warn_width": "%.1f" % (100.0 * c["warn"] / most)}
                   for r, c in rule_rows],
        exposed=[{"name": v["name"], "status": v["status"], "usage": percent(v["worst_usage"]),
                  "width": _width(v["worst_usage"])} for v in exposed],
        gauge_marks={"warn": _width(thresholds.get("port_usage_warn")), "fail": _width(thresholds.get("port_usage_fail")),
                     "warn_text": percent(thresholds.get("port_usage_warn")),
                     "fail_text": percent(thresholds.get("port_usage_fail"))},
        chart=fleet_states_chart(views),
        hosts=views,
        sort_keys=SORT_KEYS,
        history=history,
        number=number,
        percent=percent,
    )
