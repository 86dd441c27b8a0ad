#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sysctl_config_facts
short_description: Read the sysctl configuration files in the order C(sysctl --system) applies them
version_added: "0.1.0"
description:
  - Reads every C(*.conf) file under C(/etc/sysctl.d), C(/run/sysctl.d), C(/usr/local/lib/sysctl.d),
    C(/usr/lib/sysctl.d), C(/lib/sysctl.d) (sorted by file name, an earlier directory masking the same
    name in a later one) and then C(/etc/sysctl.conf), the order C(sysctl --system) and systemd-sysctl use.
  - Returns each file's settings with their line numbers, the effective value of every key (the last
    file that sets it wins) and the live value of each of those keys, so that an audit can tell which
    file sets an obsolete key and whether the running values drifted from the files.
  - Reads only; changes nothing.
author:
  - tcpops maintainers (@tcpops)
options:
  root:
    description:
      - Directory that stands for C(/) when looking for the files. For tests and chroots.
    type: path
    default: /
  proc_root:
    description:
      - Where C(/proc) is mounted; live values are read from C(<proc_root>/sys).
    type: path
    default: /proc
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
    details: Linux only (the sysctl files and C(/proc/sys) of Linux).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
notes:
  - Files that cannot be read (permissions) are listed in RV(ansible_facts.sysctl_config.errors).
"""

EXAMPLES = r"""
- name: Read the sysctl configuration files
  tcpops.timewait.sysctl_config_facts:

- name: Show which file sets tcp_tw_recycle
  ansible.builtin.debug:
    msg: "{{ ansible_facts.sysctl_config.effective['net.ipv4.tcp_tw_recycle'] | default('not set') }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by this module.
  returned: always
  type: complex
  contains:
    sysctl_config:
      description: The sysctl configuration files and what they set.
      returned: always
      type: complex
      contains:
        files:
          description:
            - The files in the order they are applied, each with C(path), C(settings)
              (key to value, white space folded) and C(lines) (key to line number).
          returned: always
          type: list
          elements: dict
          sample:
            - path: /etc/sysctl.conf
              settings: {net.ipv4.tcp_tw_recycle: "1"}
              lines: {net.ipv4.tcp_tw_recycle: 31}
        effective:
          description: For each key, the C(value) that applying every file leaves, and the C(path) and C(line) that set it.
          returned: always
          type: dict
          sample: {net.ipv4.tcp_fin_timeout: {value: "30", path: /etc/sysctl.conf, line: 32}}
        live:
          description: For each key in RV(ansible_facts.sysctl_config.effective), its live value, or null when this kernel has no such key.
          returned: always
          type: dict
          sample: {net.ipv4.tcp_fin_timeout: "60", net.ipv4.tcp_tw_recycle: null}
        errors:
          description: Files that could not be read and lines that could not be parsed.
          returned: always
          type: list
          elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tcpops.timewait.plugins.module_utils._audit_sysctl_files import collect


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            proc_root=dict(type="path", default="/proc"),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    config = collect(root=module.params["root"], proc_root=module.params["proc_root"])
    module.exit_json(changed=False, ansible_facts={"sysctl_config": config})


if __name__ == "__main__":
    main()
