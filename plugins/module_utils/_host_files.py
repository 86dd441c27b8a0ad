# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read files of a host that any local user may have shaped, without hanging, bloating or crashing.

One primitive for every file the facts read (sysctl files, /proc/sys values, /proc/net tables,
/proc/PID/comm, the kernel release): open without blocking, refuse anything but a regular file
(a FIFO, a device such as /dev/zero, a socket, a directory), read at most a cap (files under /proc
report size 0, so the cap counts the bytes read, not st_size), decode UTF-8 with replacement.
A refusal is a ``HostFileError`` (an ``OSError``) whose message names the file and says why.
``under`` is the one way to find a host path below a ``root`` that stands for the host's ``/``.

``Problems`` keeps the first few messages of a kind and counts the rest, so a file of a hundred
thousand bad lines costs a few entries, not a hundred thousand. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

DEFAULT_CAP = 1 << 20
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
KIND_NAMES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
              (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


class HostFileError(OSError):
    """A host file was refused (not a regular file, larger than the cap) or could not be opened."""

    def __init__(self, path, reason, errno_value=None):
        OSError.__init__(self, "%s: %s" % (path, reason))
        self.path = path
        self.reason = reason
        self.errno = errno_value
        self.strerror = reason

    def __str__(self):
        return "%s: %s" % (self.path, self.reason)


def under(root, path):
    """The host path ``path`` as seen from here, with the host's ``/`` at ``root`` (a chroot's view)."""
    return os.path.join(root, path.lstrip("/")) if root not in ("", "/") else path


def _kind(mode):
    for test, name in KIND_NAMES:
        if test(mode):
            return name
    return "not a regular file"


def _open_regular_fd(path):
    """The fd of ``path`` if it is a regular file (see ``open_regular``)."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except ValueError:
        raise HostFileError(path, "name holds a NUL byte")
    except OSError as exc:
        raise HostFileError(path, exc.strerror or str(exc), exc.errno)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise HostFileError(path, "%s, not a regular file: not read" % _kind(mode))
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path, text=False, buffering=-1):
    """A file object on ``path`` if it is a regular file; never blocks (no FIFO, no device).

    Binary, or with ``text`` UTF-8 text where an invalid byte becomes U+FFFD.

    Raise HostFileError naming ``path``: FileNotFoundError-like errors keep their errno so a caller
    can tell "absent" (``errno.ENOENT``, ``errno.ENOTDIR``) from "refused".
    """
    fd = _open_regular_fd(path)
    try:
        if text:
            return os.fdopen(fd, "r", buffering, encoding="utf-8", errors="replace")
        return os.fdopen(fd, "rb", buffering)
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path, cap=DEFAULT_CAP):
    """At most ``cap`` bytes of the regular file ``path``; HostFileError if it holds more.

    Read from the fd until end of file, the first read asking for everything: a /proc/sys value
    must come in one read (most handlers answer a read past its start with nothing), and the kernel
    allocates a buffer of the asked size and one byte for it, so the reads after a short one ask for
    no more than came before, at least 4,095 bytes (the end-of-file read of a sysctl then costs a
    page, not the cap)."""
    fd = _open_regular_fd(path)
    chunks = []
    size = 0
    ask = cap + 1
    try:
        while size <= cap:
            try:
                chunk = os.read(fd, ask)
            except OSError as exc:
                raise HostFileError(path, exc.strerror or str(exc), exc.errno)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            ask = min(cap + 1 - size, max(len(chunk), 4095))
    finally:
        os.close(fd)
    if size > cap:
        raise HostFileError(path, "larger than %d bytes: not read" % cap)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path, cap=DEFAULT_CAP):
    """``read_bytes`` decoded as UTF-8, an invalid byte becoming U+FFFD."""
    return read_bytes(path, cap).decode("utf-8", "replace")


def is_absent(exc):
    """Whether an error from this module means the file does not exist (rather than was refused)."""
    import errno

    return getattr(exc, "errno", None) in (errno.ENOENT, errno.ENOTDIR)


def printable(text, limit=80):
    """``text`` cut to ``limit`` characters with control characters escaped, safe to show in a message."""
    cut = text[:limit]
    shown = "".join(char if char.isprintable() else "\\x%02x" % ord(char) if ord(char) < 256
                    else "\\u%04x" % ord(char) for char in cut)
    return shown + ("..." if len(text) > limit else "")


class Problems(object):
    """Messages about host data, the first ``limit`` kept and the rest counted."""

    def __init__(self, limit):
        self.limit = limit
        self.messages = []
        self.total = 0

    def add(self, message):
        self.total += 1
        if len(self.messages) < self.limit:
            self.messages.append(message)

    def omitted(self):
        return self.total - len(self.messages)
