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

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import deltas
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import play_vars
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.controller_action import ControllerAction
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.host_values import HostValueError, HostValues
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import trends
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import prepare_write

ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    dest=dict(type="path", required=True),
    facts_var=dict(type="str", default="tcp_audit_gathered"),
    thresholds_var=dict(type="str", default="tcp_audit_thresholds"),
    fail_on=dict(type="str", default="fail", choices=["fail", "warn", "never"]),
    history=dict(type="bool", default=False),
    keep=dict(type="int", default=30),
    in_progress_keep_days=dict(type="int", default=7),
    compare_with=dict(type="path"),
    compare_label=dict(type="str", default="previous run"),
    title=dict(type="str"),
    remediation_var=dict(type="str"),
    report_name=dict(type="str", default="audit"),
    textfile_dir=dict(type="path"),
    remediation_outcome_var=dict(type="str"),
    stage=dict(type="str", default="all", choices=["all", "slice", "merge"]),
    run_id=dict(type="str"),
    playbook=dict(type="str", choices=["audit", "report", "remediate"]),
    set_stats=dict(type="bool", default=False),
)
# what the remediate playbook's report tasks also read of each host, each named by the option KEY_var
REMEDIATION_KEYS = ("remediation", "remediation_outcome")
VARIABLE_NAME_OPTIONS = ("facts_var", "thresholds_var") + tuple(key + "_var" for key in REMEDIATION_KEYS)


def _with_misspelled_names(entry, misspelled):
    """The host as an error, not judged without what was meant (remediate then leaves it alone); the facts it
    gave and the reason it had already (unreachable, failed) are kept."""
    reasons = misspelled + ([entry["reason"]] if entry.get("reason") else [])
    error = fleet.error_entry("; ".join(reasons), entry.get("facts"), entry.get("sysctl_config"))
    error.update((key, entry[key]) for key in REMEDIATION_KEYS if key in entry)
    return error


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result, args = self.start(tmp, task_vars)
        hostvars = task_vars.get("hostvars") or {}

        if args["history"] and args["keep"] < 1:
            raise AnsibleActionFail("keep must be at least 1 (the run just written counts), got %d" % args["keep"])
        if args["in_progress_keep_days"] < 1:
            raise AnsibleActionFail("in_progress_keep_days must be at least 1, got %d" % args["in_progress_keep_days"])
        if not files.REPORT_NAME_PATTERN.match(args["report_name"]):
            raise AnsibleActionFail("report_name %r must be %s" % (args["report_name"], files.NAME_RULE))
        if args["stage"] == "merge" and not args["run_id"]:
            raise AnsibleActionFail("stage=merge needs run_id: the tcp_audit_run_id the slices were written with")
        run_id = args["run_id"] or files.new_run_id()
        base = os.path.abspath(os.path.expanduser(args["dest"]))
        try:
            files.check_run_id(run_id)
        except files.ReportDirError as exc:
            raise AnsibleActionFail("tcp_audit_run_id: %s" % exc)

        if args["stage"] == "slice":
            return self._with_stats(args, self._write_slice(result, args, base, run_id, self._evaluate(args, hostvars)))

        now = time.time()
        generated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        textfile_dir = os.path.abspath(os.path.expanduser(args["textfile_dir"])) if args["textfile_dir"] else None
        warnings = []
        try:
            if args["history"]:
                files.check_history_base(base)
                previous, why_not = files.previous_document(base)
                if why_not:
                    warnings.append("%s; this run is compared with no previous run" % why_not)
            else:
                files.check_fixed_dest(base)
                previous = None
                if args["compare_with"]:
                    previous, why_not = files.load_document(args["compare_with"])
                    if why_not:
                        raise AnsibleActionFail("compare_with: %s" % why_not)
            if textfile_dir and not os.path.isdir(textfile_dir):
                raise files.ReportDirError("textfile_dir %s is not a directory" % textfile_dir)
        except files.ReportDirError as exc:
            raise AnsibleActionFail("cannot write the audit reports: %s" % exc)

        if args["stage"] == "merge":
            hosts, missing, slice_warnings, slice_count = self._merge(base, run_id, args["hosts"])
        else:
            # an unsliced run is one slice merged at once, with the slices of the same run id
            # written earlier, if any; this play's hosts count as the newest slice
            hosts, missing, slice_warnings, slice_count = self._evaluate(args, hostvars), [], [], 1
            if args["run_id"]:
                try:
                    earlier, slice_warnings = files.read_slices(base, run_id)
                except files.ReportDirError as exc:
                    raise AnsibleActionFail("cannot read the slices of run %s: %s" % (run_id, exc))
                expected = set(args["hosts"]).union(*[record["expected_hosts"] for record in earlier])
                hosts, missing = files.merge_slices(earlier + [{"hosts": hosts}], sorted(expected))
                slice_count += len(earlier)
        warnings.extend(slice_warnings)
        # the counter rules judge the interval since the history's previous run (a fixed directory
        # compared with compare_with, as remediate's after audit, judges since boot)
        deltas.attach(hosts, previous if args["history"] else None)
        doc = fleet.build_document(hosts, generated_at, previous, args["compare_label"])
        trend_runs = trends.read_runs(base) if args["history"] else None
        rendered = files.render_reports(doc, generated_epoch=int(now), title=args["title"],
                                        report=args["report_name"], trend_runs=trend_runs)
        marker = {"report": args["report_name"], "generated_at": generated_at, "run_id": run_id,
                  "slices": slice_count}
        try:
            run_dir = self._publish(args, base, rendered, marker, now, textfile_dir)
        except files.ReportDirError as exc:
            return self._unwritten(result, "cannot write the audit reports: %s" % exc, run_id, doc)
        except (IOError, OSError) as exc:
            return self._unwritten(result, "cannot write the audit reports into %s (nothing was published): %s"
                                   % (base, to_native(exc)), run_id, doc)
        try:
            if args["run_id"]:
                files.remove_slices(base, run_id)
        except (IOError, OSError) as exc:
            warnings.append("the slices of run %s could not be deleted: %s" % (run_id, to_native(exc)))
        pruned = []
        if args["history"]:
            try:
                pruned = files.prune_runs(base, args["keep"], run_dir)
            except (IOError, OSError) as exc:
                warnings.append("retention could not delete old runs in %s: %s" % (base, to_native(exc)))
        paths = dict((kind, os.path.join(run_dir, files.REPORT_NAMES[kind])) for kind in rendered)
        stale, removed = self._stale_runs_in_progress(args, base, run_id, now, warnings)
        if textfile_dir:
            paths["textfile"] = os.path.join(textfile_dir, files.textfile_name(args["report_name"]))
        if warnings:
            result["warnings"] = warnings

        result.update(
            changed=True,
            report_dir=run_dir,
            files=paths,
            summary=doc["summary"],
            table=fleet.summary_table(doc) + self._stale_lines(stale, removed),
            hosts=self._outcomes(hosts),
            comparison=doc.get("comparison"),
            pruned_runs=pruned,
            stale_runs_in_progress=[dict(run, removed=removed) for run in stale],
            fail_on_reached=fleet.fail_on_reached(doc, args["fail_on"]),
            run_id=run_id,
            slices=slice_count,
            missing_hosts=missing,
            stats=self._stats(run_id, doc["summary"], run_dir, missing, "fleet"),
        )
        return self._with_stats(args, result)

    @staticmethod
    def _with_stats(args, result):
        """With set_stats, the outcome in the result as ansible.builtin.set_stats returns it: Ansible's strategy
        publishes ``ansible_stats`` from any successful task's result, so the playbooks need no set_stats task of
        their own. Not aggregated: a later publication replaces the keys instead of adding to the run id string."""
        if args["set_stats"] and not result.get("failed"):
            result["ansible_stats"] = {"data": result["stats"], "per_host": False, "aggregate": False}
        return result

    def _evaluate(self, args, hostvars):
        """This play's hosts, each evaluated from its registered facts and its thresholds.

        Each host's variables are read once and as they are (``raw_get``): a registered result is data that
        templating leaves as it is, and going through ``hostvars[host][var]`` would template the whole result
        again. Only the thresholds (inventory or survey, which may hold templates) and a variable that is a
        string instead of a registered result are templated, with the host's variables; when that fails (an
        undefined variable), that host is an error with the reason and the others are reported. In one of the
        collection's playbooks (``playbook``), so is a host with a misspelled name of the playbooks' variables:
        the preflight task sees only the first host's."""
        hosts = {}
        parsed = {}
        options_naming_variables = set(args[option] for option in VARIABLE_NAME_OPTIONS if args[option])
        for name in args["hosts"]:
            host = HostValues(hostvars, name, self._templar)
            hosts[name] = self._host_entry(args, host, parsed)
            if args["playbook"]:
                misspelled = play_vars.unknown_names(var for var in host.raw if var not in options_naming_variables)
                if misspelled:
                    hosts[name] = _with_misspelled_names(hosts[name], misspelled)
        return hosts

    @staticmethod
    def _host_entry(args, host, parsed):
        try:
            overrides = host.templated(args["thresholds_var"])
            facts_result = host.registered(args["facts_var"])
            extra = dict((key, host.registered(args[key + "_var"])) for key in REMEDIATION_KEYS if args[key + "_var"])
        except HostValueError as exc:
            return fleet.error_entry(str(exc))
        if isinstance(overrides, str):
            if overrides not in parsed:
                try:
                    parsed[overrides] = fleet.parse_thresholds(overrides)
                except rules.ThresholdError as exc:
                    raise AnsibleActionFail("%s: %s" % (args["thresholds_var"], exc))
            overrides = parsed[overrides]
        entry = fleet.host_entry(facts_result, overrides)
        entry.update(extra)
        return entry

    @staticmethod
    def _write_slice(result, args, base, run_id, hosts):
        """Write this play's hosts as one slice of the run; the merge writes the reports."""
        summary = fleet.summarise(hosts)
        outcome = {"summary": summary, "hosts": hosts}
        try:
            slice_path = files.write_slice(base, run_id, hosts, args["hosts"])
        except files.ReportDirError as exc:
            return ActionModule._unwritten(result, "cannot write the slice of run %s: %s" % (run_id, exc), run_id,
                                           outcome)
        except (IOError, OSError) as exc:
            return ActionModule._unwritten(result, "cannot write the slice of run %s into %s: %s"
                                           % (run_id, base, to_native(exc)), run_id, outcome)
        result.update(changed=True, run_id=run_id, slice_file=slice_path, summary=summary,
                      table=fleet.summary_table(outcome),
                      stats=ActionModule._stats(run_id, summary, None, [], "slice"),
                      fail_on_reached=fleet.fail_on_reached({"hosts": hosts}, args["fail_on"]))
        return result

    @staticmethod
    def _unwritten(result, message, run_id, doc):
        """A failed result that still carries the run's outcome (the summary, its table, each host's status and
        reason): the fleet was gathered, and the job's output keeps what the files could not."""
        result.update(
            failed=True, changed=False, run_id=run_id, summary=doc["summary"], table=fleet.summary_table(doc),
            msg="%s; the outcome of the %s is in this result (summary, table, hosts)"
                % (message, fleet.counted(len(doc["hosts"]), "host")),
            hosts=ActionModule._outcomes(doc["hosts"]))
        return result

    @staticmethod
    def _outcomes(hosts):
        """Each host's status, reason and problems, as the result's ``hosts``."""
        return dict((name, fleet.host_outcome(entry)) for name, entry in hosts.items())

    @staticmethod
    def _merge(base, run_id, expected):
        """The hosts of every slice of the run, plus the expected hosts no slice reported."""
        try:
            slices, warnings = files.read_slices(base, run_id)
        except files.ReportDirError as exc:
            raise AnsibleActionFail("cannot read the slices of run %s: %s" % (run_id, exc))
        if not slices:
            raise AnsibleActionFail(
                "run %s has no slice in %s: check tcp_audit_run_id and tcp_audit_report_dir (the slices must "
                "write into the same directory, on storage this job can read)"
                % (run_id, files.slices_dir(base, run_id)))
        hosts, missing = files.merge_slices(slices, expected)
        return hosts, missing, warnings, len(slices)

    @staticmethod
    def _stale_runs_in_progress(args, base, run_id, now, warnings):
        """(stale runs in progress, whether retention removed them): runs other than this one that
        were never merged and got no slice for in_progress_keep_days; retention (history) deletes them."""
        days = args["in_progress_keep_days"]
        stale = files.stale_runs_in_progress(base, days * 86400, now, exclude=run_id)
        if not stale:
            return stale, False
        names = ", ".join("%s (%d slices, %.1f days)" % (run["run_id"], run["slices"], run["age_seconds"] / 86400.0)
                          for run in stale)
        if args["history"]:
            try:
                files.remove_runs_in_progress(base, [run["run_id"] for run in stale])
            except (IOError, OSError) as exc:
                warnings.append("retention could not delete runs in progress in %s: %s"
                                % (os.path.join(base, files.IN_PROGRESS), to_native(exc)))
                return stale, False
            warnings.append("retention deleted %d runs in %s that were never merged and got no slice for %d days "
                            "or more: %s" % (len(stale), os.path.join(base, files.IN_PROGRESS), days, names))
            return stale, True
        warnings.append("%d runs in %s were never merged and got no slice for %d days or more (delete them, or merge "
                        "them with tcpops.timewait.merge): %s"
                        % (len(stale), os.path.join(base, files.IN_PROGRESS), days, names))
        return stale, False

    @staticmethod
    def _stale_lines(stale, removed):
        if not stale:
            return []
        return ["runs in progress never merged%s: %s" % (" (deleted by retention)" if removed else "",
                                                         ", ".join(run["run_id"] for run in stale))]

    @staticmethod
    def _stats(run_id, summary, report_dir, missing, scope):
        """The outcome for an AWX workflow to branch on, published with the set_stats option (see docs/awx.md)."""
        return {
            "tcp_audit_run_id": run_id,
            "tcp_audit": {
                "scope": scope,
                "run_id": run_id,
                "worst_status": summary["worst_status"],
                "by_status": summary["by_status"],
                "hosts": summary["hosts"],
                "missing_hosts": len(missing),
                "report_dir": report_dir,
            },
        }

    @staticmethod
    def _publish(args, base, rendered, marker, now, textfile_dir):
        """Publish the run as a whole (and its textfile copy); on failure undo what was done."""
        textfile = os.path.join(textfile_dir, files.textfile_name(args["report_name"])) if textfile_dir else None
        textfile_tmp = prepare_write(textfile, rendered["prom"]) if textfile else None
        try:
            if not args["history"]:
                run_dir = os.path.dirname(files.write_reports(rendered, base, marker)["json"])
                if textfile:
                    os.replace(textfile_tmp, textfile)
                return run_dir
            if not os.path.isdir(base):
                os.makedirs(base)
            files.remove_stale_partials(base)
            before = files.latest_target(base)
            run_dir = files.publish_run(rendered, base, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)), marker)
            try:
                files.point_latest(base, run_dir)
                if textfile:
                    os.replace(textfile_tmp, textfile)
            except BaseException:
                files.restore_latest(base, before)
                files.withdraw_run(run_dir)
                raise
            return run_dir
        finally:
            if textfile_tmp and os.path.exists(textfile_tmp):
                os.unlink(textfile_tmp)
