# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every report writer shares: atomic file writes and neutralising host-supplied text.

Process names, addresses and error messages come from hosts and may hold any character. ``visible``
turns the characters a report format cannot carry, or that would mislead a reader, into their
backslash notation (``\\x1b``, ``\\u202e``), so the text stays readable and nothing is lost silently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")

# C0 controls, DEL and C1 controls; the bidirectional formatting characters (which reorder what a
# reader sees: U+202E shows "exe.txt" as "txt.exe"); lone surrogates (undecodable bytes) and the two
# non-characters XML 1.0 forbids.
_CONTROLS = u"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = u"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNENCODABLE = u"\ud800-\udfff\ufffe\uffff"
# the characters ``visible`` rewrites, as the inside of a regular expression's character class
HIDDEN_CHARACTERS = _CONTROLS + _BIDI + _UNENCODABLE
_KEEP_LINES = re.compile(u"[%s]" % HIDDEN_CHARACTERS)
_ONE_LINE = re.compile(u"[\t\n\r%s]" % HIDDEN_CHARACTERS)


def _notation(match):
    code = ord(match.group(0))
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def visible(value, one_line=False):
    """``value`` as text with control, bidi and unencodable characters in backslash notation.

    Tab, line feed and carriage return are kept unless ``one_line``.
    """
    text = "" if value is None else str(value)
    return (_ONE_LINE if one_line else _KEEP_LINES).sub(_notation, text)


def prepare_write(path, text, mode=0o644):
    """Write ``text`` into a hidden temporary file beside ``path``; ``os.replace`` it onto ``path`` to publish."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_path, mode)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    return tmp_path


def atomic_write(path, text, mode=0o644):
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never a part."""
    tmp_path = prepare_write(path, text, mode)
    try:
        os.replace(tmp_path, path)
    except BaseException:
        os.unlink(tmp_path)
        raise


def csv_cell(value):
    """Text for a CSV cell that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = visible(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
