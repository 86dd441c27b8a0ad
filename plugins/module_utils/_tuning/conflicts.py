# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which lines of the host's sysctl files fight the tcp_tuning role's file, and the edits that fix them.

The files, their boot order and their lines come from the collection's shared reader
(``_sysctl/files.py``: systemd-sysctl / ``sysctl --system`` order, /etc/sysctl.conf last, masks,
links, globs, the ``-`` prefix); this module adds what the role needs on top: the position of the role's own file,
conflicts, and ``ansible.builtin.replace`` regexps. Everything is read below ``root`` so unit tests
can feed a fixture tree. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import OBSOLETE_KEYS
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.files import (
    host_target, ordered_files, read_assignments)


class SysctlFiles:
    """Every assignment of every sysctl file, in boot order, with the role's file placed among them."""

    def __init__(self, root="/", own_path=None):
        self.root = root
        self.own_path = own_path
        self.paths = ordered_files(root, os.path.basename(own_path) if own_path else None)
        self.assignments = []
        for path in self.paths:
            if path != own_path:
                self.assignments.extend(read_assignments(root, path))

    def position(self, path):
        return self.paths.index(path) if path in self.paths else -1

    def after_own(self, assignment):
        return self.position(assignment.path) > self.position(self.own_path)

    def real_host_path(self, path):
        """The host path behind ``path`` with links resolved (a link must not be replaced by a file)."""
        return host_target(self.root, path)

    def fixable(self, path):
        return self.real_host_path(path).startswith("/etc/")


def find_conflicts(files, own_values, same_value, kernel_has):
    """Lines elsewhere that fight the role's file.

    ``own_values`` maps each key the role renders to its value; ``same_value(key, a, b)`` compares
    two values of one key; ``kernel_has(key)`` says whether this kernel has the key.
    Two kinds come back: ``overrides`` (a file applied after the role's file sets one of its keys
    to another value: after a reboot that value wins) and ``obsolete`` (``tcp_tw_recycle``
    anywhere: unknown to kernels since 4.12, where ``sysctl --system`` fails on it, and harmful
    where it still exists). A ``-key = value`` line (failure ignored) is an assignment like any
    other where the kernel has the key; where it has none the line is skipped without an error,
    so ``-net.ipv4.tcp_tw_recycle = ...`` on a 4.12+ kernel is no conflict.
    """
    conflicts = []
    for assignment in files.assignments:
        if assignment.key in OBSOLETE_KEYS:
            present = kernel_has(assignment.key)
            if (present and assignment.value == "0") or (not present and assignment.ignore_failure):
                continue
            reason = ("this kernel has no such key (removed in Linux 4.12): sysctl --system fails on the line"
                      if not present else
                      "tcp_tw_recycle drops SYNs from clients behind NAT; the role keeps it at 0")
            conflicts.append(_conflict(files, assignment, "obsolete", own_values.get(assignment.key), reason))
            continue
        if not files.after_own(assignment):
            continue
        for key, ours in own_values.items():
            if assignment.matches(key) and not same_value(key, assignment.value, ours):
                conflicts.append(_conflict(
                    files, assignment, "overrides", ours,
                    "applied after %s, so at boot it replaces the role's value" % files.own_path, key=key))
    return conflicts


def _conflict(files, assignment, kind, ours, reason, key=None):
    fixable = files.fixable(assignment.path) and not assignment.glob
    return {
        "path": assignment.path,
        "line": assignment.lineno,
        "key": key or assignment.key,
        "value": assignment.value,
        "ours": ours,
        "kind": kind,
        "reason": reason,
        "fixable": fixable,
        "how_to_fix": ("tcp_tuning_fix_conflicts: true comments the line out (with a backup)" if fixable else
                       "the file belongs to a package: mask it with an empty /etc/sysctl.d/%s or set the "
                       "same value there" % os.path.basename(assignment.path)),
    }


def key_regexp(keys):
    """A MULTILINE regexp matching the live lines that set any of ``keys``, in either spelling."""
    alternatives = []
    for key in sorted(set(keys)):
        alternatives.append("[./]".join(_escape(part) for part in key.split(".")))
    return r"^(\s*-?\s*(?:%s)\s*=.*)$" % "|".join(alternatives)


def _escape(part):
    return "".join("\\" + char if not (char.isalnum() or char == "_") else char for char in part)


def fixes_for(files, conflicts):
    """One edit per real file: the keys to comment out there, as a regexp for ansible.builtin.replace."""
    by_file = {}
    for conflict in conflicts:
        if conflict["fixable"]:
            real = files.real_host_path(conflict["path"])
            key = conflict["key"] if conflict["kind"] == "obsolete" else _line_key(files, conflict)
            by_file.setdefault(real, set()).add(key)
    return [{"path": path, "keys": sorted(keys), "regexp": key_regexp(keys)}
            for path, keys in sorted(by_file.items())]


def _line_key(files, conflict):
    for assignment in files.assignments:
        if assignment.path == conflict["path"] and assignment.lineno == conflict["line"]:
            return assignment.key
    return conflict["key"]
