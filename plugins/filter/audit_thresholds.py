# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: audit_thresholds
short_description: The audit's thresholds with the overrides of tcp_audit_thresholds
version_added: 0.1.0
description:
  - Takes the value of C(tcp_audit_thresholds) (a dict, or a string holding JSON or YAML as an AWX survey
    gives it; empty or null for none) and returns every threshold of the audit's rules, the defaults
    updated with those overrides, checked as the report checks them.
  - Unknown names, values that are not numbers or are negative, and a warn threshold above its fail
    threshold fail the task, naming C(tcp_audit_thresholds).
  - The audit and remediate playbooks give the result to M(tcpops.timewait.tcp_state_facts) with
    O(tcpops.timewait.tcp_state_facts#module:namespaces=all), which ranks the namespaces by it.
author:
  - tcpops maintainers (@tcpops)
options:
  _input:
    description: The overrides.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Gather the facts, ranking the namespaces by this host's thresholds
  tcpops.timewait.tcp_state_facts:
    namespaces: all
    thresholds: "{{ tcp_audit_thresholds | default({}) | tcpops.timewait.audit_thresholds }}"
"""

RETURN = r"""
_value:
  description: Every threshold name with its value.
  type: dict
"""

from ansible.errors import AnsibleFilterError


def audit_thresholds(overrides):
    # Imported here, not at the top: Jinja looks a filter up when it compiles a template, so every
    # worker running the gather task loads this plugin even where namespaces is self and the filter
    # never runs; the rules and the parser would cost each of them 35 to 40 ms.
    from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import parse_thresholds

    try:
        if isinstance(overrides, str):
            overrides = parse_thresholds(overrides)
        return rules.merge_thresholds(overrides)
    except rules.ThresholdError as exc:
        raise AnsibleFilterError("tcp_audit_thresholds: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"audit_thresholds": audit_thresholds}
