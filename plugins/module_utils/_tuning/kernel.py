# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live sysctl tree as the tcp_tuning role sees it, through a ``proc_root`` seam.

Reads and writes go through the collection's one live sysctl reader (``_sysctl/live.py``); the
role's policy on top: an absent key is None ("this kernel has none"), any other failure to read
raises ``SysctlReadError`` (an ``OSError``), since the role must not decide on a value it could
not see. Unit tests point ``proc_root`` at a fixture tree (an old kernel with ``tcp_tw_recycle``,
a container whose ``net.core`` keys are read-only, ...). Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import live
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import TW_RECYCLE, TW_REUSE, TW_REUSE_DELAY


class KernelSysctl:
    """The sysctl tree of the running kernel (or of a fixture)."""

    def __init__(self, proc_root="/proc"):
        self.proc_root = proc_root

    def path(self, key):
        return live.key_path(self.proc_root, key)

    def exists(self, key):
        return live.exists(self.proc_root, key)

    def read(self, key):
        """The value as the kernel prints it, white space folded; None when the key is absent."""
        return live.read_or_none(self.proc_root, key)

    def writable(self, key):
        """True when this process may write the key: mode bits allow it and the mount is not read-only.

        /proc/sys shows per-namespace read-only keys (e.g. ``nf_conntrack_max`` outside the initial
        network namespace) as mode 0444; an unprivileged container mounts the whole tree read-only,
        which ``access(2)`` reports as EROFS even to root.
        """
        try:
            path = self.path(key)
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
        live.write(self.proc_root, key, value)

    def release(self):
        try:
            return live.read(self.proc_root, live.RELEASE_KEY)
        except live.SysctlReadError:
            return None

    def tw_reuse_values(self):
        """The values this kernel's ``tcp_tw_reuse`` accepts, proven from the tree, never from a version.

        A kernel that still has ``tcp_tw_recycle`` predates value 2 (loopback only). A kernel with
        ``tcp_tw_reuse_delay``, or whose live value is 2, accepts 2. Anything else cannot be proven
        to accept 2 without writing it, so only 0 and 1 are offered.
        """
        if not self.exists(TW_REUSE):
            return []
        if self.exists(TW_RECYCLE):
            return [0, 1]
        if self.exists(TW_REUSE_DELAY) or self.read(TW_REUSE) == "2":
            return [0, 1, 2]
        return [0, 1]
