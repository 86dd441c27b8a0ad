# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The markup tcp-audit.html repeats for every host: its row in the host table and its section.

A page holds one row and one section per host, and Jinja2 spends most of a large page's time on
them (an attribute lookup, ``finalize`` and an escape for each value), so they are written here as
text, with the template's rule for every value: markup built here as is, anything else through
``visible`` and then HTML-escaped (``shown``). The template prints the result whole and keeps the
rest of the page; ``badge``, ``gauge``, ``number`` and ``percent`` serve both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from markupsafe import Markup, escape

from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import HIDDEN_CHARACTERS, visible

STATUS_COLOURS = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "error": "#6a1b9a",
                  "unreachable": "#37474f"}
# text without any of these is printed as it is: most values are, and the check is one scan in C
_NEEDS_CARE = re.compile(u"[&<>\"'%s]" % HIDDEN_CHARACTERS).search


def shown(value):
    """A value as the template prints it."""
    kind = type(value)
    # the shortcuts only for what prints as itself: a subclass may print otherwise (its own __str__)
    if kind is str:
        return value if _NEEDS_CARE(value) is None else escape(visible(value))
    if kind is int:
        return str(value)
    if isinstance(value, Markup):
        return value
    if isinstance(value, str) and kind.__str__ is str.__str__ and kind.__format__ is str.__format__ \
            and _NEEDS_CARE(value) is None:
        return value
    return escape(visible(value))


# no kernel counter or socket count goes beyond an unsigned 64-bit number: a larger value read back from a
# result is forged or broken, and printed in full (up to 309 digits) it would break the page's layout
NUMBER_MAX = 2 ** 64


def number(value):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not -NUMBER_MAX <= value <= NUMBER_MAX:
        return "n/a"  # NaN and the infinities too
    if isinstance(value, int):
        return "{:,}".format(value)
    if isinstance(value, float):
        # four significant digits, without the exponent {:g} writes from 10,000 on
        return "{:,.0f}".format(value) if abs(value) >= 1000 else "{:,.4g}".format(value)
    return value


def percent(fraction):
    if fraction is None or (isinstance(fraction, float) and not math.isfinite(fraction * 100)):
        return "n/a"
    value = fraction * 100
    return "%.1f%%" % value if 0 < value < 10 else "%.0f%%" % value


def badge(status):
    css = status if status in STATUS_COLOURS else "other"
    return Markup('<span class="status b-%s">%s</span>' % (shown(css), shown(status)))


def gauge(width, level, warn, fail):
    return Markup('<span class="gauge"><i class="g-%s" style="width:%s%%"></i><b class="mark-warn" style="left:%s%%">'
                  '</b><b class="mark-fail" style="left:%s%%"></b></span>'
                  % (shown(level), shown(width), shown(warn), shown(fail)))


def _spark(history, points, label, colour):
    return ('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s" width="%s" height="%s" class="spark">'
            '<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/></svg>'
            % (shown(label), shown(history["spark_width"]), shown(history["spark_height"]), shown(points), shown(colour)))


def where_note(where):
    """Under a host's name or number, the container or pod it is about: long ids (a pod's uid) shortened
    to 8 characters so that the narrow cell stays one line, the whole name on hover and in the findings."""
    short = " ".join(word if len(word) <= 13 else word[:8] + "\u2026" for word in where.split(" "))
    return Markup('<br><small title="in %s">in %s</small>' % (shown(where), shown(short)))


def _count_cell(host, state, own):
    """A socket count of the host's own namespace, and below it what its other namespaces hold."""
    counts, summed_over, _listed, total = host["in_namespaces"]
    if not (counts and counts.get(state)):
        return shown(number(own))
    return Markup('%s<br><small title="in %s of the %s other network namespaces on the host">'
                  '+%s in %s netns</small>') % (
        shown(number(own)), shown(summed_over), shown(total), shown(number(counts[state])),
        shown(summed_over if summed_over == total else "%s/%s" % (summed_over, total)))


def host_row(host, sort_keys, outcomes, comparison):
    """One row of the host table, its sort positions in custom properties."""
    ranks = host["ranks"]
    usage = shown(percent(host["worst_usage"]) if host["worst_usage"] is not None else "n/a")
    if host["worst_usage_where"]:
        usage += where_note(host["worst_usage_where"])
    cells = ['<div class="row s-%s" role="row" style="%s"><span><a href="#host-%s">%s</a></span><span>%s</span>'
             '<span>%s</span><span>%s</span><span>%s</span><span>%s</span>'
             % (shown(host["status"]), "".join("--r-%s:%s;" % (key, shown(ranks[key])) for key in sort_keys),
                shown(host["name"]), shown(host["name"]), badge(host["status"]), usage,
                _count_cell(host, "time_wait", host["time_wait"]), _count_cell(host, "close_wait", host["close_wait_count"]),
                _count_cell(host, "established", host["established"]))]
    if outcomes:
        cells.append("<span>%s</span>" % shown(host["outcome"]["status"] if host["outcome"] else ""))
    cells.append("<span>%s" % shown(host["problem_ids"]))
    if comparison:
        cells.append("<br><small>%s</small>" % shown(host["comparison_text"]))
    cells.append("</span></div>\n")
    return "".join(cells)


def _states(host, out):
    states = host["states"]
    out.append('<div class="states" title="sockets per state, %s in all">%s</div>\n' % (
        shown(host["total"]), "".join('<span class="state st-%s"><b>%s</b>%s</span>' % (
            shown(s["state"]), shown(s["value"]), shown(s["state"])) for s in states)))
    if host["detailed"]:
        out.append('<div class="stack" title="share of each state">%s</div>' % "".join(
            '<i class="c-%s" style="width:%s%%"></i>' % (shown(s["state"]), shown(s["width"]))
            for s in states if s["count"]))


def _destinations(destinations, out):
    out.append("<h4>Local ports toward each destination</h4>\n")
    if destinations["elsewhere"]:
        out.append('<p class="note">%s</p>\n' % shown(destinations["elsewhere"]))
    rows = destinations["rows"]
    if not rows:
        out.append("<p>No outbound TIME_WAIT.</p>")
        return
    out.append('<table class="destinations"><tr><th>destination</th><th>TIME_WAIT</th><th>port usage</th>'
               "<th>warn %s / fail %s</th><th>held, reuse, likely sources</th></tr>\n"
               % (shown(destinations["warn_text"]), shown(destinations["fail_text"])))
    warn, fail = destinations["warn"], destinations["fail"]
    out.extend('<tr><td>%s:%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td><td>%s</td></tr>' % (
        shown(d["address"]), shown(d["port"]), shown(d["count"]), shown(d["usage"]),
        gauge(d["width"], d["level"], warn, fail), shown(d["detail"])) for d in rows)
    out.append("</table>\n")
    if destinations["sources_reason"]:
        out.append('<p class="note">Likely sources unknown: %s.</p>' % shown(destinations["sources_reason"]))


def _close_wait(close_wait, out):
    out.append("<h4>CLOSE_WAIT owners</h4>\n")
    if close_wait is None:
        out.append("<p>No CLOSE_WAIT data.</p>\n")
    elif not close_wait["available"]:
        out.append('<p class="owners-unknown">CLOSE_WAIT owners not available (%s); run as root (become: true) to name '
                   "them. %s CLOSE_WAIT sockets.</p>\n" % (shown(close_wait["reason"]), shown(close_wait["total"])))
    elif close_wait["owners"]:
        out.append('<table class="owners"><tr><th>process</th><th>pid</th><th>CLOSE_WAIT</th><th>local ports</th></tr>\n')
        out.extend('<tr><td>%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>' % (
            shown(o["comm"]), shown(o["pid"]), shown(o["count"]), shown(o["ports"])) for o in close_wait["owners"])
        out.append("</table>\n")
        if close_wait["unowned"]:
            out.append('<p class="note">%s CLOSE_WAIT sockets have no owning process.</p>'
                       % shown(number(close_wait["unowned"])))
    else:
        out.append("<p>%s CLOSE_WAIT sockets, none held by a process.</p>" % shown(close_wait["total"]))


def _listeners_table(filling, with_gauge, out):
    out.append('<table class="listeners"><tr><th>listener</th><th>accept queue</th><th>backlog</th><th>fill</th></tr>\n')
    for listener in filling:
        fill = shown(listener["fill"])
        if with_gauge:
            fill = "%s %s" % (gauge(listener["width"], "fail" if listener["width"] == "100.0" else "warn", "50.0", "100.0"),
                              fill)
        out.append('<tr><td>%s:%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>' % (
            shown(listener["address"]), shown(listener["port"]), shown(listener["queue"]), shown(listener["backlog"]), fill))
    out.append("</table>\n")


def _detailed_tables(host, out):
    _destinations(host["destinations"], out)
    out.append('<div class="grid">\n<div>\n<h4>Key sysctls</h4>\n'
               '<table class="sysctls"><tr><th>key</th><th>live</th><th>configured</th></tr>\n')
    out.extend("<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>" % (
        shown(row["key"]), shown(row["live"]), shown(row["configured"])) for row in host["sysctls"])
    out.append("</table>\n</div>\n<div>\n")
    _close_wait(host["close_wait"], out)
    out.append("<h4>Listeners</h4>\n")
    listeners = host["listeners"]
    if listeners["filling"]:
        _listeners_table(listeners["filling"], True, out)
        if listeners["more"]:
            out.append('<p class="note">and %s more listeners half full or more.</p>' % shown(listeners["more"]))
    else:
        out.append("<p>%s listening sockets, none with an accept queue half full or more.</p>" % shown(listeners["total"]))
    out.append("</div>\n</div>\n")


def _facts(host, out):
    ports = host["ports"]
    if ports:
        out.append('<p class="ports">Ephemeral range %s&ndash;%s: %s ports, %s reserved, <b>%s usable</b> per destination.%s'
                   "</p>" % (shown(ports["low"]), shown(ports["high"]), shown(ports["size"]), shown(ports["reserved"]),
                             shown(ports["usable"]), " %s" % shown(ports["reuse"]) if ports["reuse"] else ""))
    if host["detailed"]:
        _detailed_tables(host, out)
        return
    out.append('<p class="destination">%s</p>\n<p>%s %s</p>\n' % (
        shown(host["destinations"]["line"]), shown(host["close_wait_line"]), shown(host["listeners_line"])))
    if host["listeners"]["filling"]:
        _listeners_table(host["listeners"]["filling"], False, out)


def _trend(trend, history, out):
    if trend["usage_drawn"]:
        usage = "%speak %s" % (_spark(history, trend["usage_points"], "worst port usage per run", "#c62828"),
                               shown(percent(trend["usage_peak"])))
    else:
        usage = shown(trend["usage_text"])
    label = {"all": "TIME_WAIT with its containers and pods",
             "some": "TIME_WAIT (with its containers and pods in some runs)"}.get(trend.get("time_wait_with_namespaces"),
                                                                                  "TIME_WAIT")
    if trend["time_wait_drawn"]:
        time_wait = "%speak %s" % (_spark(history, trend["time_wait_points"], label + " per run", "#f28e2b"),
                                   shown(number(trend["time_wait_peak"])))
    else:
        time_wait = shown(trend["time_wait_text"])
    out.append('<p class="trend">Over the last %s runs: worst port usage %s; %s %s.</p>\n'
               % (shown(trend["runs"]), usage, shown(label), time_wait))


def _evidence(items):
    parts = ["<dl>"]
    for item in items:
        parts.append("<dt>%s</dt><dd>" % shown(item["label"]))
        if "rows" in item:
            parts.append("<table><tr>%s</tr>%s</table>" % (
                "".join("<th>%s</th>" % shown(c) for c in item["columns"]),
                "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % shown(cell) for cell in row) for row in item["rows"])))
            if item["more"]:
                parts.append("<small>and %s more</small>" % shown(item["more"]))
        else:
            parts.append(shown(item["text"]))
        parts.append("</dd>")
    parts.append("</dl>")
    return "".join(parts)


def _findings(host, out):
    if host["problems"]:
        out.append("<h4>Findings</h4>\n")
        for finding in host["problems"]:
            out.append('<div class="finding %s"><p>%s <code>%s</code>: %s</p>\n%s<p><b>What to do:</b> %s '
                       "<small>(fixed by: %s)</small></p></div>\n" % (
                           shown(finding["severity"]), badge(finding["severity"]), shown(finding["id"]),
                           shown(finding["message"]),
                           _evidence(finding["evidence_items"]) if finding["evidence_items"] else "",
                           shown(finding["remediation"]), shown(finding["fixed_by"])))
    if host["passed"]:
        out.append('<p class="passed">passed: %s</p>\n' % ", ".join(
            "%s%s" % (shown(f["id"]), " (not evaluated)" if f.get("skipped") else "") for f in host["passed"]))


def host_section(host, page):
    """One host's ``<details>`` section; ``page`` holds what every section shares (see html_report.render)."""
    comparison = page["comparison"]
    outcome = host["outcome"]
    out = ['<details class="host" id="host-%s"%s><summary>%s %s<span class="sum">%s%s</span></summary>\n' % (
        shown(host["name"]), " open" if page["single"] else "", shown(host["name"]), badge(host["status"]),
        shown(host["problem_ids"]),
        "; remediation %s" % shown(outcome["status"]) if outcome and outcome["status"] != "applied" else "")]
    if host["reason"]:
        out.append("<p>Reason: %s</p>" % shown(host["reason"]))
    facts = host["facts"]
    if facts:
        out.append('<p class="meta">kernel %s, backend %s, collected in %s ms</p>' % (
            shown(facts.get("kernel")), shown(facts.get("backend")), shown(number(facts.get("duration_ms")))))
    if outcome:
        out.append('<p class="outcome o-%s">%s</p>' % (shown(outcome["status"]), shown(outcome["text"])))
    if host["has_remediation"]:
        out.append("<p>%s</p>" % shown(host["remediation_text"]))
    if comparison:
        out.append("<p>Compared with the %s: %s</p>" % (shown(comparison["against"]), shown(host["comparison_text"])))
    if host["states"]:
        _states(host, out)
    if facts:
        _facts(host, out)
    if host["trend"]:
        _trend(host["trend"], page["history"], out)
    if host["rates"]:
        out.append('<p class="rates">%s</p>\n' % shown(host["rates"]))
    _findings(host, out)
    out.append("</details>\n")
    return "".join(out)
