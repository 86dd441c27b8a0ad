"""boot_time from /proc/stat, and the per-second rates of two counter reads (sample_seconds)."""

import shutil
import time

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as _tcp_state
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import kernel as _kernel_state
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import rates


def test_boot_time_is_btime_of_proc_stat(modern_proc, old_kernel_proc):
    warnings = []
    assert _kernel_state.read_boot_time(modern_proc, warnings) == 1795968000
    assert _kernel_state.read_boot_time(old_kernel_proc, warnings) == 1500000000
    assert warnings == []


@pytest.mark.parametrize("text, why", [
    ("cpu  1 2 3\nctxt 5\n", "no btime line"),
    ("btime soon\n", "btime 'soon' is not a positive integer"),
    ("btime -5\n", "btime '-5' is not a positive integer"),
])
def test_unusable_btime_is_null_and_an_error_naming_the_file(tmp_path, text, why):
    (tmp_path / "stat").write_text(text)
    warnings, errors = [], []
    assert _kernel_state.read_boot_time(str(tmp_path), warnings, errors) is None
    assert errors == warnings and len(errors) == 1
    assert errors[0].startswith(str(tmp_path / "stat")) and why in errors[0] and "boot_time is null" in errors[0]


def test_missing_proc_stat_is_null_and_a_warning(tmp_path):
    warnings, errors = [], []
    assert _kernel_state.read_boot_time(str(tmp_path), warnings, errors) is None
    assert "stat unreadable" in warnings[0] and errors == warnings


def test_a_fifo_as_proc_stat_is_refused_not_waited_on(tmp_path):
    import os

    os.mkfifo(str(tmp_path / "stat"))
    warnings = []
    assert _kernel_state.read_boot_time(str(tmp_path), warnings) is None
    assert "a FIFO, not a regular file" in warnings[0]


def test_collect_reports_boot_time_and_no_rates_by_default(modern_proc):
    state = _tcp_state.collect(mode="summary", proc_root=modern_proc, config_root="/nonexistent")
    assert state["boot_time"] == 1795968000
    assert state["rates"] is None
    assert state["counters"]["TW"] == 9000


@pytest.mark.parametrize("seconds", [-1, 61, 3600, True, 1.5, "5", None])
def test_sample_seconds_out_of_range_is_refused_naming_the_range(modern_proc, seconds):
    with pytest.raises(_tcp_state.TcpStateError, match=r"sample_seconds must be a whole number of seconds "
                                                       r"from 0 \(no sample\) to 60"):
        _tcp_state.collect(mode="summary", proc_root=modern_proc, sample_seconds=seconds)


COUNTERS = {"ActiveOpens": 100, "PassiveOpens": 50, "AttemptFails": 1, "TW": 1000, "TWKilled": 2,
            "TWRecycled": 10, "TCPTimeWaitOverflow": 0, "ListenOverflows": 7, "ListenDrops": 7}


def test_rates_are_growth_per_second_and_time_wait_entered_sums_tw_and_twkilled():
    later = dict(COUNTERS, ActiveOpens=400, TW=1300, TWKilled=8, TWRecycled=40, ListenDrops=10, ListenOverflows=10)
    found = rates.per_second(COUNTERS, later, 3.0)
    assert found["outbound_connections"] == 100.0
    assert found["inbound_connections"] == 0.0
    assert found["time_wait_entered"] == 102.0  # 300 TW + 6 TWKilled in 3 s
    assert found["time_wait_reused"] == 10.0
    assert found["listen_drops"] == 1.0 and found["listen_overflows"] == 1.0
    assert set(found) == set(key for key, _names in rates.RATE_COUNTERS)


def test_a_counter_that_went_down_or_is_missing_has_no_rate_never_a_negative_one():
    later = dict(COUNTERS, ActiveOpens=10, ListenDrops=None)
    del later["PassiveOpens"]
    found = rates.per_second(COUNTERS, later, 2.0)
    assert found["outbound_connections"] is None
    assert found["listen_drops"] is None and found["inbound_connections"] is None
    assert found["listen_overflows"] == 0.0
    assert all(value is None or value >= 0 for value in found.values())


def test_a_sum_is_unknown_when_one_of_its_counters_is():
    assert rates.per_second(COUNTERS, dict(COUNTERS, TWKilled=None), 1.0)["time_wait_entered"] is None
    assert rates.per_second(COUNTERS, dict(COUNTERS, TWKilled=1), 1.0)["time_wait_entered"] is None


@pytest.mark.parametrize("seconds", [1.0, 7.001, 59.999, 60.0])
def test_events_are_given_back_exactly_from_the_rounded_rates(seconds):
    for grown in (0, 1, 2, 3, 7, 999, 123457, 98765432):
        later = dict(COUNTERS, ListenDrops=COUNTERS["ListenDrops"] + grown)
        sample = {"seconds": seconds, "per_second": rates.per_second(COUNTERS, later, seconds)}
        assert rates.events(sample)["ListenDrops"] == grown


def test_sample_waits_the_rest_of_the_seconds_then_reads_again():
    calls = []

    def read_again():
        calls.append(time.monotonic())
        return dict(COUNTERS, ActiveOpens=130)

    started = time.monotonic()
    found = rates.sample(1, started, COUNTERS, read_again)
    assert len(calls) == 1 and calls[0] - started >= 1.0
    assert 1.0 <= found["seconds"] < 2.0
    assert found["per_second"]["outbound_connections"] == round(30 / found["seconds"], 3)


def test_sample_does_not_sleep_when_the_seconds_have_already_passed():
    started = time.monotonic() - 5
    found = rates.sample(2, started, COUNTERS, lambda: COUNTERS)
    assert 5.0 <= found["seconds"] < 6.0


def test_collect_samples_the_counters_of_proc_root(tmp_path, modern_proc):
    proc = tmp_path / "proc"
    shutil.copytree(modern_proc, str(proc))
    state = _tcp_state.collect(mode="summary", proc_root=str(proc), config_root="/nonexistent", sample_seconds=1)
    assert state["rates"]["seconds"] >= 1.0
    assert set(state["rates"]["per_second"]) == set(key for key, _names in rates.RATE_COUNTERS)
    # a fixture tree does not move: every rate is zero
    assert set(state["rates"]["per_second"].values()) == {0.0}
