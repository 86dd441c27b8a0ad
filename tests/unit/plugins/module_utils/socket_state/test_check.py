"""The monitoring check (collect --check nagios|npd): one line and the exit code, judged by the rule table."""

import shutil
import subprocess
import sys

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import check
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as _tcp_state

QUIET_NETSTAT = ("TcpExt: TW TWRecycled TWKilled PAWSActive PAWSEstab ListenOverflows ListenDrops TCPTimeWaitOverflow\n"
                 "TcpExt: 9000 3 0 2 7 0 0 0\n")


@pytest.fixture
def quiet_proc(tmp_path, modern_proc):
    """The modern fixture tree with no overflow counted since boot."""
    root = tmp_path / "proc"
    shutil.copytree(modern_proc, str(root))
    (root / "net" / "netstat").write_text(QUIET_NETSTAT)
    return str(root)


def run(*argv):
    return check.run(list(argv))


def common(proc):
    return ["--proc-root", proc, "--config-root", "/nonexistent", "--backend", "proc"]


def test_nagios_ok_is_exit_0_with_perfdata(quiet_proc):
    line, code = run("--check", "nagios", *common(quiet_proc))
    assert code == 0
    text, perfdata = line.split(" | ")
    assert text == "TCP OK - %d rules pass" % len(check.judge({}, check.parse_thresholds(None)))
    assert perfdata.split() == ["time_wait=11;;;0", "close_wait=4;50;500;0", "fin_wait2=1;500;5000;0",
                                "port_usage=0.0002;0.5;0.8;0;1", "listen_overflows=0c", "listen_drops=0c",
                                "time_wait_overflow=0c"]


def test_nagios_warning_is_exit_1_naming_the_rule(quiet_proc):
    line, code = run("--check", "nagios", "--thresholds", '{"close_wait_warn": 3}', *common(quiet_proc))
    assert code == 1
    assert line.startswith("TCP WARNING - 1 warn: close_wait_leak: 4 CLOSE_WAIT sockets")
    assert "close_wait=4;3;500;0" in line.split(" | ")[1]


def test_nagios_critical_is_exit_2_fail_listed_first(modern_proc):
    line, code = run("--check", "nagios", "--thresholds", '{"close_wait_warn": 3}', *common(modern_proc))
    assert code == 2
    assert line.startswith("TCP CRITICAL - 1 fail, 2 warn: time_wait_overflow: kernel destroyed TIME_WAIT sockets "
                           "early 15 times since boot (TCPTimeWaitOverflow); ")
    assert "listen_overflow: listen queues overflowed since boot: ListenOverflows=11 ListenDrops=12" in line
    assert line.count(" | ") == 1


@pytest.mark.parametrize("argv, why", [
    (["--proc-root", "/nonexistent"], "facts not collected: /nonexistent/net/sockstat is not readable"),
    (["--thresholds", '{"bogus": 1}'], "--thresholds: unknown threshold 'bogus'"),
    (["--thresholds", "[1]"], "--thresholds must be a JSON object"),
    (["--thresholds", "{not json"], "--thresholds is not valid JSON"),
    (["--thresholds", '{"close_wait_warn": 900}'], "close_wait_warn (900) is above close_wait_fail (500)"),
    (["--sample-seconds", "99"], "sample_seconds must be a whole number of seconds from 0 (no sample) to 60"),
    (["--top", "many"], "--top needs an integer"),
    (["--problem-at", "pass"], "--problem-at must be warn or fail"),
    (["--thresholds"], "--thresholds needs a value"),
])
def test_nagios_unknown_is_exit_3_with_the_reason(argv, why):
    line, code = run("--check", "nagios", *argv)
    assert code == 3
    assert line.startswith("TCP UNKNOWN - ") and why in line


def test_npd_ok_problem_unknown(quiet_proc, modern_proc):
    assert run("--check", "npd", *common(quiet_proc)) == ("TCP OK", 0)
    line, code = run("--check", "npd", *common(modern_proc))
    assert code == 1 and line == "TCP fail: time_wait_overflow"
    line, code = run("--check=npd", "--proc-root=/nonexistent")
    assert code == 2 and line.startswith("TCP unknown: facts not collected") and len(line) <= check.NPD_LIMIT


def test_npd_counts_warnings_as_problems_only_when_asked(quiet_proc):
    argv = ["--check", "npd", "--thresholds", '{"close_wait_warn": 3}'] + common(quiet_proc)
    assert run(*argv) == ("TCP OK", 0)
    assert run(*(argv + ["--problem-at", "warn"])) == ("TCP warn: close_wait_leak", 1)


def test_a_sample_judges_the_counters_over_its_seconds_not_since_boot(modern_proc):
    line, code = run("--check", "nagios", "--sample-seconds", "1", *common(modern_proc))
    # the fixture's counters do not move: the overflows since boot are not events of the last second
    assert code == 0, line
    assert "outbound_per_second=0.0;;;0" in line and "time_wait_entered_per_second=0.0;;;0" in line


def test_sampled_deltas_have_the_reports_shape():
    facts = {"rates": {"seconds": 2.0, "per_second": {"listen_drops": 1.5, "listen_overflows": 0.0,
                                                      "time_wait_overflow": None}}}
    assert check.sampled_deltas(facts) == {"interval_seconds": 2.0, "reboot": False,
                                           "deltas": {"ListenDrops": 3, "ListenOverflows": 0}}
    assert check.sampled_deltas({"rates": None}) is None


def test_a_message_cannot_break_the_perfdata_separator():
    finding = {"id": "close_wait_leak", "severity": "warn", "message": "held by a|b (pid 1)"}
    line, code = check.nagios_line([finding], {}, check.parse_thresholds(None))
    assert code == 1 and line.count("|") == 1 and "held by a/b" in line


def test_the_command_line_dispatches_to_the_check_and_exits_with_its_code(quiet_proc):
    argv = [sys.executable, "-m", _tcp_state.__name__, "--check", "nagios", "--thresholds",
            '{"close_wait_warn": 1, "close_wait_fail": 2}'] + common(quiet_proc)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr == ""
    assert done.stdout.startswith("TCP CRITICAL - 1 fail: close_wait_leak") and done.stdout.count("\n") == 1


def test_a_crash_is_unknown_not_a_warning(monkeypatch, quiet_proc):
    def broken(facts, thresholds):
        raise KeyError("counters")

    monkeypatch.setattr(check, "judge", broken)
    line, code = run("--check", "nagios", *common(quiet_proc))
    assert code == 3 and line == "TCP UNKNOWN - check failed: KeyError: 'counters'"
    assert run("--check", "npd", *common(quiet_proc)) == ("TCP unknown: check failed: KeyError: 'counters'", 2)


def test_rules_not_evaluated_are_not_counted_as_passing(quiet_proc):
    line, code = run("--check", "nagios", "--mode", "summary", *common(quiet_proc))
    skipped = sum(1 for f in check.judge(_tcp_state.collect(mode="summary", proc_root=quiet_proc,
                                                            config_root="/nonexistent"),
                                         check.parse_thresholds(None)) if f["skipped"])
    assert code == 0 and skipped > 0
    assert line.startswith("TCP OK - %d rules pass, %d not evaluated | " % (len(check.rules.RULE_IDS) - skipped, skipped))
