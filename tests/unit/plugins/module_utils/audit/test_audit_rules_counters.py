# -*- coding: utf-8 -*-
"""The counter rules (listen_overflow, time_wait_overflow): the interval's events, since boot, after a restart."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules

TH = rules.merge_thresholds(None)


def only(rule_id, facts, counter_deltas=None, thresholds=None):
    found = [f for f in rules.evaluate(facts, None, thresholds or TH, counter_deltas) if f["id"] == rule_id]
    assert len(found) == 1
    return found[0]


def interval(seconds=3600, **deltas):
    return {"interval_seconds": seconds, "reboot": False, "deltas": deltas}


@pytest.fixture
def noisy(clean_facts):
    """A host whose counters saw overflows long ago: 5000 listen drops and 40 TIME_WAIT overflows since boot."""
    clean_facts["counters"].update(ListenOverflows=5000, ListenDrops=5000, TCPTimeWaitOverflow=40)
    return clean_facts


def test_listen_overflow_since_boot_without_an_interval(noisy):
    found = only("listen_overflow", noisy)
    assert found["severity"] == "fail"
    assert found["message"] == "listen queues overflowed since boot: ListenOverflows=5000 ListenDrops=5000"
    assert found["evidence"]["counted"] == "since_boot" and found["evidence"]["interval_seconds"] is None


def test_listen_overflow_judges_the_interval_when_deltas_exist(noisy):
    quiet = only("listen_overflow", noisy, interval(ListenOverflows=0, ListenDrops=0))
    assert quiet["severity"] == "pass"
    assert quiet["message"] == "no listen queue overflows in the last 3600 s"
    assert quiet["evidence"]["counted"] == "last_interval"
    assert quiet["evidence"]["ListenDrops"] == 5000  # the since-boot value stays in the evidence

    burst = only("listen_overflow", noisy, interval(ListenOverflows=20, ListenDrops=540))
    assert burst["severity"] == "warn"
    assert burst["message"] == ("listen queues overflowed in the last 3600 s: ListenOverflows=20 ListenDrops=540 "
                                "(0.15/s)")
    assert burst["evidence"]["events"] == {"ListenOverflows": 20, "ListenDrops": 540}
    assert burst["evidence"]["interval_seconds"] == 3600

    flood = only("listen_overflow", noisy, interval(60, ListenOverflows=1000, ListenDrops=1200))
    assert flood["severity"] == "fail" and flood["message"].endswith("(20/s)")


def test_listen_overflow_after_a_restart_judges_since_boot_and_says_so(noisy):
    found = only("listen_overflow", noisy, {"interval_seconds": 3600, "reboot": True, "deltas": None})
    assert found["severity"] == "fail"
    assert found["evidence"]["counted"] == "since_restart"
    assert found["message"].startswith("listen queues overflowed since boot (the counters restarted after the "
                                       "previous run, by a reboot or a new network namespace: since boot is since "
                                       "that restart): ListenOverflows=5000")


def test_listen_overflow_falls_back_to_since_boot_when_the_deltas_lack_its_counters(noisy):
    found = only("listen_overflow", noisy, interval(ActiveOpens=10))
    assert found["evidence"]["counted"] == "since_boot" and found["severity"] == "fail"


def test_interval_without_a_known_length_says_since_the_previous_run(noisy):
    found = only("listen_overflow", noisy, interval(None, ListenOverflows=3, ListenDrops=3))
    assert found["message"] == "listen queues overflowed since the previous run: ListenOverflows=3 ListenDrops=3"


def test_time_wait_overflow_since_boot_without_an_interval(noisy):
    found = only("time_wait_overflow", noisy)
    assert found["severity"] == "fail"
    assert found["message"] == "kernel destroyed TIME_WAIT sockets early 40 times since boot (TCPTimeWaitOverflow)"
    assert found["evidence"]["counted"] == "since_boot"


def test_time_wait_overflow_judges_the_interval(noisy):
    quiet = only("time_wait_overflow", noisy, interval(TCPTimeWaitOverflow=0))
    assert quiet["severity"] == "pass"
    assert quiet["message"] == "no TIME_WAIT bucket overflow in the last 3600 s"
    assert quiet["evidence"]["TCPTimeWaitOverflow"] == 40 and quiet["evidence"]["events"] == 0

    found = only("time_wait_overflow", noisy, interval(1800, TCPTimeWaitOverflow=9))
    assert found["severity"] == "fail"
    assert found["message"] == ("kernel destroyed TIME_WAIT sockets early 9 times in the last 1800 s "
                                "(TCPTimeWaitOverflow, 0.005/s)")


def test_time_wait_overflow_after_a_restart_judges_since_boot(noisy):
    found = only("time_wait_overflow", noisy, {"interval_seconds": 60, "reboot": True, "deltas": None})
    assert found["severity"] == "fail" and found["evidence"]["counted"] == "since_restart"
    assert "since boot (the counters restarted after the previous run" in found["message"]


def test_time_wait_overflow_still_warns_on_bucket_usage_in_an_interval(clean_facts):
    clean_facts["sysctl"]["net.ipv4.tcp_max_tw_buckets"] = 1000
    clean_facts["time_wait"]["total"] = 900
    found = only("time_wait_overflow", clean_facts, interval(TCPTimeWaitOverflow=0))
    assert found["severity"] == "warn" and found["evidence"]["counted"] == "last_interval"


def test_deltas_do_not_touch_the_other_rules(noisy):
    plain = dict((f["id"], f) for f in rules.evaluate(noisy, None, TH))
    quiet = interval(ListenDrops=0, ListenOverflows=0, TCPTimeWaitOverflow=0)
    judged = dict((f["id"], f) for f in rules.evaluate(noisy, None, TH, quiet))
    changed = set(rule_id for rule_id in rules.RULE_IDS if plain[rule_id] != judged[rule_id])
    assert changed == set(rules.COUNTER_RULE_IDS) == {"listen_overflow", "time_wait_overflow"}
    assert "counter_deltas" not in noisy  # the caller's facts are left as they were
