# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which processes hold given sockets: socket inode -> pid/comm through /proc/PID/fd.

Reading another user's /proc/PID/fd needs root (or CAP_SYS_PTRACE); a partial answer
would blame the wrong processes, so any refusal makes the whole answer unavailable,
with the reason. Standard library only.

Processes in this network namespace are scanned first (a socket normally belongs to the
namespace of the process that holds it); the other processes are scanned only when some
inodes are still unaccounted for, so the answer stays exact while a host full of
containers costs one readlink per foreign process instead of a walk of all its fds.

Any local user names its processes: a comm is read through ``_host_files`` (at most 64 bytes),
decoded with replacement and shown with control characters escaped; a comm that needed either
is an entry of ``errors`` naming the pid. A process that exits mid-scan is skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import printable, read_bytes

COMM_CAP = 64  # the kernel keeps 16 bytes (TASK_COMM_LEN); a fixture tree may hold anything


class _Refused(Exception):
    pass


_GONE = (errno.ENOENT, errno.ESRCH)


def read_comm(pid_dir):
    """``(comm, problem)``: the process name safe to show, and why it was altered (or None)."""
    path = os.path.join(pid_dir, "comm")
    try:
        raw = read_bytes(path, COMM_CAP)
    except OSError as exc:
        return None, None if getattr(exc, "errno", None) in _GONE else str(exc)
    raw = raw[:-1] if raw.endswith(b"\n") else raw
    text = raw.decode("utf-8", "replace")
    shown = printable(text, COMM_CAP)
    if shown != raw.decode("utf-8", "ignore"):
        return shown, "%s: process name is not valid UTF-8 or holds control characters, shown as '%s'" % (path, shown)
    return shown, None


def _refusal(path):
    return "%s is not readable (owners need root or CAP_SYS_PTRACE, running as uid %d)" % (path, os.geteuid())


def _held_sockets(pid_dir, wanted):
    """The wanted socket inodes among the fds of one process (empty if it exited). ``wanted`` maps
    the link text of each wanted socket (``socket:[INODE]``) to its inode: one dict lookup per fd."""
    fd_dir = os.path.join(pid_dir, "fd")
    held = set()
    try:
        # each link read relative to the open directory: one path step for the kernel, not four
        directory = os.open(fd_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
        return held
    except PermissionError:
        raise _Refused(_refusal(fd_dir))
    except OSError:
        return held
    try:
        try:
            names = os.listdir(directory)
        except PermissionError:
            raise _Refused(_refusal(fd_dir))
        except OSError:
            return held
        readlink = os.readlink
        inode_of = wanted.get
        for name in names:
            try:
                inode = inode_of(readlink(name, dir_fd=directory))
            except OSError:
                continue
            if inode is not None:
                held.add(inode)
                if len(held) == len(wanted):
                    break  # the rest of its fds can add nothing
    finally:
        os.close(directory)
    return held


def _network_namespace(pid_dir):
    """The net namespace link of a process, or None when unknown (exited, or not ours to read:
    such a process is then scanned in the second pass, where its fd table decides)."""
    try:
        return os.readlink(os.path.join(pid_dir, "ns", "net"))
    except OSError:
        return None


def _probe_refusal(proc_root):
    """Why owners could not be named, probed on PID 1 (not ours unless we are root), or None.

    With nothing to look up the answer is still worth having: a report that says owners are
    available when they would not be misleads the first time a leak appears.
    """
    probe = os.path.join(proc_root, "1", "fd")
    try:
        os.listdir(probe)
    except PermissionError:
        return _refusal(probe)
    except OSError:
        pass
    return None


def find_owners(inodes, proc_root="/proc", errors=None, namespace_links=None, own_proc=None):
    """Map each process holding one of ``inodes`` (socket inode numbers) to the inodes it holds.

    Return (owners, reason): owners is {pid: {"comm": str, "inodes": set}} or None when the
    fd tables cannot all be read; reason says why, None on success. A process name that had to
    be altered to be shown is appended to ``errors``.

    ``namespace_links``, a dict kept by the caller across calls (one per namespace walked), keeps
    each process's namespace link once read: it only decides which processes are scanned first,
    never which are scanned, so a stale entry costs time, not exactness. The processes of the namespace
    that ``own_proc`` shows (by default ``proc_root/self``: the main thread's) are scanned first.
    """
    owners = {}
    if not inodes:
        refusal = _probe_refusal(proc_root)
        return (None, refusal) if refusal else (owners, None)
    try:
        pid_dirs = [entry.path for entry in os.scandir(proc_root) if entry.name.isdigit() and entry.name.isascii()]
    except OSError as exc:
        return None, "cannot list %s: %s" % (proc_root, exc.strerror or exc)
    try:
        own_namespace = _network_namespace(own_proc or os.path.join(proc_root, "self"))
        links = {} if namespace_links is None else namespace_links
        later = []
        first = []
        for pid_dir in pid_dirs:
            namespace = None
            if own_namespace:
                namespace = links.get(pid_dir)
                if namespace is None:
                    namespace = links[pid_dir] = _network_namespace(pid_dir)
            (first if namespace == own_namespace else later).append(pid_dir)
        found = set()
        wanted = dict(("socket:[%d]" % inode, inode) for inode in inodes)
        for group in (first, later):
            if group is later and found >= inodes:
                break
            for pid_dir in group:
                held = _held_sockets(pid_dir, wanted)
                if held:
                    found.update(held)
                    comm, problem = read_comm(pid_dir)
                    if problem and errors is not None:
                        errors.append(problem)
                    owners[int(os.path.basename(pid_dir))] = {"comm": comm, "inodes": held}
    except _Refused as refused:
        return None, str(refused)
    return owners, None


def sources_by_destination(owners, destinations, limit=5):
    """Group ``owners`` (as ``find_owners`` returns them) by the destination of each socket they
    hold: ``destinations`` maps socket inode numbers to a destination (other inodes are ignored).
    Return {destination: [{pid, comm, count}]}, most sockets first (then the lowest pid), at most
    ``limit`` processes per destination. A socket shared by several processes counts for each.
    """
    held = {}
    for pid, owner in owners.items():
        per_destination = {}
        for inode in owner["inodes"]:
            destination = destinations.get(inode)
            if destination is not None:
                per_destination[destination] = per_destination.get(destination, 0) + 1
        for destination, count in per_destination.items():
            held.setdefault(destination, []).append({"pid": pid, "comm": owner["comm"], "count": count})
    for sources in held.values():
        sources.sort(key=lambda source: (-source["count"], source["pid"]))
        del sources[limit:]
    return held
