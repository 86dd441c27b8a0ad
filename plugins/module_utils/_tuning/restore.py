# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore file of the tcp_tuning role: the live values from before its first change.

The file is a contract, versioned and validated on every read: a JSON object
``{"role": "tcpops.timewait.tcp_tuning", "version": 1, "file": <the role's sysctl file>,
"saved": {key: value as the kernel printed it}}``, only keys the role manages, each value text
that parses as its kind. Anything else (empty, not JSON, another shape, another writer, an
unknown key, a value of the wrong type) is *damaged*: the role refuses to guess and changes
nothing, since the originals cannot be recovered from anywhere else. A file without
``version`` (written before versioning) is read as version 0 when everything else holds.
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import json
import stat

from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import under as host_path
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values

ROLE = "tcpops.timewait.tcp_tuning"
VERSION = 1
KNOWN_VERSIONS = (0, 1)
MAX_BYTES = 1024 * 1024


class RestoreFileError(ValueError):
    """A restore file that exists and cannot be trusted."""


def content(sysctl_file, saved):
    """What the role writes to the restore file."""
    return {"role": ROLE, "version": VERSION, "file": sysctl_file, "saved": dict(sorted(saved.items()))}


def read(root, state_file, sysctl_file, kinds):
    """``(exists, saved)`` from the restore file; raises RestoreFileError naming what is wrong.

    ``kinds`` maps every key the role manages to its kind (``int``, ``port_range``, ``port_list``).
    """
    path = host_path(root, state_file)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False, {}
    if not stat.S_ISREG(mode):
        raise RestoreFileError("is not a regular file (a link, directory or device)")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except (IOError, OSError) as exc:
        raise RestoreFileError("cannot be read: %s" % (exc.strerror or exc))
    if len(raw) > MAX_BYTES:
        raise RestoreFileError("is larger than %d bytes, far more than the role ever writes" % MAX_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RestoreFileError("is not UTF-8 text")
    if not text.strip():
        raise RestoreFileError("is empty")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RestoreFileError("is not JSON (%s)" % exc)
    return True, _validate(data, sysctl_file, kinds)


def _validate(data, sysctl_file, kinds):
    if not isinstance(data, dict):
        raise RestoreFileError("holds a JSON %s, not the role's object" % type(data).__name__)
    if data.get("role") != ROLE:
        raise RestoreFileError("was not written by %s (role: %r)" % (ROLE, data.get("role")))
    version = data.get("version", 0)
    if isinstance(version, bool) or version not in KNOWN_VERSIONS:
        raise RestoreFileError("has version %r; this role reads versions %s"
                               % (version, ", ".join(str(known) for known in KNOWN_VERSIONS)))
    extra = sorted(set(data) - set(("role", "version", "file", "saved")))
    if extra:
        raise RestoreFileError("has fields the role never writes: %s" % ", ".join(extra))
    if data.get("file") != sysctl_file:
        raise RestoreFileError("belongs to the sysctl file %r, not to tcp_tuning_sysctl_file %s"
                               % (data.get("file"), sysctl_file))
    saved = data.get("saved")
    if not isinstance(saved, dict):
        raise RestoreFileError("has no 'saved' object of key -> value")
    for key in sorted(saved):
        if key not in kinds:
            raise RestoreFileError("names %s, a key this role never manages" % key)
        value = saved[key]
        if not isinstance(value, str):
            raise RestoreFileError("holds %s = %r (%s), not the text the kernel printed"
                                   % (key, value, type(value).__name__))
        try:
            values.canonical(kinds[key], value)
        except ValueError as exc:
            raise RestoreFileError("holds %s = %r, not a valid %s value (%s)" % (key, value, kinds[key], exc))
    return dict(saved)
