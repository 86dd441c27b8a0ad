# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which processes hold given sockets: socket inode -> pid/comm through /proc/PID/fd.

Reading another user's /proc/PID/fd needs root (or CAP_SYS_PTRACE); a partial answer
would blame the wrong processes, so any refusal makes the whole answer unavailable,
with the reason. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def _read_comm(pid_dir):
    try:
        with open(os.path.join(pid_dir, "comm"), "r") as handle:
            return handle.read().rstrip("\n")
    except OSError:
        return None


def find_owners(inodes, proc_root="/proc"):
    """Map each process holding one of ``inodes`` (socket inode numbers) to the inodes it holds.

    Return (owners, reason): owners is {pid: {"comm": str, "inodes": set}} or None when the
    fd tables cannot all be read; reason says why, None on success.
    """
    owners = {}
    if not inodes:
        return owners, None
    wanted = inodes
    try:
        entries = os.scandir(proc_root)
    except OSError as exc:
        return None, "cannot list %s: %s" % (proc_root, exc.strerror or exc)
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            fd_dir = os.path.join(entry.path, "fd")
            try:
                fds = os.scandir(fd_dir)
            except FileNotFoundError:
                continue  # the process exited meanwhile
            except PermissionError:
                return None, ("%s is not readable (owners need root or CAP_SYS_PTRACE, running as uid %d)"
                              % (fd_dir, os.geteuid()))
            except OSError:
                continue
            held = None
            with fds:
                for fd in fds:
                    try:
                        target = os.readlink(fd.path)
                    except OSError:
                        continue
                    if target.startswith("socket:["):
                        inode = int(target[8:-1])
                        if inode in wanted:
                            if held is None:
                                held = set()
                            held.add(inode)
            if held:
                owners[int(entry.name)] = {"comm": _read_comm(entry.path), "inodes": held}
    return owners, None
