# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the tcp_tuning role may write, checked before it writes anything.

The sysctl file is only ever a ``*.conf`` directly under a sysctl.d directory, and never a file
the role did not write (its fingerprint line says whether it did). The restore file lives outside
the sysctl directories and the kernel's virtual trees. Both paths are absolute and normalised.
Writability is proven on the real directory (mode bits, ownership and read-only mounts, through
``access(2)``), the nearest existing one when the role will create it. Everything is looked up
below ``root`` so unit tests can use a fixture tree. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.files import SYSCTL_DIRS
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.restore import ROLE, host_path

FINGERPRINT = "# %s:" % ROLE
VIRTUAL_TREES = ("/proc", "/sys", "/dev")


def _normalised(variable, path):
    if not isinstance(path, str) or not path.startswith("/"):
        return ["%s = %r is not an absolute path: give the full path, starting with /" % (variable, path)]
    if os.path.normpath(path) != path or path.startswith("//"):
        return ["%s = %r is not a normalised path (no '..', '.', '//' or trailing '/'): use %s"
                % (variable, path, os.path.normpath(path))]
    return []


def written_by_role(root, path):
    """True when the file at ``path`` carries the role's fingerprint line."""
    try:
        with open(host_path(root, path), "rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace")
    except (IOError, OSError):
        return False
    return any(line.startswith(FINGERPRINT) for line in head.splitlines())


def check_sysctl_file(root, path):
    errors = _normalised("tcp_tuning_sysctl_file", path)
    if errors:
        return errors
    directory, name = os.path.split(path)
    if directory not in SYSCTL_DIRS:
        errors.append("tcp_tuning_sysctl_file = %s: the role writes only directly under a sysctl directory "
                      "(%s), never elsewhere" % (path, ", ".join(SYSCTL_DIRS)))
    if not name.endswith(".conf") or name.startswith(".") or name == ".conf":
        errors.append("tcp_tuning_sysctl_file = %s: the name must end in .conf (sysctl --system reads no other "
                      "name), e.g. 90-tcpops-timewait.conf" % path)
    if errors:
        return errors
    full = host_path(root, path)
    try:
        mode = os.lstat(full).st_mode
    except OSError:
        return []
    if not stat.S_ISREG(mode):
        return ["tcp_tuning_sysctl_file = %s exists and is not a regular file (a link, directory or device): "
                "the role never replaces it; choose another name" % path]
    if not written_by_role(root, path):
        return ["tcp_tuning_sysctl_file = %s exists and was not written by this role (no '%s' line): the role "
                "never overwrites or removes a file it did not write; choose another name" % (path, FINGERPRINT)]
    return []


def check_state_file(root, path, sysctl_file):
    errors = _normalised("tcp_tuning_state_file", path)
    if errors:
        return errors
    directory = os.path.dirname(path)
    if directory in SYSCTL_DIRS or path == sysctl_file:
        errors.append("tcp_tuning_state_file = %s lies in a sysctl directory: keep it elsewhere, "
                      "e.g. /var/lib/tcpops-timewait/tcp_tuning.json" % path)
    for tree in VIRTUAL_TREES:
        if path == tree or path.startswith(tree + "/"):
            errors.append("tcp_tuning_state_file = %s lies in the kernel's virtual tree %s: keep it on disk, "
                          "e.g. /var/lib/tcpops-timewait/tcp_tuning.json" % (path, tree))
    if directory == "/":
        errors.append("tcp_tuning_state_file = %s lies directly in /: give it a directory of its own, "
                      "e.g. /var/lib/tcpops-timewait/tcp_tuning.json" % path)
    return errors


def directory_missing(root, path):
    """True when the directory that will hold ``path`` does not exist yet (the role creates it)."""
    return not os.path.isdir(host_path(root, os.path.dirname(path)))


def check_writable(root, path, variable, must_exist=False):
    """Errors when the directory that will hold ``path`` cannot be written (or, created)."""
    directory = os.path.dirname(path)
    probe = directory
    while not os.path.lexists(host_path(root, probe)):
        if must_exist:
            return ["%s = %s: the directory %s does not exist on this host" % (variable, path, directory)]
        probe = os.path.dirname(probe)
    full = host_path(root, probe)
    if not os.path.isdir(full):
        return ["%s = %s: %s is not a directory" % (variable, path, probe)]
    try:
        read_only = bool(os.statvfs(full).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return ["%s = %s cannot be written: %s is on a read-only file system; nothing was changed"
                % (variable, path, probe)]
    if not os.access(full, os.W_OK | os.X_OK):
        return ["%s = %s cannot be written: this user may not write %s (run the role with become: true); "
                "nothing was changed" % (variable, path, probe)]
    return []
