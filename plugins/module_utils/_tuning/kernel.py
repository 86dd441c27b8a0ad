# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live sysctl values under /proc/sys, read and written through a ``proc_root`` seam.

Unit tests point ``proc_root`` at a fixture tree (an old kernel with ``tcp_tw_recycle``, a
container whose ``net.core`` keys are read-only, ...). Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat


class KernelSysctl:
    """The sysctl tree of the running kernel (or of a fixture)."""

    def __init__(self, proc_root="/proc"):
        self.proc_root = proc_root

    def path(self, key):
        return os.path.join(self.proc_root, "sys", *key.split("."))

    def exists(self, key):
        return os.path.isfile(self.path(key))

    def read(self, key):
        """The value as the kernel prints it, white space folded; None when the key is absent."""
        try:
            with open(self.path(key)) as handle:
                return " ".join(handle.read().split())
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def writable(self, key):
        """True when this process may write the key: mode bits allow it and the mount is not read-only.

        /proc/sys shows per-namespace read-only keys (e.g. ``nf_conntrack_max`` outside the initial
        network namespace) as mode 0444; an unprivileged container mounts the whole tree read-only,
        which ``access(2)`` reports as EROFS even to root.
        """
        path = self.path(key)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return False
        if not stat.S_ISREG(mode) or not mode & 0o222:
            return False
        return os.access(path, os.W_OK)

    def tree_read_only(self, subtree="net"):
        """True when the mount holding /proc/sys/<subtree> is read-only (an unprivileged container)."""
        path = os.path.join(self.proc_root, "sys", subtree)
        try:
            return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        except OSError:
            return False

    def write(self, key, value):
        with open(self.path(key), "w") as handle:
            handle.write("%s\n" % (value,))

    def release(self):
        try:
            with open(os.path.join(self.proc_root, "sys", "kernel", "osrelease")) as handle:
                return handle.read().strip()
        except (IOError, OSError):
            return None

    def tw_reuse_values(self):
        """The values this kernel's ``tcp_tw_reuse`` accepts, proven from the tree, never from a version.

        A kernel that still has ``tcp_tw_recycle`` predates value 2 (loopback only). A kernel with
        ``tcp_tw_reuse_delay``, or whose live value is 2, accepts 2. Anything else cannot be proven
        to accept 2 without writing it, so only 0 and 1 are offered.
        """
        if not self.exists("net.ipv4.tcp_tw_reuse"):
            return []
        if self.exists("net.ipv4.tcp_tw_recycle"):
            return [0, 1]
        if self.exists("net.ipv4.tcp_tw_reuse_delay") or self.read("net.ipv4.tcp_tw_reuse") == "2":
            return [0, 1, 2]
        return [0, 1]
