# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the audit: evaluate the rules for every host and write the fleet reports.

Runs entirely on the controller (it never contacts a host): it reads each host's registered
``tcp_state_facts`` result (facts and sysctl files) and ``tcp_audit_thresholds`` from hostvars.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase
from ansible_collections.tcpops.timewait.plugins.module_utils import _audit_fleet as fleet
from ansible_collections.tcpops.timewait.plugins.module_utils import _audit_report_files as files

ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    dest=dict(type="path", required=True),
    facts_var=dict(type="str", default="tcp_audit_gathered"),
    thresholds_var=dict(type="str", default="tcp_audit_thresholds"),
    fail_on=dict(type="str", default="fail", choices=["fail", "warn", "never"]),
    history=dict(type="bool", default=False),
    keep=dict(type="int", default=30),
    compare_with=dict(type="path"),
    compare_label=dict(type="str", default="previous run"),
    title=dict(type="str"),
    remediation_var=dict(type="str"),
    remediation_outcome_var=dict(type="str"),
)


def plain(value):
    """Deep copy into plain dict/list/str/int/float/bool/None (hostvars hand out lazy, tagged values)."""
    if isinstance(value, Mapping):
        return dict((to_native(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return to_native(value)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        hostvars = task_vars.get("hostvars") or {}

        hosts = {}
        for name in args["hosts"]:
            host_vars = hostvars.get(name) or {}
            hosts[name] = fleet.host_entry(
                plain(host_vars.get(args["facts_var"])),
                plain(host_vars.get(args["thresholds_var"])),
            )
            if args["remediation_var"]:
                hosts[name]["remediation"] = plain(host_vars.get(args["remediation_var"]))
            if args["remediation_outcome_var"]:
                hosts[name]["remediation_outcome"] = plain(host_vars.get(args["remediation_outcome_var"]))

        now = time.time()
        generated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        base = os.path.abspath(os.path.expanduser(args["dest"]))
        try:
            if not os.path.isdir(base):
                os.makedirs(base)
            if args["history"]:
                previous = files.previous_document(base)
                label = args["compare_label"]
                run_dir = files.new_run_dir(base, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)))
            else:
                previous = files.load_document(args["compare_with"]) if args["compare_with"] else None
                if args["compare_with"] and previous is None:
                    raise AnsibleActionFail("compare_with %s cannot be read" % args["compare_with"])
                label = args["compare_label"]
                run_dir = base
            doc = fleet.build_document(hosts, generated_at, previous, label)
            paths = files.write_reports(doc, run_dir, generated_epoch=int(now), title=args["title"])
            pruned = []
            if args["history"]:
                files.point_latest(base, run_dir)
                pruned = files.prune_runs(base, args["keep"], run_dir)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail("cannot write the audit reports into %s: %s" % (base, to_native(exc)))

        result.update(
            changed=True,
            report_dir=run_dir,
            files=paths,
            summary=doc["summary"],
            table=fleet.summary_table(doc),
            hosts=dict((name, {
                "status": entry["status"],
                "reason": entry.get("reason"),
                "problems": [f["id"] for f in fleet.problems(entry)],
                "fixable_by_tuning": fleet.is_fixable_by_tunable(entry),
                "application_problems": [f["id"] for f in fleet.problems(entry) if f["fixed_by"] == "application"],
            }) for name, entry in hosts.items()),
            comparison=doc.get("comparison"),
            pruned_runs=pruned,
            fail_on_reached=fleet.fail_on_reached(doc, args["fail_on"]),
        )
        return result
