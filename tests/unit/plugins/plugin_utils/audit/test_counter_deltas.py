# -*- coding: utf-8 -*-
"""counter_deltas: one host's counters against the previous run's, reboot detection, and the re-judged rules."""

import copy

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import deltas
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load

BOOT = 1795000000  # 2026-11-18, well before the collections below


def facts_at(collected_at, boot_time=BOOT, **counters):
    facts = load("tcp_state_clean.json")
    facts.update(collected_at=collected_at, boot_time=boot_time)
    facts["counters"].update(counters)
    return facts


def test_deltas_are_each_counters_growth_over_the_interval():
    before = facts_at("2026-11-29T10:00:00Z", ListenDrops=100, ListenOverflows=90, ActiveOpens=5000)
    now = facts_at("2026-11-29T11:00:00Z", ListenDrops=640, ListenOverflows=600, ActiveOpens=5000)
    found = deltas.counter_deltas(now, before)
    assert found["interval_seconds"] == 3600 and found["reboot"] is False
    assert found["deltas"]["ListenDrops"] == 540 and found["deltas"]["ListenOverflows"] == 510
    assert found["deltas"]["ActiveOpens"] == 0
    assert set(found["deltas"]) == set(now["counters"])


def test_rates_are_the_interval_events_per_second_under_the_sample_seconds_names():
    before = facts_at("2026-11-29T10:00:00Z", ListenDrops=100, ActiveOpens=5000, TW=1000, TWKilled=10)
    now = facts_at("2026-11-29T10:10:00Z", ListenDrops=160, ActiveOpens=65000, TW=61000, TWKilled=610)
    rates = deltas.counter_deltas(now, before)["rates"]
    assert rates["listen_drops"] == 0.1 and rates["outbound_connections"] == 100.0
    assert rates["time_wait_entered"] == round((60000 + 600) / 600.0, 3) == 101.0
    assert rates["listen_overflows"] == 0.0
    # the fixture has no TW counter before this test sets it: a rate with an unknown counter is None
    older = facts_at("2026-11-29T09:00:00Z", ListenDrops=10)
    assert deltas.counter_deltas(older, facts_at("2026-11-29T08:00:00Z"))["rates"]["time_wait_entered"] is None


def test_a_few_events_over_a_day_keep_a_rate():
    before = facts_at("2026-11-28T10:00:00Z", ListenDrops=100)
    now = facts_at("2026-11-29T10:00:00Z", ListenDrops=105)
    assert deltas.counter_deltas(now, before)["rates"]["listen_drops"] == 5.787e-05  # 5 / 86,400 s


def test_a_bool_is_not_a_counter():
    before = facts_at("2026-11-29T10:00:00Z", ActiveOpens=False)
    now = facts_at("2026-11-29T10:00:10Z", ActiveOpens=True)
    found = deltas.counter_deltas(now, before)
    assert "ActiveOpens" not in found["deltas"] and found["rates"]["outbound_connections"] is None


def test_no_rates_without_a_known_interval():
    now = facts_at("not a time", ListenDrops=2)
    assert deltas.counter_deltas(now, facts_at("2026-11-29T10:00:00Z", ListenDrops=1))["rates"] is None
    same = facts_at("2026-11-29T10:00:00Z", ListenDrops=2)
    assert deltas.counter_deltas(same, facts_at("2026-11-29T10:00:00Z", ListenDrops=1))["rates"] is None


def test_a_counter_unknown_in_either_run_has_no_delta():
    before = facts_at("2026-11-29T10:00:00Z", ListenDrops=None)
    now = facts_at("2026-11-29T10:05:00Z", PAWSActive=None)
    found = deltas.counter_deltas(now, before)
    assert "ListenDrops" not in found["deltas"] and "PAWSActive" not in found["deltas"]
    assert found["interval_seconds"] == 300


def test_boot_time_moved_is_a_reboot_with_no_deltas():
    before = facts_at("2026-11-29T10:00:00Z", boot_time=BOOT - 86400, ListenDrops=5)
    now = facts_at("2026-11-29T11:00:00Z", boot_time=BOOT, ListenDrops=900)
    found = deltas.counter_deltas(now, before)
    assert found == {"interval_seconds": 3600, "reboot": True, "deltas": None, "rates": None}


def test_a_counter_going_down_is_a_restart_even_with_the_same_boot_time():
    # a container's new network namespace: the host's btime stays, its counters start again
    before = facts_at("2026-11-29T10:00:00Z", ListenDrops=500)
    now = facts_at("2026-11-29T11:00:00Z", ListenDrops=3)
    found = deltas.counter_deltas(now, before)
    assert found["reboot"] is True and found["deltas"] is None


def test_a_reboot_without_boot_times_is_found_by_the_counters():
    before = facts_at("2026-11-29T10:00:00Z", boot_time=None, ActiveOpens=90000)
    now = facts_at("2026-11-29T11:00:00Z", boot_time=None, ActiveOpens=12)
    assert deltas.counter_deltas(now, before)["reboot"] is True


def test_boot_time_jitter_within_the_slack_is_no_reboot():
    before = facts_at("2026-11-29T10:00:00Z", boot_time=BOOT)
    now = facts_at("2026-11-29T11:00:00Z", boot_time=BOOT + 2)
    assert deltas.counter_deltas(now, before)["reboot"] is False


def test_a_boot_after_the_previous_collection_is_a_reboot_even_within_the_slack():
    # the previous run collected 10 s after a boot; the host rebooted right after it
    before = facts_at("2026-11-29T10:00:10Z", boot_time=deltas._epoch("2026-11-29T10:00:00Z"))
    now = facts_at("2026-11-29T10:00:40Z", boot_time=deltas._epoch("2026-11-29T10:00:20Z"))
    assert deltas.counter_deltas(now, before)["reboot"] is True


def test_facts_of_older_runs_without_boot_time_still_compare():
    before = facts_at("2026-11-29T10:00:00Z", ListenDrops=1)
    del before["boot_time"]
    now = facts_at("2026-11-29T10:30:00Z", ListenDrops=4)
    found = deltas.counter_deltas(now, before)
    assert found["reboot"] is False and found["deltas"]["ListenDrops"] == 3


def test_no_previous_facts_or_counters_is_none():
    now = facts_at("2026-11-29T10:00:00Z")
    assert deltas.counter_deltas(now, None) is None
    assert deltas.counter_deltas(now, {"counters": None}) is None
    assert deltas.counter_deltas({"counters": "junk"}, now) is None


def test_unreadable_collection_times_leave_the_interval_unknown():
    before = facts_at("yesterday", ListenDrops=1)
    now = facts_at("2026-11-29T10:00:00Z", ListenDrops=2)
    found = deltas.counter_deltas(now, before)
    assert found["interval_seconds"] is None and found["deltas"]["ListenDrops"] == 1


def _entry(facts):
    return fleet.host_entry({"ansible_facts": {"tcp_state": copy.deepcopy(facts)}})


def test_attach_judges_the_interval_and_changes_the_status():
    # since boot the host failed listen_overflow (5000 drops); none happened in the last hour
    before = _entry(facts_at("2026-11-29T10:00:00Z", ListenDrops=5000, ListenOverflows=5000))
    now = _entry(facts_at("2026-11-29T11:00:00Z", ListenDrops=5000, ListenOverflows=5000))
    assert now["status"] == "fail"
    hosts = {"web1": now, "new1": _entry(facts_at("2026-11-29T11:00:00Z")),
             "down1": fleet.host_entry({"unreachable": True, "msg": "timeout"})}
    previous_doc = {"hosts": {"web1": before, "down1": before}}
    deltas.attach(hosts, previous_doc)
    assert hosts["web1"]["counter_deltas"]["interval_seconds"] == 3600
    assert hosts["web1"]["status"] == "pass"
    listen = [f for f in hosts["web1"]["findings"] if f["id"] == "listen_overflow"][0]
    assert listen["message"] == "no listen queue overflows in the last 3600 s"
    assert hosts["new1"]["counter_deltas"] is None
    assert hosts["down1"]["counter_deltas"] is None and hosts["down1"]["status"] == "unreachable"


def test_attach_without_a_previous_run_sets_null_and_judges_since_boot():
    now = _entry(facts_at("2026-11-29T11:00:00Z", ListenDrops=7))
    hosts = deltas.attach({"web1": now}, None)
    assert hosts["web1"]["counter_deltas"] is None
    listen = [f for f in hosts["web1"]["findings"] if f["id"] == "listen_overflow"][0]
    assert listen["evidence"]["counted"] == "since_boot" and listen["severity"] == "warn"


def test_attach_after_a_reboot_judges_since_boot_and_says_so():
    before = _entry(facts_at("2026-11-29T10:00:00Z", boot_time=BOOT - 7200, ListenDrops=10))
    now = _entry(facts_at("2026-11-29T11:00:00Z", ListenDrops=4))
    hosts = deltas.attach({"web1": now}, {"hosts": {"web1": before}})
    assert hosts["web1"]["counter_deltas"] == {"interval_seconds": 3600, "reboot": True, "deltas": None, "rates": None}
    listen = [f for f in hosts["web1"]["findings"] if f["id"] == "listen_overflow"][0]
    assert listen["evidence"]["counted"] == "since_restart" and listen["severity"] == "warn"
    assert "since boot (the counters restarted after the previous run" in listen["message"]


def test_attach_rejudges_only_the_counter_rules_and_keeps_the_others():
    facts = facts_at("2026-11-29T11:00:00Z", ListenDrops=5000, ListenOverflows=5000)
    facts["close_wait"]["total"] = 60
    before = _entry(facts_at("2026-11-29T10:00:00Z", ListenDrops=5000, ListenOverflows=5000))
    now = _entry(facts)
    others = [f for f in now["findings"] if f["id"] not in ("listen_overflow", "time_wait_overflow")]
    deltas.attach({"web1": now}, {"hosts": {"web1": before}})
    assert [f["id"] for f in now["findings"]] == list(fleet.rules.RULE_IDS)
    assert [f for f in now["findings"] if f["id"] not in ("listen_overflow", "time_wait_overflow")] == others
    assert now["status"] == "warn"  # close_wait_leak warns; the old listen drops no longer fail


def test_collection_times_are_read_exactly_and_impossible_ones_refused():
    assert deltas._epoch("1970-01-01T00:00:00Z") == 0
    assert deltas._epoch("2026-11-29T10:00:00Z") - deltas._epoch("2026-11-28T10:00:00Z") == 86400
    assert deltas._epoch("2026-11-29T10:00:00Z") == 1795946400
    for bad in ("2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-29 10:00:00", None, 5, "2026-11-29T10:00:00Z\n"):
        assert deltas._epoch(bad) is None, bad
