# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a directory's file system has room for what a run writes there, judged before any host is
contacted: a full disk found at write time ends a run after the whole fleet was gathered, with nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import math
import os

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import counted

# What a run writes into one directory. ``files``: how many it creates at least (an inode each, a block
# each at least); ``fixed`` and ``per_host``: the least its content takes, in bytes, whatever the hosts
# found (about half what unreachable hosts with one-letter names take, checked against the writers in
# the unit tests); ``usual_fixed`` and ``usual_per_host``: what it takes in full mode (a host measured
# 13.7 to 15.8 KB across the five reports), for a warning; None where none is given.
Need = collections.namedtuple("Need", "subject verb files fixed per_host usual_fixed usual_per_host")
# the five reports, the marker and the run's directory
REPORTS = Need("the reports", "take", 7, 8 * 1024, 512, 16 * 1024, 16 * 1024)
# the evaluated hosts in one file, read by the merge
SLICE = Need("the slice", "takes", 1, 0, 64, 0, None)
# node_exporter's .prom
TEXTFILE = Need("the .prom", "takes", 1, 0, 32, 0, None)
# a file takes at least one block; file systems that report a larger unit (NFS its transfer size, CephFS
# its object size, ZFS its record size) keep small files in less
BLOCK_CAP = 4096


def _room(path):
    """(free bytes or None where the file system does not say, free inodes or None where it counts none,
    allocation unit) for this process on the file system of ``path``; None when it cannot be read."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    privileged = os.geteuid() == 0  # root may use the blocks reserved for it
    free = (stat.f_bfree if privileged else stat.f_bavail) * stat.f_frsize if stat.f_blocks else None
    inodes = (stat.f_ffree if privileged else stat.f_favail) if stat.f_files else None
    return free, inodes, min(stat.f_frsize or BLOCK_CAP, BLOCK_CAP)


def size(count, up=False):
    """A byte count as people read it (512 bytes, 12 KiB, 3.4 MiB, 1.2 GiB), rounded down, or ``up``: a free
    size shown rounded down and a needed one rounded up never look equal when the first is below."""
    if count < 1024:
        return "%d bytes" % count
    value, unit = count / 1024.0, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024.0, bigger
    digits = 10 if value < 10 else 1
    value = (math.ceil if up else math.floor)(value * digits) / digits
    return ("%.1f %s" if digits == 10 else "%d %s") % (value, unit)


def unwritable(path):
    """Why this process cannot create files in the existing directory ``path``, or None."""
    try:
        read_only = os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError as exc:
        return "not reachable: %s" % (exc.strerror or exc)
    if read_only:
        return "on a read-only file system"
    if not os.access(path, os.W_OK | os.X_OK):
        return "not writable by uid %d" % os.geteuid()
    return None


def problems(variable, directory, existing, need, host_count=None, runs=1):
    """(problems, warnings) for writing ``runs`` times what ``need`` says for ``host_count`` hosts (None: not
    known here, only what any run takes) into ``directory``, whose nearest existing part is ``existing``."""
    room = _room(existing)
    if room is None:
        return [], []  # unreadable: left to the writability check, or to the write
    free, inodes, block = room
    where = "%s: the file system of %s" % (variable, directory)
    files = need.files * runs
    if inodes is not None and inodes < files:
        return ["%s has %s free; a run creates at least %s: free some there or choose another directory"
                % (where, counted(inodes, "inode"), counted(files, "file"))], []
    if free is None:
        return [], []
    hosts = host_count or 0
    subject = "%s of %s" % (need.subject, counted(host_count, "host") if host_count is not None else "a run")
    floor = max(files * block, (need.fixed + hosts * need.per_host) * runs)
    if free < floor:
        return ["%s has %s free; %s %s at least %s: free space there or choose another directory"
                % (where, size(free), subject, need.verb, size(floor, up=True))], []
    if need.usual_per_host is None or host_count is None:
        return [], []
    usual = files * block + (need.usual_fixed + hosts * need.usual_per_host) * runs
    if free < usual:
        return [], ["%s has %s free; %s usually %s about %s in full mode: the run may end unable to write them"
                    % (where, size(free), subject, need.verb, size(usual, up=True))]
    return [], []
