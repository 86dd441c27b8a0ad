# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the five reports into a directory, and keep a history of runs (timestamped dirs, ``latest``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil

from ansible_collections.tcpops.timewait.plugins.module_utils import (
    _audit_report_csv,
    _audit_report_html,
    _audit_report_json,
    _audit_report_junit,
    _audit_report_prom,
)
from ansible_collections.tcpops.timewait.plugins.module_utils._audit_report_common import atomic_write

REPORT_NAMES = {
    "json": "tcp-audit.json",
    "csv": "tcp-audit.csv",
    "html": "tcp-audit.html",
    "junit": "tcp-audit.junit.xml",
    "prom": "tcp-audit.prom",
}
LATEST = "latest"
RUN_DIR_PATTERN = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


def write_reports(doc, directory, generated_epoch=None, title=None):
    """Render and write every report; returns {format: path}."""
    if not os.path.isdir(directory):
        os.makedirs(directory)
    rendered = {
        "json": _audit_report_json.render(doc),
        "csv": _audit_report_csv.render(doc),
        "html": _audit_report_html.render(doc, title) if title else _audit_report_html.render(doc),
        "junit": _audit_report_junit.render(doc),
        "prom": _audit_report_prom.render(doc, generated_epoch),
    }
    paths = {}
    for kind, text in rendered.items():
        path = os.path.join(directory, REPORT_NAMES[kind])
        atomic_write(path, text)
        paths[kind] = path
    return paths


def load_document(path):
    """A fleet document written earlier, or None when there is none (first run)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (IOError, OSError):
        return None


def new_run_dir(base, stamp):
    """``base/<stamp>``, made unique if two runs share a second."""
    candidate = os.path.join(base, stamp)
    suffix = 1
    while os.path.exists(candidate):
        candidate = os.path.join(base, "%s-%d" % (stamp, suffix))
        suffix += 1
    os.makedirs(candidate)
    return candidate


def previous_document(base):
    return load_document(os.path.join(base, LATEST, REPORT_NAMES["json"]))


def point_latest(base, run_dir):
    """Swap ``base/latest`` to ``run_dir`` atomically (relative link, so the tree can move)."""
    tmp_link = os.path.join(base, ".%s.%d" % (LATEST, os.getpid()))
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.basename(run_dir), tmp_link)
    os.replace(tmp_link, os.path.join(base, LATEST))


def prune_runs(base, keep, current):
    """Delete the oldest run directories so that ``keep`` remain; never the current one."""
    runs = sorted(name for name in os.listdir(base)
                  if RUN_DIR_PATTERN.match(name) and os.path.isdir(os.path.join(base, name))
                  and not os.path.islink(os.path.join(base, name)))
    removed = []
    excess = len(runs) - max(keep, 1)
    for name in runs:
        if excess <= 0:
            break
        if os.path.join(base, name) == current:
            continue
        shutil.rmtree(os.path.join(base, name))
        removed.append(name)
        excess -= 1
    return removed
