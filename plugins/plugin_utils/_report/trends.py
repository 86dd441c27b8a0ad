# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trends over the kept report runs: fleet status counts per run, per host worst port usage and TIME_WAIT (its
containers' and pods' included: every one read, or in runs gathered before the module summed them, those
listed in full).

``read_runs`` only reads: it opens ``tcp-audit.json`` of each complete run below the history base
(``files.complete_runs``) and keeps the few numbers a trend needs. ``series`` adds the run being
written and lays the numbers out as inline SVG coordinates.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import (
    is_finite_number, namespace_state_counts, state_counts, worst_port_usage)
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files

STATUSES = ("pass", "warn", "fail", "error", "unreachable")
STATUS_WIDTH, STATUS_HEIGHT = 560, 120
SPARK_WIDTH, SPARK_HEIGHT = 160, 28


def point(doc):
    """The numbers of one run that the trends show."""
    by_status = dict((s, 0) for s in STATUSES)
    hosts = {}
    for name, entry in (doc.get("hosts") or {}).items():
        status = entry.get("status")
        if status in by_status:
            by_status[status] += 1
        time_wait, with_namespaces = _time_wait(entry)
        hosts[name] = {"usage": worst_port_usage(entry.get("facts"))[0], "time_wait": time_wait,
                       "with_namespaces": with_namespaces}
    return {"generated_at": doc.get("generated_at"), "by_status": by_status, "hosts": hosts}


def _time_wait(entry):
    """(the host's TIME_WAIT with its containers' and pods' added (``namespace_state_counts``), whether any
    were added); None when the host's own count is not a finite number of zero or more (a kept run is read
    back as is)."""
    own = state_counts(entry)["time_wait"]
    if own is None:
        return None, False
    elsewhere = namespace_state_counts(entry)[0]
    total = own + elsewhere["time_wait"] if elsewhere is not None else None
    if not is_finite_number(total):
        return own, False
    return total, True


def read_runs(base):
    """The points of the complete runs below ``base``, oldest first; unreadable runs are left out."""
    points = []
    for name in files.complete_runs(base):
        doc, why_not = files.load_document(os.path.join(base, name, files.REPORT_NAMES["json"]))
        if why_not is None:
            points.append(point(doc))
    return points


def _polyline(values, top):
    """SVG points for ``values`` (None: a gap is not drawn, the line joins the known values)."""
    count = len(values)
    step = SPARK_WIDTH / float(max(count - 1, 1))
    pairs = []
    for index, value in enumerate(values):
        if value is None:
            continue
        y = SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * (value / float(top) if top else 0.0)
        pairs.append("%.1f,%.1f" % (index * step, y))
    return " ".join(pairs)


def _with_namespaces(host_points):
    """Whether the known TIME_WAIT points add the containers and pods: "all", "some" or "none"."""
    known = [p.get("with_namespaces") for p in host_points if p.get("time_wait") is not None]
    if known and all(known):
        return "all"
    return "some" if any(known) else "none"


def series(runs, doc):
    """Trend views for the page: ``runs`` (from read_runs) followed by ``doc``, the run being written."""
    points = list(runs) + [point(doc)]
    count = len(points)
    column = STATUS_WIDTH / float(count)
    tallest = max([sum(p["by_status"].values()) for p in points] + [1])
    columns = []
    for index, p in enumerate(points):
        y = float(STATUS_HEIGHT)
        segments = []
        for status in STATUSES:
            value = p["by_status"][status]
            if not value:
                continue
            height = STATUS_HEIGHT * value / float(tallest)
            y -= height
            segments.append({"status": status, "value": value, "y": "%.1f" % y, "height": "%.1f" % height})
        columns.append({"x": "%.1f" % (index * column + 1), "width": "%.1f" % max(column - 2, 1.0),
                        "label": p["generated_at"], "segments": segments})
    hosts = {}
    for name in doc.get("hosts") or {}:
        usage = [p["hosts"].get(name, {}).get("usage") for p in points]
        time_wait = [p["hosts"].get(name, {}).get("time_wait") for p in points]
        known_tw = [v for v in time_wait if v is not None]
        known_usage = [v for v in usage if v is not None]
        hosts[name] = {
            "usage_points": _polyline(usage, 1.0),
            "usage_peak": max(known_usage) if known_usage else None,
            "time_wait_points": _polyline(time_wait, max(known_tw + [1])),
            "time_wait_peak": max(known_tw) if known_tw else None,
            "usage_changed": len(set(known_usage)) > 1,
            "time_wait_changed": len(set(known_tw)) > 1,
            "time_wait_with_namespaces": _with_namespaces([p["hosts"].get(name, {}) for p in points]),
            "runs": count,
        }
    return {"runs": count, "first": points[0]["generated_at"], "last": points[-1]["generated_at"],
            "columns": columns, "width": STATUS_WIDTH, "height": STATUS_HEIGHT, "statuses": STATUSES,
            "spark_width": SPARK_WIDTH, "spark_height": SPARK_HEIGHT, "hosts": hosts}
