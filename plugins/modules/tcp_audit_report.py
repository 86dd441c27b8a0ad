#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_audit_report
short_description: Evaluate the TCP audit rules for a fleet and write its reports on the controller
version_added: "0.1.0"
description:
  - Runs on the controller only (an action plugin); it never contacts a managed host.
  - For every host in O(hosts), reads from hostvars the registered results of
    M(tcpops.timewait.tcp_state_facts) (O(facts_var)), which includes the sysctl configuration files
    as C(tcp_state.sysctl_config), and the threshold overrides (O(thresholds_var)), evaluates every audit rule
    and sets the host status to its worst finding, or to C(unreachable) / C(error) with the reason
    when the facts could not be gathered.
  - In the collection's playbooks (O(playbook)), a host with a misspelled name of their variables is
    C(error) with the reason M(tcpops.timewait.tcp_audit_preflight) gives.
  - Writes C(tcp-audit.json), C(tcp-audit.csv), C(tcp-audit.html), C(tcp-audit.junit.xml) and
    C(tcp-audit.prom), with the marker C(.tcpops-run.json), into a private directory
    (C(.tcpops-partial-<pid>-*)) beside their final place, then publishes them as a whole, so a reader
    never sees a run with files missing or files from two runs. A run that fails leaves nothing on
    disk. When the reports (or a slice) cannot be written (a disk that filled during the run), the task
    fails with the error and its result still carries the run's outcome (RV(summary), RV(table),
    RV(hosts), RV(run_id)), so the job's output keeps what the files could not.
  - Without O(history), the run becomes C(<dest>/.tcpops-run-<id>/) and the symbolic link
    C(<dest>/.tcpops-current) is swapped to it; the five names in O(dest) are links through
    C(.tcpops-current), so one swap switches all five. Other entries of O(dest) are left alone.
  - A sliced run (several playbook runs, one per slice of the inventory, possibly on different nodes)
    gives one fleet report. With O(stage=slice), each slice writes its evaluated hosts as
    C(<dest>/runs-in-progress/<run_id>/slice-<uuid4>.json) (temporary name and rename, so slices ending
    at the same time never collide) and no report; O(stage=merge) reads every slice of O(run_id), adds
    every host of O(hosts) that no slice reported as C(error) with a reason starting C(missing:),
    publishes the reports as O(stage=all) does and deletes the slices of the run.
  - The rules, their thresholds and the report formats are described in the collection's
    C(docs/audit.md) and C(docs/reports.md); sliced runs on AWX in C(docs/awx.md).
author:
  - tcpops maintainers (@tcpops)
options:
  hosts:
    description:
      - Inventory names of the hosts to report on, usually C(ansible_play_hosts_all).
      - With O(stage=merge), the hosts the whole run should have reported (every host of the inventory
        pattern the slices ran on); those no slice reported are missing.
    type: list
    elements: str
    required: true
  dest:
    description:
      - Directory for the reports (created when missing). With O(history=true), the runs go below it.
      - When it exists and is not a directory, or (without O(history)) a report name in it is a
        directory, the task fails and writes nothing.
    type: path
    required: true
  facts_var:
    description:
      - Name of the host variable holding the registered result of M(tcpops.timewait.tcp_state_facts).
      - A registered result is read as it is (never templated again); a string set instead is templated
        with the host's variables.
    type: str
    default: tcp_audit_gathered
  thresholds_var:
    description:
      - Name of the host variable holding threshold overrides (a dict; see C(docs/audit.md)).
      - A string (an AWX survey answer) is parsed as JSON or YAML and must give such a dict; when it does
        not, or names an unknown threshold or a value that is not a number, the task fails naming the
        variable and writes nothing. A wrong dict makes only its hosts C(error).
      - It is templated with each host's own variables; a host for which that fails (an undefined
        variable in it) is C(error) with the reason.
    type: str
    default: tcp_audit_thresholds
  fail_on:
    description:
      - Which host statuses set RV(fail_on_reached). V(fail) counts C(fail), C(error) and C(unreachable);
        V(warn) adds C(warn); V(never) never does.
      - This module does not fail because of findings; the playbook decides with RV(fail_on_reached).
    type: str
    choices: [fail, warn, never]
    default: fail
  history:
    description:
      - Write a new run C(<dest>/<YYYYmmddTHHMMSSZ>/) (C(-1), C(-2)... when the name is taken), compare
        with C(<dest>/latest/tcp-audit.json), then point C(<dest>/latest) at the new run and delete the
        oldest runs beyond O(keep).
      - A previous run that cannot be read or is not a fleet document is named in a warning and the
        run is compared with nothing; a C(latest) that is not a symbolic link fails the task.
      - Each host entry gets C(counter_deltas), the growth of its since-boot kernel counters since the
        previous run (V(null) without one, or for a host it did not audit; C(reboot) when the counters
        restarted; C(rates), the per-second rates of that interval under the names of
        M(tcpops.timewait.tcp_state_facts)'s O(tcpops.timewait.tcp_state_facts#module:sample_seconds)),
        and the rules C(listen_overflow) and C(time_wait_overflow) judge that interval instead of the
        counters since boot. The CSV, HTML and Prometheus reports show the rates. Without O(history)
        C(counter_deltas) is V(null).
      - Retention counts and deletes only complete runs this module wrote (a directory named like a
        run holding exactly the five reports and the marker), never the run just written nor the run
        C(latest) points to.
    type: bool
    default: false
  keep:
    description: With O(history=true), how many complete runs to keep (at least 1).
    type: int
    default: 30
  in_progress_keep_days:
    description:
      - Runs of a sliced job below C(<dest>/runs-in-progress/) other than this one that were never merged
        and got no new slice for this many days (at least 1) are stale. O(stage=all) and O(stage=merge)
        name them in a warning, in RV(table) and in RV(stale_runs_in_progress).
      - With O(history=true), retention deletes them; without, they stay for you to delete or merge.
    type: int
    default: 7
  compare_with:
    description:
      - Without O(history), a C(tcp-audit.json) written earlier to compare this run with.
      - When it cannot be read or is not a fleet document, the task fails and writes nothing.
    type: path
  compare_label:
    description: How the reports name the run compared with.
    type: str
    default: previous run
  title:
    description: Title of the HTML report.
    type: str
  remediation_var:
    description:
      - Name of a host variable holding what a remediation did on the host (the C(tcp_tuning_result)
        of the tcp_tuning role). When set, each host entry carries it as C(remediation) (null for hosts
        the role did not run on) and the HTML report shows the profile, the reason and the conflicts.
    type: str
  report_name:
    description:
      - Name of this fleet report, the value of the C(report) label on every series of C(tcp-audit.prom),
        and the name of the file in O(textfile_dir). Letters, digits, C(.), C(_), C(-), at most 64.
      - Give every report that shares a textfile directory its own name.
    type: str
    default: audit
  textfile_dir:
    description:
      - node_exporter's C(--collector.textfile.directory). When set, the Prometheus report is also
        written there as C(tcp-audit-<report_name>.prom) (temporary file and rename in that directory),
        once the run is published. The directory must exist.
    type: path
  remediation_outcome_var:
    description:
      - Name of a host variable holding how the remediation ended on the host (C(tcp_remediate_outcome) of
        the C(tcpops.timewait.remediate) playbook, C(status) and C(reason)). When set, each host entry carries it
        as C(remediation_outcome) (null for hosts the remediation did not include), the summary table
        counts the outcomes and names the hosts where the role did not finish, with the reason, and the
        HTML report shows each host's outcome.
    type: str
  stage:
    description:
      - V(all) evaluates the hosts of this play and writes the reports (with the slices of O(run_id)
        written earlier, if any, merged in).
      - V(slice) evaluates the hosts of this play and writes them as one slice of O(run_id), no report.
      - V(merge) evaluates no host; it writes the reports of every slice of O(run_id).
    type: str
    choices: [all, slice, merge]
    default: all
  run_id:
    description:
      - The run the slices belong to, the same in every slice of one run; letters, digits, C(.), C(_),
        C(-), at most 64, starting with a letter or digit. Required with O(stage=merge).
      - When omitted, a new id is made (UTC time and a random part), so the run is a slice of its own.
    type: str
  playbook:
    description:
      - The collection's playbook this task is part of. With it, a host that has a variable named like the
        playbooks' (C(tcp_audit_*), C(tcp_report_*), C(tcp_remediate_*)) that is none of them, such as
        C(tcp_audit_namespace) in its C(host_vars), is C(error) with the reason
        M(tcpops.timewait.tcp_audit_preflight) gives (which sees only the first host's variables); the facts
        it gave and a reason it had already (unreachable, failed) are kept. The variables the options
        ending in C(_var) name are not checked.
      - Without it (the task in a playbook of your own), no variable name is checked.
    type: str
    choices: [audit, report, remediate]
  set_stats:
    description:
      - Publish RV(stats) for the next node of an AWX workflow as M(ansible.builtin.set_stats) would, not
        per host and not aggregated (each key replaces what an earlier task published). The result
        carries them as RV(ansible_stats), which Ansible publishes from any successful task's result, so
        the play needs no C(ansible.builtin.set_stats) task. The audit, report and merge playbooks set it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Writes the reports on the controller in check mode too; it changes nothing on managed hosts.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tcpops.timewait.controller_action
"""

EXAMPLES = r"""
- name: Write the fleet reports
  tcpops.timewait.tcp_audit_report:
    hosts: "{{ ansible_play_hosts_all }}"
    dest: ./reports
  run_once: true
  delegate_to: localhost
  register: audit_report
"""

RETURN = r"""
run_id:
  description: The run id this task wrote with (or failed to).
  returned: success, and when the reports or the slice could not be written
  type: str
  sample: awx-workflow-4211
slice_file:
  description: The slice file written (O(stage=slice) only).
  returned: O(stage=slice)
  type: str
  sample: /srv/audit/runs-in-progress/awx-workflow-4211/slice-0f5c3a9e8b7d4c1e9a2b3c4d5e6f7a8b.json
slices:
  description: How many slices the reports were written from (1 for an unsliced run).
  returned: O(stage=all) or O(stage=merge)
  type: int
missing_hosts:
  description: Hosts of O(hosts) that no slice reported (their status is C(error), reason C(missing:...)).
  returned: O(stage=all) or O(stage=merge)
  type: list
  elements: str
stats:
  description:
    - The outcome for the next node of an AWX workflow, published with O(set_stats). It holds
      C(tcp_audit_run_id) and C(tcp_audit) with C(scope) (C(slice) or C(fleet)), C(run_id),
      C(worst_status), C(by_status), C(hosts), C(missing_hosts) (a count) and C(report_dir).
  returned: success
  type: dict
  sample: {tcp_audit_run_id: awx-workflow-4211, tcp_audit: {scope: fleet, run_id: awx-workflow-4211,
           worst_status: warn, by_status: {unreachable: 0, error: 0, fail: 0, warn: 2, pass: 38},
           hosts: 40, missing_hosts: 0, report_dir: /srv/audit/20260101T020000Z}}
ansible_stats:
  description: RV(stats) as Ansible publishes them (C(data), C(per_host) V(false), C(aggregate) V(false)).
  returned: O(set_stats=true)
  type: dict
report_dir:
  description: Directory the reports were written into.
  returned: O(stage=all) or O(stage=merge)
  type: str
  sample: /srv/audit/20260101T020000Z
files:
  description: Path of each report by format (json, csv, html, junit, prom), and C(textfile) with O(textfile_dir).
  returned: O(stage=all) or O(stage=merge)
  type: dict
  sample: {json: /srv/audit/reports/tcp-audit.json, html: /srv/audit/reports/tcp-audit.html}
summary:
  description: Fleet summary, as in the JSON report (C(hosts), C(by_status), C(by_rule), C(worst_status), C(hosts_worst_first)).
  returned: success, and when the reports or the slice could not be written
  type: dict
table:
  description:
    - Plain-text summary table, worst hosts first, one line per element.
    - The TIME_WAIT and CLOSE_WAIT columns count the host's own network namespace; a cell adds C(+N netns)
      for the sockets in that state in the host's containers and pods (C(tcp_audit_namespaces=all)),
      and a line after the rows says so.
  returned: success, and when the reports or the slice could not be written
  type: list
  elements: str
hosts:
  description:
    - Per host, C(status), C(reason), C(problems) (the rule ids of the warn/fail findings, each once),
      C(fixable_by_tuning) (a warn/fail finding that the tcp_tuning role fixes),
      C(application_problems) (the rule ids of the findings with C(fixed_by=application)) and
      C(container_problems) (the rule ids of the findings with C(fixed_by=container)).
  returned: O(stage=all) or O(stage=merge), and when the reports or the slice could not be written
  type: dict
comparison:
  description: New, resolved and persisting findings per host against the earlier run; null without one.
  returned: O(stage=all) or O(stage=merge)
  type: dict
pruned_runs:
  description: Run directories deleted by the retention (empty without O(history)).
  returned: O(stage=all) or O(stage=merge)
  type: list
  elements: str
stale_runs_in_progress:
  description: The stale runs in progress (see O(in_progress_keep_days)), oldest first.
  returned: O(stage=all) or O(stage=merge)
  type: list
  elements: dict
  contains:
    run_id:
      description: The run id (its directory below C(runs-in-progress/)).
      type: str
    age_seconds:
      description: Seconds since its newest slice was written.
      type: int
    slices:
      description: How many slice files it holds.
      type: int
    removed:
      description: Whether retention deleted it (O(history=true)).
      type: bool
fail_on_reached:
  description: Whether a host has a status that O(fail_on) counts.
  returned: success
  type: bool
"""
