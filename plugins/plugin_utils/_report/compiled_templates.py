# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML page template compiled once per controller and user, not on every run.

Compiling ``report.html.j2`` takes about 65 ms, longer than writing the page of a few dozen hosts.
Jinja2 can keep the compiled code (a marshalled code object it executes), so where it is kept must
be this user's alone: ``$XDG_CACHE_HOME/tcpops.timewait`` (``~/.cache/tcpops.timewait``), made mode
0700, used only when it is a real directory of this user's that nobody else can enter, and an entry
only when it is a regular file of this user's that nobody else can read or write, opened without
following a link. An entry's name holds a digest of everything the compiled code depends on besides
the template's source (which Jinja2 checks itself, with the Python version): the Jinja2 version and
the environment's options. Anything that goes wrong only means compiling again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import pickle
import stat

import jinja2
from jinja2 import FileSystemBytecodeCache

CACHE_NAME = "tcpops.timewait"
_PRIVATE = stat.S_IRWXG | stat.S_IRWXO
# what a damaged entry can raise while Jinja2 unpickles its checksum and unmarshals its code
_DAMAGED = (EOFError, ValueError, TypeError, MemoryError, IndexError, KeyError, AttributeError, ImportError,
            OverflowError, pickle.UnpicklingError)


def _described(value):
    """An option as the digest sees it: a function or class by its name (its repr holds an address)."""
    name = getattr(value, "__qualname__", None)
    return "%s.%s" % (getattr(value, "__module__", ""), name) if name else repr(value)


def _ours(info, kind):
    return kind(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & _PRIVATE


def cache_directory():
    """This user's private directory for compiled templates, made when missing; None when it cannot be
    made or is not a directory of this user's closed to others."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, CACHE_NAME)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    return path if _ours(info, stat.S_ISDIR) else None


class CompiledTemplates(FileSystemBytecodeCache):
    """Jinja2's file cache of compiled templates, read only from files that are this user's alone."""

    def __init__(self, directory, options):
        described = sorted((name, _described(value)) for name, value in options.items())
        digest = hashlib.sha256(repr((jinja2.__version__, described)).encode("utf-8")).hexdigest()
        super(CompiledTemplates, self).__init__(directory, "template-%%s-%s.cache" % digest[:16])

    def load_bytecode(self, bucket):
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(os.path.join(self.directory, self.pattern % (bucket.key,)), flags)
        except OSError:
            return
        with os.fdopen(fd, "rb") as handle:
            try:
                if _ours(os.fstat(fd), stat.S_ISREG):
                    bucket.load_bytecode(handle)
            except (OSError,) + _DAMAGED:
                bucket.reset()

    def dump_bytecode(self, bucket):
        try:
            super(CompiledTemplates, self).dump_bytecode(bucket)
        except OSError:
            pass


def compiled_templates(options):
    """The cache for an environment made with ``options`` (the keyword arguments of ``Environment``
    besides the loader), or None (compile every time) without a private directory."""
    directory = cache_directory()
    return CompiledTemplates(directory, options) if directory else None
