# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.html: one self-contained page (inline CSS, SVG and one small script; nothing fetched).

The page is the Jinja2 template ``templates/report.html.j2`` rendered with autoescape: every value
is HTML-escaped unless it is markup built for it. Process names, addresses and messages come from
hosts and may contain anything; markup is escaped, and control and bidi characters are shown in
backslash notation (``visible``, applied to every value the page prints). What the page repeats for
every host, its row in the host table and its section, is written by ``html_hosts`` with the same
rule; the template holds the rest.

This module turns the fleet document into the small views the page prints (numbers already
formatted, gauge widths, chart coordinates); the template and ``html_hosts`` decide nothing but layout.

The page works without script: the host table sorts and filters by status with radio buttons and
CSS. The one script (``templates/host_filter.js``, allowed by its hash in the page's
Content-Security-Policy, nothing else may run) adds a text filter; it holds no data and reads the
hosts' words from a JSON block in which ``<``, ``>`` and ``&`` are escaped.

A page of a thousand hosts has to open quickly: the sections of the hosts without a warn or fail
finding hold their numbers in a few lines; tables, gauges and findings are for the hosts that have one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import (
    STATUS_RANK, add_count, is_finite_number, is_number, namespace_entries, namespace_state_counts, problems, rule_ids,
    state_counts, worst_port_usage)
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_hosts, trends
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.compiled_templates import compiled_templates
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.html_hosts import STATUS_COLOURS, number, percent
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.rates import RATE_COUNTERS

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE = "report.html.j2"
SCRIPT = "host_filter.js"
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
STATUS_ORDER = ("fail", "warn", "pass", "error", "unreachable")
REMEDIATION_ORDER = ("applied", "checked", "failed", "unreachable", "not_attempted")
REUSE_TEXT = {
    "all": "connect() may reuse a TIME_WAIT port toward any destination (tcp_tw_reuse, timestamps on)",
    "loopback": "connect() may reuse a TIME_WAIT port toward loopback destinations only",
    "none": "connect() reuses no TIME_WAIT port",
}
# the sysctls a reader checks first, live and as the sysctl files set them
KEY_SYSCTLS = ("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_max_tw_buckets",
               "net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_port_range")
EVIDENCE_TABLE_ROWS = 3
FLEET_TOP = 10
LISTENERS_SHOWN = 10
FILLING_QUEUE = 0.5  # a listener whose accept queue holds half its backlog or more is shown
SORT_KEYS = ("worst", "name", "port", "time_wait", "close_wait", "established")
# shown even at zero; the rarer states only when a host has some
MAIN_STATES = ("established", "time_wait", "close_wait", "fin_wait2", "listen")


def _shown(value):
    """What the template prints for a value: markup it built as is, anything else as visible text."""
    if isinstance(value, Markup):
        return value
    return visible(value)


# everything but the loader: the compiled page depends on these, so its cache entry is named by them too
_OPTIONS = dict(autoescape=True, undefined=StrictUndefined, finalize=_shown, trim_blocks=True, lstrip_blocks=True,
                keep_trailing_newline=True)


def environment():
    return Environment(loader=FileSystemLoader(TEMPLATE_DIR), bytecode_cache=compiled_templates(_OPTIONS), **_OPTIONS)


# --- gauges and evidence values (number and percent: html_hosts) -----------------------------------

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


def _sources_text(sources):
    """Likely sources as ``pid comm (count)``: an inference from the sockets open now, so labelled one."""
    return "inferred: " + ", ".join("%s %s (%s)" % (s.get("pid"), visible(s.get("comm"), one_line=True),
                                                    number(s.get("count")))
                                    for s in sources if isinstance(s, dict))


def _scalar_text(key, value):
    if key == "likely_sources" and isinstance(value, list):
        return _sources_text(value)
    if isinstance(value, dict):
        return ", ".join("%s %s" % (k.replace("_", " "), _scalar_text(k, v)) for k, v in value.items())
    if _is_fraction_key(key, value):
        return percent(value)
    if _is_identifier_key(key) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return number(value)


def _list_text(key, values):
    return ", ".join(str(_scalar_text(key, v)) for v in values)


# --- evidence: sentences and small tables, not dumps -------------------------------------------------

def _record_name(record):
    if "address" in record and "port" in record:
        return "%s:%s" % (visible(record["address"], one_line=True), record["port"])
    if "comm" in record:
        return "%s (pid %s)" % (visible(record["comm"], one_line=True), record.get("pid"))
    return None


def _shown_elsewhere(value, shown):
    """``value`` (a record or a list of records) named in words when the section already has it in a table."""
    records = value if isinstance(value, list) else [value]
    for table, where in shown:
        if records and all(isinstance(r, dict) and r in table and _record_name(r) for r in records):
            return "%s (in %s)" % (", ".join(_record_name(r) for r in records), where)
    return None


def evidence_view(evidence, shown=()):
    """Each evidence item as ``{"label", "text"}`` or ``{"label", "columns", "rows", "more"}``.

    Empty items are left out; a list of records becomes a table of at most EVIDENCE_TABLE_ROWS rows
    and says how many more there are; a record becomes one line of ``name value`` pairs. Records
    the host's section already shows in a table (``shown``: ``(records, "where")`` pairs) are only
    named.
    """
    items = []
    evidence = dict(evidence or {})
    limits = [(word, evidence.pop(key)) for word, key in (("warn", "warn_at"), ("fail", "fail_at")) if key in evidence]
    for key in sorted(evidence):
        value = evidence[key]
        if value is None or value == [] or value == {}:
            continue
        label = key.replace("_", " ") if not key.startswith(("tcp_", "ip_")) and "." not in key else key
        elsewhere = _shown_elsewhere(value, shown) if isinstance(value, (list, dict)) else None
        if elsewhere:
            items.append({"label": label, "text": elsewhere})
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            columns = []
            for record in value:
                columns.extend(c for c in record if c not in columns)
            rows = [[_list_text(c, record.get(c)) if isinstance(record.get(c), list) and c != "likely_sources"
                     else _scalar_text(c, record.get(c)) for c in columns]
                    for record in value[:EVIDENCE_TABLE_ROWS]]
            items.append({"label": label, "columns": [c.replace("_", " ") for c in columns], "rows": rows,
                          "more": max(0, len(value) - EVIDENCE_TABLE_ROWS)})
        elif isinstance(value, list):
            items.append({"label": label, "text": _list_text(key, value)})
        elif isinstance(value, dict):
            items.append({"label": label, "text": ", ".join(
                "%s %s" % (k.replace("_", " "), "(%s)" % _scalar_text(k, v) if isinstance(v, (dict, list))
                           else _scalar_text(k, v)) for k, v in value.items())})
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
                       "width": "%.2f" % (100.0 * (value / total)) if total and value else "0"})
    return states, total


def _ports(facts):
    ports = facts.get("ephemeral_ports") or {}
    if not ports:
        return None
    reuse = ports.get("reuse") if isinstance(ports.get("reuse"), dict) else {}
    reuse_text = REUSE_TEXT.get(reuse.get("effective"))
    if reuse_text and reuse.get("effective") != "none" and isinstance(reuse.get("delay_ms"), int):
        reuse_text += " after %s ms" % number(reuse["delay_ms"])
    return {"low": ports.get("low"), "high": ports.get("high"), "size": number(ports.get("size")),
            "reserved": number(ports.get("reserved_in_range")), "usable": number(ports.get("usable")),
            "reuse": reuse_text + "." if reuse_text else None}


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


def destination_detail(destination):
    """What holds the local ports toward one destination, in words; empty for facts without the breakdown.

    ``2,210 held: 2,200 time_wait, 10 established; reuse relieves 400; inferred: 4012 java (10)``
    """
    parts = []
    held, states = destination.get("held"), destination.get("states")
    if isinstance(held, int):
        text = "%s held" % number(held)
        if isinstance(states, dict) and states:
            text += ": " + ", ".join("%s %s" % (number(count), state) for state, count in
                                     sorted(states.items(), key=lambda item: (-(item[1] or 0), item[0])))
        parts.append(text)
    reusable = destination.get("time_wait_reusable")
    if isinstance(reusable, int) and reusable > 0:
        parts.append("reuse relieves %s" % number(reusable))
    sources = destination.get("likely_sources")
    if isinstance(sources, list) and sources:
        parts.append(_sources_text(sources))
    return "; ".join(parts)


def _destination_line(rows, worse_elsewhere):
    """The worst destination of a host shown in a few lines; ``worse_elsewhere``: (usage, owner_text) of a
    container's or pod's namespace worse than the host's own, or None."""
    if not rows:
        text = "No outbound TIME_WAIT in the host's own network namespace." if worse_elsewhere else "No outbound TIME_WAIT."
    else:
        worst = rows[0]
        text = "Worst destination %s:%s: %s of the usable local ports, %s TIME_WAIT" % (
            visible(worst["address"], one_line=True), worst["port"], worst["usage"], worst["count"])
        text += "; %s." % worst["detail"] if worst["detail"] else "."
    return text + (" " + _worse_elsewhere_text(worse_elsewhere) if worse_elsewhere else "")


def _worse_elsewhere_text(worse_elsewhere):
    return "In %s it is worse: %s of its usable local ports toward one destination (see its findings)." % (
        visible(worse_elsewhere[1], one_line=True), percent(worse_elsewhere[0]))


def _destinations(facts, thresholds, worse_elsewhere=None):
    time_wait = facts.get("time_wait") or {}
    destinations = [d for d in time_wait.get("top_destinations") or [] if isinstance(d, dict)]
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
                     "usage": percent(usage), "width": _width(usage), "level": level,
                     "detail": destination_detail(d)})
    return {"rows": rows, "warn": _width(warn), "fail": _width(fail), "warn_text": percent(warn),
            "fail_text": percent(fail), "line": _destination_line(rows, worse_elsewhere),
            "elsewhere": "These are the host's own network namespace's. %s" % _worse_elsewhere_text(worse_elsewhere)
            if worse_elsewhere else None,
            "sources_reason": time_wait.get("likely_sources_reason")}


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


def _close_wait_line(close_wait):
    if close_wait is None:
        return "No CLOSE_WAIT data."
    if not close_wait["available"]:
        return "%s CLOSE_WAIT sockets, owners not available (%s)." % (close_wait["total"], close_wait["reason"])
    if close_wait["owners"]:
        return "%s CLOSE_WAIT sockets: %s." % (close_wait["total"], ", ".join(
            "%s (pid %s) %s" % (visible(o["comm"], one_line=True), o["pid"], o["count"]) for o in close_wait["owners"]))
    return "%s CLOSE_WAIT sockets." % close_wait["total"]


def rates_text(found):
    """The host's ``counter_deltas`` in one sentence: its rates over the interval since the previous run."""
    if not isinstance(found, dict):
        return None
    if found.get("reboot"):
        return ("The kernel's TCP counters restarted since the previous run (a reboot, or a new network "
                "namespace): no rates this run.")
    rates = found.get("rates")
    if not isinstance(rates, dict):
        return None
    known = ["%s %s" % (key.replace("_", " ").replace("time wait", "TIME_WAIT"), _rate_text(rates[key]))
             for key, _names in RATE_COUNTERS if is_number(rates.get(key))]
    if not known or not is_number(found.get("interval_seconds")):
        return None
    return "Over the %s s since the previous run: %s." % (number(found["interval_seconds"]), ", ".join(known))


def _rate_text(per_second):
    """Per second, or per hour below 0.01/s (a few events between daily runs)."""
    if 0 < per_second < 0.01:
        return "%s/h" % number(per_second * 3600)
    return "%s/s" % number(per_second)


def outcome_view(outcome):
    """The host's remediation outcome (``remediation_outcome``, written by remediate) in one sentence."""
    if not isinstance(outcome, dict) or not outcome.get("status"):
        return None
    status = outcome["status"]
    task = " in task '%s'" % outcome["task"] if outcome.get("task") else ""
    sentences = {
        "applied": "Remediation: tcp_tuning was applied.",
        "checked": "Remediation: tcp_tuning ran in check mode; nothing was changed.",
        "failed": "Remediation failed%s: %s" % (task, outcome.get("reason") or "no reason given"),
        "unreachable": "Remediation: the host stopped answering%s: %s" % (task, outcome.get("reason") or "no reason given"),
        "not_attempted": "Remediation not attempted: %s" % (outcome.get("reason") or "no reason given"),
    }
    return {"status": status, "text": sentences.get(status, "Remediation %s: %s" % (status, outcome.get("reason")))}


def _outcomes(views):
    counts = {}
    for view in views:
        if view["outcome"]:
            counts[view["outcome"]["status"]] = counts.get(view["outcome"]["status"], 0) + 1
    if not counts:
        return None
    ordered = [s for s in REMEDIATION_ORDER if s in counts] + sorted(s for s in counts if s not in REMEDIATION_ORDER)
    return {"text": ", ".join("%d %s" % (counts[s], s.replace("_", " ")) for s in ordered),
            "not_done": any(s in ("failed", "unreachable", "not_attempted") for s in counts)}


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


def _tables_shown(facts):
    """The records a detailed section shows in its own tables, for the evidence to refer to."""
    shown = []
    destinations = (facts.get("time_wait") or {}).get("top_destinations")
    if isinstance(destinations, list):
        shown.append((destinations, "the destinations table above"))
    close_wait = facts.get("close_wait") or {}
    owners = close_wait.get("top_processes")
    if isinstance(owners, list) and close_wait.get("owners_available"):
        shown.append((owners, "the CLOSE_WAIT owners table above"))
    return shown


def host_view(doc, name, host_trend=None, detailed=None):
    """One host's section; ``detailed`` (default: when it has a warn or fail finding) adds the tables."""
    entry = doc["hosts"][name]
    facts = entry.get("facts") or {}
    found = problems(entry)
    counts = state_counts(entry)
    states, total = _states(counts)
    usage, usage_where = worst_port_usage(facts)
    view = {
        "name": name,
        "status": entry["status"],
        "reason": entry.get("reason"),
        "facts": facts,
        "has_remediation": "remediation" in entry,
        "remediation_text": _remediation_text(entry.get("remediation")),
        "comparison_text": _comparison_text(doc.get("comparison"), name),
        "problems": [dict(f, evidence_items=evidence_view(f.get("evidence"), _tables_shown(facts))) for f in found],
        "problem_ids": ", ".join(rule_ids(found)) or _shortened(entry.get("reason")) or "none",
        "passed": [f for f in entry.get("findings") or [] if f["severity"] == "pass"],
        "states": states,
        "total": number(total),
        "worst_usage": usage,
        "worst_usage_where": usage_where,
        "counts": counts,
        "time_wait": counts.get("time_wait"),
        "close_wait_count": counts.get("close_wait"),
        "established": counts.get("established"),
        "in_namespaces": namespace_state_counts(entry),
        "trend": _trend_view(host_trend),
        "outcome": outcome_view(entry.get("remediation_outcome")),
        "rates": rates_text(entry.get("counter_deltas")),
        "detailed": bool(found) if detailed is None else detailed,
    }
    if facts:
        close_wait, listeners = _close_wait(facts), _listeners(facts)
        view.update(ports=_ports(facts), sysctls=_sysctls(facts, entry.get("sysctl_config")),
                    destinations=_destinations(facts, entry.get("thresholds") or {},
                                               (usage, usage_where) if usage_where else None),
                    close_wait=close_wait, close_wait_line=_close_wait_line(close_wait), listeners=listeners,
                    listeners_line="%s listening sockets%s." % (listeners["total"], "" if listeners["filling"] else
                                                                ", none with an accept queue half full or more"))
    return view


def _trend_view(host_trend):
    """A line is drawn only for a number that changed over the runs; a steady one is said in words."""
    if not host_trend:
        return None
    view = dict(host_trend)
    view["usage_drawn"] = host_trend["usage_changed"]
    view["time_wait_drawn"] = host_trend["time_wait_changed"]
    view["usage_text"] = _steady_text(host_trend["usage_points"], percent(host_trend["usage_peak"]))
    view["time_wait_text"] = _steady_text(host_trend["time_wait_points"], number(host_trend["time_wait_peak"]))
    return view


def _steady_text(points, value):
    known = len(points.split())
    if not known:
        return "not known"
    return "known in one run only: %s" % value if known == 1 else "steady at %s" % value


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
        "established": by(lambda h: hosts[h]["established"]),
    }


def fleet_states_chart(views):
    """One bar per TCP state, the fleet's total (one host: that host's), linear, with the number."""
    totals = []
    for state, colour in STATE_COLOURS:
        values = [v["counts"].get(state) for v in views if v["facts"]]
        total = sum(value or 0 for value in values)
        if (all(value is None for value in values) or (state not in MAIN_STATES and not any(values))
                or not is_finite_number(total)):
            continue
        totals.append((state, colour, total))
    label_width, bar_width, row_height = 110, 520, 22
    top = max([value for _s, _c, value in totals] + [1])
    bars = []
    for index, (state, colour, value) in enumerate(totals):
        width = bar_width * (value / float(top))
        bars.append({"state": state, "colour": colour, "value": number(value), "y": 4 + index * row_height,
                     "width": "%.1f" % (max(width, 2.0) if value else 0), "end": "%.1f" % (label_width + width + 6),
                     "drawn": bool(value)})
    return {"bars": bars, "label_width": label_width, "row_height": row_height,
            "width": label_width + bar_width + 90, "height": row_height * len(bars) + 8}


def namespaces_note(views):
    """Under the per-state bars (the hosts' own namespaces), what their other namespaces hold besides, or
    None without any."""
    totals = dict((state, 0) for state, _colour in STATE_COLOURS)
    covered = known = hosts = 0
    for view in views:
        counts, summed_over, _listed, total = view["in_namespaces"]
        if counts is None:
            continue
        hosts += 1
        covered += summed_over
        known += total
        for state in totals:
            totals[state] = add_count(totals[state], counts.get(state, 0))
    if not hosts:
        return None
    held = ", ".join("%s %s" % (state, number(totals[state])) for state, _colour in STATE_COLOURS if totals[state])
    return ("Not in these bars: the sockets of the hosts' other network namespaces (containers, pods), %s of %s "
            "on %s: %s." % (number(covered), number(known),
                            "1 host" if hosts == 1 else "%s hosts" % number(hosts), held or "none"))


def hot_view(doc):
    """The fleet's hot destinations as table rows, and the sentence that says what they mean."""
    hot = [d for d in doc.get("hot_destinations") or [] if isinstance(d, dict)]
    rows = [{"address": d.get("address"), "port": d.get("port"), "hosts": number(d.get("hosts_affected")),
             "namespaces": number(d.get("namespaces_affected") or 0),
             "sockets": number(d.get("sockets_total")), "usage": percent(d.get("worst_port_usage")),
             "worst_hosts": d.get("worst_hosts") or [],
             "others": max(0, (d.get("hosts_affected") or 0) - len(d.get("worst_hosts") or []))} for d in hot]
    lead = None
    top = hot[0] if hot else {}
    hosts, namespaces = top.get("hosts_affected") or 0, top.get("namespaces_affected") or 0
    if hosts > 1 or namespaces > 1:
        where = "%s:%s" % (visible(top.get("address"), one_line=True), top.get("port"))
        if not namespaces:
            who = "%s hosts are" % number(hosts)
        elif hosts > 1:
            who = "%s hosts, in %s of their containers or pods, are" % (number(hosts), number(namespaces))
        else:
            who = "%s containers or pods on 1 host are" % number(namespaces)
        lead = ("%s running out of local ports toward the same destination, %s: that is one problem, "
                "not %s. Its lasting fix is in how the clients connect to %s (keep-alive, connection pooling); "
                "tcp_tuning on each host only buys headroom." % (
                    who, where, number(max(hosts, namespaces)), where))
    total = doc.get("hot_destinations_total")
    return {"rows": rows, "lead": lead, "more": max(0, total - len(rows)) if isinstance(total, int) else 0,
            "namespaced": any(d.get("namespaces_affected") for d in hot)}


def _search_words(view, entry):
    """The words the text filter matches for one host: what its row shows, and its destinations and processes."""
    facts = entry.get("facts") or {}
    words = [view["name"], view["status"], view["problem_ids"]]
    for namespace in [facts] + namespace_entries(facts):
        for d in (namespace.get("time_wait") or {}).get("top_destinations") or []:
            if isinstance(d, dict):
                words.append("%s:%s" % (d.get("address"), d.get("port")))
                words.extend(s.get("comm") for s in d.get("likely_sources") or [] if isinstance(s, dict))
        words.extend(o.get("comm") for o in (namespace.get("close_wait") or {}).get("top_processes") or []
                     if isinstance(o, dict))
    if view["outcome"]:
        words.append("remediation " + view["outcome"]["status"])
    return " ".join(visible(w, one_line=True) for w in words if w is not None).lower()


def json_for_script(value):
    """JSON that can stand inside a <script> element: no ``<`` to close it, no ``&`` or ``>`` either."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def script():
    """The page's script and the Content-Security-Policy source that allows exactly it."""
    with open(os.path.join(TEMPLATE_DIR, SCRIPT), encoding="utf-8") as handle:
        text = handle.read()
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), "sha256-" + digest


def render(doc, title="TCP TIME_WAIT / CLOSE_WAIT audit", trend_runs=None):
    """The page; ``trend_runs`` (earlier runs from trends.read_runs, oldest first) adds the trends."""
    summary = doc["summary"]
    order = summary["hosts_worst_first"]
    history = trends.series(trend_runs or [], doc) if trend_runs else None
    views = [host_view(doc, name, history["hosts"].get(name) if history else None,
                       detailed=True if len(order) == 1 else None) for name in order]
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
    code, code_hash = script()
    comparison = doc.get("comparison")
    outcomes = _outcomes(views)
    page = {"comparison": comparison, "history": history, "single": len(views) == 1}
    return environment().get_template(TEMPLATE).render(
        title=title,
        doc=doc,
        summary=summary,
        status_order=STATUS_ORDER,
        status_colours=STATUS_COLOURS,
        comparison=comparison,
        rule_rows=[{"id": r, "fail": c["fail"], "warn": c["warn"],
                    "fail_width": "%.1f" % (100.0 * c["fail"] / most), "warn_width": "%.1f" % (100.0 * c["warn"] / most)}
                   for r, c in rule_rows],
        exposed=[{"name": v["name"], "where": v["worst_usage_where"], "status": v["status"], "usage": percent(v["worst_usage"]),
                  "width": _width(v["worst_usage"])} for v in exposed],
        gauge_marks={"warn": _width(thresholds.get("port_usage_warn")), "fail": _width(thresholds.get("port_usage_fail")),
                     "warn_text": percent(thresholds.get("port_usage_warn")),
                     "fail_text": percent(thresholds.get("port_usage_fail"))},
        chart=fleet_states_chart(views),
        namespaces_note=namespaces_note(views),
        host_rows=Markup("".join(html_hosts.host_row(v, SORT_KEYS, outcomes, comparison) for v in views)),
        host_sections=Markup("".join(html_hosts.host_section(v, page) for v in views)),
        sort_keys=SORT_KEYS,
        history=history,
        hot=hot_view(doc),
        outcomes=outcomes,
        state_colours=STATE_COLOURS,
        host_index=json_for_script([_search_words(v, doc["hosts"][v["name"]]) for v in views]),
        script=code,
        script_hash=code_hash,
        badge=html_hosts.badge,
        gauge=html_hosts.gauge,
        where_note=html_hosts.where_note,
    )
