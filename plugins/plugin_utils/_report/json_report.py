# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.json: the whole fleet document."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def render(doc):
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"
