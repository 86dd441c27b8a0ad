# -*- coding: utf-8 -*-
"""Every audit rule: boundaries, missing data, old kernels."""

import copy

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules


@pytest.fixture
def facts(clean_facts):
    return clean_facts


@pytest.fixture
def folk(folk_config):
    return folk_config


TH = rules.merge_thresholds(None)


def only(rule_id, facts, sysctl_config=None, thresholds=None):
    found = [f for f in rules.evaluate(facts, sysctl_config, thresholds or TH) if f["id"] == rule_id]
    assert len(found) == 1
    return found[0]


def test_every_rule_id_required_by_the_issue_exists():
    assert set(rules.RULE_IDS) == {
        "time_wait_port_exhaustion", "time_wait_overflow", "max_tw_buckets_lowered", "close_wait_leak",
        "fin_wait2_buildup", "listen_overflow", "tw_recycle_enabled", "tw_recycle_configured",
        "tw_reuse_without_timestamps", "config_drift"}


def test_clean_host_passes_everything(facts):
    clean_config = {"files": [], "effective": {}, "errors": []}
    findings = rules.evaluate(facts, clean_config, TH)
    assert [f["severity"] for f in findings] == ["pass"] * len(rules.RULES)
    assert not any(f["skipped"] for f in findings)
    for finding in findings:
        assert finding["remediation"] and finding["fixed_by"] in ("tunable", "application")
        assert "\n" not in finding["message"]


@pytest.mark.parametrize("usage, severity", [
    (0.4999, "pass"), (0.5, "warn"), (0.7999, "warn"), (0.8, "fail"), (1.0, "fail")])
def test_port_exhaustion_boundaries(facts, usage, severity):
    facts["time_wait"]["top_destinations"][1]["port_usage"] = usage
    facts["time_wait"]["top_destinations"][1]["count"] = int(usage * 28232)
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["severity"] == severity
    assert finding["evidence"]["worst_destination"]["address"] == "10.0.0.6"
    assert "10.0.0.6:6379" in finding["message"]


def test_port_exhaustion_threshold_override_per_host(facts):
    facts["time_wait"]["top_destinations"][0]["port_usage"] = 0.1
    th = rules.merge_thresholds({"port_usage_warn": 0.05, "port_usage_fail": 0.5})
    assert only("time_wait_port_exhaustion", facts, thresholds=th)["severity"] == "warn"
    assert only("time_wait_port_exhaustion", facts)["severity"] == "pass"


def test_port_exhaustion_missing_data_is_skipped_not_passed_silently(facts):
    facts["time_wait"] = None
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["skipped"] and finding["severity"] == "pass"
    assert finding["message"].startswith("not evaluated")


def test_port_exhaustion_without_outbound_time_wait(facts):
    facts["time_wait"]["top_destinations"] = []
    assert only("time_wait_port_exhaustion", facts)["severity"] == "pass"


def headroom_entry(address, time_wait, established=0, reusable=0, usable=28232, sources=None, reuse_effective=None):
    """A top_destinations entry as the facts engine builds it (contract A)."""
    states = dict((name, n) for name, n in (("established", established), ("time_wait", time_wait)) if n)
    held = time_wait + established
    return {"address": address, "port": 5432, "count": time_wait, "held": held, "states": states,
            "time_wait_reusable": reusable, "reuse_effective": bool(reusable) if reuse_effective is None else reuse_effective,
            "port_usage": round((held - reusable) / float(usable), 4), "likely_sources": sources}


def test_port_exhaustion_counts_every_state_not_only_time_wait(facts):
    # 9000 TIME_WAIT alone is 32%; with 6000 ESTABLISHED toward the same destination 53%: a warn
    facts["time_wait"]["top_destinations"] = [headroom_entry("10.0.0.5", 9000, established=6000)]
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["severity"] == "warn"
    assert finding["message"].startswith("15000 sockets toward 10.0.0.5:5432 (9000 TIME_WAIT, 6000 ESTABLISHED) hold 53%")
    assert finding["evidence"]["worst_destination"]["states"] == {"established": 6000, "time_wait": 9000}
    assert finding["evidence"]["relieved_by_reuse"] is None


def test_port_exhaustion_relieved_by_reuse_says_so(facts):
    facts["ephemeral_ports"]["reuse"] = {"effective": "all", "delay_ms": 1000}
    facts["time_wait"]["top_destinations"] = [headroom_entry("10.0.0.5", 24000, reusable=23000)]
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["severity"] == "pass"
    assert finding["message"] == ("24000 sockets toward 10.0.0.5:5432 (24000 TIME_WAIT) hold 4% of 28232 usable local "
                                  "ports once tcp_tw_reuse frees 23000 TIME_WAIT older than 1000 ms (fail without "
                                  "reuse: 85%)")
    assert finding["evidence"]["relieved_by_reuse"] == {
        "time_wait_reusable": 23000, "port_usage_without_reuse": round(24000 / 28232.0, 4),
        "severity_without_reuse": "fail"}
    assert finding["evidence"]["reuse"] == {"effective": "all", "delay_ms": 1000}


def test_port_exhaustion_partly_relieved_keeps_the_same_verdict_without_a_note(facts):
    facts["ephemeral_ports"]["reuse"] = {"effective": "all", "delay_ms": 1000}
    facts["time_wait"]["top_destinations"] = [headroom_entry("10.0.0.5", 25000, reusable=1000)]
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["severity"] == "fail"
    assert "frees 1000 TIME_WAIT" in finding["message"] and "without reuse" not in finding["message"]
    assert finding["evidence"]["relieved_by_reuse"]["severity_without_reuse"] == "fail"


def test_port_exhaustion_names_the_likely_sources_when_at_risk(facts):
    sources = [{"pid": 4242, "comm": "php-fpm", "count": 40}, {"pid": 4343, "comm": "cron", "count": 1}]
    facts["time_wait"]["top_destinations"] = [headroom_entry("10.0.0.5", 16000, sources=sources)]
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["severity"] == "warn"
    assert finding["message"].endswith("; likely source (processes with live sockets toward it): "
                                       "php-fpm (pid 4242, 40 sockets), cron (pid 4343, 1 sockets)")
    facts["time_wait"]["top_destinations"] = [headroom_entry("10.0.0.5", 100, sources=sources)]
    assert "likely source" not in only("time_wait_port_exhaustion", facts)["message"]


def test_port_exhaustion_reports_why_sources_are_unknown(facts):
    facts["time_wait"]["top_destinations"] = [headroom_entry("10.0.0.5", 16000)]
    facts["time_wait"]["likely_sources_reason"] = "/proc/1/fd is not readable"
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["evidence"]["likely_sources_reason"] == "/proc/1/fd is not readable"
    assert "likely source" not in finding["message"]


def test_port_exhaustion_on_facts_from_before_the_all_state_count(facts):
    # entries with count and port_usage only: TIME_WAIT is all they counted
    facts["time_wait"]["top_destinations"][0].update(count=15000, port_usage=round(15000 / 28232.0, 4))
    finding = only("time_wait_port_exhaustion", facts)
    assert finding["severity"] == "warn"
    assert finding["message"].startswith("15000 sockets toward 10.0.0.5:5432 (15000 TIME_WAIT) hold 53%")


def test_port_exhaustion_without_any_outbound_socket_says_so(facts):
    facts["time_wait"]["top_destinations"] = []
    assert only("time_wait_port_exhaustion", facts)["message"] == "no outbound sockets"


def test_time_wait_overflow_counter_fails(facts):
    facts["counters"]["TCPTimeWaitOverflow"] = 1
    finding = only("time_wait_overflow", facts)
    assert finding["severity"] == "fail" and finding["evidence"]["TCPTimeWaitOverflow"] == 1


@pytest.mark.parametrize("tw, severity", [(7999, "pass"), (8000, "warn"), (10000, "warn")])
def test_time_wait_near_max_tw_buckets(facts, tw, severity):
    facts["sysctl"]["net.ipv4.tcp_max_tw_buckets"] = 10000
    facts["time_wait"]["total"] = tw
    assert only("time_wait_overflow", facts)["severity"] == severity


def test_time_wait_overflow_falls_back_to_sockstat_in_summary_mode(facts):
    facts["time_wait"] = None
    facts["counters"]["TCPTimeWaitOverflow"] = None
    facts["sysctl"]["net.ipv4.tcp_max_tw_buckets"] = 100
    facts["sockstat"]["tw"] = 90
    finding = only("time_wait_overflow", facts)
    assert finding["severity"] == "warn" and finding["evidence"]["time_wait"] == 90


def test_time_wait_overflow_without_any_data_is_skipped(facts):
    facts["time_wait"] = None
    facts["sockstat"] = {}
    facts["counters"] = {}
    assert only("time_wait_overflow", facts)["skipped"]


def test_max_tw_buckets_lowered_in_a_file_fails(facts):
    facts["sysctl"]["net.ipv4.tcp_max_tw_buckets"] = 5000
    config = {"files": [{"path": "/etc/sysctl.d/90-folk.conf", "settings": {"net.ipv4.tcp_max_tw_buckets": "5000"},
                         "lines": {"net.ipv4.tcp_max_tw_buckets": 3}}], "effective": {}}
    finding = only("max_tw_buckets_lowered", facts, config)
    assert finding["severity"] == "fail"
    assert "/etc/sysctl.d/90-folk.conf:3" in finding["message"]


@pytest.mark.parametrize("live, severity", [(16383, "warn"), (16384, "pass"), (262144, "pass")])
def test_max_tw_buckets_live_boundaries(facts, live, severity):
    facts["sysctl"]["net.ipv4.tcp_max_tw_buckets"] = live
    assert only("max_tw_buckets_lowered", facts)["severity"] == severity


@pytest.mark.parametrize("total, severity", [(49, "pass"), (50, "warn"), (499, "warn"), (500, "fail")])
def test_close_wait_boundaries_and_owner_names(facts, total, severity):
    facts["close_wait"]["total"] = total
    facts["close_wait"]["top_processes"] = [{"pid": 4242, "comm": "leaky-app", "count": total,
                                             "local_ports": [8080]}]
    finding = only("close_wait_leak", facts)
    assert finding["severity"] == severity
    assert finding["fixed_by"] == "application"
    if severity != "pass":
        assert "leaky-app (pid 4242" in finding["message"]
        assert finding["evidence"]["owners"][0]["comm"] == "leaky-app"


def test_close_wait_without_owners_says_why(facts):
    facts["close_wait"].update(total=80, owners_available=False, owners_reason="not root", top_processes=[],
                               unowned=None)
    finding = only("close_wait_leak", facts)
    assert finding["severity"] == "warn" and "not root" in finding["message"]


def test_close_wait_summary_mode_is_skipped(facts):
    facts["close_wait"] = None
    assert only("close_wait_leak", facts)["skipped"]


@pytest.mark.parametrize("value, severity", [(499, "pass"), (500, "warn"), (5000, "fail")])
def test_fin_wait2_boundaries(facts, value, severity):
    facts["counts"]["fin_wait2"] = value
    finding = only("fin_wait2_buildup", facts)
    assert finding["severity"] == severity and finding["evidence"]["tcp_fin_timeout"] == 60


def test_fin_wait2_summary_mode_is_skipped(facts):
    facts["counts"] = None
    assert only("fin_wait2_buildup", facts)["skipped"]


@pytest.mark.parametrize("overflows, drops, severity", [(0, 0, "pass"), (1, 0, "warn"), (0, 999, "warn"),
                                                        (1000, 1000, "fail")])
def test_listen_overflow_boundaries(facts, overflows, drops, severity):
    facts["counters"].update(ListenOverflows=overflows, ListenDrops=drops)
    assert only("listen_overflow", facts)["severity"] == severity


def test_listen_overflow_lists_full_accept_queues(facts):
    facts["counters"].update(ListenOverflows=5, ListenDrops=5)
    facts["listen"]["sockets"][0].update(queue=129, backlog=128)
    finding = only("listen_overflow", facts)
    assert finding["evidence"]["full_accept_queues"][0]["port"] == 22


def test_listen_counters_missing_is_skipped(facts):
    facts["counters"].update(ListenOverflows=None, ListenDrops=None)
    assert only("listen_overflow", facts)["skipped"]


def test_tw_recycle_absent_on_modern_kernel_passes(facts):
    finding = only("tw_recycle_enabled", facts)
    assert finding["severity"] == "pass" and "4.12" in finding["message"]


def test_tw_recycle_live_on_old_kernel_fails_with_paws_evidence(facts):
    facts["kernel"] = "4.9.0-19-amd64"
    facts["sysctl"]["net.ipv4.tcp_tw_recycle"] = 1
    facts["sysctl"]["net.ipv4.tcp_tw_reuse"] = 1  # old kernels know 0/1 only
    facts["counters"].update(PAWSPassive=1234, PAWSActive=5)
    finding = only("tw_recycle_enabled", facts)
    assert finding["severity"] == "fail"
    assert finding["evidence"]["PAWSPassive"] == 1234 and finding["evidence"]["kernel"] == "4.9.0-19-amd64"


def test_tw_recycle_off_on_old_kernel_passes(facts):
    facts["sysctl"]["net.ipv4.tcp_tw_recycle"] = 0
    assert only("tw_recycle_enabled", facts)["severity"] == "pass"


def test_tw_recycle_configured_in_sysctl_conf_fails_with_path_and_line(facts, folk):
    finding = only("tw_recycle_configured", facts, folk)
    assert finding["severity"] == "fail"
    assert "/etc/sysctl.conf:62" in finding["message"] and "sysctl --system" in finding["message"]
    assert finding["evidence"]["lines"] == [{"path": "/etc/sysctl.conf", "line": 62, "value": "1"}]


def test_tw_recycle_configured_to_zero_warns(facts, folk):
    folk["files"][1]["settings"]["net.ipv4.tcp_tw_recycle"] = "0"
    assert only("tw_recycle_configured", facts, folk)["severity"] == "warn"


def test_tw_recycle_configured_without_file_data_is_skipped(facts):
    assert only("tw_recycle_configured", facts, None)["skipped"]


@pytest.mark.parametrize("reuse, timestamps, severity", [
    (1, 0, "fail"), (2, 0, "warn"), (0, 0, "pass"), (1, 1, "pass"), (2, 1, "pass")])
def test_tw_reuse_without_timestamps(facts, reuse, timestamps, severity):
    facts["sysctl"].update({"net.ipv4.tcp_tw_reuse": reuse, "net.ipv4.tcp_timestamps": timestamps})
    assert only("tw_reuse_without_timestamps", facts)["severity"] == severity


def test_tw_reuse_missing_is_skipped(facts):
    facts["sysctl"]["net.ipv4.tcp_timestamps"] = None
    assert only("tw_reuse_without_timestamps", facts)["skipped"]


def test_config_drift_reports_the_differing_network_keys_only(facts, folk):
    finding = only("config_drift", facts, folk)
    assert finding["severity"] == "warn"
    drifted = dict((d["key"], d) for d in finding["evidence"]["drifted"])
    # tw_reuse 1 vs 2 and fin_timeout 30 vs 60 drift; tw_recycle is absent (its own rule); kernel.* is ignored
    assert sorted(drifted) == ["net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_tw_reuse"]
    assert drifted["net.ipv4.tcp_fin_timeout"] == {"key": "net.ipv4.tcp_fin_timeout", "live": "60",
                                                   "configured": "30", "path": "/etc/sysctl.conf", "line": 63}


def test_config_drift_compares_port_range_by_words(facts):
    config = {"files": [], "errors": [],
              "effective": {"net.ipv4.ip_local_port_range": {"value": "32768 60999", "path": "/etc/x.conf",
                                                             "line": 1}}}
    facts["sysctl"]["net.ipv4.ip_local_port_range"] = "32768\t60999"
    assert only("config_drift", facts, config)["severity"] == "pass"


def test_config_drift_without_file_data_is_skipped(facts):
    assert only("config_drift", facts, None)["skipped"]


def test_worst_severity():
    assert rules.worst_severity([]) == "pass"
    assert rules.worst_severity([{"severity": "warn"}, {"severity": "fail"}, {"severity": "pass"}]) == "fail"


@pytest.mark.parametrize("overrides, error", [
    ({"nope": 1}, "unknown threshold"),
    ({"close_wait_warn": "10"}, "must be a number"),
    ({"close_wait_warn": True}, "must be a number"),
    ({"close_wait_warn": -1}, "negative"),
    ({"close_wait_warn": 900}, "is above close_wait_fail"),
    ([1], "must be a dict"),
])
def test_threshold_overrides_are_validated(overrides, error):
    with pytest.raises(rules.ThresholdError, match=error):
        rules.merge_thresholds(overrides)


def test_evaluate_does_not_modify_the_facts(facts, folk):
    before = copy.deepcopy(facts)
    rules.evaluate(facts, folk, TH)
    assert facts == before


def test_whole_host_on_an_old_kernel_with_the_folk_block_applied(facts, folk):
    """Kernel 4.9: tcp_tw_recycle exists and is live, tw_reuse knows 0/1 only, no tw_reuse_delay."""
    facts["kernel"] = "4.9.0-19-amd64"
    facts["sysctl"].update({"net.ipv4.tcp_tw_recycle": 1, "net.ipv4.tcp_tw_reuse": 1,
                            "net.ipv4.tcp_tw_reuse_delay": None, "net.ipv4.tcp_fin_timeout": 30})
    facts["counters"].update(PAWSPassive=87, PAWSActive=0)
    found = dict((f["id"], f) for f in rules.evaluate(facts, folk, TH) if f["severity"] != "pass")
    assert sorted(found) == ["tw_recycle_configured", "tw_recycle_enabled"]
    assert found["tw_recycle_enabled"]["evidence"]["PAWSPassive"] == 87
    assert "no such key" not in found["tw_recycle_configured"]["message"]
    assert found["tw_recycle_configured"]["evidence"]["kernel_has_key"] is True


# -- lines that start with '-' (sysctl.d(5): a failure to set them is ignored) -----------------------

def dash_recycle(config):
    """Mark the /etc/sysctl.conf line that sets tcp_tw_recycle as a '-' line, as the facts list it."""
    config["files"][1]["ignore_failure"] = ["net.ipv4.tcp_tw_recycle"]
    return config


def test_tw_recycle_dash_line_on_a_kernel_without_the_key_is_dead_config_not_a_failure(facts, folk):
    finding = only("tw_recycle_configured", facts, dash_recycle(folk))
    assert finding["severity"] == "warn"
    assert finding["message"].startswith("/etc/sysctl.conf:62 sets -net.ipv4.tcp_tw_recycle = 1: dead config")
    assert "reports an error" not in finding["message"]
    assert finding["evidence"]["failure_ignored"] == [{"path": "/etc/sysctl.conf", "line": 62, "value": "1"}]
    assert finding["evidence"]["kernel_has_key"] is False


def test_tw_recycle_dash_line_on_a_kernel_with_the_key_still_turns_it_on(facts, folk):
    facts["sysctl"]["net.ipv4.tcp_tw_recycle"] = 1
    finding = only("tw_recycle_configured", facts, dash_recycle(folk))
    assert finding["severity"] == "fail"
    assert finding["message"] == "/etc/sysctl.conf:62 sets tcp_tw_recycle=1"


def test_tw_recycle_plain_line_wins_over_a_dead_dash_line(facts, folk):
    folk["files"][0]["settings"]["net.ipv4.tcp_tw_recycle"] = "1"
    folk["files"][0]["lines"]["net.ipv4.tcp_tw_recycle"] = 3
    finding = only("tw_recycle_configured", facts, dash_recycle(folk))
    assert finding["severity"] == "fail"
    assert finding["message"].startswith("/usr/lib/sysctl.d/50-pid-max.conf:3 sets tcp_tw_recycle=1 (this kernel")


@pytest.mark.parametrize("flags, expected", [
    ({"net.ipv4.tcp_tw_recycle": True}, False), ({"net.ipv4.tcp_tw_recycle": "yes"}, False),
    (["net.ipv4.tcp_tw_recycle"], True), (("net.ipv4.tcp_tw_recycle",), True), ([], False),
    (None, False), ("net.ipv4.tcp_tw_recycle", False)])
def test_ignores_failure_reads_the_flag_defensively(flags, expected):
    entry = {"path": "/etc/sysctl.conf", "settings": {"net.ipv4.tcp_tw_recycle": "1"}}
    if flags is not None:
        entry["ignore_failure"] = flags
    assert rules.ignores_failure(entry, "net.ipv4.tcp_tw_recycle") is expected


# -- live values come from tcp_state.sysctl only ------------------------------------------------------

def test_config_drift_reads_live_values_from_tcp_state_sysctl_only(facts):
    config = {"files": [], "errors": [],
              "effective": {"net.core.somaxconn": {"value": "4096", "path": "/etc/a.conf", "line": 1},
                            "net.ipv4.conf.all.rp_filter": {"value": "1", "path": "/etc/a.conf", "line": 2}},
              "live": {"net.core.somaxconn": "128", "net.ipv4.conf.all.rp_filter": "2"}}  # the old, gone view
    assert only("config_drift", facts, config)["severity"] == "pass"
    facts["sysctl"]["net.ipv4.conf.all.rp_filter"] = "2"
    finding = only("config_drift", facts, config)
    assert finding["severity"] == "warn"
    assert finding["evidence"]["drifted"] == [{"key": "net.ipv4.conf.all.rp_filter", "live": "2", "configured": "1",
                                               "path": "/etc/a.conf", "line": 2}]


# -- the registry -------------------------------------------------------------------------------------

def test_rule_ids_and_findings_follow_the_registry(facts):
    assert rules.RULE_IDS == tuple(registered.rule_id for registered in rules.REGISTRY)
    findings = rules.evaluate(facts, None, TH)
    assert [f["id"] for f in findings] == list(rules.RULE_IDS)
    for registered, finding in zip(rules.REGISTRY, findings):
        assert sorted(finding) == ["evidence", "fixed_by", "id", "message", "remediation", "severity", "skipped"]
        assert finding["remediation"] == registered.fix and finding["fixed_by"] == registered.fixed_by
        assert registered.title and registered.fail_when and registered.warn_when


def test_every_threshold_belongs_to_a_rule():
    used = [name for registered in rules.REGISTRY for name in registered.thresholds]
    assert sorted(used) == sorted(rules.DEFAULT_THRESHOLDS)


@pytest.mark.parametrize("metadata, error", [
    ({"rule_id": "close_wait_leak"}, "registered twice"),
    ({"fixed_by": "someone"}, "fixed_by must be one of tunable, application"),
    ({"thresholds": ("close_wait_warn", "typo_fail")}, "reads unknown thresholds typo_fail"),
])
def test_registering_a_rule_checks_its_metadata(monkeypatch, metadata, error):
    monkeypatch.setattr(rules, "REGISTRY", list(rules.REGISTRY))
    given = dict(rule_id="new_rule", title="t", fixed_by="tunable", fix="f", fail_when="x")
    given.update(metadata)
    with pytest.raises(ValueError, match=error):
        rules.rule(**given)(lambda facts, sysctl_config, th: rules.verdict("pass", "ok", {}))
