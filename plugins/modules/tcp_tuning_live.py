#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_tuning_live
short_description: Internal to the tcpops.timewait.tcp_tuning role - set live sysctl values, writing only the keys that differ
version_added: 0.1.0
description:
  - B(Internal to the tcpops.timewait.tcp_tuning role; do not use directly.) Its options and return
    values follow the role and may change with it; use the role.
  - Writes each given key to C(/proc/sys) when its live value differs, then reads it back.
  - Values are compared as the kernel means them, so C(32768 60999) equals the kernel's tab-separated C(32768<TAB>60999)
    and a reserved port list matches whatever its order.
  - The C(tcpops.timewait.tcp_tuning) role runs it right after writing its file (whether or not the file
    changed), to give back the originals of keys a profile no longer sets, to restore the saved values
    on C(tcp_tuning_state=absent), and in check mode to verify that the live values match.
author:
  - tcpops maintainers (@tcpops)
options:
  values:
    description:
      - The wanted live values, by dotted sysctl name.
      - An empty string clears a list-valued key such as C(net.ipv4.ip_local_reserved_ports).
    type: dict
    required: true
  kinds:
    description:
      - How to compare each key's value, C(int) (the default), C(port_range) or C(port_list).
      - The role passes the RV(tcpops.timewait.tcp_tuning_plan#module:kinds) its plan returned.
    type: dict
    default: {}
  proc_root:
    description:
      - Where C(/proc) is mounted. Tests point it at a fixture tree.
    type: path
    default: /proc
attributes:
  check_mode:
    support: full
    details: Reports what would change and writes nothing.
  diff_mode:
    support: full
    details: The differing keys as C(key = value) lines, before and after.
  platform:
    platforms: posix
    details: Linux only (needs C(/proc/sys)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
notes:
  - Live values only; the file under C(/etc/sysctl.d) that keeps them across reboots is the role's job.
"""

EXAMPLES = r"""
# Internal to the tcpops.timewait.tcp_tuning role, which runs it as below after writing its file.
- name: Bring the live values to the file
  tcpops.timewait.tcp_tuning_live:
    values: "{{ __tcp_tuning_plan.rendered }}"
    kinds: "{{ __tcp_tuning_plan.kinds }}"
"""

RETURN = r"""
changes:
  description: The keys that differed (and, outside check mode, were written).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: Dotted sysctl name.
      type: str
    before:
      description: Live value before, as the kernel prints it with white space folded.
      type: str
    after:
      description: The value written (or that would be).
      type: str
  sample: [{"key": "net.ipv4.tcp_tw_reuse", "before": "2", "after": "1"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcpops.timewait.plugins.module_utils._payload_import import compile_each_file_once

compile_each_file_once()

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.live import LiveWriteError, diff_text, set_live


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            values=dict(type="dict", required=True),
            kinds=dict(type="dict", default={}),
            proc_root=dict(type="path", default="/proc"),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    kernel = KernelSysctl(module.params["proc_root"])
    try:
        changes = set_live(kernel, module.params["values"], module.params["kinds"], module.check_mode)
    except LiveWriteError as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=bool(changes), changes=changes)
    if module._diff:
        result["diff"] = dict(before=diff_text(changes, "before"), after=diff_text(changes, "after"),
                              before_header="live sysctl values", after_header="live sysctl values")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
