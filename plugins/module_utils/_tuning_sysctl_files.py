# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysctl configuration files of a host, in the order boot applies them, and what overrides what.

Order (systemd-sysctl and ``sysctl --system`` agree on it): every ``*.conf`` in
/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and /lib/sysctl.d;
for one file name the first directory in that list wins and hides the others (a link to
/dev/null masks the name); the surviving names are applied sorted by name, a later file
overriding an earlier one. ``sysctl --system`` then applies /etc/sysctl.conf last (systemd
reaches it through the 99-sysctl.conf link), so it overrides every file. Everything is read
below ``root`` so unit tests can feed a fixture tree. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os

SYSCTL_DIRS = (
    "etc/sysctl.d",
    "run/sysctl.d",
    "usr/local/lib/sysctl.d",
    "usr/lib/sysctl.d",
    "lib/sysctl.d",
)
SYSCTL_CONF = "etc/sysctl.conf"
OBSOLETE_KEYS = ("net.ipv4.tcp_tw_recycle",)


class Assignment:
    """One ``key = value`` line of a sysctl file."""

    __slots__ = ("path", "lineno", "key", "value", "glob")

    def __init__(self, path, lineno, key, value):
        self.path = path
        self.lineno = lineno
        self.key = key
        self.value = value
        self.glob = any(char in key for char in "*?[")

    def matches(self, key):
        return fnmatch.fnmatchcase(key, self.key) if self.glob else self.key == key


def normalize_key(key):
    """``net/ipv4/tcp_tw_reuse`` and ``-net.ipv4.tcp_tw_reuse`` both name ``net.ipv4.tcp_tw_reuse``."""
    key = key.strip().lstrip("-").strip()
    if "/" in key:
        key = key.replace("/", ".")
    return key


def parse_lines(text, path):
    assignments = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        assignments.append(Assignment(path, lineno, normalize_key(key), " ".join(value.split())))
    return assignments


def ordered_files(root="/", extra_name=None):
    """Host paths of the sysctl files in boot order, ``/etc/sysctl.conf`` last.

    ``extra_name`` is the file name of a file the role is about to write in /etc/sysctl.d: it
    takes its place in the order even before it exists.
    """
    chosen = {}
    for directory in SYSCTL_DIRS:
        full = os.path.join(root, directory)
        try:
            names = os.listdir(full)
        except OSError:
            continue
        for name in names:
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = "/" + directory + "/" + name
    if extra_name and extra_name not in chosen:
        chosen[extra_name] = "/etc/sysctl.d/" + extra_name
    sysctl_conf = os.path.realpath(os.path.join(root, SYSCTL_CONF))
    ordered = []
    for name in sorted(chosen):
        path = chosen[name]
        real = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if real == os.devnull or real == sysctl_conf:
            continue
        ordered.append(path)
    if os.path.isfile(os.path.join(root, SYSCTL_CONF)):
        ordered.append("/" + SYSCTL_CONF)
    return ordered


def read_assignments(root, path):
    try:
        with open(os.path.join(root, path.lstrip("/"))) as handle:
            return parse_lines(handle.read(), path)
    except (IOError, OSError, UnicodeDecodeError):
        return []


class SysctlFiles:
    """Every assignment of every sysctl file, in boot order."""

    def __init__(self, root="/", own_path=None):
        self.root = root
        self.own_path = own_path
        own_name = os.path.basename(own_path) if own_path else None
        self.paths = ordered_files(root, own_name)
        self.assignments = []
        for path in self.paths:
            if path == own_path:
                continue
            self.assignments.extend(read_assignments(root, path))

    def position(self, path):
        return self.paths.index(path) if path in self.paths else -1

    def after_own(self, assignment):
        return self.position(assignment.path) > self.position(self.own_path)

    def fixable(self, path):
        real = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        return real.startswith(os.path.realpath(os.path.join(self.root, "etc")) + os.sep)

    def real_host_path(self, path):
        """The host path behind ``path`` with links resolved (a link must not be replaced by a file)."""
        real = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        root = os.path.realpath(self.root)
        return "/" + os.path.relpath(real, root) if root != "/" else real


def find_conflicts(files, own_values, same_value, kernel_has):
    """Lines elsewhere that fight the role's file.

    ``own_values`` maps each key the role renders to its value; ``same_value(key, a, b)`` compares
    two values of one key; ``kernel_has(key)`` says whether this kernel has the key.
    Two kinds come back: ``overrides`` (a file applied after the role's file sets one of its keys
    to another value: after a reboot that value wins) and ``obsolete`` (``tcp_tw_recycle``
    anywhere: unknown to kernels since 4.12, where ``sysctl --system`` fails on it, and harmful
    where it still exists).
    """
    conflicts = []
    for assignment in files.assignments:
        if assignment.key in OBSOLETE_KEYS:
            present = kernel_has(assignment.key)
            if present and assignment.value == "0":
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
