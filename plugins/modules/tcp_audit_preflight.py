#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_audit_preflight
short_description: Refuse the audit playbooks' mistyped variables before any host is contacted
version_added: "0.1.0"
description:
  - Runs on the controller only (an action plugin); it never contacts a managed host and changes nothing.
  - The first task of C(tcpops.timewait.audit), C(report), C(remediate) and C(merge). It reads every
    variable named C(tcp_audit_*), C(tcp_report_*) or C(tcp_remediate_*) as the host it runs for sees it
    (extra variables, so C(-e) and AWX surveys, and that host's inventory variables; use it with
    C(run_once)), templates it and checks it as the playbooks would use it. A template that gives C(omit)
    leaves its variable unset; C(tcp_audit_thresholds) that cannot be templated for this host are left to
    the report task, which templates them for each host.
  - With C(run_once), it also reads the variables the playbook reads once for the whole run as each host of
    the play (C(ansible_play_hosts_all)) sees them, and refuses one that some host sees otherwise than this
    host (its value would be ignored there), naming this host's value and up to five of the others. These
    are C(tcp_audit_report_dir), C(tcp_audit_fail_on), C(tcp_audit_report_name) and
    C(tcp_audit_textfile_dir) for C(audit), C(report) and C(remediate); C(tcp_audit_run_id),
    C(tcp_audit_merge) and C(tcp_report_in_progress_keep_days) for C(audit) and C(report); C(tcp_report_keep)
    for C(report). So is C(tcp_remediate_max_fail_percentage) for C(remediate), one failure budget for the
    run, which each host reads as it sees it, so that hosts would stop at different shares of failed hosts.
    Values are compared as the playbooks read them (unset is the default, C(tcp_audit_merge)
    as the C(bool) filter reads it, numbers as numbers); a value written otherwise than this host's, or a
    template whose inputs (the variables it refers to, and theirs) are, is templated with that host's
    variables and the play's; a value the extra or the play's variables set overrides every host's and
    differs only where its inputs do. C(tcp_audit_hosts) (C(audit), C(report), C(remediate)) and
    C(tcp_remediate_serial) (C(remediate)) set as a host variable are refused too, since Ansible templates a
    play's C(hosts) and C(serial) from the extra variables and the play's own only.
  - The variables each host may have its own value of are checked as this host sees them. A value set for
    other hosts only reaches M(tcpops.timewait.tcp_state_facts) (C(tcp_audit_top), C(tcp_audit_namespaces)),
    which makes that host an C(error), or the report task (C(tcp_audit_thresholds)), which does the same; the
    report task also makes a host with a misspelled name set for it only an C(error) with the message this
    module gives.
  - It fails, naming every problem, when a name is not one of the playbooks' variables (with the
    closest variable, so C(tcp_audit_namespace) is answered with C(did you mean tcp_audit_namespaces?));
    when a value is not what the variable takes (C(tcp_audit_top) a whole number of 0 or more,
    C(tcp_audit_namespaces) C(self) or C(all), C(tcp_audit_merge) and C(tcp_audit_history) a word the
    C(bool) filter knows, C(true), C(false), C(yes), C(no), C(on), C(off), C(1) or C(0) (it reads any other as
    false), C(tcp_remediate_fix_conflicts) a boolean, C(tcp_audit_fail_on) C(fail), C(warn) or C(never),
    C(tcp_report_keep) and C(tcp_report_in_progress_keep_days) 1 or more, C(tcp_audit_report_name) and
    C(tcp_audit_run_id) a name of 1 to 64 letters, digits, C(.), C(_) or C(-), C(tcp_audit_thresholds) known
    thresholds with numbers, C(tcp_audit_textfile_dir) an existing directory this user can write, not
    on a read-only file system (not for a slice, which writes no textfile), C(tcp_remediate_serial) what
    the play keyword C(serial) takes, C(tcp_remediate_max_fail_percentage) a number from 0 to 100,
    C(tcp_remediate_profile) a profile of the C(tcp_tuning) role, C(tcp_remediate_overrides) a mapping or
    a JSON or C(key=value) string); when C(tcpops.timewait.merge) has no C(tcp_audit_run_id); and when the
    reports could not be written in C(tcp_audit_report_dir) (default C(reports)) as it is laid out, for
    lack of write permission, on a read-only file system or behind a symbolic link to nowhere, which the
    report task would otherwise find only after the whole fleet was gathered.
  - It also fails when the file system of C(tcp_audit_report_dir) has less room than the least the run
    writes there (each file a block of at most 4 KiB, or 8 KiB and 512 bytes per host of content for the
    reports, 64 bytes per host for a slice, whichever is more; twice for C(remediate)) or fewer free
    inodes than the files a run creates, and when that of C(tcp_audit_textfile_dir) has no free inode or
    less than a block or 32 bytes per host; less room than the reports usually take (16 KiB and 16 KiB
    per host in full mode, beside the blocks) is a warning.
  - The variables are described in the collection's C(docs/audit.md).
author:
  - tcpops maintainers (@tcpops)
options:
  playbook:
    description:
      - The playbook whose variables are checked; it decides where the reports go (C(report) and C(merge)
        with C(tcp_audit_history) keep a history of runs, C(audit) a fixed directory, C(remediate) two) and
        what is required (C(merge) needs C(tcp_audit_run_id)).
    type: str
    required: true
    choices: [audit, report, remediate, merge]
attributes:
  check_mode:
    support: full
    details: It changes nothing in either mode.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tcpops.timewait.controller_action
notes:
  - Checking the variables costs the run one task on the controller, which reads every host's variables
    once; measured, the task took 0.05 s at 100 hosts, 0.21 s at 1,000 and 1.6 to 1.8 s at 10,000 (about
    0.2 ms per host), and 8.4 to 9.1 s at 10,000 hosts when a value it compares is a template whose inputs
    differ between hosts (each host's value is then templated).
"""

EXAMPLES = r"""
- name: Check the variables before any host is contacted
  tcpops.timewait.tcp_audit_preflight:
    playbook: report
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
checked:
  description: The variables found and checked, by name.
  returned: success
  type: list
  elements: str
  sample: [tcp_audit_report_dir, tcp_audit_top]
"""
