# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish the five reports of a run as one whole: a fixed directory, or a history of runs with ``latest``.

A run is written into a private directory (``.tcpops-partial-<pid>-*``) beside its final place and
appears under its final name by one rename (history) or by one swap of a symbolic link (fixed
directory), so a reader never sees a run with some files missing or files from two runs. A run
directory holds the five reports and the marker ``.tcpops-run.json``; retention deletes only such
directories.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re
import shutil
import tempfile
import time
import uuid

from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import csv_report as _audit_report_csv
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report as _audit_report_html
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import json_report as _audit_report_json
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import junit_report as _audit_report_junit
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import prom_report as _audit_report_prom

REPORT_NAMES = {
    "json": "tcp-audit.json",
    "csv": "tcp-audit.csv",
    "html": "tcp-audit.html",
    "junit": "tcp-audit.junit.xml",
    "prom": "tcp-audit.prom",
}
MARKER = ".tcpops-run.json"
WRITER = "tcpops.timewait.tcp_audit_report"
RUN_FILES = frozenset(list(REPORT_NAMES.values()) + [MARKER])
LATEST = "latest"
PARTIAL_PREFIX = ".tcpops-partial-"
RUN_DIR_PATTERN = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?\Z")
REPORT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
# what REPORT_NAME_PATTERN takes, as the messages say it: the rule of report names and run ids
NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
CURRENT = ".tcpops-current"
VERSION_PREFIX = ".tcpops-run-"


class ReportDirError(Exception):
    """The destination cannot take the reports as it is; nothing was written."""


def render_reports(doc, generated_epoch=None, title=None, report="audit", trend_runs=None):
    """Every report as text, {format: text}; nothing touches the disk yet.

    ``trend_runs``: the kept runs (``trends.read_runs``) the HTML report draws its trends from.
    """
    html_args = {"trend_runs": trend_runs}
    if title:
        html_args["title"] = title
    return {
        "json": _audit_report_json.render(doc),
        "csv": _audit_report_csv.render(doc),
        "html": _audit_report_html.render(doc, **html_args),
        "junit": _audit_report_junit.render(doc),
        "prom": _audit_report_prom.render(doc, generated_epoch, report),
    }


def textfile_name(report):
    """File name of a report in node_exporter's textfile directory."""
    return "tcp-audit-%s.prom" % report


# --- the private directory a run is written into -------------------------------------------------

def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path, text):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


def _write_private(parent, rendered, marker):
    """A complete run (five reports, then the marker) in a new private directory below ``parent``."""
    path = tempfile.mkdtemp(prefix="%s%d-" % (PARTIAL_PREFIX, os.getpid()), dir=parent)
    try:
        for kind, text in rendered.items():
            _write_file(os.path.join(path, REPORT_NAMES[kind]), text)
        _write_file(os.path.join(path, MARKER), json.dumps(dict(marker, writer=WRITER), sort_keys=True) + "\n")
        os.chmod(path, 0o755)
        _fsync_dir(path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def _withdraw(path):
    """Take a directory of ours out of sight in one rename, then delete it."""
    parent, name = os.path.split(path)
    hidden = os.path.join(parent, "%s%d-gone-%s" % (PARTIAL_PREFIX, os.getpid(), name))
    os.rename(path, hidden)
    shutil.rmtree(hidden, ignore_errors=True)


def remove_stale_partials(parent):
    """Delete private directories left by runs that were killed (their process is gone)."""
    removed = []
    for name in _listdir(parent):
        match = re.match(r"^%s(\d+)-" % re.escape(PARTIAL_PREFIX), name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        path = os.path.join(parent, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
        removed.append(name)
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _listdir(path):
    try:
        return os.listdir(path)
    except (IOError, OSError):
        return []


# --- a fixed directory (tcpops.timewait.audit, remediate) ---------------------------------------
# <dest>/tcp-audit.json -> .tcpops-current/tcp-audit.json (and the other four), and
# <dest>/.tcpops-current -> .tcpops-run-<id>: one swap of .tcpops-current switches all five at once,
# and <dest> can hold other things (the remediate and report directories of the same playbooks).

def check_directory(path):
    """Raise ReportDirError when ``path`` exists and is not a directory (or a link to one)."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ReportDirError("%s exists and is not a directory" % path)


def check_fixed_dest(dest):
    """Raise ReportDirError when the reports cannot be published in ``dest``."""
    check_directory(dest)
    for name in sorted(REPORT_NAMES.values()) + [CURRENT]:
        path = os.path.join(dest, name)
        if os.path.isdir(path) and not (name == CURRENT and os.path.islink(path)):
            raise ReportDirError("%s is a directory; move it away" % path)


def _link(dest, name, target):
    """Make ``dest/name`` a symbolic link to ``target`` in one rename."""
    path = os.path.join(dest, name)
    if os.path.islink(path) and os.readlink(path) == target:
        return
    tmp_link = os.path.join(dest, "%s%d-link" % (PARTIAL_PREFIX, os.getpid()))
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(target, tmp_link)
    try:
        os.replace(tmp_link, path)
    except BaseException:
        os.unlink(tmp_link)
        raise


def write_reports(rendered, dest, marker=None):
    """Publish ``rendered`` as the reports of ``dest`` in one step; returns {format: path}."""
    dest = os.path.abspath(dest)
    check_fixed_dest(dest)
    if not os.path.isdir(dest):
        os.makedirs(dest)
    remove_stale_partials(dest)
    fresh = _write_private(dest, rendered, marker or {})
    version = os.path.join(dest, VERSION_PREFIX + os.path.basename(fresh)[len(PARTIAL_PREFIX):])
    try:
        os.rename(fresh, version)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    try:
        _link(dest, CURRENT, os.path.basename(version))
    except BaseException:
        _withdraw(version)
        raise
    for name in REPORT_NAMES.values():
        _link(dest, name, os.path.join(CURRENT, name))
    # keep what .tcpops-current points to now: a run started at the same time may have swapped it since
    linked = os.readlink(os.path.join(dest, CURRENT))
    for name in _listdir(dest):
        path = os.path.join(dest, name)
        if name.startswith(VERSION_PREFIX) and path != version and name != linked and is_complete_run(path):
            _withdraw(path)
    return dict((kind, os.path.join(dest, REPORT_NAMES[kind])) for kind in rendered)


# --- a history of runs (tcpops.timewait.report) ---------------------------------------------------

def check_history_base(base):
    """Raise ReportDirError when ``base`` or ``base/latest`` is not what the history needs."""
    check_directory(base)
    latest = os.path.join(base, LATEST)
    if os.path.lexists(latest) and not os.path.islink(latest):
        raise ReportDirError("%s is a %s, not the symbolic link this module maintains; move it away"
                             % (latest, "directory" if os.path.isdir(latest) else "file"))


def publish_run(rendered, base, stamp, marker=None):
    """Write a run and give it the name ``stamp`` (``stamp-1``, ``-2``... when taken); returns its path."""
    fresh = _write_private(base, rendered, marker or {})
    try:
        suffix = 0
        while True:
            name = stamp if suffix == 0 else "%s-%d" % (stamp, suffix)
            target = os.path.join(base, name)
            suffix += 1
            if os.path.lexists(target):
                continue
            try:
                os.rename(fresh, target)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                    continue
                raise
            return target
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def withdraw_run(run_dir):
    """Undo ``publish_run`` (a later step of the same run failed)."""
    _withdraw(run_dir)


def latest_target(base):
    """Name of the run ``base/latest`` points to, or None."""
    latest = os.path.join(base, LATEST)
    if not os.path.islink(latest):
        return None
    return os.path.basename(os.path.normpath(os.readlink(latest)))


def point_latest(base, run_dir):
    """Swap ``base/latest`` to ``run_dir`` atomically (relative link, so the tree can move)."""
    tmp_link = os.path.join(base, "%s%d-latest" % (PARTIAL_PREFIX, os.getpid()))
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.basename(run_dir), tmp_link)
    try:
        os.replace(tmp_link, os.path.join(base, LATEST))
    except BaseException:
        os.unlink(tmp_link)
        raise


def restore_latest(base, name):
    """Point ``latest`` back at ``name``, or remove it when there was none."""
    if name is None:
        latest = os.path.join(base, LATEST)
        if os.path.islink(latest):
            os.unlink(latest)
    else:
        point_latest(base, os.path.join(base, name))


def _read_json(handle):
    """A JSON file this module wrote, with NaN and Infinity (which Python's encoder writes and its decoder
    reads back, though JSON has no such numbers) read as null: a kept run or a slice holds no number the
    writers would print as nan or inf."""
    return json.load(handle, parse_constant=lambda _name: None)


def is_complete_run(path):
    """A directory this module wrote: exactly the five reports and a marker naming this module."""
    if os.path.islink(path) or not os.path.isdir(path) or set(_listdir(path)) != RUN_FILES:
        return False
    try:
        with open(os.path.join(path, MARKER), encoding="utf-8") as handle:
            marker = _read_json(handle)
    except (IOError, OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("writer") == WRITER


def _run_order(name):
    match = RUN_DIR_PATTERN.match(name)
    return match.group(1), int(match.group(2) or 0)


def complete_runs(base):
    """Names of the complete runs below ``base``, oldest first (by name: UTC time, then suffix)."""
    names = [name for name in _listdir(base)
             if RUN_DIR_PATTERN.match(name) and is_complete_run(os.path.join(base, name))]
    return sorted(names, key=_run_order)


def prune_runs(base, keep, current):
    """Delete the oldest complete runs so that ``keep`` remain; never ``current`` nor what latest points to."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    runs = complete_runs(base)
    protected = set([os.path.basename(current), latest_target(base)])
    excess = len(runs) - keep
    removed = []
    for name in runs:
        if excess <= 0:
            break
        if name in protected:
            continue
        _withdraw(os.path.join(base, name))
        removed.append(name)
        excess -= 1
    return removed


# --- the run compared with ------------------------------------------------------------------------

def _looks_like_fleet_document(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("hosts"), dict):
        return False
    for entry in doc["hosts"].values():
        if not isinstance(entry, dict) or not isinstance(entry.get("status"), str):
            return False
        findings = entry.get("findings")
        if findings is not None and not (isinstance(findings, list) and all(
                isinstance(f, dict) and isinstance(f.get("id"), str) and isinstance(f.get("severity"), str)
                for f in findings)):
            return False
    return True


def load_document(path):
    """(document, None) for a fleet document written earlier, or (None, why it cannot be used)."""
    try:
        with open(path, encoding="utf-8") as handle:
            doc = _read_json(handle)
    except (IOError, OSError) as exc:
        return None, "cannot read %s: %s" % (path, exc.strerror or exc)
    except ValueError as exc:
        return None, "%s is not valid JSON: %s" % (path, exc)
    if not _looks_like_fleet_document(doc):
        return None, "%s is not a tcp-audit.json fleet document" % path
    return doc, None


def previous_document(base):
    """(document, warning) for the run ``base/latest`` points to; (None, None) on a first run."""
    latest = os.path.join(base, LATEST)
    if not os.path.lexists(latest):
        return None, None
    if not os.path.exists(latest):
        return None, "%s points to %s, which does not exist" % (latest, os.readlink(latest))
    return load_document(os.path.join(latest, REPORT_NAMES["json"]))


# --- the slices of a run (sliced jobs: several playbook runs make one fleet report) ---------------
# <base>/runs-in-progress/<run_id>/slice-<uuid4>.json, each written under a temporary name in the
# same directory and renamed: slices finishing at the same time on different nodes never collide
# (uuid4, not a process id: process ids repeat across containers) and a reader never sees half a slice.

IN_PROGRESS = "runs-in-progress"
SLICE_PREFIX = "slice-"
SLICE_FORMAT = "tcpops.timewait.slice/1"
RUN_ID_PATTERN = REPORT_NAME_PATTERN


def check_run_id(run_id):
    """Raise ReportDirError unless ``run_id`` can name a directory of its own."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id) or run_id in (".", ".."):
        raise ReportDirError("run id %r must be %s" % (run_id, NAME_RULE))


def new_run_id(now=None):
    """A run id for a run nobody named: UTC time and a random part."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    return "%s-%s" % (stamp, uuid.uuid4().hex[:12])


def slices_dir(base, run_id):
    check_run_id(run_id)
    return os.path.join(base, IN_PROGRESS, run_id)


def write_slice(base, run_id, hosts, expected, meta=None):
    """Write one slice of run ``run_id`` (its evaluated host entries); returns the slice file's path."""
    directory = slices_dir(base, run_id)
    if os.path.lexists(os.path.join(base, IN_PROGRESS)) and not os.path.isdir(os.path.join(base, IN_PROGRESS)):
        raise ReportDirError("%s exists and is not a directory" % os.path.join(base, IN_PROGRESS))
    try:
        os.makedirs(directory)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(directory):
            raise
    slice_id = uuid.uuid4().hex
    record = dict(meta or {})
    record.update(format=SLICE_FORMAT, run_id=run_id, slice_id=slice_id, written_at=time.time(),
                  expected_hosts=sorted(expected), hosts=hosts)
    final = os.path.join(directory, "%s%s.json" % (SLICE_PREFIX, slice_id))
    tmp = os.path.join(directory, ".%s%s.json.tmp" % (SLICE_PREFIX, slice_id))
    try:
        _write_file(tmp, json.dumps(record, sort_keys=True, separators=(",", ":")))
        os.rename(tmp, final)
        _fsync_dir(directory)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return final


def _valid_slice(record, run_id):
    return (isinstance(record, dict) and record.get("format") == SLICE_FORMAT and record.get("run_id") == run_id
            and isinstance(record.get("hosts"), dict) and isinstance(record.get("expected_hosts"), list)
            and isinstance(record.get("written_at"), (int, float))
            and all(isinstance(e, dict) and isinstance(e.get("status"), str) for e in record["hosts"].values()))


def read_slices(base, run_id):
    """(slices oldest first, warnings) for run ``run_id``; a slice file that cannot be used is a warning."""
    directory = slices_dir(base, run_id)
    slices, warnings = [], []
    for name in sorted(_listdir(directory)):
        if not (name.startswith(SLICE_PREFIX) and name.endswith(".json")):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as handle:
                record = _read_json(handle)
        except (IOError, OSError, ValueError) as exc:
            warnings.append("slice %s cannot be read, its hosts count as missing: %s" % (path, exc))
            continue
        if not _valid_slice(record, run_id):
            warnings.append("slice %s is not a slice of run %s, its hosts count as missing" % (path, run_id))
            continue
        slices.append(record)
    slices.sort(key=lambda record: (record["written_at"], record.get("slice_id") or ""))
    return slices, warnings


def merge_slices(slices, expected):
    """({host: entry}, missing) of the whole run: every host of a slice (the newest slice wins for a
    host audited twice) and every ``expected`` host no slice reported, as an ``error`` entry saying
    it is missing; ``missing`` lists those, sorted."""
    hosts = {}
    for record in slices:
        hosts.update(record["hosts"])
    missing = sorted(set(name for name in expected if name not in hosts))
    for name in missing:
        if name not in hosts:
            hosts[name] = {"status": "error", "findings": [], "facts": None, "sysctl_config": None,
                           "reason": "missing: no slice of this run reported this host (its slice failed "
                                     "or did not finish)"}
    return hosts, missing


def remove_slices(base, run_id):
    """Delete the slices of a run once its fleet report is published."""
    directory = slices_dir(base, run_id)
    if os.path.isdir(directory) and not os.path.islink(directory):
        _withdraw(directory)
    try:
        os.rmdir(os.path.join(base, IN_PROGRESS))
    except OSError:
        pass


def _newest_mtime(directory):
    newest = os.lstat(directory).st_mtime
    for name in _listdir(directory):
        try:
            newest = max(newest, os.lstat(os.path.join(directory, name)).st_mtime)
        except OSError:
            continue
    return newest


def stale_runs_in_progress(base, max_age_seconds, now=None, exclude=None):
    """Runs below ``base/runs-in-progress`` that were never merged and got no slice for
    ``max_age_seconds``: [{run_id, age_seconds, slices}], oldest first. ``exclude``: a run id to
    leave out (the run being merged now)."""
    now = time.time() if now is None else now
    parent = os.path.join(base, IN_PROGRESS)
    if os.path.islink(parent) or not os.path.isdir(parent):
        return []
    stale = []
    for run_id in _listdir(parent):
        directory = os.path.join(parent, run_id)
        if run_id == exclude or not RUN_ID_PATTERN.match(run_id) or os.path.islink(directory) \
                or not os.path.isdir(directory):
            continue
        try:
            age = now - _newest_mtime(directory)
        except OSError:
            continue
        if age >= max_age_seconds:
            slices = sum(1 for name in _listdir(directory) if name.startswith(SLICE_PREFIX) and name.endswith(".json"))
            stale.append({"run_id": run_id, "age_seconds": int(age), "slices": slices})
    return sorted(stale, key=lambda run: (-run["age_seconds"], run["run_id"]))


def remove_runs_in_progress(base, run_ids):
    """Delete the in-progress runs named (retention of runs that were never merged)."""
    for run_id in run_ids:
        remove_slices(base, run_id)
