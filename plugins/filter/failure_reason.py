# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: failure_reason
short_description: One line saying why a task failed or a host was unreachable
version_added: 0.1.0
description:
  - Takes a registered task result (or C(ansible_failed_result) in a C(rescue)) and returns its real
    cause first, from C(module_stderr), C(stderr) or the connection's stderr quoted in C(msg) (of a Python
    traceback, the exception line), then Ansible's own message and the exit code in parentheses.
  - Terminal escapes and control characters are dropped; the line is at most 300 characters.
  - The same text the audit reports give as a host's C(reason).
author:
  - tcpops maintainers (@tcpops)
options:
  _input:
    description: A task result.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Say why the role failed
  ansible.builtin.debug:
    msg: "{{ ansible_failed_result | tcpops.timewait.failure_reason }}"
"""

RETURN = r"""
_value:
  description: >-
    For example C(pyenv: python3.13: command not found (Module result deserialization failed: No start of
    json char found; exit code 127)); C(no reason given) when the result carries none.
  type: str
"""


def failure_reason(result):
    # imported when it runs: loading the plugin, which every template naming it does, stays cheap
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import failure_reason as reason

    return reason(result)


class FilterModule(object):
    def filters(self):
        return {"failure_reason": failure_reason}
