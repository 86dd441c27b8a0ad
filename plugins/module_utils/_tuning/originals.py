# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The originals the tcp_tuning role keeps: what to save, what to give back, what ``absent`` restores.

The restore file (``restore``: its contract and validating reader) holds the live values from before
the role's first change. A value once saved is never replaced; a key the profile adds later is
saved with its live value at that moment; a saved key the profile no longer sets is given back live
and only then leaves the file. Every function returns new values; nothing is shared or changed in
place. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import restore as restore_file
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values

# exists: a file is there; saved: {key: original} ({} when none or damaged); damaged: it failed
# validation; problem: what is wrong with it (None when sound).
Originals = namedtuple("Originals", "exists saved damaged problem")


def read_originals(root, state_file, sysctl_file, kinds):
    """The restore file as read and judged, never raising."""
    try:
        exists, saved = restore_file.read(root, state_file, sysctl_file, kinds)
    except restore_file.RestoreFileError as exc:
        return Originals(True, {}, True, str(exc))
    return Originals(exists, saved, False, None)


def give_back(saved, rendered, kernel):
    """``(released, kept, left_out)`` for the saved keys the profile no longer renders.

    Released ones go back to their originals live; one this host cannot write stays in the file
    for ``absent``; one this kernel no longer has is only reported.
    """
    released, kept, left_out = {}, {}, []
    for key, before in sorted(saved.items()):
        if key in rendered:
            continue
        if not kernel.exists(key):
            left_out.append({"key": key, "value": before,
                             "reason": "no longer set by the profile and this kernel has no such key"})
        elif not kernel.writable(key):
            kept[key] = before
            left_out.append({"key": key, "value": before,
                             "reason": "no longer set by the profile, not writable here: kept for absent"})
        else:
            released[key] = before
    return released, kept, left_out


def restore_states(sysctl_file, saved, settings, kernel, kept):
    """``(before, after)`` contents of the restore file: before the change every original (released
    ones included, new keys with their live value); after, without the released ones."""
    before = dict(saved)
    for setting in settings:
        if setting["key"] not in before:
            before[setting["key"]] = kernel.read(setting["key"])
    rendered = set(setting["key"] for setting in settings)
    after = dict((key, value) for key, value in before.items() if key in rendered or key in kept)
    return restore_file.content(sysctl_file, before), restore_file.content(sysctl_file, after)


def to_restore(saved, kernel):
    """``(restore, left_out)`` for ``absent``: every saved key this kernel has, and the ones it lacks."""
    restore, left_out = {}, []
    for key, before in sorted(saved.items()):
        if kernel.exists(key):
            restore[key] = before
        else:
            left_out.append({"key": key, "value": before, "reason": "this kernel has no %s" % key})
    return restore, left_out


def live_changes(kernel, kinds, wanted):
    """``[{key, before, after}]`` for each ``(key, value)`` of ``wanted`` whose live value differs."""
    changes = []
    for key, value in wanted:
        live = kernel.read(key)
        if not values.same_value(kinds.get(key, "int"), live, value):
            changes.append({"key": key, "before": live, "after": value})
    return changes
