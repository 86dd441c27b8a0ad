# -*- coding: utf-8 -*-
"""Host entries from registered results, fleet summary, comparison between runs, fail_on."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import COUNT_KEYS
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load


def ok_result(facts, config=None):
    """A registered tcp_state_facts result; ``config`` replaces the sysctl files it read."""
    facts = dict(facts)
    if config is not None:
        facts["sysctl_config"] = config
    return {"changed": False, "ansible_facts": {"tcp_state": facts}}


def test_unreachable_and_failed_hosts_keep_their_reason():
    unreachable = fleet.host_entry({"unreachable": True, "msg": "Failed to connect to the host via ssh: timeout"})
    assert unreachable["status"] == "unreachable" and "timeout" in unreachable["reason"]
    failed = fleet.host_entry({"failed": True, "module_stderr": "Traceback (most recent call last):\n"
                               "  File \"x.py\", line 1, in <module>\nOSError: boom\n"})
    assert failed["status"] == "error" and failed["reason"] == "tcp_state_facts failed: OSError: boom"
    never_ran = fleet.host_entry(None)
    assert never_ran["status"] == "error"


def test_status_is_the_worst_finding():
    facts = load("tcp_state_clean.json")
    assert fleet.host_entry(ok_result(facts))["status"] == "pass"
    facts["close_wait"]["total"] = 60
    entry = fleet.host_entry(ok_result(facts, load("sysctl_config_folk.json")))
    assert entry["status"] == "fail"  # tw_recycle_configured fails, close_wait warns
    assert {f["id"] for f in fleet.problems(entry)} == {"close_wait_leak", "tw_recycle_configured", "config_drift"}
    assert fleet.is_fixable_by_tunable(entry)


def test_application_only_problem_is_not_fixable_by_tuning():
    facts = load("tcp_state_clean.json")
    facts["close_wait"]["total"] = 60
    entry = fleet.host_entry(ok_result(facts))
    assert entry["status"] == "warn" and not fleet.is_fixable_by_tunable(entry)


def test_bad_thresholds_make_an_error_entry_with_the_reason():
    entry = fleet.host_entry(ok_result(load("tcp_state_clean.json")), threshold_overrides={"typo": 1})
    assert entry["status"] == "error" and "unknown threshold 'typo'" in entry["reason"]


def test_facts_without_sysctl_config_are_noted_and_file_rules_skipped():
    facts = load("tcp_state_clean.json")
    del facts["sysctl_config"]  # facts from a version of the module that did not read the files
    entry = fleet.host_entry(ok_result(facts))
    assert entry["reason"] == "tcp_state_facts returned no sysctl_config (the rules on the sysctl files are skipped)"
    assert entry["sysctl_config"] is None
    skipped = {f["id"] for f in entry["findings"] if f["skipped"]}
    assert skipped == {"tw_recycle_configured", "config_drift"}


def test_sysctl_files_are_read_not_skipped_when_there_are_none():
    entry = fleet.host_entry(ok_result(load("tcp_state_clean.json")))
    assert entry["reason"] is None and entry["status"] == "pass"
    assert not [f["id"] for f in entry["findings"] if f["skipped"]]


def make_hosts():
    clean = load("tcp_state_clean.json")
    leaky = load("tcp_state_clean.json")
    leaky["close_wait"]["total"] = 700
    return {
        "b-clean": fleet.host_entry(ok_result(clean)),
        "a-leaky": fleet.host_entry(ok_result(leaky)),
        "c-folk": fleet.host_entry(ok_result(clean, load("sysctl_config_folk.json"))),
        "d-gone": fleet.host_entry({"unreachable": True, "msg": "no such container"}),
    }


def test_summary_orders_worst_hosts_first():
    doc = fleet.build_document(make_hosts(), "2026-01-01T00:00:00Z")
    assert doc["summary"]["hosts_worst_first"] == ["d-gone", "c-folk", "a-leaky", "b-clean"]
    assert doc["summary"]["by_status"] == {"unreachable": 1, "error": 0, "fail": 2, "warn": 0, "pass": 1}
    assert doc["summary"]["by_rule"]["close_wait_leak"] == {"warn": 0, "fail": 1}
    assert doc["summary"]["worst_status"] == "unreachable"


@pytest.mark.parametrize("statuses, fail_on, reached", [
    (["pass", "warn"], "fail", False), (["pass", "warn"], "warn", True), (["fail"], "never", False),
    (["pass", "unreachable"], "fail", True), (["error"], "fail", True), (["pass"], "warn", False)])
def test_fail_on(statuses, fail_on, reached):
    doc = {"hosts": dict(("h%d" % i, {"status": s}) for i, s in enumerate(statuses))}
    assert fleet.fail_on_reached(doc, fail_on) is reached


def test_fail_on_rejects_unknown_values():
    with pytest.raises(ValueError):
        fleet.fail_on_reached({"hosts": {}}, "sometimes")


def test_comparison_new_resolved_persisting():
    before = fleet.build_document(make_hosts(), "2026-01-01T00:00:00Z")
    hosts = make_hosts()
    hosts["c-folk"] = fleet.host_entry(ok_result(load("tcp_state_clean.json")))  # remediated
    newly = load("tcp_state_clean.json")
    newly["counts"]["fin_wait2"] = 600
    hosts["b-clean"] = fleet.host_entry(ok_result(newly))
    hosts["e-new"] = hosts.pop("a-leaky")
    doc = fleet.build_document(hosts, "2026-01-02T00:00:00Z", before)
    comparison = doc["comparison"]["hosts"]
    assert comparison["c-folk"]["resolved"] == ["config_drift", "tw_recycle_configured"]
    assert comparison["c-folk"]["new"] == [] and comparison["c-folk"]["status_before"] == "fail"
    assert comparison["b-clean"]["new"] == ["fin_wait2_buildup"]
    assert comparison["e-new"]["new"] == ["close_wait_leak"] and comparison["e-new"]["note"] == "not in the previous run"
    assert comparison["a-leaky"] == {"comparable": False, "note": "not in this run", "new": [], "resolved": [],
                                     "persisting": []}
    assert comparison["d-gone"]["comparable"] is False
    assert doc["comparison"]["totals"] == {"new": 2, "resolved": 2, "persisting": 0}
    table = fleet.summary_table(doc)
    assert "compared with the previous run: 2 new, 2 resolved, 0 persisting" in table
    assert "  c-folk: resolved config_drift,tw_recycle_configured" in table


def test_summary_table_lists_every_host():
    table = fleet.summary_table(fleet.build_document(make_hosts(), "t"))
    assert table[0].split() == ["HOST", "STATUS", "FAIL", "WARN", "TIME_WAIT", "CLOSE_WAIT", "FINDINGS"]
    assert [line.split()[0] for line in table[1:5]] == ["d-gone", "c-folk", "a-leaky", "b-clean"]
    assert table[4].split()[:6] == ["b-clean", "pass", "0", "0", "40", "2"]
    assert table[5] == "4 hosts: 2 fail, 1 pass, 1 unreachable"


def test_sysctl_files_inside_tcp_state_are_used_and_kept_once_in_the_entry():
    facts = load("tcp_state_clean.json")
    facts["sysctl_config"] = load("sysctl_config_folk.json")
    entry = fleet.host_entry({"ansible_facts": {"tcp_state": facts}})
    assert {f["id"] for f in fleet.problems(entry)} == {"tw_recycle_configured", "config_drift"}
    assert entry["sysctl_config"]["effective"]["net.ipv4.tcp_tw_recycle"]["line"] == 62
    assert "sysctl_config" not in entry["facts"]
    assert "sysctl_config" in facts  # the registered result is not modified


def test_summary_table_says_where_close_wait_owners_are_unknown():
    unprivileged = load("tcp_state_clean.json")
    unprivileged["close_wait"].update(owners_available=False, top_processes=[], unowned=None,
                                      owners_reason="/proc/1/fd is not readable (running as uid 1000)")
    hosts = {"as-user": fleet.host_entry(ok_result(unprivileged)),
             "as-root": fleet.host_entry(ok_result(load("tcp_state_clean.json")))}
    table = fleet.summary_table(fleet.build_document(hosts, "t"))
    notes = [line for line in table if "owners not available" in line]
    assert notes == ["as-user: CLOSE_WAIT owners not available: /proc/1/fd is not readable (running as uid 1000)"
                     " (run as root, become: true, to name them)"]


# A result registered here by ansible-core 2.19 from a host whose interpreter is a broken pyenv shim.
PYENV_RESULT = {
    "failed": True, "changed": False, "rc": 127, "exception": "(traceback unavailable)",
    "msg": "Module result deserialization failed: No start of json char found", "module_stdout": "",
    "module_stderr": "pyenv: python3.13: command not found\n\nThe `python3.13' command exists in these Python "
                     "versions:\n  3.13.0\n\nNote: See 'pyenv help global' for tips on allowing multiple\n"
                     "      Python versions to be found at the same time.\n",
}
# What ansible-core 2.19 registered for a podman container stopped in the middle of a run.
STOPPED_CONTAINER = {
    "unreachable": True, "changed": False,
    "msg": "Task failed: Failed to create temporary directory. In some cases, you may have been able to "
           "authenticate and did not have permissions on the target directory. Consider changing the remote tmp "
           "path in ansible.cfg to a path rooted in \"/tmp\", for more error information use -vvv. Failed command "
           "was: ( umask 77 && mkdir -p \"` echo ~/.ansible/tmp `\"&& mkdir \"` echo ~/.ansible/tmp/ansible-tmp-1"
           "795976851.13-453-26697 `\" && echo ansible-tmp-1795976851.13-453-26697=\"` echo ~/.ansible/tmp/ansible-"
           "tmp-1795976851.13-453-26697 `\" ), exited with result 255",
}


@pytest.mark.parametrize("result, reason", [
    (PYENV_RESULT, "pyenv: python3.13: command not found "
                   "(Module result deserialization failed: No start of json char found; exit code 127)"),
    # a module killed with its container: nothing on stderr, Ansible's message and the signal's exit code
    ({"failed": True, "rc": 137, "module_stdout": "", "module_stderr": "",
      "msg": "Module result deserialization failed: No start of json char found"},
     "Module result deserialization failed: No start of json char found; exit code 137"),
    (STOPPED_CONTAINER, "Failed to create temporary directory, exited with result 255"),
    # the same text when the connection said why: that comes first
    (dict(STOPPED_CONTAINER, msg=STOPPED_CONTAINER["msg"] + ", stderr output: Error: no container with name or ID "
          "\"web-9\" found: no such container\n"),
     "Error: no container with name or ID \"web-9\" found: no such container "
     "(Failed to create temporary directory, exited with result 255)"),
    ({"failed": True, "msg": "Task failed: Action failed: Failed to create temporary directory."},
     "Failed to create temporary directory"),
    ({"failed": True, "msg": "tcp_tuning refused, nothing was changed: net.core.somaxconn: 99999999 is too large"},
     "tcp_tuning refused, nothing was changed: net.core.somaxconn: 99999999 is too large"),
    ({"unreachable": True, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.5 port 22: "
                                  "Connection timed out"},
     "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.5 port 22: Connection timed out"),
    ({"failed": True, "module_stderr": "\n\nShared connection to web-1 closed.\n", "msg": "MODULE FAILURE",
      "rc": 1}, "MODULE FAILURE; exit code 1"),
    ({"failed": True, "module_stderr": "/bin/sh: 1: /usr/bin/python3: not found\n", "rc": 127,
      "msg": "The module failed to execute correctly, you probably need to set the interpreter.\nSee stdout/stderr"},
     "/bin/sh: 1: /usr/bin/python3: not found (The module failed to execute correctly, you probably need to set "
     "the interpreter.; exit code 127)"),
    ({"failed": True, "msg": "", "module_stderr": "  \n"}, "no reason given"),
    ({}, "no reason given"),
    (None, "no reason given"),
    ("not a result", "no reason given"),
])
def test_failure_reason_puts_the_real_cause_first(result, reason):
    assert fleet.failure_reason(result) == reason


def test_failure_reason_of_a_python_traceback_is_the_exception():
    stderr = ("Traceback (most recent call last):\n  File \"/tmp/x/AnsiballZ_tcp_state_facts.py\", line 107, in "
              "<module>\n    _ansiballz_main()\nPermissionError: [Errno 13] Permission denied: '/proc/net/tcp'\n")
    assert fleet.failure_reason({"failed": True, "module_stderr": stderr, "msg": "MODULE FAILURE", "rc": 1}) == (
        "PermissionError: [Errno 13] Permission denied: '/proc/net/tcp' (MODULE FAILURE; exit code 1)")


def test_failure_reason_of_huge_output_is_one_line_of_at_most_300_characters():
    stderr = "E" * 5000 + "\n" + "second line\n" * 10000
    reason = fleet.failure_reason({"failed": True, "module_stderr": stderr})
    assert len(reason) == fleet.REASON_LIMIT and reason.endswith("...") and "second" not in reason
    assert "\n" not in reason


def test_failure_reason_of_garbage_drops_control_characters_and_keeps_undecodable_bytes_visible():
    reason = fleet.failure_reason({"failed": True, "module_stderr": b"\x1b[31m\xff\xfe bad\x00 byte\x07s\x1b[0m\n"})
    assert reason == "\ufffd\ufffd bad byte s"  # a control character counts as a blank
    assert fleet.failure_reason({"failed": True, "msg": "\x00\x01\x02"}) == "no reason given"
    assert fleet.failure_reason({"failed": True, "msg": 42}) == "42"


def test_unreachable_and_failed_entries_carry_the_real_cause():
    assert fleet.host_entry(STOPPED_CONTAINER)["reason"] == "Failed to create temporary directory, exited with result 255"
    failed = fleet.host_entry(PYENV_RESULT)
    assert failed["status"] == "error"
    assert failed["reason"].startswith("tcp_state_facts failed: pyenv: python3.13: command not found (")


def test_summary_of_a_host_not_in_the_previous_run_says_so():
    before = fleet.build_document({"a-old": fleet.host_entry(ok_result(load("tcp_state_clean.json")))}, "t0")
    leaky = load("tcp_state_clean.json")
    leaky["close_wait"]["total"] = 700
    hosts = {"a-old": fleet.host_entry(ok_result(load("tcp_state_clean.json"))),
             "b-new-clean": fleet.host_entry(ok_result(load("tcp_state_clean.json"))),
             "c-new-leaky": fleet.host_entry(ok_result(leaky))}
    table = fleet.summary_table(fleet.build_document(hosts, "t1", before, "audit before remediation"))
    assert "  a-old: no findings before or after" in table
    assert "  b-new-clean: no findings now (not in the audit before remediation)" in table
    assert "  c-new-leaky: new close_wait_leak (not in the audit before remediation)" in table
    assert not [line for line in table if "new-" in line and "before or after" in line]


def test_summary_of_a_host_in_error_before_says_so():
    before = fleet.build_document({"a": fleet.host_entry({"unreachable": True, "msg": "gone"})}, "t0")
    hosts = {"a": fleet.host_entry(ok_result(load("tcp_state_clean.json")))}
    table = fleet.summary_table(fleet.build_document(hosts, "t1", before))
    assert "  a: no findings now (host unreachable in the previous run)" in table


def outcome(status, reason=None, task=None):
    return {"status": status, "reason": reason, "task": task}


def test_summary_counts_remediation_outcomes_and_names_hosts_the_role_did_not_finish_on():
    hosts = make_hosts()
    hosts["b-clean"]["remediation_outcome"] = outcome("applied")
    hosts["c-folk"]["remediation_outcome"] = outcome("failed", "tcp_tuning refused, nothing was changed: x",
                                                     "Refuse unsafe values, combinations and read-only hosts")
    hosts["d-gone"]["remediation_outcome"] = outcome("unreachable", "Error: container state improper")
    hosts["a-leaky"]["remediation_outcome"] = None  # not fixable by the role: not in the remediation
    hosts["e-later"] = fleet.host_entry(ok_result(load("tcp_state_clean.json")))
    hosts["e-later"]["remediation_outcome"] = outcome("not_attempted", "remediation stopped: 2 of 4 hosts failed")
    table = fleet.summary_table(fleet.build_document(hosts, "t"))
    start = table.index("remediation: 1 applied, 1 failed, 1 unreachable, 1 not_attempted")
    assert table[start + 1:] == [
        "  c-folk: failed in task 'Refuse unsafe values, combinations and read-only hosts': "
        "tcp_tuning refused, nothing was changed: x",
        "  d-gone: unreachable: Error: container state improper",
        "  e-later: not_attempted: remediation stopped: 2 of 4 hosts failed",
    ]


def test_summary_without_remediation_has_no_remediation_line():
    table = fleet.summary_table(fleet.build_document(make_hosts(), "t"))
    assert not [line for line in table if line.startswith("remediation")]


def _namespace(inode, owner, clean):
    """A tcp_state.namespaces entry built from the clean host's facts (the same shapes)."""
    keys = ("counts", "time_wait", "close_wait", "listen", "ephemeral_ports", "sysctl")
    entry = dict((key, clean[key]) for key in keys)
    entry.update(inode=inode, pids=[4242], pids_total=1, owner=owner)
    return entry


def test_namespace_findings_join_the_host_with_their_namespace_named():
    facts = load("tcp_state_clean.json")
    leaking = _namespace(4026532281, {"kind": "container", "id": "0123456789ab"}, load("tcp_state_clean.json"))
    leaking["close_wait"] = dict(leaking["close_wait"], total=600)
    quiet = _namespace(4026532300, None, load("tcp_state_clean.json"))
    facts["namespaces"] = {"total": 2, "unread": 0, "reason": None, "top": [leaking, quiet], "warnings": [],
                           "warnings_total": 0, "errors": [], "errors_total": 0}
    entry = fleet.host_entry(ok_result(facts))
    found = fleet.problems(entry)
    assert entry["status"] == "fail"
    assert [(f["id"], f["severity"]) for f in found] == [("close_wait_leak", "fail")]
    assert found[0]["namespace"] == {"inode": 4026532281, "owner_text": "container 0123456789ab"}
    assert found[0]["message"].startswith("namespace container 0123456789ab: 600 CLOSE_WAIT sockets")
    # the host's own findings carry no namespace key, and the rules needing sysctl files or counters are
    # not run on namespaces (no skipped finding is added)
    assert all("namespace" not in f for f in entry["findings"][:len(fleet.rules.RULE_IDS)])
    assert len(entry["findings"]) == len(fleet.rules.RULE_IDS) + 1


def test_facts_without_namespaces_add_no_findings():
    facts = load("tcp_state_clean.json")
    facts["namespaces"] = None
    assert len(fleet.host_entry(ok_result(facts))["findings"]) == len(fleet.rules.RULE_IDS)


def _exhausted(entry, usage):
    """``entry`` (facts or a namespace) with its one destination holding ``usage`` of the usable ports."""
    destination = dict(entry["time_wait"]["top_destinations"][0])
    held = int(usage * entry["ephemeral_ports"]["usable"])
    destination.update(count=held, held=held, port_usage=usage)
    entry["time_wait"] = dict(entry["time_wait"], total=held, top_destinations=[destination])
    return entry


def _host_with_pods(host_usage, pod_usages):
    """Facts whose own namespace and pods (named pod-0, pod-1 ...) hold these port usages toward 10.0.0.5:5432."""
    facts = _exhausted(load("tcp_state_clean.json"), host_usage)
    pods = [_exhausted(_namespace(4026532400 + index, {"kind": "pod", "id": "pod-%d" % index},
                                  load("tcp_state_clean.json")), usage) for index, usage in enumerate(pod_usages)]
    facts["namespaces"] = {"total": len(pods), "unread": 0, "reason": None, "top": pods, "warnings": [],
                           "warnings_total": 0, "errors": [], "errors_total": 0}
    return facts


def test_a_pods_tunable_finding_is_fixed_by_the_container_and_leaves_remediation_alone():
    entry = fleet.host_entry(ok_result(_host_with_pods(0.0007, [0.9])))
    found = fleet.problems(entry)
    assert [(f["id"], f["severity"], f["fixed_by"]) for f in found] == [
        ("time_wait_port_exhaustion", "fail", "container")]
    assert found[0]["remediation"].startswith(fleet.CONTAINER_REMEDIATION)
    assert found[0]["remediation"].endswith(fleet.rules.evaluate(load("tcp_state_clean.json"), None,
                                                                 fleet.rules.DEFAULT_THRESHOLDS)[0]["remediation"])
    # the host itself has nothing the role would fix: remediate leaves it out
    assert entry["status"] == "fail" and not fleet.is_fixable_by_tunable(entry)
    both = fleet.host_entry(ok_result(_host_with_pods(0.6, [0.9])))
    assert [f["fixed_by"] for f in fleet.problems(both)] == ["tunable", "container"]
    assert fleet.is_fixable_by_tunable(both)


def test_a_pods_application_finding_stays_fixed_by_the_application():
    facts = load("tcp_state_clean.json")
    leaking = _namespace(4026532281, {"kind": "pod", "id": "p"}, load("tcp_state_clean.json"))
    leaking["close_wait"] = dict(leaking["close_wait"], total=600)
    facts["namespaces"] = {"total": 1, "top": [leaking]}
    found = fleet.problems(fleet.host_entry(ok_result(facts)))
    assert [(f["id"], f["fixed_by"]) for f in found] == [("close_wait_leak", "application")]
    assert not found[0]["remediation"].startswith(fleet.CONTAINER_REMEDIATION)


def test_a_rule_firing_in_the_host_and_its_pods_counts_once_per_host_at_its_worst():
    hosts = {"node-1": fleet.host_entry(ok_result(_host_with_pods(0.6, [0.9, 0.85]))),
             "node-2": fleet.host_entry(ok_result(_host_with_pods(0.6, [])))}
    found = fleet.problems(hosts["node-1"])
    assert [f["severity"] for f in found] == ["warn", "fail", "fail"]
    assert fleet.rule_ids(found) == ["time_wait_port_exhaustion"]
    assert fleet.worst_by_rule(found) == {"time_wait_port_exhaustion": "fail"}
    summary = fleet.summarise(hosts)
    assert summary["by_rule"]["time_wait_port_exhaustion"] == {"warn": 1, "fail": 1}
    assert fleet.summary_table(fleet.build_document(hosts, "t"))[1].endswith("  time_wait_port_exhaustion")


def test_the_printed_table_adds_the_pods_sockets_beside_the_hosts_own():
    facts = _host_with_pods(0.0007, [0.9, 0.85])
    own = facts["counts"]
    pods = [entry["counts"] for entry in facts["namespaces"]["top"]]
    hosts = {"node-1": fleet.host_entry(ok_result(facts)),
             "plain": fleet.host_entry(ok_result(load("tcp_state_clean.json")))}
    table = fleet.summary_table(fleet.build_document(hosts, "t"))
    row = table[1].split()
    assert row[0] == "node-1"
    assert row[4:10] == [str(own["time_wait"]), "+%d" % sum(c["time_wait"] for c in pods), "netns",
                         str(own["close_wait"]), "+%d" % sum(c["close_wait"] for c in pods), "netns"]
    assert table[2].split()[4:6] == [str(own["time_wait"]), str(own["close_wait"])]  # plain: no pods
    assert any(line.startswith("+N netns: sockets in the host's containers and pods") for line in table)
    quiet = fleet.summary_table(fleet.build_document({"plain": hosts["plain"]}, "t"))
    assert not any("netns" in line for line in quiet)
    for entry in facts["namespaces"]["top"]:  # pods holding neither: no "+0", no legend
        entry["counts"] = dict(entry["counts"], time_wait=0, close_wait=0)
    idle = fleet.summary_table(fleet.build_document({"node-1": fleet.host_entry(ok_result(facts))}, "t"))
    assert not any("netns" in line for line in idle)
    for entry in facts["namespaces"]["top"]:  # read back from a merged slice: forged and fractional counts
        entry["counts"] = dict(entry["counts"], time_wait=1e308, close_wait=2.5)
    odd = fleet.summary_table(fleet.build_document({"node-1": fleet.host_entry(ok_result(facts))}, "t"))
    # more sockets than a host can hold is not a count: left out, not printed as a 309-digit number
    assert odd[1].split()[4:8] == [str(own["time_wait"]), str(own["close_wait"]), "+5", "netns"]
    assert max(len(line) for line in odd) < 200


def test_the_comparison_tells_a_pods_finding_from_the_hosts():
    before = {"node-1": fleet.host_entry(ok_result(_host_with_pods(0.6, [0.9])))}
    after = {"node-1": fleet.host_entry(ok_result(_host_with_pods(0.0007, [0.9, 0.9])))}
    change = fleet.compare(after, fleet.build_document(before, "t"))["hosts"]["node-1"]
    assert change["resolved"] == ["time_wait_port_exhaustion"]
    assert change["persisting"] == ["time_wait_port_exhaustion (pod pod-0)"]
    assert change["new"] == ["time_wait_port_exhaustion (pod pod-1)"]


def _host_with_units(inodes):
    """Facts with one exhausted namespace per inode, each owned by the unit a.service."""
    facts = _host_with_pods(0.0007, [0.9] * len(inodes))
    for entry, inode in zip(facts["namespaces"]["top"], inodes):
        entry.update(inode=inode, owner={"kind": "unit", "id": "a.service"})
    return facts


def test_a_units_finding_persists_when_a_restart_gives_its_namespace_a_new_inode():
    before = {"node-1": fleet.host_entry(ok_result(_host_with_units([4026532500])))}
    after = {"node-1": fleet.host_entry(ok_result(_host_with_units([4026532777])))}
    change = fleet.compare(after, fleet.build_document(before, "t"))["hosts"]["node-1"]
    assert change == dict(change, new=[], resolved=[], persisting=["time_wait_port_exhaustion (unit a.service)"])
    # two namespaces of one unit at once are told apart by their inodes
    both = fleet.problems(fleet.host_entry(ok_result(_host_with_units([4026532500, 4026532501]))))
    assert [fleet.finding_name(f) for f in both] == [
        "time_wait_port_exhaustion (unit a.service (inode 4026532500))",
        "time_wait_port_exhaustion (unit a.service (inode 4026532501))"]


def test_worst_port_usage_looks_into_the_pods_and_names_where():
    assert fleet.worst_port_usage(_host_with_pods(0.3, [0.2, 0.7])) == (0.7, "pod pod-1")
    assert fleet.worst_port_usage(_host_with_pods(0.3, [0.2])) == (0.3, None)
    facts = _host_with_pods(0.3, [0.2])
    facts["namespaces"]["top"][0]["time_wait"]["top_destinations"][0]["port_usage"] = float("nan")
    facts["time_wait"]["top_destinations"].append({"port_usage": True})
    assert fleet.worst_port_usage(facts) == (0.3, None)
    assert fleet.worst_port_usage(None) == (None, None)
    facts["time_wait"] = None
    assert fleet.worst_port_usage(facts) == (None, None)


def test_what_the_report_returns_of_a_host_names_each_rule_once_and_who_fixes_it():
    facts = _host_with_pods(0.6, [0.9, 0.85])
    leaking = _namespace(4026532499, {"kind": "container", "id": "c1"}, load("tcp_state_clean.json"))
    leaking["close_wait"] = dict(leaking["close_wait"], total=600)
    facts["namespaces"]["top"].append(leaking)
    outcome = fleet.host_outcome(fleet.host_entry(ok_result(facts)))
    assert outcome == {"status": "fail", "reason": None,
                       "problems": ["time_wait_port_exhaustion", "close_wait_leak"], "fixable_by_tuning": True,
                       "application_problems": ["close_wait_leak"],
                       "container_problems": ["time_wait_port_exhaustion"]}
    pods_only = fleet.host_outcome(fleet.host_entry(ok_result(_host_with_pods(0.0007, [0.9]))))
    assert pods_only["fixable_by_tuning"] is False and pods_only["container_problems"] == ["time_wait_port_exhaustion"]


@pytest.mark.parametrize("namespace", [{"inode": 5}, "x", {"inode": 5, "owner_text": None}, None])
def test_a_kept_run_with_an_odd_namespace_key_is_compared_by_its_rule_id(namespace):
    before = {"node-1": fleet.host_entry(ok_result(_host_with_pods(0.6, [])))}
    previous = fleet.build_document(before, "t")
    previous["hosts"]["node-1"]["findings"][0]["namespace"] = namespace
    after = {"node-1": fleet.host_entry(ok_result(_host_with_pods(0.6, [])))}
    assert fleet.compare(after, previous)["hosts"]["node-1"]["persisting"] == ["time_wait_port_exhaustion"]


@pytest.mark.parametrize("owner, where", [("a string", "inode 4026532400"), (None, "inode 4026532400"),
                                          ({"kind": "pod", "id": "p"}, "pod p")])
def test_worst_port_usage_names_an_odd_owner_by_its_inode(owner, where):
    facts = _host_with_pods(0.3, [0.7])
    facts["namespaces"]["top"][0]["owner"] = owner
    assert fleet.worst_port_usage(facts) == (0.7, where)


def test_two_namespaces_of_one_pod_are_told_apart_by_their_inode():
    facts = _host_with_pods(0.0007, [0.9, 0.85])
    for entry in facts["namespaces"]["top"]:
        entry["owner"] = {"kind": "pod", "id": "same"}
    found = fleet.problems(fleet.host_entry(ok_result(facts)))
    assert [fleet.finding_name(f) for f in found] == [
        "time_wait_port_exhaustion (pod same (inode 4026532400))",
        "time_wait_port_exhaustion (pod same (inode 4026532401))"]
    assert fleet.worst_port_usage(facts) == (0.9, "pod same (inode 4026532400)")


def test_the_pods_sockets_are_summed_per_state_and_odd_counts_are_left_out():
    facts = _host_with_pods(0.6, [0.9, 0.85])
    facts["namespaces"]["top"][1]["counts"] = dict(facts["namespaces"]["top"][1]["counts"], time_wait="x",
                                                   established=True, fin_wait2=float("nan"), syn_sent=-5,
                                                   last_ack=float("inf"))
    facts["namespaces"]["top"].append({"inode": 9, "counts": ["not", "a", "mapping"]})
    facts["namespaces"]["total"] = 40
    counts, summed_over, listed, total = fleet.namespace_state_counts({"facts": facts})
    first = facts["namespaces"]["top"][0]["counts"]
    # facts without namespaces.counts (an older module): the sum over those listed
    assert (summed_over, listed, total) == (3, 3, 40) and counts["time_wait"] == first["time_wait"]
    assert counts["close_wait"] == first["close_wait"] + facts["namespaces"]["top"][1]["counts"]["close_wait"]
    for state in ("established", "fin_wait2", "syn_sent", "last_ack"):
        assert counts[state] == first.get(state, 0), state
    for odd_total in (None, "40", 1, float("nan")):
        facts["namespaces"]["total"] = odd_total
        assert fleet.namespace_state_counts({"facts": facts})[1:] == (3, 3, 3)
    assert fleet.namespace_state_counts({"facts": load("tcp_state_clean.json")}) == (None, 0, 0, 0)
    assert fleet.namespace_state_counts({"facts": None}) == (None, 0, 0, 0)


def test_the_sum_over_every_namespace_read_is_taken_when_the_facts_hold_it():
    facts = _host_with_pods(0.6, [0.9])
    summed = dict.fromkeys(COUNT_KEYS, 0)
    summed.update(total=90070, time_wait=90000, close_wait=70, established=True, fin_wait2=float("nan"), syn_sent=-5)
    facts["namespaces"].update(total=40, unread=2, counts=summed)
    counts, summed_over, listed, total = fleet.namespace_state_counts({"facts": facts})
    assert (summed_over, listed, total) == (38, 1, 40)
    assert (counts["time_wait"], counts["close_wait"]) == (90000, 70)
    assert counts["established"] == counts["fin_wait2"] == counts["syn_sent"] == 0  # not counts: left out
    table = fleet.summary_table(fleet.build_document({"node": fleet.host_entry(ok_result(facts))}, "t"))
    assert "%s +90000 netns" % facts["counts"]["time_wait"] in table[1] and "+70 netns" in table[1]
    # none read, or a count that is not one: the sum over those listed, as for older facts
    for total, unread in ((40, 40), ("40", 2), (40, None)):
        facts["namespaces"].update(total=total, unread=unread)
        assert fleet.namespace_state_counts({"facts": facts})[1:3] == (1, 1)
    facts["namespaces"].update(total=40, unread=2, counts=["not", "a", "mapping"])
    assert fleet.namespace_state_counts({"facts": facts})[1:] == (1, 1, 40)


@pytest.mark.parametrize("total, unread, counts", [
    (40.5, 0.5, None),  # namespaces are counted in whole numbers
    (True, 0, None),
    (float("nan"), 0, None),
    (40, -1, None),
    (2, 5, None),  # more unread than found
    (3, 3, None),  # none read
    (0, 0, None),  # fewer read than listed (1)
    (40, 2, {}),  # a sum without its total
    (40, 2, {"total": "many", "time_wait": 90000}),
])
def test_a_sum_that_does_not_add_up_gives_way_to_the_sum_over_those_listed(total, unread, counts):
    facts = _host_with_pods(0.6, [0.9])
    summed = dict(dict.fromkeys(COUNT_KEYS, 0), total=90000, time_wait=90000) if counts is None else counts
    facts["namespaces"].update(total=total, unread=unread, counts=summed)
    found, summed_over, listed, _total = fleet.namespace_state_counts({"facts": facts})
    assert (summed_over, listed) == (1, 1)
    assert found["time_wait"] == facts["namespaces"]["top"][0]["counts"]["time_wait"]


def test_a_sum_with_no_namespace_listed_in_full_still_counts():
    facts = _host_with_pods(0.6, [])
    facts["namespaces"].update(total=12, unread=0, counts=dict(dict.fromkeys(COUNT_KEYS, 0), total=700,
                                                               time_wait=600, close_wait=fleet.COUNT_MAX + 1))
    counts, summed_over, listed, total = fleet.namespace_state_counts({"facts": facts})
    assert (summed_over, listed, total) == (12, 0, 12)
    assert counts["time_wait"] == 600 and counts["close_wait"] == 0  # beyond any host: left out


def test_finite_only_copies_only_what_it_changes():
    clean = load("tcp_state_clean.json")
    assert fleet.finite_only(clean) is clean
    odd = load("tcp_state_clean.json")
    odd["counts"]["fin_wait2"] = float("nan")
    odd["time_wait"]["top_destinations"][0]["port_usage"] = float("-inf")
    fixed = fleet.finite_only(odd)
    assert fixed["counts"]["fin_wait2"] is None and fixed["time_wait"]["top_destinations"][0]["port_usage"] is None
    assert odd["counts"]["fin_wait2"] != odd["counts"]["fin_wait2"]  # the result itself is left as it was
    assert fixed["listen"] is odd["listen"] and fixed["sysctl"] is odd["sysctl"]  # unchanged parts shared
    deep = current = {}
    for _level in range(80):
        current["next"] = {}
        current = current["next"]
    depth = 0
    current = fleet.finite_only(deep)
    while isinstance(current, dict) and current.get("next") is not None:
        current, depth = current["next"], depth + 1
    assert depth <= 65
