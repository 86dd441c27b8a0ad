# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who owns a process, from the text of /proc/PID/cgroup: a pod, a container or a systemd unit.

Parsed with string methods, not ``re``: importing ``re`` cost the stdlib command line's
``--namespaces all`` about 8 ms of start-up (25.0 against 33.2 ms to import the walk's modules).
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

HEX = frozenset("0123456789abcdef")
UUID_SEPARATORS = (8, 13, 18, 23)
RUNTIMES = ("docker", "libpod", "crio", "cri-containerd", "containerd")
CONTAINER_ID_LENGTH = 64
SCOPE = ".scope"
SERVICE = ".service"
UNIT_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.@\\-")


def _is_hex(text):
    return HEX.issuperset(text)


def _is_pod_uid(text):
    """36 characters: hex in groups of 8, 4, 4, 4 and 12, each separator ``-`` or ``_`` (systemd's)."""
    if len(text) != 36 or any(text[index] not in "-_" for index in UUID_SEPARATORS):
        return False
    return _is_hex(text[:8] + text[9:13] + text[14:18] + text[19:23] + text[24:])


def pod_uid(path):
    """The uid of the first ``pod<uid>`` after ``kubepods`` in a cgroup path, dashes for underscores."""
    start = path.find("kubepods")
    if start < 0:
        return None
    index = path.find("pod", start + len("kubepods"))
    while index >= 0:
        uid = path[index + 3:index + 39]
        if _is_pod_uid(uid):
            return uid.replace("_", "-")
        index = path.find("pod", index + 1)
    return None


def _container_at(path, index, runtime):
    """The id of ``<runtime>-<64 hex>`` or ``<runtime>/<64 hex>`` starting at ``index``, as a whole path
    component (after ``/``, ``-`` or the start; ``.scope``, ``/`` or the end after it), else None."""
    if index > 0 and path[index - 1] not in "/-":
        return None
    start = index + len(runtime) + 1
    if path[start - 1:start] not in ("-", "/"):
        return None
    ident = path[start:start + CONTAINER_ID_LENGTH]
    if len(ident) != CONTAINER_ID_LENGTH or not _is_hex(ident):
        return None
    rest = path[start + CONTAINER_ID_LENGTH:]
    if rest.startswith(SCOPE):
        rest = rest[len(SCOPE):]
    return ident if rest[:1] in ("", "/") else None


def container_id(path):
    """The leftmost container runtime's id in a cgroup path, shortened to 12 characters as ``docker ps``
    shows it."""
    found = []
    for runtime in RUNTIMES:
        index = path.find(runtime)
        while index >= 0:
            ident = _container_at(path, index, runtime)
            if ident:
                found.append((index, ident))
                break
            index = path.find(runtime, index + 1)
    return min(found)[1][:12] if found else None


def unit_name(path):
    """The deepest ``*.service`` component of a cgroup path."""
    for part in reversed(path.split("/")):
        if len(part) > len(SERVICE) and part.endswith(SERVICE) and UNIT_CHARACTERS.issuperset(part[:-len(SERVICE)]):
            return part
    return None


def cgroup_owner(text):
    """{kind, id} or None. A pod's containers share the pod's network namespace, so a kubepods path gives
    the pod uid; else a container runtime's scope gives the container id; else the deepest ``*.service``
    the unit. The cgroup v2 line (``0::``) is read first, then the v1 hierarchies."""
    paths = []
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3:
            if fields[0] == "0" and not fields[1]:
                paths.insert(0, fields[2])
            else:
                paths.append(fields[2])
    for kind, read in (("pod", pod_uid), ("container", container_id), ("unit", unit_name)):
        for path in paths:
            found = read(path)
            if found:
                return {"kind": kind, "id": found}
    return None
