# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring live sysctl values to wanted ones, writing only the keys that differ. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.module_utils import _tuning_values as values


class LiveWriteError(Exception):
    pass


def set_live(kernel, wanted, kinds, check_mode=False):
    """Write each differing key of ``wanted`` ({key: value}); return the list of changes.

    Every change is ``{key, before, after}``. In check mode nothing is written. After a write
    the key is read back: a kernel that silently keeps another value is an error, not a success.
    """
    changes = []
    for key in sorted(wanted):
        kind = kinds.get(key, "int")
        after = values.canonical(kind, wanted[key]) if wanted[key] != "" else ""
        before = kernel.read(key)
        if before is None:
            raise LiveWriteError("this kernel has no %s" % key)
        if values.same_value(kind, before, after):
            continue
        changes.append({"key": key, "before": before, "after": after})
        if check_mode:
            continue
        try:
            kernel.write(key, after)
        except (IOError, OSError) as exc:
            raise LiveWriteError("writing %s = %s failed: %s" % (key, after, exc))
        now = kernel.read(key)
        if not values.same_value(kind, now, after):
            raise LiveWriteError("%s reads back %r after writing %r" % (key, now, after))
    return changes


def diff_text(changes, side):
    return "".join("%s = %s\n" % (change["key"], change[side] if change[side] is not None else "")
                   for change in changes)
