# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.json: the whole fleet document.

The document and its first level (the ``hosts`` map, the summary...) are indented one entry per line;
each value below that (one host's entry, for instance) is one compact line. ``json.dumps`` with
``indent`` runs Python's pure-Python encoder, several times slower than the C encoder used for the
compact lines, and the fully indented file is about twice as large. ``python -m json.tool`` prints it
fully indented.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import finite_only

INDENTED_LEVELS = 2
# JSON has no NaN or Infinity: a value holding one (facts as a module returned them) is written again
# with those numbers as null
_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def _compact(value):
    try:
        return _COMPACT.encode(value)
    except ValueError:
        return _COMPACT.encode(finite_only(value))


def _chunks(value, depth):
    if (depth >= INDENTED_LEVELS or not isinstance(value, (dict, list)) or not value
            or (isinstance(value, dict) and not all(isinstance(key, str) for key in value))):
        yield _compact(value)
        return
    inner = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        opening, closing = "{", "}"
        items = [(_compact(key) + ": ", item)
                 for key, item in sorted(value.items())]
    else:
        opening, closing = "[", "]"
        items = [("", item) for item in value]
    yield opening
    for index, (prefix, item) in enumerate(items):
        yield (inner if index == 0 else "," + inner) + prefix
        yield from _chunks(item, depth + 1)
    yield "\n" + "  " * depth + closing


def render(doc):
    return "".join(_chunks(doc, 0)) + "\n"
