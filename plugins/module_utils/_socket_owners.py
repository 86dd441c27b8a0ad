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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


class _Refused(Exception):
    pass


def _read_comm(pid_dir):
    try:
        with open(os.path.join(pid_dir, "comm"), "r") as handle:
            return handle.read().rstrip("\n")
    except OSError:
        return None


def _refusal(path):
    return "%s is not readable (owners need root or CAP_SYS_PTRACE, running as uid %d)" % (path, os.geteuid())


def _held_sockets(pid_dir, wanted):
    """The wanted socket inodes among the fds of one process (empty if it exited)."""
    fd_dir = os.path.join(pid_dir, "fd")
    held = set()
    try:
        names = os.listdir(fd_dir)
    except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
        return held
    except PermissionError:
        raise _Refused(_refusal(fd_dir))
    except OSError:
        return held
    prefix = fd_dir + "/"
    readlink = os.readlink
    for name in names:
        try:
            target = readlink(prefix + name)
        except OSError:
            continue
        if target[:8] == "socket:[":
            inode = int(target[8:-1])
            if inode in wanted:
                held.add(inode)
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


def find_owners(inodes, proc_root="/proc"):
    """Map each process holding one of ``inodes`` (socket inode numbers) to the inodes it holds.

    Return (owners, reason): owners is {pid: {"comm": str, "inodes": set}} or None when the
    fd tables cannot all be read; reason says why, None on success.
    """
    owners = {}
    if not inodes:
        refusal = _probe_refusal(proc_root)
        return (None, refusal) if refusal else (owners, None)
    try:
        pid_dirs = [entry.path for entry in os.scandir(proc_root) if entry.name.isdigit()]
    except OSError as exc:
        return None, "cannot list %s: %s" % (proc_root, exc.strerror or exc)
    try:
        own_namespace = _network_namespace(os.path.join(proc_root, "self"))
        later = []
        first = []
        for pid_dir in pid_dirs:
            namespace = _network_namespace(pid_dir) if own_namespace else None
            (first if namespace == own_namespace else later).append(pid_dir)
        found = set()
        for group in (first, later):
            if group is later and found >= inodes:
                break
            for pid_dir in group:
                held = _held_sockets(pid_dir, inodes)
                if held:
                    found.update(held)
                    owners[int(os.path.basename(pid_dir))] = {"comm": _read_comm(pid_dir), "inodes": held}
    except _Refused as refused:
        return None, str(refused)
    return owners, None
