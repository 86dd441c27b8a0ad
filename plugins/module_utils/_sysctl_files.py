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

Lines: ``#`` and ``;`` start comments; ``-key = value`` means "ignore a failure to set it";
``net/ipv4/tcp_tw_reuse`` is ``net.ipv4.tcp_tw_reuse``; a key with ``*``, ``?`` or ``[`` is a glob
(``net.ipv4.conf.*.rp_filter``) that sets every matching key.

Everything is read below ``root`` and live values below ``proc_root``, so unit tests feed fixture
trees. Standard library only (managed hosts, Python 3.8+), and cheap to import: the facts engine
loads it in summary mode too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

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


def under(root, path):
    """``path`` of the host as seen from here, with the host's / at ``root``."""
    return os.path.join(root, path.lstrip("/")) if root not in ("", "/") else path


def host_target(root, path):
    """The host path ``path`` finally points to, links followed inside ``root`` (as a chroot would)."""
    for _hop in range(MAX_LINK_HOPS):
        seen_from_here = under(root, path)
        if not os.path.islink(seen_from_here):
            return os.path.normpath(path)
        target = os.readlink(seen_from_here)
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


def parse_assignments(text, path=None):
    """``(assignments, problems)`` of one file's text, every assignment in line order."""
    assignments = []
    problems = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if "=" not in line:
            problems.append("line %d: no '=' in %r" % (lineno, line[:80]))
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        ignore_failure = key.startswith("-")
        key = normalise_key(key[1:] if ignore_failure else key)
        if not key:
            problems.append("line %d: empty key" % lineno)
            continue
        assignments.append(Assignment(path, lineno, key, " ".join(value.split()), ignore_failure))
    return assignments, problems


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
    chosen = {}
    for directory in SYSCTL_DIRS:
        try:
            names = os.listdir(under(root, directory))
        except OSError:
            continue
        for name in names:
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = directory + "/" + name
    if extra_name and extra_name not in chosen:
        chosen[extra_name] = SYSCTL_DIRS[0] + "/" + extra_name
    ordered = []
    for name in sorted(chosen):
        target = host_target(root, chosen[name])
        if target == os.devnull or target == SYSCTL_CONF:
            continue  # masked, or the Debian link to /etc/sysctl.conf (applied last, once)
        ordered.append(chosen[name])
    if os.path.isfile(under(root, host_target(root, SYSCTL_CONF))):
        ordered.append(SYSCTL_CONF)
    return ordered


def read_text(root, path):
    """Text of the host file ``path``; a link with an absolute target is followed below ``root``."""
    with open(under(root, host_target(root, path)), "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def read_assignments(root, path):
    """Every assignment of the host file ``path`` in line order; none when it cannot be read."""
    try:
        return parse_assignments(read_text(root, path), path)[0]
    except (OSError, IOError):
        return []


def read_live(key, proc_root="/proc"):
    """Live value of ``key`` with white space folded, or None when this kernel has no such key (or it is a glob)."""
    if is_glob(key):
        return None
    path = os.path.join(proc_root, "sys", *[part.replace("/", ".") for part in key.split(".")])
    try:
        with open(path) as handle:
            return " ".join(handle.read().split())
    except (OSError, IOError):
        return None


def collect(root="/", proc_root="/proc"):
    """The sysctl files of one host: ``{files, effective, live, errors}`` (docs/tcp_state_facts.md)."""
    files = []
    errors = []
    effective = {}
    for path in ordered_files(root):
        try:
            text = read_text(root, path)
        except (OSError, IOError) as exc:
            errors.append("%s: %s" % (path, exc))
            continue
        settings, lines, problems = parse_sysctl_text(text)
        errors.extend("%s %s" % (path, problem) for problem in problems)
        files.append({"path": path, "settings": settings, "lines": lines})
        for key, value in settings.items():
            effective[key] = {"value": value, "path": path, "line": lines[key]}
    live = dict((key, read_live(key, proc_root)) for key in sorted(effective))
    return {"files": files, "effective": effective, "live": live, "errors": errors}
