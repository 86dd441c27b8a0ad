# -*- coding: utf-8 -*-
"""Host entries from registered results, fleet summary, comparison between runs, fail_on."""

import pytest

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
    failed = fleet.host_entry({"failed": True, "module_stderr": "Traceback\n  boom"})
    assert failed["status"] == "error" and failed["reason"] == "tcp_state_facts failed: Traceback boom"
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
