# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring live sysctl values to wanted ones, writing only the keys that differ. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values


class LiveWriteError(Exception):
    pass


def set_live(kernel, wanted, kinds, check_mode=False):
    """Write each differing key of ``wanted`` ({key: value}); return the list of changes.

    Every key is checked first (present, writable, a valid value): one that is not stops the run
    before anything is written. After each write the key is read back: a kernel that silently keeps
    another value is an error, not a success. When a write fails, the keys already written go back
    to their values from before, so a run changes every key or none.
    """
    changes = []
    for key in sorted(wanted):
        kind = kinds.get(key, "int")
        try:
            after = values.canonical(kind, wanted[key]) if wanted[key] != "" else ""
        except ValueError as exc:
            raise LiveWriteError("%s = %r is not a valid %s value (%s); nothing was written" % (key, wanted[key], kind, exc))
        before = kernel.read(key)
        if before is None:
            raise LiveWriteError("this kernel has no %s; nothing was written" % key)
        if values.same_value(kind, before, after):
            continue
        if not check_mode and not kernel.writable(key):
            raise LiveWriteError("%s is not writable here (read-only or not root); nothing was written" % key)
        changes.append({"key": key, "before": before, "after": after})
    if check_mode:
        return changes
    done = []
    for change in changes:
        try:
            _write_checked(kernel, change["key"], change["after"], kinds.get(change["key"], "int"))
        except LiveWriteError as exc:
            raise LiveWriteError("%s; %s" % (exc, _roll_back(kernel, done)))
        done.append(change)
    return changes


def _write_checked(kernel, key, value, kind):
    try:
        kernel.write(key, value)
    except (IOError, OSError) as exc:
        raise LiveWriteError("writing %s = %s failed: %s" % (key, value, exc.strerror or exc))
    now = kernel.read(key)
    if not values.same_value(kind, now, value):
        raise LiveWriteError("%s reads back %r after writing %r" % (key, now, value))


def _roll_back(kernel, done):
    if not done:
        return "nothing else was written"
    failed = []
    for change in reversed(done):
        try:
            kernel.write(change["key"], change["before"])
        except (IOError, OSError):
            failed.append(change["key"])
    rolled = ", ".join(change["key"] for change in done if change["key"] not in failed)
    if failed:
        return "rolled back %s; could NOT roll back %s" % (rolled or "nothing", ", ".join(failed))
    return "the keys written before it were rolled back (%s)" % rolled


def diff_text(changes, side):
    return "".join("%s = %s\n" % (change["key"], change[side] if change[side] is not None else "")
                   for change in changes)
