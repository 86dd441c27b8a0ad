# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: tuning_conflict_line
short_description: One line describing a sysctl conflict found by tcp_tuning_plan
version_added: 0.1.0
description:
  - Formats one item of the C(conflicts) list of M(tcpops.timewait.tcp_tuning_plan) for a report.
author:
  - tcpops maintainers (@tcpops)
options:
  _input:
    description: One conflict.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Print the conflicts
  ansible.builtin.debug:
    msg: "{{ tcp_tuning_result.conflicts | map('tcpops.timewait.tuning_conflict_line') | list }}"
"""

RETURN = r"""
_value:
  description: C(path:line key = value (kind, fixed | how to fix)).
  type: str
"""


def tuning_conflict_line(conflict):
    status = "fixed" if conflict.get("fixed") else conflict.get("how_to_fix", "")
    return "%s:%s %s = %s (%s: %s; %s)" % (
        conflict.get("path"), conflict.get("line"), conflict.get("key"), conflict.get("value"),
        conflict.get("kind"), conflict.get("reason"), status)


class FilterModule(object):
    def filters(self):
        return {"tuning_conflict_line": tuning_conflict_line}
