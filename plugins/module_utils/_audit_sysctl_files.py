# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the sysctl configuration files the way ``sysctl --system`` / systemd-sysctl apply them.

Standard library only: this runs on managed hosts (Python 3.8+).

Order: every ``*.conf`` in the directories below, sorted by file name across directories; a name
in an earlier directory masks the same name in later ones; ``/etc/sysctl.conf`` last. On Debian
``/etc/sysctl.d/99-sysctl.conf`` is a link to ``/etc/sysctl.conf``: it is reported once, under
``/etc/sysctl.conf``, the file an operator edits.
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


def _under(root, path):
    return os.path.join(root, path.lstrip("/")) if root not in ("", "/") else path


def normalise_key(key):
    """``net/ipv4/tcp_tw_reuse`` and ``net.ipv4.tcp_tw_reuse`` are the same key."""
    key = key.strip()
    if "/" in key:
        return key.strip("/").replace("/", ".")
    return key


def parse_sysctl_text(text):
    """``(settings, lines, problems)`` of one file: last assignment of a key wins, as when applied."""
    settings = {}
    lines = {}
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
        if key.startswith("-"):  # '-key = value': ignore a failure to set it
            key = key[1:]
        key = normalise_key(key)
        if not key:
            problems.append("line %d: empty key" % lineno)
            continue
        settings[key] = " ".join(value.split())
        lines[key] = lineno
    return settings, lines, problems


def config_file_order(root="/"):
    """Paths (as seen on the host) of the files ``sysctl --system`` applies, in order."""
    chosen = {}
    for directory in SYSCTL_DIRS:
        real_dir = _under(root, directory)
        try:
            names = os.listdir(real_dir)
        except OSError:
            continue
        for name in names:
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = os.path.join(directory, name)
    ordered = [chosen[name] for name in sorted(chosen)]
    conf_real = os.path.realpath(_under(root, SYSCTL_CONF))
    ordered = [p for p in ordered if os.path.realpath(_under(root, p)) != conf_real]
    if os.path.isfile(_under(root, SYSCTL_CONF)):
        ordered.append(SYSCTL_CONF)
    return ordered


def read_live(key, proc_root="/proc"):
    """Live value of ``key`` with white space folded, or None when this kernel has no such key."""
    if "*" in key:
        return None
    path = os.path.join(proc_root, "sys", *key.split("."))
    try:
        with open(path) as handle:
            return " ".join(handle.read().split())
    except (OSError, IOError):
        return None


def collect(root="/", proc_root="/proc"):
    """Everything the audit needs about the sysctl files of one host."""
    files = []
    errors = []
    effective = {}
    for path in config_file_order(root):
        try:
            with open(_under(root, path), "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
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
