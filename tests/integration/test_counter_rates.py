"""Rates instead of since-boot counters, on real sockets in a fresh network namespace: two report runs
around a burst of real listen drops, ``sample_seconds`` while connections are being opened, and the
monitoring check's exit codes on real facts."""

import csv
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.html_report import number as report_number

pytestmark = pytest.mark.root

HOST_PYTHON = "/usr/bin/python3"
REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
ENGINE = "ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect"

LISTEN_PORT = 7070
# A listener with backlog 1 that never accepts; CLIENTS non-blocking connects: two fill the accept
# queue, the kernel drops every other SYN (and its retransmissions) and counts ListenOverflows/ListenDrops.
BURST = """
import socket, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", %(port)d))
listener.listen(1)
clients = []
for _ in range(%(clients)d):
    client = socket.socket()
    client.setblocking(False)
    client.connect_ex(("127.0.0.1", %(port)d))
    clients.append(client)
time.sleep(2.5)
"""
# Opens and closes connections until stopped, the client closing first (its side goes TIME_WAIT).
CHURN = """
import socket, threading, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", %(port)d))
listener.listen(1024)
def serve():
    while True:
        peer, _ = listener.accept()
        peer.recv(1)
        peer.close()
threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
while True:
    client = socket.create_connection(("127.0.0.1", %(port)d))
    client.close()
    time.sleep(0.002)
"""


def burst_listen_drops(ns, clients=40):
    """Real listen drops in ``ns``; returns how many the kernel counted (ListenDrops growth)."""
    before = ns.netstat("ListenDrops")
    ns.run([HOST_PYTHON, "-c", BURST % {"port": LISTEN_PORT, "clients": clients}])
    return ns.netstat("ListenDrops") - before


def report_run(playbook, ns, base):
    done = playbook.run("report", base, ns=ns)
    assert done.returncode == 0, done.stdout[-3000:]
    with open(str(base / "latest" / "tcp-audit.json"), encoding="utf-8") as handle:
        return json.load(handle)["hosts"]["localhost"]


def finding(entry, rule_id):
    return [f for f in entry["findings"] if f["id"] == rule_id][0]


def test_two_report_runs_around_a_burst_of_listen_drops_judge_the_interval(netns, playbook, reportdirs, tmp_path):
    base = tmp_path / "runs"
    first = report_run(playbook, netns, base)
    assert first["counter_deltas"] is None
    assert first["facts"]["boot_time"] > 0
    assert finding(first, "listen_overflow")["message"] == "no listen queue overflows since boot"

    drops = burst_listen_drops(netns)
    assert drops >= 38  # 40 clients, 2 fit in the queue; retransmitted SYNs count again
    time.sleep(1)  # a second apart at least, so that the interval is not 0 s
    second = report_run(playbook, netns, base)
    deltas = second["counter_deltas"]
    assert deltas["reboot"] is False and deltas["interval_seconds"] >= 1
    assert deltas["deltas"]["ListenDrops"] == drops  # nothing else in the namespace drops
    assert deltas["deltas"]["ListenOverflows"] == second["facts"]["counters"]["ListenOverflows"]
    listen = finding(second, "listen_overflow")
    assert listen["severity"] == "warn"
    assert listen["evidence"]["counted"] == "last_interval"
    assert listen["evidence"]["events"]["ListenDrops"] == drops
    rate = drops / float(deltas["interval_seconds"])
    shown = ("%.3g" % rate) if rate < 1 else ("%.1f" % rate).rstrip("0").rstrip(".")
    assert listen["message"] == "listen queues overflowed in the last %d s: ListenOverflows=%d ListenDrops=%d (%s/s)" % (
        deltas["interval_seconds"], deltas["deltas"]["ListenOverflows"], drops, shown)

    # the interval's rates, under the names sample_seconds uses, in every format that has a place for them
    per_second = float("%.4g" % (drops / float(deltas["interval_seconds"])))  # deltas.RATE_DIGITS
    assert deltas["rates"]["listen_drops"] == per_second
    latest = base / "latest"
    prom = (latest / "tcp-audit.prom").read_text()
    reportdirs.promtool_check(str(latest / "tcp-audit.prom"))
    assert ('tcp_audit_tcp_rate_per_second{host="localhost",rate="listen_drops",report="report"} %r' % per_second
            in prom.splitlines())
    assert ('tcp_audit_interval_seconds{host="localhost",report="report"} %d' % deltas["interval_seconds"]
            in prom.splitlines())
    with open(str(latest / "tcp-audit.csv"), encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert float(row["listen_drops_per_second"]) == per_second
    assert int(row["interval_seconds"]) == deltas["interval_seconds"]
    html = (latest / "tcp-audit.html").read_text()
    assert re.search(r'<p class="rates">Over the %d s since the previous run: [^<]*listen drops %s/s'
                     % (deltas["interval_seconds"], re.escape(report_number(per_second))), html)

    # the counters keep the burst until the next reboot; the next run judges only its own interval
    third = report_run(playbook, netns, base)
    assert third["facts"]["counters"]["ListenDrops"] == drops
    assert third["counter_deltas"]["deltas"]["ListenDrops"] == 0
    quiet = finding(third, "listen_overflow")
    assert quiet["severity"] == "pass"
    assert quiet["message"] == "no listen queue overflows in the last %d s" % third["counter_deltas"]["interval_seconds"]


def test_sample_seconds_gives_the_rate_of_connections_being_opened(netns, run_module_with_ansible):
    churn = subprocess.Popen(netns.exec_argv([HOST_PYTHON, "-c", CHURN % {"port": LISTEN_PORT + 1}]),
                             stdout=subprocess.PIPE, text=True)
    try:
        assert churn.stdout.readline().strip() == "ready"
        started = time.monotonic()
        result = run_module_with_ansible(netns, "mode=summary sample_seconds=1")
        took = time.monotonic() - started
    finally:
        churn.send_signal(signal.SIGTERM)
        churn.wait(timeout=10)
    rates = result["ansible_facts"]["tcp_state"]["rates"]
    assert 1.0 <= rates["seconds"] < took
    per_second = rates["per_second"]
    assert per_second["outbound_connections"] > 0
    assert per_second["inbound_connections"] > 0
    # every connection ends in TIME_WAIT on the client side (the kernel counts it as it enters)
    assert per_second["time_wait_entered"] > 0
    assert per_second["listen_drops"] == 0.0
    # the namespace opened nothing else: in a second, outbound opens and TIME_WAIT entered agree closely
    opened = per_second["outbound_connections"] * rates["seconds"]
    entered = per_second["time_wait_entered"] * rates["seconds"]
    assert abs(opened - entered) <= max(5, 0.05 * opened), (opened, entered)


def check(ns, *argv, config_root):
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), PYTHONDONTWRITEBYTECODE="1")
    done = ns.run([HOST_PYTHON, "-m", ENGINE, "--check"] + list(argv) + ["--config-root", str(config_root)],
                  check=False, env=env)
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    return done.returncode, lines[0]


def test_check_exit_codes_on_real_facts(netns, planter, tmp_path):
    empty_config = tmp_path / "config"
    empty_config.mkdir()
    planter.plant_close_wait(netns, 5, comm="cw-check")

    code, line = check(netns, "nagios", config_root=empty_config)
    assert code == 0 and line.startswith("TCP OK - "), line
    assert "close_wait=5;50;500;0" in line.split(" | ")[1]

    code, line = check(netns, "nagios", "--thresholds", '{"close_wait_warn": 5}', config_root=empty_config)
    assert code == 1 and line.startswith("TCP WARNING - 1 warn: close_wait_leak: 5 CLOSE_WAIT sockets held by "
                                         "cw-check"), line
    code, line = check(netns, "nagios", "--thresholds", '{"close_wait_warn": 1, "close_wait_fail": 5}',
                       config_root=empty_config)
    assert code == 2 and line.startswith("TCP CRITICAL - 1 fail: close_wait_leak"), line
    assert check(netns, "npd", "--thresholds", '{"close_wait_warn": 1, "close_wait_fail": 5}',
                 config_root=empty_config) == (1, "TCP fail: close_wait_leak")
    assert check(netns, "npd", config_root=empty_config) == (0, "TCP OK")
    code, line = check(netns, "nagios", "--proc-root", str(tmp_path / "nothing"), config_root=empty_config)
    assert code == 3 and line.startswith("TCP UNKNOWN - facts not collected"), line
    code, line = check(netns, "npd", "--proc-root", str(tmp_path / "nothing"), config_root=empty_config)
    assert code == 2 and line.startswith("TCP unknown: "), line

    # real listen drops: since boot they warn on every check from now on; a sample judges its own second
    drops = burst_listen_drops(netns)
    code, line = check(netns, "nagios", config_root=empty_config)
    assert code == 1 and "listen_overflow: listen queues overflowed since boot" in line, line
    assert "listen_drops=%dc" % drops in line
    code, line = check(netns, "nagios", "--sample-seconds", "1", config_root=empty_config)
    assert code == 0 and line.startswith("TCP OK - "), line


def test_the_node_problem_detector_config_in_the_docs_runs_the_check(netns, tmp_path):
    """docs/monitoring.md's custom plugin monitor: its path and args, run as NPD runs them (no shell)."""
    text = (REPO / "docs" / "monitoring.md").read_text()
    config = json.loads(re.search(r"```json\n(\{.*?\n\})\n```", text, re.S).group(1))
    rule = config["rules"][0]
    assert config["conditions"][0]["type"] == rule["condition"]
    args = [arg.replace("PYTHONPATH=/opt/tcpops", "PYTHONPATH=%s" % COLLECTIONS) for arg in rule["args"]]
    empty_config = tmp_path / "config"
    empty_config.mkdir()
    burst_listen_drops(netns)  # since boot these warn; npd reports fail only, and the sample is quiet
    started = time.monotonic()
    done = netns.run([rule["path"]] + args + ["--config-root", str(empty_config)], check=False)
    took = time.monotonic() - started
    assert (done.returncode, done.stdout) == (0, "TCP OK\n"), done.stderr
    assert 10 <= took < float(rule["timeout"].rstrip("s"))
    assert len(done.stdout.strip()) <= config["pluginConfig"]["max_output_length"]
