"""The socket planter itself, checked against ``ss`` and /proc/net/sockstat of its namespace."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.root


def test_fresh_namespace_is_empty_and_tuned(netns):
    assert netns.sysctl("net.ipv4.ip_local_port_range") == "1024 65000"
    assert netns.sysctl("net.ipv4.tcp_tw_reuse") == "0"
    assert netns.sysctl("net.ipv4.tcp_rfc1337") == "1"
    assert netns.sysctl("net.ipv4.tcp_max_tw_buckets") == "2000000"
    assert netns.run(["ss", "-Htan"]).stdout.strip() == ""
    assert netns.usable_ports == 65000 - 1024 + 1


def test_each_state_lands_exactly_where_documented(netns, planter):
    planter.plant_time_wait(netns, [("127.0.0.2", 8080, 700), ("::1", 5432, 90)])
    planter.plant_time_wait_inbound(netns, [("127.0.0.1", 80, 60)])
    planter.plant_established(netns, 25)
    leak = planter.plant_close_wait(netns, 12, comm="cw-leaker")
    listen = planter.plant_listen(netns, 443, backlog=32, pending=4)

    view = planter.ss_view(netns)

    expected = dict.fromkeys(planter.STATES, 0)
    expected.update(time_wait=850, established=2 * 25 + 2 * 4, close_wait=12, fin_wait2=12, listen=1)
    expected["total"] = sum(expected.values())
    assert view.counts == expected
    assert {k: v for k, v in netns.planted.items() if v} == {
        k: v for k, v in expected.items() if v and k != "total"}
    assert view.by_family["ipv6"]["time_wait"] == 90
    outbound = dict(view.time_wait_by_destination.most_common(2))
    assert outbound == {("127.0.0.2", 8080): 700, ("::1", 5432): 90}
    inbound_peers = set(view.time_wait_by_destination) - set(outbound)
    assert len(inbound_peers) == 60 and all(address.startswith("127.200.") for address, _port in inbound_peers)
    assert view.time_wait_by_local_port[80] == 60
    assert sorted(view.close_wait_by_local_port) == leak["local_ports"]
    assert view.listen[("0.0.0.0", 443)] == (4, 32)
    assert (listen["queue"], listen["backlog"]) == (4, 32)
    assert netns.sockstat()["tw"] == 850


def test_close_wait_is_held_by_a_child_with_the_chosen_name(netns, planter):
    leak = planter.plant_close_wait(netns, 5, comm="cw-leaker")
    with open("/proc/%d/comm" % leak["leaker_pid"]) as stream:
        assert stream.read().strip() == "cw-leaker"
    assert leak["comm"] == "cw-leaker"
    assert leak["leaker_pid"] != leak["pid"]


def test_time_wait_past_the_default_port_range_toward_one_destination(netns, planter):
    # The stock range holds 28232 ports: 40000 toward one destination needs the widened one.
    result = planter.plant_time_wait(netns, [("127.0.0.9", 8080, 40000)])
    assert result["total"] == 40000
    assert planter.ss_view(netns).time_wait_by_destination[("127.0.0.9", 8080)] == 40000
    assert netns.sockstat()["tw"] == 40000
    assert netns.check_time_wait() == 40000
    netns.planted["time_wait"] += 1
    with pytest.raises(planter.PlantError, match="holds 40000 TIME_WAIT, 40001 were planted"):
        netns.check_time_wait()


def test_more_than_the_usable_ports_toward_one_destination_is_refused(netns, planter):
    with pytest.raises(ValueError, match="usable ephemeral ports"):
        planter.plant_time_wait(netns, [("127.0.0.2", 8080, netns.usable_ports + 1)])


def test_listening_inside_the_ephemeral_range_needs_a_reserved_port(netns, planter):
    with pytest.raises(ValueError, match="reserve it"):
        planter.plant_listen(netns, 8443, backlog=16)


def test_cleanup_deletes_the_namespace_and_stops_every_worker(planter):
    with planter.Namespace() as ns:
        leak = planter.plant_close_wait(ns, 3)
        held = planter.plant_established(ns, 3)
        name = ns.name
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert name not in names
    for pid in [leak["leaker_pid"], leak["pid"]] + held["pids"]:
        assert not _alive(pid), "process %d survived the cleanup" % pid


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stream:
            return stream.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        return os.path.exists("/proc/%d" % pid)


def test_command_line_plants_reports_and_cleans_up(planter):
    argv = [sys.executable, planter.__file__, "--time-wait", "127.0.0.2:8080:300", "--inbound", "127.0.0.1:80:20",
            "--established", "5", "--close-wait", "3", "--listen", "443:16:2"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)
    summary = json.loads(done.stdout)
    assert summary["planted"] == {"time_wait": 320, "established": 14, "close_wait": 3, "fin_wait2": 3, "listen": 1}
    assert {k: v for k, v in summary["ss"].items() if v and k != "total"} == summary["planted"]
    assert summary["sockstat"]["tw"] == 320
    assert summary["time_wait"]["rate"] > 0
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert summary["namespace"] not in names


def test_command_line_killed_while_holding_cleans_up(planter):
    argv = [sys.executable, planter.__file__, "--time-wait", "127.0.0.2:8080:50", "--hold", "60"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or lines[-1] != "}\n":
            lines.append(process.stdout.readline())
        name = json.loads("".join(lines))["namespace"]
        assert name in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        process.terminate()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert name not in names
