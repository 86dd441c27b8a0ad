#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_tuning_plan
short_description: Internal to the tcpops.timewait.tcp_tuning role - plan its settings on one host, changing nothing
version_added: 0.1.0
description:
  - B(Internal to the tcpops.timewait.tcp_tuning role; do not use directly.) Its options and return
    values follow the role and may change with it; use the role.
  - Chooses the profile (C(auto) reads the host's C(tcp_state) facts), lays the overrides over the
    profile's vetted values, and keeps only the keys this kernel has and this host may write;
    the others come back in RV(left_out) with the reason.
  - Refuses, in RV(errors), what the role must not do - a value outside the vetted limits,
    C(tcp_tw_reuse=1) with C(tcp_timestamps=0), lowering C(tcp_max_tw_buckets), setting
    C(tcp_tw_recycle), C(tcp_tw_reuse=2) on a kernel that cannot take it, a read-only C(/proc/sys/net).
    Also refused - C(tcp_timestamps=0), reservations that leave too few ephemeral ports free,
    C(auto_min_time_wait) below 1, paths the role must not write (anything but a C(*.conf) directly
    under a sysctl.d directory, a file there the role did not write, relative paths), directories that
    cannot be written (read-only mounts included), and a damaged or foreign restore file.
    The module itself does not fail on them so the role can assert them with one clear message.
  - Finds the lines of other sysctl files that fight the role's file (applied later with another
    value, or the obsolete C(tcp_tw_recycle)), following the order boot applies them in.
  - The options that carry a role variable (C(tcp_tuning_<option>)) have no default of their own. The
    role passes every one, and its C(defaults/main.yml) is the only place their defaults are declared.
  - Read-only; the role's other tasks write.
author:
  - tcpops maintainers (@tcpops)
options:
  state:
    description: C(present) plans the file and its values; C(absent) plans restoring the saved live values (C(tcp_tuning_state)).
    type: str
    choices: [present, absent]
    required: true
  profile:
    description: C(auto) or one of the profiles of O(profiles) (C(tcp_tuning_profile)).
    type: str
    required: true
  profiles:
    description:
      - The vetted table, by profile name. Each profile has C(settings), a list of rows with C(key),
        C(value), C(why) and optionally C(at_least) (never render below the live value),
        C(requires=conntrack) and C(reserve_listening) (the value is computed from the listening ports).
    type: dict
    required: true
  limits:
    description:
      - Vetted limits by key, used to validate every value. Each row has C(kind) (C(int), C(port_range)
        or C(port_list)) and C(min)/C(max)/C(choices) or C(min_port)/C(max_port)/C(min_span).
      - The keys of this table are the only keys O(overrides) may set.
    type: dict
    required: true
  overrides:
    description: Per-key values that replace the profile's; C(null) drops a key from the profile (C(tcp_tuning_overrides)).
    type: dict
    required: true
  facts:
    description: The host's C(ansible_facts.tcp_state) from M(tcpops.timewait.tcp_state_facts).
    type: dict
  fix_conflicts:
    description: Whether the role will comment out conflicting lines; plans RV(fixes) when true (C(tcp_tuning_fix_conflicts)).
    type: bool
    required: true
  sysctl_file:
    description:
      - The role's file, an absolute C(*.conf) path directly under a sysctl.d directory (C(tcp_tuning_sysctl_file)).
      - Checked exactly as given (type C(str), not C(path), which would expand C(~) and variables first).
    type: str
    required: true
  state_file:
    description:
      - The restore file, where the live values from before the role's first change are kept. Absolute,
        outside the sysctl.d directories and C(/proc), C(/sys), C(/dev), not directly in C(/) (C(tcp_tuning_state_file)).
    type: str
    required: true
  auto_min_time_wait:
    description: Outbound or inbound TIME_WAIT count from which profile C(auto) takes the direction as evidence (C(tcp_tuning_auto_min_time_wait)).
    type: int
    required: true
  auto_ignore_ports:
    description: Listening ports that do not make a host a server for profile C(auto) (C(tcp_tuning_auto_ignore_ports)).
    type: list
    elements: int
    required: true
  tw_recycle_why:
    description: The comment written above the forced C(net.ipv4.tcp_tw_recycle = 0) on old kernels.
    type: str
    required: true
  discard_restore_file:
    description:
      - Go past a damaged or foreign restore file (and, with O(state=present), a missing one next to the
        role's own sysctl file) instead of refusing. The role then sets the file aside and takes the
        current live values as the originals (C(tcp_tuning_discard_restore_file)).
    type: bool
    required: true
  root:
    description: Where the host's file system is, for reading the sysctl files. Tests use a fixture tree.
    type: path
    default: /
  proc_root:
    description: Where C(/proc) is mounted. Tests use a fixture tree.
    type: path
    default: /proc
attributes:
  check_mode:
    support: full
    details: The module never changes anything, in check mode or not.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Linux only (needs C(/proc/sys)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: tcpops.timewait.tcp_state_facts
  - module: tcpops.timewait.tcp_tuning_live
"""

EXAMPLES = r"""
# Internal to the tcpops.timewait.tcp_tuning role, which runs it as below; use the role instead.
- name: Tune TCP with the role
  ansible.builtin.include_role:
    name: tcpops.timewait.tcp_tuning
  vars:
    tcp_tuning_profile: client
"""

RETURN = r"""
state:
  description: The planned state.
  returned: always
  type: str
  sample: present
profile:
  description: The profile chosen (null when refused before a choice).
  returned: state is present
  type: str
  sample: client
profile_requested:
  description: The profile asked for, C(auto) included.
  returned: state is present
  type: str
  sample: auto
reason:
  description: Why that profile (for C(auto), the evidence from the facts).
  returned: state is present
  type: str
  sample: "5210 outbound and 3 inbound TIME_WAIT (outbound >= 100) and no service listener"
file:
  description: The role's file.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-tcpops-timewait.conf
settings:
  description: The rows to render, in order, each C(key), C(value), C(why).
  returned: state is present
  type: list
  elements: dict
rendered:
  description: The same as a dict, key to value.
  returned: state is present
  type: dict
  sample: {"net.ipv4.tcp_tw_reuse": 1}
left_out:
  description:
    - Keys left out, each C(key), C(value), C(reason) (missing from this kernel, not writable, dropped,
      no longer set by the profile and not writable).
    - Named so because C(skipped) is a result key Ansible reserves (it would show the task as skipped).
  returned: always
  type: list
  elements: dict
release:
  description:
    - With O(state=present), saved keys the profile no longer sets (after a profile switch or a
      C(null) override), key to the original value the role writes back live.
  returned: state is present
  type: dict
release_changes:
  description: Keys of RV(release) whose live value differs from the original, each C(key), C(before), C(after).
  returned: state is present and the plan got that far
  type: list
  elements: dict
conflicts:
  description:
    - Lines elsewhere that fight the role's file, each C(path), C(line), C(key), C(value), C(ours),
      C(kind) (C(overrides) or C(obsolete)), C(reason), C(fixable), C(how_to_fix), C(fixed).
  returned: state is present
  type: list
  elements: dict
fixes:
  description: With O(fix_conflicts), one edit per file, C(path), C(keys), C(regexp) (for ansible.builtin.replace).
  returned: state is present
  type: list
  elements: dict
live_changes:
  description: Keys whose live value differs from the plan, each C(key), C(before), C(after).
  returned: always
  type: list
  elements: dict
restore_state:
  description:
    - What the restore file must hold before the role changes anything, C(role), C(version), C(file),
      C(saved) (key to the live value from before the role's first change, released keys included).
  returned: state is present
  type: dict
restore_state_after:
  description: What the restore file holds once the released keys are back at their originals.
  returned: state is present
  type: dict
restore_file_damaged:
  description: Whether the restore file exists and failed validation (see O(discard_restore_file)).
  returned: always
  type: bool
state_dir_missing:
  description: With O(state=present), whether the restore file's directory must be created (mode 0700).
  returned: state is present
  type: bool
restore:
  description: With O(state=absent), the saved values to write back, key to value.
  returned: state is absent
  type: dict
file_exists:
  description: With O(state=absent), whether the role's file is there.
  returned: state is absent
  type: bool
state_exists:
  description: With O(state=absent), whether the restore file is there.
  returned: state is absent
  type: bool
errors:
  description: Refusals, each saying what to change. The role fails on any of them before changing anything.
  returned: always
  type: list
  elements: str
ran_in_check_mode:
  description:
    - Whether this task ran in check mode, from the C(--check) flag or a C(check_mode) keyword;
      the role skips verifying live values when it did.
  returned: always
  type: bool
kinds:
  description:
    - Every key the role may write, with the kind of its value (C(int), C(port_range), C(port_list)),
      for M(tcpops.timewait.tcp_tuning_live) to compare values as the kernel means them.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_local_port_range": "port_range", "net.ipv4.tcp_tw_reuse": "int"}
kernel:
  description: The kernel release.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcpops.timewait.plugins.module_utils._payload_import import compile_each_file_once

compile_each_file_once()

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan import PlanInput, plan_for


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], required=True),
            profile=dict(type="str", required=True),
            profiles=dict(type="dict", required=True),
            limits=dict(type="dict", required=True),
            overrides=dict(type="dict", required=True),
            facts=dict(type="dict"),
            fix_conflicts=dict(type="bool", required=True),
            sysctl_file=dict(type="str", required=True),
            state_file=dict(type="str", required=True),
            auto_min_time_wait=dict(type="int", required=True),
            auto_ignore_ports=dict(type="list", elements="int", required=True),
            tw_recycle_why=dict(type="str", required=True),
            discard_restore_file=dict(type="bool", required=True),
            root=dict(type="path", default="/"),
            proc_root=dict(type="path", default="/proc"),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    plan = plan_for(PlanInput(**dict((name, module.params[name]) for name in PlanInput._fields)))
    module.exit_json(changed=False, ran_in_check_mode=module.check_mode, **plan)


if __name__ == "__main__":
    main()
