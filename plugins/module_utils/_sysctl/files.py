# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysctl configuration files of a host, read the way ``sysctl --system`` / systemd-sysctl apply them.

Order: every ``*.conf`` in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d
and /lib/sysctl.d; for one file name the first directory in that list wins and hides the others,
and a name linked to /dev/null there masks it (nothing of that name is applied). The surviving
names are applied sorted by name, a later file overriding an earlier one; /etc/sysctl.conf comes
last. On Debian /etc/sysctl.d/99-sysctl.conf is a link to /etc/sysctl.conf: it is counted once,
as /etc/sysctl.conf, the file an operator edits.

Lines: ``#`` and ``;`` start comments; ``net/ipv4/tcp_tw_reuse`` is ``net.ipv4.tcp_tw_reuse``; a
key with ``*``, ``?`` or ``[`` is a glob (``net.ipv4.conf.*.rp_filter``) that sets every matching key.

The ``-`` prefix (sysctl.d(5) of systemd since v243, sysctl.conf(5) of procps-ng since 3.3.16):
``-key = value`` is an assignment like any other whose failure to apply is ignored. Where the
kernel has the key it is set, and it overrides earlier files exactly as ``key = value`` would;
where the kernel has no such key (or refuses the value) the line is skipped without failing the
boot. So ``-net.ipv4.tcp_tw_recycle = 1`` on a 4.12+ kernel is harmless noise, while on a kernel
that still has tcp_tw_recycle it turns it on. Every assignment keeps the prefix as
``ignore_failure``; ``collect`` lists the keys so assigned in each file (``files[].ignore_failure``),
and the role's conflict finder honours it.

Everything is read below ``root``, so unit tests feed fixture trees. Any local user may have
shaped these files: every read goes through ``_host_files`` (regular files only, at most
``FILE_CAP`` bytes, invalid UTF-8 replaced), lines and keys are bounded, and a file, line or name
that cannot be used is an entry in ``errors`` naming it, never a failure. Live values are not read
here: ``_sysctl/live.py`` reads them.
Standard library only (managed hosts, Python 3.8+), and cheap to import: the facts engine loads it
in summary mode too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import (
    HostFileError, Problems, printable, under)
from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import read_text as read_host_text

SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
SYSCTL_CONF = "/etc/sysctl.conf"
GLOB_CHARS = "*?["
MAX_LINK_HOPS = 40
FILE_CAP = 1 << 18         # 256 KiB: the largest sysctl file read; a larger one is reported, not read
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 1024
MAX_FILES = 64             # files listed in sysctl_config.files
MAX_SETTINGS = 2048        # assignments kept over all files
MAX_SETTINGS_CHARS = 1 << 14  # characters of keys and values kept over all files
MAX_PROBLEMS_PER_FILE = 5
MAX_ERRORS = 20


def host_target(root, path):
    """The host path ``path`` finally points to, links followed inside ``root`` (as a chroot would)."""
    for _hop in range(MAX_LINK_HOPS):
        seen_from_here = under(root, path)
        try:
            target = os.readlink(seen_from_here)
        except (OSError, ValueError):
            return os.path.normpath(path)  # not a link (or unreadable: the open says why)
        path = target if target.startswith("/") else os.path.join(os.path.dirname(path), target)
    return os.path.normpath(path)


def normalise_key(key):
    """The dotted name of ``key``: ``net/ipv4/tcp_tw_reuse`` is ``net.ipv4.tcp_tw_reuse``.

    As sysctl(8) does, a key whose first separator is ``/`` swaps ``/`` and ``.``, so an interface
    name holding a dot survives: ``net/ipv4/conf/eth0.10/rp_filter`` is ``net.ipv4.conf.eth0/10.rp_filter``.
    """
    key = key.strip()
    first_slash = key.find("/")
    first_dot = key.find(".")
    if first_slash != -1 and (first_dot == -1 or first_slash < first_dot):
        return key.strip("/").translate({ord("/"): ".", ord("."): "/"})
    return key


def is_glob(key):
    return any(char in key for char in GLOB_CHARS)


def key_matches(pattern, key):
    """Whether the file key ``pattern`` (a plain key or a glob) sets ``key``."""
    if not is_glob(pattern):
        return pattern == key
    import fnmatch  # only files with glob keys pay for it

    return fnmatch.fnmatchcase(key, pattern)


class Assignment:
    """One ``key = value`` line of a sysctl file."""

    __slots__ = ("path", "lineno", "key", "value", "glob", "ignore_failure")

    def __init__(self, path, lineno, key, value, ignore_failure=False):
        self.path = path
        self.lineno = lineno
        self.key = key
        self.value = value
        self.glob = is_glob(key)
        self.ignore_failure = ignore_failure

    def matches(self, key):
        return key_matches(self.key, key)


def _key_problem(key):
    if not key:
        return "empty key"
    if len(key) > MAX_KEY_LENGTH:
        return "key longer than %d characters" % MAX_KEY_LENGTH
    if not key.isprintable() or " " in key or u"\ufffd" in key:
        return "key '%s' holds a control character, a NUL byte, a space or invalid UTF-8" % printable(key)
    return None


def parse_assignments(text, path=None, problem_limit=None):
    """``(assignments, problems)`` of one file's text, every assignment in line order.

    A line that cannot be an assignment is a problem and is skipped: no ``=``, an empty key, a
    key with control characters, a NUL byte, white space or invalid UTF-8 (U+FFFD), a key longer
    than ``MAX_KEY_LENGTH`` or a value longer than ``MAX_VALUE_LENGTH``. With ``problem_limit``
    only that many problems are listed, then one line saying how many more there were.
    """
    assignments = []
    problems = Problems(problem_limit if problem_limit is not None else float("inf"))
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if "=" not in line:
            problems.add("line %d: no '=' in '%s'" % (lineno, printable(line)))
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        ignore_failure = key.startswith("-")
        key = normalise_key(key[1:] if ignore_failure else key)
        problem = _key_problem(key)
        if problem is None and len(value) > MAX_VALUE_LENGTH:
            problem = "value longer than %d characters" % MAX_VALUE_LENGTH
        if problem:
            problems.add("line %d: %s" % (lineno, problem))
            continue
        assignments.append(Assignment(path, lineno, key, " ".join(value.split()), ignore_failure))
    listed = problems.messages
    if problems.omitted():
        listed.append("%d more unusable lines not listed" % problems.omitted())
    return assignments, listed


def parse_sysctl_text(text):
    """``(settings, lines, problems)`` of one file: last assignment of a key wins, as when applied."""
    assignments, problems = parse_assignments(text)
    settings = {}
    lines = {}
    for assignment in assignments:
        settings[assignment.key] = assignment.value
        lines[assignment.key] = assignment.lineno
    return settings, lines, problems


def ordered_files(root="/", extra_name=None):
    """Host paths of the files ``sysctl --system`` applies, in order, /etc/sysctl.conf last.

    ``extra_name`` is the name of a file about to be written in /etc/sysctl.d: it takes its
    place in the order even before it exists (unless a link to /dev/null masks that name).
    """
    return _ordered_files(root, extra_name, [])


def _ordered_files(root, extra_name, errors):
    chosen = {}
    for directory in SYSCTL_DIRS:
        try:
            names = os.listdir(under(root, directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith(".conf") or name in chosen:
                continue
            if not name.isprintable():
                errors.append("%s/%s: name holds a control character or invalid UTF-8: not read"
                              % (directory, printable(name)))
                continue
            chosen[name] = directory + "/" + name
    if extra_name and extra_name not in chosen:
        chosen[extra_name] = SYSCTL_DIRS[0] + "/" + extra_name
    ordered = []
    for name in sorted(chosen):
        target = host_target(root, chosen[name])
        if target == os.devnull or target == SYSCTL_CONF:
            continue  # masked, or the Debian link to /etc/sysctl.conf (applied last, once)
        ordered.append(chosen[name])
    if os.path.lexists(under(root, SYSCTL_CONF)):
        ordered.append(SYSCTL_CONF)
    return ordered


def read_text(root, path):
    """Text of the host file ``path``; a link with an absolute target is followed below ``root``.

    Raise ``HostFileError`` (an ``OSError``) naming the host path when the file is not a regular
    file (FIFO, device, socket, directory) or holds more than ``FILE_CAP`` bytes.
    """
    try:
        return read_host_text(under(root, host_target(root, path)), FILE_CAP)
    except HostFileError as exc:
        raise HostFileError(path, exc.reason, exc.errno)


def read_assignments(root, path):
    """Every assignment of the host file ``path`` in line order; none when it cannot be read."""
    try:
        return parse_assignments(read_text(root, path), path)[0]
    except (OSError, IOError):
        return []


def _reason(exc):
    return exc.reason if isinstance(exc, HostFileError) else (exc.strerror or str(exc))


def collect(root="/"):
    """The sysctl files of one host: ``{files, files_total, effective, errors, errors_total}``
    (RETURN of tcp_state_facts, ``sysctl_config``). Bounded: at most ``MAX_FILES`` files listed,
    ``MAX_SETTINGS`` assignments kept over all files, ``MAX_ERRORS`` errors listed."""
    files = []
    errors = Problems(MAX_ERRORS)
    effective = {}
    name_errors = []
    paths = _ordered_files(root, None, name_errors)
    for message in name_errors:
        errors.add(message)
    budget = MAX_SETTINGS
    chars = MAX_SETTINGS_CHARS
    if len(paths) > MAX_FILES:
        errors.add("%d sysctl files: only the first %d in order are read, %s and the %d after it are not"
                   % (len(paths), MAX_FILES, paths[MAX_FILES], len(paths) - MAX_FILES - 1))
    for path in paths[:MAX_FILES]:
        try:
            text = read_text(root, path)
        except (OSError, IOError) as exc:
            errors.add("%s: %s" % (path, _reason(exc)))
            continue
        assignments, problems = parse_assignments(text, path, MAX_PROBLEMS_PER_FILE)
        for problem in problems:
            errors.add("%s %s" % (path, problem))
        kept = 0
        for assignment in assignments[:budget]:
            size = len(assignment.key) + len(assignment.value)
            if size > chars:
                break
            chars -= size
            kept += 1
        if kept < len(assignments):
            errors.add("%s: more than %d settings or %d characters of keys and values in all files, %d of its"
                       " settings not read" % (path, MAX_SETTINGS, MAX_SETTINGS_CHARS, len(assignments) - kept))
            assignments = assignments[:kept]
        budget -= kept
        winners = dict((assignment.key, assignment) for assignment in assignments)
        files.append({"path": path,
                      "settings": dict((key, won.value) for key, won in winners.items()),
                      "lines": dict((key, won.lineno) for key, won in winners.items()),
                      "ignore_failure": sorted(key for key, won in winners.items() if won.ignore_failure)})
        for key, won in winners.items():
            effective[key] = {"value": won.value, "path": path, "line": won.lineno}
    return {"files": files, "files_total": len(paths), "effective": effective,
            "errors": errors.messages, "errors_total": errors.total}


def plain_keys(config):
    """The keys of ``collect``'s ``effective`` that name one sysctl (no glob), sorted."""
    return sorted(key for key in config["effective"] if not is_glob(key))
