# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live sysctl values under ``<proc_root>/sys``: the one place that turns a key into a path and reads it.

``read`` returns the value as the kernel prints it with runs of white space folded (the port range
is ``"32768<TAB>60999"`` in the file); anything that stops it is one ``SysctlReadError`` whose
``kind`` says which: ``absent`` (this kernel has no such key, or the name cannot be one: a glob, an
empty or ``..`` part), ``unreadable`` (the kernel refused the read, e.g. a write-only key) or
``refused`` (not a regular file, larger than the cap: host data shaped to hurt the reader). Each
caller turns that into its own policy: the facts report null and a warning, the role treats an
absent key as "this kernel has none" and stops on the others.

Every read goes through ``_host_files`` (no blocking open, regular files only, a capped read,
invalid UTF-8 replaced). Standard library only, and cheap to import: summary mode loads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import HostFileError, is_absent, read_text

# bytes of one /proc/sys value (the largest real ones are a few hundred): the value is read in one read of
# VALUE_CAP + 1 bytes, for which the kernel allocates one byte more, so 64 KiB and not twice that
VALUE_CAP = (1 << 16) - 2
RELEASE_KEY = "kernel.osrelease"
ABSENT, UNREADABLE, REFUSED = "absent", "unreadable", "refused"
_NOT_A_NAME = ("*", "?", "[", "\0")


class SysctlReadError(OSError):
    """A live sysctl value could not be read; ``kind`` is ``absent``, ``unreadable`` or ``refused``."""

    def __init__(self, kind, key, message):
        OSError.__init__(self, message)
        self.kind = kind
        self.key = key
        self.message = message
        self.strerror = message

    def __str__(self):
        return self.message


def key_path(proc_root, key):
    """The file of the dotted ``key`` under ``<proc_root>/sys``.

    A ``/`` inside a dotted name stands for a ``.`` of the file name (sysctl(8)'s swap: the key
    ``net.ipv4.conf.eth0/10.rp_filter`` is the file ``net/ipv4/conf/eth0.10/rp_filter``).
    Raise ``SysctlReadError`` (``absent``) for a name no sysctl can have: a glob, an empty, ``.``
    or ``..`` part (it must never climb out of ``<proc_root>/sys``), a NUL byte.
    """
    parts = [part.replace("/", ".") for part in key.split(".")]
    if any(char in key for char in _NOT_A_NAME) or any(part in ("", ".", "..") for part in parts):
        raise SysctlReadError(ABSENT, key, "%s is not the name of one sysctl" % key)
    return os.path.join(proc_root, "sys", *parts)


def read(proc_root, key, cap=VALUE_CAP):
    """The live value of ``key``, white space folded; ``SysctlReadError`` when there is none."""
    path = key_path(proc_root, key)
    try:
        return " ".join(read_text(path, cap).split())
    except (OSError, IOError) as exc:
        if is_absent(exc):
            raise SysctlReadError(ABSENT, key, "this kernel has no %s" % key)
        kind = REFUSED if isinstance(exc, HostFileError) and exc.errno is None else UNREADABLE
        reason = exc.reason if isinstance(exc, HostFileError) else (exc.strerror or str(exc))
        raise SysctlReadError(kind, key, reason)


def read_or_none(proc_root, key):
    """The live value of ``key``, or None when this kernel has no such key; other failures raise."""
    try:
        return read(proc_root, key)
    except SysctlReadError as exc:
        if exc.kind == ABSENT:
            return None
        raise


def exists(proc_root, key):
    try:
        return os.path.isfile(key_path(proc_root, key))
    except SysctlReadError:
        return False


def write(proc_root, key, value):
    """Write ``value`` (and a newline) to ``key``; an ``OSError`` says why the kernel refused."""
    with open(key_path(proc_root, key), "w") as handle:
        handle.write("%s\n" % (value,))
