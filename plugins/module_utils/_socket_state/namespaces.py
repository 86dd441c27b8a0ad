# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``tcp_state.namespaces``: every other network namespace that has a process on the host.

Each network namespace (each container, each pod) has its own socket table and its own TCP sysctls,
which the host's own view never shows. A netlink socket belongs to the namespace it is created in and
``/proc/sys/net`` shows the namespace of the thread that opens it, so each namespace is read by moving
a thread into it with setns(2), running the facts engine's per-namespace part, and moving back, always,
before anything else happens on that thread (``entering`` does the moves, in worker threads where the
kernel allows).

Namespaces are told apart by (st_dev, st_ino) of ``/proc/PID/ns/net``; the owner is read from the
cgroup path of one of the namespace's processes. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
from operator import itemgetter

from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import printable, read_text
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.cgroup_owner import cgroup_owner
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.entering import (
    NamespaceReturnError, Walk, WalkUnavailable, default_workers, identity, os_setns, thread_proc)
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import COUNT_KEYS

MAX_PIDS = 5
MAX_MESSAGES = 50
CGROUP_CAP = 1 << 16
ROOT_NEEDED = ("reading other network namespaces needs root (CAP_SYS_ADMIN for setns, and the "
               "/proc/PID/ns/net links of other users' processes): run with become: true")
# errors that mean the process, or its namespace link, went away while the scan ran
GONE = (errno.ENOENT, errno.ESRCH)


def owner_text(entry):
    """How a namespace is named: ``container ID``, ``pod UID``, ``unit NAME``, ``inode N`` when the owner is
    unknown. The same from one run to the next while the owner lives, so that the reports' comparison
    sees a finding persist (a unit restarted gets a new namespace, and so a new inode)."""
    owner = entry.get("owner")
    if not owner:
        return "inode %s" % entry.get("inode")
    return "%s %s" % (owner.get("kind"), owner.get("id"))


def message_text(entry):
    """How this run's messages name a namespace: ``owner_text``, with the inode for a unit, which may hold
    several namespaces at once."""
    owner = entry.get("owner")
    if owner and owner.get("kind") == "unit":
        return "%s (inode %s)" % (owner_text(entry), entry.get("inode"))
    return owner_text(entry)


def pressure(entry, thresholds=None):
    """Sort key, most pressure first: how near the namespace comes to a finding of the audit's socket
    rules, as the largest share of their warn thresholds (``thresholds``, else the defaults) among the
    worst destination's port usage, CLOSE_WAIT and FIN_WAIT2 (so a pod leaking CLOSE_WAIT is not ranked
    out by pods holding a little TIME_WAIT); then TIME_WAIT, then all sockets, then the inode (for a
    stable order)."""
    if thresholds is None:
        from ansible_collections.tcpops.timewait.plugins.module_utils._audit.thresholds import DEFAULT_THRESHOLDS

        thresholds = DEFAULT_THRESHOLDS
    time_wait = entry.get("time_wait") or {}
    counts = entry.get("counts") or {}
    worst = max([d.get("port_usage") or 0.0 for d in time_wait.get("top_destinations") or []] or [0.0])
    nearest = max(_share(worst, thresholds["port_usage_warn"]),
                  _share((entry.get("close_wait") or {}).get("total") or 0, thresholds["close_wait_warn"]),
                  _share(counts.get("fin_wait2") or 0, thresholds["fin_wait2_warn"]))
    return (-nearest, -(time_wait.get("total") or 0), -(counts.get("total") or 0), entry.get("inode") or 0)


def _share(value, warn_at):
    """``value`` as a share of a warn threshold; a threshold of 0 makes any value at all a finding."""
    if warn_at:
        return value / float(warn_at)
    return float("inf") if value else 0.0


def discover(proc_root, own):
    """{(st_dev, st_ino): [pid, ...]} of every network namespace but ``own`` that a process is in, and
    how many processes' links could not be read for lack of permission. A process that exits during
    the walk is simply not there."""
    found = {}
    denied = 0
    try:
        names = os.listdir(proc_root)
    except OSError:
        return found, denied
    for name in names:
        if not name.isdigit():
            continue
        try:
            key = identity(os.stat(os.path.join(proc_root, name, "ns", "net")))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                denied += 1
            continue
        if key != own:
            found.setdefault(key, []).append(int(name))
    for pids in found.values():
        pids.sort()
    return found, denied


def read_owner(proc_root, pids):
    """The owner from the cgroup of the first of ``pids`` that names one, else None."""
    for pid in pids[:MAX_PIDS]:
        try:
            owner = cgroup_owner(read_text(os.path.join(proc_root, str(pid), "cgroup"), CGROUP_CAP))
        except OSError:
            continue
        if owner:
            return owner
    return None


def _entry_messages(name, messages):
    return ["namespace %s: %s" % (name, message) for message in messages]


def scan(read_namespace, top, proc_root="/proc", setns=None, warnings=None, is_root=None, workers=None,
         thresholds=None):
    """The ``tcp_state.namespaces`` dict.

    ``read_namespace(warnings, errors, own_proc)`` returns one namespace's data (counts, time_wait,
    close_wait, ephemeral_ports, sysctl, listen) read in whatever namespace the thread is in (``own_proc``:
    the /proc directory showing that thread's own ``net/``), and a callable
    ``complete(warnings, errors, own_proc)`` (or None) that adds what only the namespaces shown in full need
    (the socket owners): every namespace is read and ranked first, then only the ``top`` ones are entered
    again and completed, ranked by ``pressure`` with ``thresholds`` (the audit's, merged; None: the
    defaults). Worker threads do the moves (``entering.Walk``; ``workers`` of them, by default
    ``entering.default_workers()``); the calling thread stays where it is. ``setns`` defaults to the real
    one. Problems that stop the whole scan (not root) are its ``reason``. The result is the same whichever
    worker finishes first: each namespace's messages of the first read in the order of the inodes, then
    those of the kept namespaces' completion in the order of their pressure.
    """
    warnings = [] if warnings is None else warnings
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError("workers must be at least 1, got %r" % workers)
    result = {"total": None, "unread": None, "counts": None, "top": [], "reason": None, "warnings": [],
              "warnings_total": 0, "errors": [], "errors_total": 0}
    if not (os.geteuid() == 0 if is_root is None else is_root):
        return _not_read(result, warnings, ROOT_NEEDED)
    try:
        setns = setns or os_setns()
        own = identity(os.stat(os.path.join(thread_proc(proc_root), "ns", "net")))
    except (OSError, AttributeError) as exc:
        return _not_read(result, warnings, "own network namespace unreadable: %s"
                         % (getattr(exc, "strerror", None) or exc))
    found, denied = discover(proc_root, own)
    if denied and not found:
        return _not_read(result, warnings, ROOT_NEEDED)

    def walk(jobs, work):
        return Walk(proc_root, setns, jobs, work, workers)

    ns_warnings, ns_errors = [], []  # the walk gives each job's messages in the order described above
    try:
        total, unread, counts, ranked = _survey(walk, proc_root, found, read_namespace, top, result, thresholds,
                                                warnings, ns_warnings, ns_errors)
    except (WalkUnavailable, OSError) as exc:
        return _not_read(result, warnings, _walk_failure(exc))
    try:
        with walk(ranked, _complete_one) as completed:
            for _index, (job_warnings, job_errors) in completed:
                ns_warnings.extend(job_warnings)
                ns_errors.extend(job_errors)
    except (WalkUnavailable, OSError) as exc:
        why = _walk_failure(exc)
        for item in ranked:
            _mark_incomplete(item[1], "its socket owners were not searched nor its other sysctls read: %s" % why)
        warnings.append("tcp_state.namespaces: the namespaces listed in full were read, not their socket owners "
                        "nor their other sysctls: %s" % why)
    result.update(total=total, unread=unread, counts=counts, top=[item[1] for item in ranked])
    result["warnings"], result["warnings_total"] = ns_warnings[:MAX_MESSAGES], len(ns_warnings)
    result["errors"], result["errors_total"] = ns_errors[:MAX_MESSAGES], len(ns_errors)
    if result["reason"]:
        warnings.append("tcp_state.namespaces incomplete: %s" % result["reason"])
    if ns_errors:
        warnings.append("%d problems reading other network namespaces: see tcp_state.namespaces.errors"
                        % len(ns_errors))
    return result


def _walk_failure(exc):
    """Why a walk could not be made: no thread started, or a worker could not open its own namespace (the
    reads' own errors are caught where they happen)."""
    if isinstance(exc, WalkUnavailable):
        return str(exc)
    return "own network namespace unreadable in a worker thread: %s" % (exc.strerror or exc)


def _mark_incomplete(entry, reason):
    """A kept entry whose completion did not happen: its owner reasons say why."""
    entry["close_wait"]["owners_reason"] = reason
    if entry["time_wait"].get("top_destinations"):
        entry["time_wait"]["likely_sources_reason"] = reason


def _not_read(result, warnings, reason):
    result["reason"] = reason
    warnings.append("tcp_state.namespaces not read: %s" % reason)
    return result


class _Name(object):
    """How a namespace is named in messages (``message_text``): its owner is read from a cgroup file the
    first time a message needs it, or when the namespace is kept, not for every namespace walked."""

    def __init__(self, proc_root, pids, entry):
        self.proc_root, self.pids, self.entry = proc_root, pids, entry
        self.read = False

    def owner(self):
        if not self.read:
            self.entry["owner"] = read_owner(self.proc_root, self.pids)
            self.read = True
        return self.entry["owner"]

    def __str__(self):
        self.owner()
        return message_text(self.entry)


def _survey(walk, proc_root, found, read_namespace, top, result, thresholds, warnings, ns_warnings, ns_errors):
    """Read every namespace once: (total, unread, the sockets per state summed over those read, the ``top``
    most pressed as a ranked list of (rank, entry, complete, key, pids, name)). Only those are kept while
    the walk goes on, so memory stays bounded by ``top`` whatever the number of namespaces; their owners are
    read at the end."""
    jobs = []
    for key in sorted(found):
        pids = found[key]
        entry = {"inode": key[1], "pids": pids[:MAX_PIDS], "pids_total": len(pids), "owner": None}
        jobs.append((key, pids, entry, _Name(proc_root, pids, entry)))

    def survey(entering, job):
        key, pids, _entry, name = job
        job_warnings, job_errors = [], []
        data, failure = _read_one(entering, key, pids, read_namespace, name, job_warnings, job_errors)
        return data, failure, job_warnings, job_errors

    total = unread = 0
    counts = dict.fromkeys(COUNT_KEYS + ("total",), 0)
    ranked = []
    with walk(jobs, survey) as surveyed:
        for index, (data, failure, job_warnings, job_errors) in surveyed:
            key, pids, entry, name = jobs[index]
            jobs[index] = None  # a namespace not ranked among the top is not kept
            ns_warnings.extend(job_warnings)
            ns_errors.extend(job_errors)
            if failure == "gone":
                warnings.append("namespace %s: its processes exited before it was read (not counted)" % name)
                continue
            total += 1
            if failure:
                unread += 1
                if failure == "denied":
                    result["reason"] = ROOT_NEEDED
                    break
                continue
            data, complete = data
            entry.update(data)
            for state, sockets in (entry.get("counts") or {}).items():
                if state in counts:
                    counts[state] += sockets
            if top:
                ranked.append((pressure(entry, thresholds), entry, complete, key, pids, name))
                if len(ranked) > top:
                    ranked.sort(key=itemgetter(0))
                    del ranked[top:]
    ranked.sort(key=itemgetter(0))
    for item in ranked:
        item[5].owner()
    return total, unread, counts, ranked


def _complete_one(entering, item):
    """Run the ranked entry's ``complete`` in its namespace: (namespace warnings, namespace errors). When
    that fails (its processes gone by now), the entry stays as surveyed and its owner reasons say why they
    are unknown."""
    _rank, entry, complete, key, pids, name = item
    ns_warnings, ns_errors = [], []
    if complete is None:
        return ns_warnings, ns_errors

    def read(own_warnings, own_errors, own_proc):
        complete(own_warnings, own_errors, own_proc)
        return None

    _data, failure = _read_one(entering, key, pids, read, name, ns_warnings, ns_errors)
    if failure is None:
        return ns_warnings, ns_errors
    reason = {"gone": ("its processes exited after it was read, before its socket owners were searched "
                       "(its sysctl holds only the port range and reuse keys)"),
              "denied": "entering it again to search its socket owners and read its sysctls was refused"}.get(failure)
    if reason is None:
        reason = "searching its socket owners failed (see tcp_state.namespaces.errors)"
    else:
        ns_warnings.append("namespace %s: %s" % (name, reason))
    _mark_incomplete(entry, reason)
    return ns_warnings, ns_errors


def _read_one(entering, key, pids, read_namespace, name, ns_warnings, ns_errors):
    """(data, None) or (None, "gone" | "denied" | "failed"), trying the namespace's processes in turn."""
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import TcpStateError

    for pid in pids:
        own_warnings, own_errors = [], []
        try:
            data = entering.run_in(pid, key, lambda: read_namespace(own_warnings, own_errors, entering.own_proc))
        except NamespaceReturnError:
            raise
        except TcpStateError as exc:
            ns_errors.append("namespace %s: %s" % (name, exc))
            ns_warnings.append(ns_errors[-1])
            return None, "failed"
        except OSError as exc:
            if exc.errno in GONE:
                continue
            if exc.errno in (errno.EPERM, errno.EACCES):
                return None, "denied"
            ns_errors.append("namespace %s: process %d: %s" % (name, pid, printable(exc.strerror or str(exc))))
            ns_warnings.append(ns_errors[-1])
            return None, "failed"
        ns_warnings.extend(_entry_messages(name, own_warnings))
        ns_errors.extend(_entry_messages(name, own_errors))
        return data, None
    return None, "gone"
