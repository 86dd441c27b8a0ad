"""collect(): the whole tcp_state dict on fixture trees, the stdlib command line, and the live host."""

import json
import ipaddress
import os
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as _tcp_state
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import sockdiag as _sockdiag
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import FACT_KEYS

TOP_KEYS = {"kernel", "mode", "collected_at", "backend", "duration_ms", "warnings", "warnings_total", "errors",
            "errors_total", "counts", "by_family", "time_wait",
            "close_wait", "listen", "ephemeral_ports", "sysctl", "counters", "sockstat", "netfilter",
            "sysctl_config", "namespaces", "boot_time", "rates"}
STATE_KEYS = {"established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait", "close",
              "close_wait", "last_ack", "listen", "closing", "total"}
ENGINE = "ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect"
FOLK_CONFIG_ROOT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, os.pardir, "fixtures", "config_root", "folk")
FOLK_SYSCTL_CONFIG = {
    "files": [
        {"path": "/usr/lib/sysctl.d/50-default.conf",
         "settings": {"net.ipv4.tcp_fin_timeout": "60", "net.ipv4.conf.*.rp_filter": "2"},
         "lines": {"net.ipv4.tcp_fin_timeout": 1, "net.ipv4.conf.*.rp_filter": 2},
         "ignore_failure": []},
        {"path": "/etc/sysctl.conf",
         "settings": {"net.ipv4.tcp_syncookies": "1", "net.ipv4.tcp_tw_reuse": "1",
                      "net.ipv4.tcp_tw_recycle": "1", "net.ipv4.tcp_fin_timeout": "30"},
         "lines": {"net.ipv4.tcp_syncookies": 2, "net.ipv4.tcp_tw_reuse": 3,
                   "net.ipv4.tcp_tw_recycle": 4, "net.ipv4.tcp_fin_timeout": 5},
         "ignore_failure": []},
    ],
    "effective": {
        "net.ipv4.tcp_fin_timeout": {"value": "30", "path": "/etc/sysctl.conf", "line": 5},
        "net.ipv4.conf.*.rp_filter": {"value": "2", "path": "/usr/lib/sysctl.d/50-default.conf", "line": 2},
        "net.ipv4.tcp_syncookies": {"value": "1", "path": "/etc/sysctl.conf", "line": 2},
        "net.ipv4.tcp_tw_reuse": {"value": "1", "path": "/etc/sysctl.conf", "line": 3},
        "net.ipv4.tcp_tw_recycle": {"value": "1", "path": "/etc/sysctl.conf", "line": 4},
    },
    "errors": [],
    "files_total": 2,
    "errors_total": 0,
}
# the live values of the keys the folk files set come from the modern fixture /proc, in tcp_state.sysctl:
# no tcp_tw_recycle there, and a glob key names no single sysctl, so it has no live value
FOLK_LIVE = {"net.ipv4.tcp_fin_timeout": 60, "net.ipv4.tcp_syncookies": 1, "net.ipv4.tcp_tw_recycle": None,
             "net.ipv4.tcp_tw_reuse": 2}


def assert_folk_live(state):
    assert dict((key, state["sysctl"][key]) for key in FOLK_LIVE) == FOLK_LIVE
    assert "net.ipv4.conf.*.rp_filter" not in state["sysctl"]


def test_full_from_fixture_proc(make_proc_tree):
    proc = make_proc_tree({4242: ("cw-leaker", ["socket:[1001]", "socket:[1002]"]),
                           4343: ("api", ["socket:[1003]", "socket:[3001]"]),
                           4444: ("psql", ["socket:[3002]"]),
                           4545: ("curl", ["socket:[3003]", "socket:[3004]", "socket:[3007]"])}, base="modern")
    state = _tcp_state.collect(mode="full", backend="proc", top=2, proc_root=proc)
    assert set(state) == TOP_KEYS
    assert state["backend"] == "proc" and state["mode"] == "full"
    assert state["kernel"] == "6.1.0-28-amd64"
    assert state["counts"] == {"established": 3, "syn_sent": 1, "syn_recv": 1, "fin_wait1": 1, "fin_wait2": 1,
                               "time_wait": 11, "close": 1, "close_wait": 4, "last_ack": 1, "listen": 3,
                               "closing": 1, "total": 28}
    assert state["by_family"]["ipv6"]["total"] == 6 and state["by_family"]["ipv4"]["total"] == 22
    time_wait = state["time_wait"]
    assert (time_wait["total"], time_wait["outbound"], time_wait["inbound"]) == (11, 7, 4)
    # every outbound socket counts toward its destination: 10.0.0.9 holds 4 ports and no TIME_WAIT, and its
    # FIN_WAIT2 is orphaned (inode 0), so only the curl process is seen toward it; loopback-only reuse
    # does not relieve these destinations
    assert time_wait["top_destinations"] == [
        {"address": "10.0.0.5", "port": 5432, "count": 4, "held": 5, "states": {"established": 1, "time_wait": 4},
         "time_wait_reusable": 0, "reuse_effective": False, "port_usage": round(5 / 28229, 4),
         "likely_sources": [{"pid": 4444, "comm": "psql", "count": 1}]},
        {"address": "10.0.0.9", "port": 80, "count": 0, "held": 4,
         "states": {"syn_sent": 1, "fin_wait1": 1, "fin_wait2": 1, "closing": 1},
         "time_wait_reusable": 0, "reuse_effective": False, "port_usage": round(4 / 28229, 4),
         "likely_sources": [{"pid": 4545, "comm": "curl", "count": 3}]},
    ]
    assert time_wait["likely_sources_reason"] is None
    assert time_wait["top_local_ports"] == [{"port": 80, "count": 2}, {"port": 33000, "count": 1}]
    close_wait = state["close_wait"]
    assert close_wait["total"] == 4 and close_wait["owners_available"] is True
    assert close_wait["owners_reason"] is None
    # psql and curl hold no CLOSE_WAIT: the one /proc scan looked for their sockets on behalf of time_wait
    assert close_wait["top_processes"] == [
        {"pid": 4242, "comm": "cw-leaker", "count": 2, "local_ports": [80]},
        {"pid": 4343, "comm": "api", "count": 1, "local_ports": [33010]},
    ]
    assert close_wait["processes_total"] == 2
    assert close_wait["unowned"] == 1
    assert close_wait["top_local_ports"] == [{"port": 80, "count": 2}, {"port": 22, "count": 1}]
    # top=2 keeps the two fullest accept queues (80 with 3 waiting, then the lowest port); every port stays
    assert state["listen"] == {
        "total": 3,
        "ports": [22, 80, 40005],
        "sockets": [
            {"address": "::", "port": 22, "family": "ipv6", "queue": 0, "backlog": None},
            {"address": "0.0.0.0", "port": 80, "family": "ipv4", "queue": 3, "backlog": None},
        ],
    }
    assert _tcp_state.collect(mode="full", backend="proc", top=3, proc_root=proc)["listen"] == {
        "total": 3,
        "ports": [22, 80, 40005],
        "sockets": [
            {"address": "::", "port": 22, "family": "ipv6", "queue": 0, "backlog": None},
            {"address": "0.0.0.0", "port": 80, "family": "ipv4", "queue": 3, "backlog": None},
            {"address": "127.0.0.1", "port": 40005, "family": "ipv4", "queue": 0, "backlog": None},
        ],
    }
    assert any("backlog unavailable" in warning for warning in state["warnings"])
    assert state["sockstat"] == {"inuse": 9, "orphan": 1, "tw": 11, "inuse6": 3, "host_wide": ["orphan"]}
    assert state["netfilter"]["nat_loaded"] is True


def test_auto_with_another_proc_root_reads_that_tree(modern_proc):
    state = _tcp_state.collect(backend="auto", proc_root=modern_proc)
    assert state["backend"] == "proc"
    assert state["counts"]["total"] == 28


def test_summary_reads_no_socket_table(tmp_path, modern_proc):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    os.remove(os.path.join(proc, "net", "tcp"))  # proves summary does not need it
    state = _tcp_state.collect(mode="summary", proc_root=proc)
    assert set(state) == TOP_KEYS
    for key in ("backend", "counts", "by_family", "time_wait", "close_wait", "listen"):
        assert state[key] is None
    assert state["sockstat"]["tw"] == 11
    assert state["sysctl"]["net.ipv4.tcp_tw_reuse"] == 2
    assert state["ephemeral_ports"]["usable"] == 28229


@pytest.mark.parametrize("mode", ["full", "summary"])
def test_sysctl_config_from_config_root_in_both_modes(modern_proc, mode):
    state = _tcp_state.collect(mode=mode, backend="proc", proc_root=modern_proc, config_root=FOLK_CONFIG_ROOT)
    assert state["sysctl_config"] == FOLK_SYSCTL_CONFIG
    assert_folk_live(state)


def test_sysctl_config_of_an_empty_config_root(tmp_path, modern_proc):
    state = _tcp_state.collect(mode="summary", proc_root=modern_proc, config_root=str(tmp_path))
    assert state["sysctl_config"] == {"files": [], "files_total": 0, "effective": {}, "errors": [],
                                      "errors_total": 0}
    assert list(state["sysctl"]) == list(FACT_KEYS)


def test_sysctl_holds_each_live_value_once_fact_keys_and_configured_keys(tmp_path, modern_proc):
    directory = tmp_path / "etc" / "sysctl.d"
    directory.mkdir(parents=True)
    (directory / "60-app.conf").write_text("net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.ip_local_port_range = 1024 65000\n"
                                           "kernel.not_here = 1\nnet.ipv4.conf.*.rp_filter = 2\n")
    state = _tcp_state.collect(mode="summary", proc_root=modern_proc, config_root=str(tmp_path))
    assert list(state["sysctl"]) == list(FACT_KEYS) + ["kernel.not_here"]
    assert state["sysctl"]["kernel.not_here"] is None
    assert state["sysctl"]["net.ipv4.ip_local_port_range"] == "32768 60999"
    assert "live" not in state["sysctl_config"]


def test_old_kernel_tree(old_kernel_proc):
    state = _tcp_state.collect(backend="proc", proc_root=old_kernel_proc)
    assert state["sysctl"]["net.ipv4.tcp_tw_recycle"] == 1
    assert state["sysctl"]["net.ipv4.tcp_tw_reuse_delay"] is None
    assert state["counts"]["time_wait"] == 1 and state["counts"]["established"] == 2
    assert state["time_wait"]["outbound"] == 1  # local port 40961 inside 1024-65000
    assert state["time_wait"]["top_destinations"][0]["address"] == "127.0.0.1"
    assert state["time_wait"]["top_destinations"][0]["port_usage"] == round(1 / 63977, 4)


def test_dangling_fd_directory_is_skipped(make_proc_tree):
    proc = make_proc_tree({}, base="modern")
    os.makedirs(os.path.join(proc, "77"))
    os.symlink("/nonexistent-fd-dir", os.path.join(proc, "77", "fd"))
    state = _tcp_state.collect(backend="proc", proc_root=proc)
    # a dangling fd link behaves like an exited process: skipped, nothing owned
    assert state["close_wait"]["owners_available"] is True
    assert state["close_wait"]["unowned"] == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "fast"}, "mode must be one of"),
    ({"backend": "ss"}, "backend must be one of"),
    ({"top": -1}, "top must be 0 or more"),
    ({"proc_root": "/nonexistent"}, "/nonexistent/net/sockstat is not readable"),
])
def test_bad_input_fails_clearly(kwargs, message):
    with pytest.raises(_tcp_state.TcpStateError, match=message):
        _tcp_state.collect(**kwargs)


def test_command_line_is_stdlib_only(modern_proc):
    code = ("import sys; from %s import main; rc = main(['--mode', 'summary', '--proc-root', %r]);"
            "loaded = [m for m in sys.modules if m == 'ansible' or m.startswith('ansible.')];"
            "sys.exit(rc or len(loaded))" % (ENGINE, modern_proc))
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["sockstat"]["tw"] == 11


def test_command_line_module_run(modern_proc):
    completed = subprocess.run([sys.executable, "-m", ENGINE, "--backend", "proc", "--top", "1",
                                "--proc-root", modern_proc], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    state = json.loads(completed.stdout)
    assert state["counts"]["total"] == 28
    assert len(state["time_wait"]["top_destinations"]) == 1


def test_command_line_config_root(modern_proc):
    completed = subprocess.run([sys.executable, "-m", ENGINE, "--mode", "summary", "--proc-root", modern_proc,
                                "--config-root=" + FOLK_CONFIG_ROOT], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    state = json.loads(completed.stdout)
    assert state["sysctl_config"] == FOLK_SYSCTL_CONFIG
    assert_folk_live(state)


def test_command_line_error_exit(tmp_path):
    completed = subprocess.run([sys.executable, "-m", ENGINE, "--proc-root", str(tmp_path)],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 1
    assert "net/sockstat is not readable" in completed.stderr
    completed = subprocess.run([sys.executable, "-m", ENGINE, "--bogus", "1"], capture_output=True, text=True, check=False)
    assert completed.returncode == 2 and "usage" in completed.stderr
    completed = subprocess.run([sys.executable, "-m", ENGINE, "--help"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0 and "usage" in completed.stdout


def _assert_consistent(state):
    assert set(state) == TOP_KEYS
    assert set(state["counts"]) == STATE_KEYS
    assert sum(value for key, value in state["counts"].items() if key != "total") == state["counts"]["total"]
    for key in STATE_KEYS:
        assert state["by_family"]["ipv4"][key] + state["by_family"]["ipv6"][key] == state["counts"][key]
    time_wait = state["time_wait"]
    assert time_wait["total"] == state["counts"]["time_wait"]
    assert time_wait["outbound"] + time_wait["inbound"] == time_wait["total"]
    assert sum(item["count"] for item in time_wait["top_destinations"]) <= time_wait["outbound"]
    assert state["close_wait"]["total"] == state["counts"]["close_wait"]
    assert state["listen"]["total"] == state["counts"]["listen"]


@pytest.fixture
def live_sockets():
    """Own loopback sockets in the host namespace: a listener with 2 queued connections,
    a CLOSE_WAIT this process holds, and a TIME_WAIT toward a second listener."""
    opened = []

    def keep(sock):
        opened.append(sock)
        return sock

    queued = keep(socket.socket())
    queued.bind(("127.0.0.1", 0))
    queued.listen(7)
    for _attempt in range(2):
        keep(socket.create_connection(queued.getsockname()))
    server = keep(socket.socket())
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    half_closed = keep(socket.create_connection(server.getsockname()))
    peer = server.accept()[0]
    peer.close()  # the peer closes first, half_closed stays in CLOSE_WAIT as long as we hold it
    active = socket.create_connection(server.getsockname())
    accepted = server.accept()[0]
    time.sleep(0.05)
    active.close()  # active close first: the client side ends in TIME_WAIT
    accepted.recv(1)
    accepted.close()
    time.sleep(0.1)
    yield {"queue_port": queued.getsockname()[1], "server_port": server.getsockname()[1],
           "close_wait_port": half_closed.getsockname()[1]}
    for sock in opened:
        sock.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="netlink sock_diag is Linux only")
def test_live_netlink_against_this_namespace(live_sockets):
    state = _tcp_state.collect(mode="full", backend="netlink", top=1000)
    assert state["backend"] == "netlink"
    _assert_consistent(state)
    listeners = dict((item["port"], item) for item in state["listen"]["sockets"])
    assert listeners[live_sockets["queue_port"]]["queue"] == 2
    assert listeners[live_sockets["queue_port"]]["backlog"] == 7
    assert listeners[live_sockets["server_port"]]["backlog"] == 8
    destinations = [(item["address"], item["port"]) for item in state["time_wait"]["top_destinations"]]
    assert ("127.0.0.1", live_sockets["server_port"]) in destinations
    close_wait_ports = [item["port"] for item in state["close_wait"]["top_local_ports"]]
    assert live_sockets["close_wait_port"] in close_wait_ports
    if os.geteuid() == 0:
        mine = [item for item in state["close_wait"]["top_processes"] if item["pid"] == os.getpid()]
        assert mine and live_sockets["close_wait_port"] in mine[0]["local_ports"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/net/tcp is Linux only")
def test_live_backends_agree_on_stable_sockets(live_sockets):
    by_netlink = _tcp_state.collect(backend="netlink", top=1000)
    by_proc = _tcp_state.collect(backend="proc", top=1000)
    _assert_consistent(by_proc)
    for state in (by_netlink, by_proc):
        ports = state["listen"]["ports"]
        assert live_sockets["queue_port"] in ports and live_sockets["server_port"] in ports
    queue = [item["queue"] for item in by_proc["listen"]["sockets"] if item["port"] == live_sockets["queue_port"]]
    assert queue == [2]


@pytest.mark.skipif(os.geteuid() != 0 or not sys.platform.startswith("linux"),
                    reason="needs root to switch to an unprivileged user with setpriv")
def test_live_unprivileged_run_has_no_owners_but_right_counts(live_sockets):
    completed = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", ENGINE, "--backend", "netlink", "--top", "1000"],
        capture_output=True, text=True, env=dict(os.environ), check=False)
    assert completed.returncode == 0, completed.stderr
    state = json.loads(completed.stdout)
    _assert_consistent(state)
    close_wait = state["close_wait"]
    assert close_wait["total"] >= 1
    assert close_wait["owners_available"] is False
    assert "not readable" in close_wait["owners_reason"]
    assert close_wait["top_processes"] == [] and close_wait["unowned"] is None
    assert any("owners unavailable" in warning for warning in state["warnings"])
    # the likely sources need the same fd tables: unknown, with the same reason, never a partial list
    time_wait = state["time_wait"]
    assert time_wait["likely_sources_reason"] == close_wait["owners_reason"]
    assert time_wait["top_destinations"] and all(d["likely_sources"] is None for d in time_wait["top_destinations"])


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists("/proc/net/tcp6"),
                    reason="needs Linux with IPv6")
def test_live_ipv6_time_wait_is_not_skipped():
    server = socket.socket(socket.AF_INET6)
    server.bind(("::1", 0))
    server.listen(4)
    client = socket.create_connection(server.getsockname()[:2])
    accepted = server.accept()[0]
    local_port = client.getsockname()[1]
    client.close()  # active close: the client side of this IPv6 pair goes to TIME_WAIT
    accepted.recv(1)
    accepted.close()
    server.close()
    time.sleep(0.1)
    state = _tcp_state.collect(backend="netlink", top=100000)
    _assert_consistent(state)
    assert state["by_family"]["ipv6"]["time_wait"] >= 1
    assert local_port in [item["port"] for item in state["time_wait"]["top_local_ports"]]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the live /proc")
def test_auto_falls_back_to_proc_with_a_warning(netlink_refused):
    state = _tcp_state.collect(backend="auto")
    assert state["backend"] == "proc"
    _assert_consistent(state)
    assert any("netlink sock_diag not usable" in warning and "Operation not permitted" in warning
               for warning in state["warnings"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the live /proc")
def test_explicit_netlink_fails_when_refused(netlink_refused):
    with pytest.raises(_tcp_state.TcpStateError, match="backend netlink requested but not usable: .*not permitted"):
        _tcp_state.collect(backend="netlink")


# -- odd host data and bounded results ---------------------------------------------------------------

def _listener_line(number, port):
    return ("%4d: 0100007F:%04X 00000000:0000 0A 00000000:%08X 00:00000000 00000000     0        0 %d 1 0 100 0 0 10 0\n"
            % (number, port, number % 7, 50000 + number))


def _proc_with_listeners(modern_proc, tmp_path, count, garbage_lines=0):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    with open(proc + "/net/tcp", "a") as handle:
        for number in range(count):
            handle.write(_listener_line(number, 1024 + number))
        handle.write("garbage line\n" * garbage_lines)
    return proc


def test_ten_thousand_listeners_make_a_small_result(modern_proc, tmp_path):
    proc = _proc_with_listeners(modern_proc, tmp_path, 10000, garbage_lines=100000)
    state = _tcp_state.collect(mode="full", backend="proc", top=10, proc_root=proc)
    listen = state["listen"]
    assert listen["total"] == 10003 and len(listen["sockets"]) == 10
    # the fullest queues are kept: the planted listeners with 6 waiting, then 80 with 3 waiting
    assert sorted(item["queue"] for item in listen["sockets"]) == [6] * 10
    assert len(listen["ports"]) == 10003
    assert len(state["errors"]) <= _tcp_state.MAX_MESSAGES and state["errors_total"] == 6
    assert len(json.dumps(state)) < 96 * 1024


def _worst_sysctl_tree(root):
    """100 sysctl files of 40 settings with the longest keys and values allowed, and 1,000 bad lines each."""
    from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import files as _sysctl_files

    directory = os.path.join(root, "etc", "sysctl.d")
    os.makedirs(directory)
    key_tail = "k" * (_sysctl_files.MAX_KEY_LENGTH - 20)
    value = "v" * (_sysctl_files.MAX_VALUE_LENGTH - 1)
    for number in range(100):
        with open(os.path.join(directory, "%03d-%s.conf" % (number, "n" * 200)), "w") as handle:
            handle.write("".join("net.k%03d.%s%d = %s\n" % (number, key_tail, key, value) for key in range(40)))
            handle.write(("%s\n" % ("g" * 200)) * 1000)


def test_worst_case_result_size_at_ten_thousand_listeners(modern_proc, tmp_path):
    proc = _proc_with_listeners(modern_proc, tmp_path, 10000, garbage_lines=100000)
    with open(proc + "/sys/net/ipv4/ip_local_reserved_ports", "w") as handle:
        handle.write("1024-65535\n")
    _worst_sysctl_tree(str(tmp_path / "root"))
    state = _tcp_state.collect(mode="full", backend="proc", top=10, proc_root=proc, config_root=str(tmp_path / "root"))
    ports = len(json.dumps(state["listen"]["ports"]))
    assert ports <= 7 * len(state["listen"]["ports"])
    assert len(json.dumps(state)) - ports < _tcp_state.RESULT_SIZE_BOUND, len(json.dumps(state)) - ports


def test_messages_are_bounded_with_their_totals(modern_proc, tmp_path, make_proc_tree):
    processes = dict((1000 + number, ("x", ["socket:[1001]"])) for number in range(_tcp_state.MAX_MESSAGES + 30))
    proc = make_proc_tree(processes, base="modern")
    for pid in processes:
        with open(os.path.join(proc, str(pid), "comm"), "wb") as handle:
            handle.write(b"\xff\xfe\n")
    state = _tcp_state.collect(mode="full", backend="proc", top=3, proc_root=proc)
    assert state["errors_total"] == _tcp_state.MAX_MESSAGES + 30 and len(state["errors"]) == _tcp_state.MAX_MESSAGES
    assert state["warnings_total"] >= state["errors_total"] and len(state["warnings"]) == _tcp_state.MAX_MESSAGES
    assert state["close_wait"]["processes_total"] == _tcp_state.MAX_MESSAGES + 30
    assert len(state["close_wait"]["top_processes"]) == 3
    assert state["close_wait"]["top_processes"][0]["comm"] == u"\ufffd\ufffd"


def test_reserved_ports_list_is_bounded_by_top(modern_proc, tmp_path):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    with open(proc + "/sys/net/ipv4/ip_local_reserved_ports", "w") as handle:
        handle.write("1024-65535\n")
    ephemeral = _tcp_state.collect(mode="summary", top=5, proc_root=proc)["ephemeral_ports"]
    assert ephemeral["reserved"] == [1024, 1025, 1026, 1027, 1028]
    assert ephemeral["reserved_total"] == 64512 and ephemeral["reserved_in_range"] == 28232


@pytest.mark.parametrize("mode", ["full", "summary"])
def test_hostile_proc_and_config_trees_still_give_facts(modern_proc, tmp_path, mode):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    with open(proc + "/net/sockstat", "w") as handle:
        handle.write("TCP: inuse ? orphan 1 tw 11 alloc 9 mem 1\n")
    os.unlink(proc + "/net/snmp")
    os.mkfifo(proc + "/net/snmp")
    config = tmp_path / "root" / "etc" / "sysctl.d"
    config.mkdir(parents=True)
    os.mkfifo(str(config / "82-fifo.conf"))
    (config / "83-nul.conf").write_bytes(b"net.ipv4.tcp_fin\x00_timeout = 30\n")
    started = time.monotonic()
    state = _tcp_state.collect(mode=mode, backend="proc", proc_root=proc, config_root=str(tmp_path / "root"))
    assert time.monotonic() - started < 10
    assert state["sockstat"]["inuse"] is None and state["sockstat"]["tw"] == 11
    assert state["counters"]["CurrEstab"] is None and state["sysctl"]["net.ipv4.tcp_tw_reuse"] == 2
    assert state["errors"][:2] == ["%s/net/snmp unreadable: a FIFO, not a regular file: not read" % proc,
                                   "%s/net/sockstat: TCP fields not integers (inuse): read as null" % proc]
    assert state["errors"][2:4] == [
        "sysctl configuration: /etc/sysctl.d/82-fifo.conf: a FIFO, not a regular file: not read",
        "sysctl configuration: /etc/sysctl.d/83-nul.conf line 1: key 'net.ipv4.tcp_fin\\x00_timeout' holds a"
        " control character, a NUL byte, a space or invalid UTF-8"]
    assert all(error in state["warnings"] for error in state["errors"])
    if mode == "full":
        assert state["counts"]["total"] == 28


def test_collected_at_is_utc():
    import re

    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    stamp = _tcp_state.collect(mode="summary")["collected_at"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", stamp) and stamp >= before


def test_time_wait_destination_no_kernel_writes_is_ranked_not_fatal(modern_proc, tmp_path):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    with open(proc + "/net/tcp", "a") as handle:
        for number in range(5):
            handle.write("  %d: 0100007F:9C50 ZZ:XX 06 00000000:00000000 03:00000000 00000000 0 0 0 1\n" % (80 + number))
    destinations = _tcp_state.collect(mode="full", backend="proc", top=10, proc_root=proc)["time_wait"]["top_destinations"]
    # as many ports held as toward 10.0.0.5:5432 (5): the address breaks the tie
    assert destinations[0]["address"] == "10.0.0.5" and destinations[0]["held"] == 5
    assert destinations[1] == {"address": "ZZ:XX", "port": None, "count": 5, "held": 5, "states": {"time_wait": 5},
                               "time_wait_reusable": 0, "reuse_effective": False,
                               "port_usage": round(5 / 28229, 4), "likely_sources": []}


# -- port headroom: every state, TIME_WAIT reuse, likely sources -------------------------------------------

def _headroom_tree(make_proc_tree, tmp_path, reuse, timestamps=1, delay=None):
    """The modern tree with tcp_tw_reuse/timestamps set, 6 more TIME_WAIT toward 10.0.0.5:5432 (2 of them
    younger than the reuse delay) and 3 toward 127.0.0.9:6379 (1 young), and a process holding the
    ESTABLISHED socket toward 10.0.0.5:5432."""
    proc = make_proc_tree({4444: ("psql", ["socket:[3002]"])}, base="modern")
    sys_ipv4 = os.path.join(proc, "sys", "net", "ipv4")
    for name, value in (("tcp_tw_reuse", reuse), ("tcp_timestamps", timestamps), ("tcp_tw_reuse_delay", delay)):
        if value is None:
            os.unlink(os.path.join(sys_ipv4, name))
        else:
            with open(os.path.join(sys_ipv4, name), "w") as handle:
                handle.write("%s\n" % value)
    ticks = os.sysconf("SC_CLK_TCK")
    young, old = 59950 * ticks // 1000, 30000 * ticks // 1000
    timers = [("0500000A:1538", when) for when in (young, young, old, old, old, old)]
    timers += [("0900007F:18EB", when) for when in (young, old, old)]
    with open(os.path.join(proc, "net", "tcp"), "a") as handle:
        for number, (remote, when) in enumerate(timers):
            handle.write("  %d: 0A0200C0:%04X %s 06 00000000:00000000 03:%08X 00000000 0 0 0 3\n"
                         % (200 + number, 0x9100 + number, remote, when))
    return proc


def _by_address(state):
    return dict((d["address"], d) for d in state["time_wait"]["top_destinations"])


@pytest.mark.parametrize("reuse, timestamps, effective", [(1, 1, "all"), (2, 1, "loopback"), (1, 0, "none"),
                                                          (0, 1, "none")])
def test_reusable_time_wait_lowers_port_usage_where_reuse_applies(make_proc_tree, tmp_path, reuse, timestamps,
                                                                  effective):
    proc = _headroom_tree(make_proc_tree, tmp_path, reuse, timestamps)
    state = _tcp_state.collect(backend="proc", proc_root=proc, top=10)
    assert state["ephemeral_ports"]["reuse"] == {"effective": effective, "delay_ms": 1000}
    remote, loopback = _by_address(state)["10.0.0.5"], _by_address(state)["127.0.0.9"]
    # 4 + 6 TIME_WAIT (the fixture's 4 have a full 60 s timer: all young) and 1 ESTABLISHED
    assert (remote["count"], remote["held"], remote["states"]) == (10, 11, {"established": 1, "time_wait": 10})
    assert (loopback["count"], loopback["held"]) == (3, 3)
    assert remote["reuse_effective"] is (effective == "all")
    assert loopback["reuse_effective"] is (effective in ("all", "loopback"))
    assert remote["time_wait_reusable"] == (4 if effective == "all" else 0)
    assert loopback["time_wait_reusable"] == (2 if effective != "none" else 0)
    for entry in (remote, loopback):
        assert entry["port_usage"] == round((entry["held"] - entry["time_wait_reusable"]) / 28229, 4)
    assert remote["likely_sources"] == [{"pid": 4444, "comm": "psql", "count": 1}]
    assert loopback["likely_sources"] == []


def test_reuse_delay_decides_which_time_wait_is_young(make_proc_tree, tmp_path):
    # a 45 s delay: the TIME_WAIT with 30 s left (30 s old) are still too young to reuse
    state = _tcp_state.collect(backend="proc", proc_root=_headroom_tree(make_proc_tree, tmp_path, 1, delay=45000))
    assert state["ephemeral_ports"]["reuse"] == {"effective": "all", "delay_ms": 45000}
    assert _by_address(state)["10.0.0.5"]["time_wait_reusable"] == 0


def test_kernel_without_the_delay_key_reuses_after_one_second(make_proc_tree, tmp_path):
    state = _tcp_state.collect(backend="proc", proc_root=_headroom_tree(make_proc_tree, tmp_path, 1, delay=None))
    assert state["sysctl"]["net.ipv4.tcp_tw_reuse_delay"] is None
    assert state["ephemeral_ports"]["reuse"] == {"effective": "all", "delay_ms": 1000}
    assert _by_address(state)["10.0.0.5"]["time_wait_reusable"] == 4


def test_ranked_by_port_usage_then_held_and_bounded_by_top(make_proc_tree, tmp_path):
    proc = _headroom_tree(make_proc_tree, tmp_path, 1)
    state = _tcp_state.collect(backend="proc", proc_root=proc, top=10)
    ranked = [(d["port_usage"], d["held"], d["address"], d["port"]) for d in state["time_wait"]["top_destinations"]]
    assert ranked == sorted(ranked, key=lambda item: (-item[0], -item[1], ipaddress.ip_address(item[2]), item[3]))
    # 11 held - 4 reusable toward 10.0.0.5 outranks 4 held toward 10.0.0.9 (no TIME_WAIT)
    assert [item[2] for item in ranked[:2]] == ["10.0.0.5", "10.0.0.9"]
    assert len(_tcp_state.collect(backend="proc", proc_root=proc, top=1)["time_wait"]["top_destinations"]) == 1
    assert _tcp_state.collect(backend="proc", proc_root=proc, top=0)["time_wait"]["top_destinations"] == []


def test_tied_destinations_are_listed_by_the_lower_address_numerically_then_port(make_proc_tree, tmp_path):
    proc = make_proc_tree({}, base="modern")
    # 10.0.1.10:80, 10.0.1.9:80 and 10.0.1.9:22, 7 TIME_WAIT each: more than any other destination
    remotes = ["0A01000A:0050", "0901000A:0050", "0901000A:0016"]
    with open(os.path.join(proc, "net", "tcp"), "a") as handle:
        for number in range(21):
            handle.write("  %d: 0A0200C0:%04X %s 06 00000000:00000000 03:00001000 00000000 0 0 0 3\n"
                         % (300 + number, 0x9300 + number, remotes[number % 3]))
    top = _tcp_state.collect(backend="proc", proc_root=proc, top=3)["time_wait"]["top_destinations"]
    # as text, "10.0.1.10" would come before "10.0.1.9"
    assert [(d["address"], d["port"], d["held"]) for d in top] == [
        ("10.0.1.9", 22, 7), ("10.0.1.9", 80, 7), ("10.0.1.10", 80, 7)]


def test_unknown_port_range_gives_no_destinations_and_null_usage(make_proc_tree, tmp_path):
    proc = _headroom_tree(make_proc_tree, tmp_path, 1)
    os.unlink(os.path.join(proc, "sys", "net", "ipv4", "ip_local_port_range"))
    time_wait = _tcp_state.collect(backend="proc", proc_root=proc)["time_wait"]
    assert time_wait["outbound"] is None and time_wait["top_destinations"] == []
    assert time_wait["likely_sources_reason"] is None


def test_a_surveyed_namespace_keeps_no_socket_tally_until_it_is_completed(make_proc_tree):
    """What waits for the second pass of namespaces: all is small: the per-port tables of the dump
    (two 65,536-entry lists) are gone once the survey returns."""
    import gc

    proc = make_proc_tree({4444: ("psql", ["socket:[3002]"])}, base="modern")
    entry, complete = _tcp_state.survey_namespace("proc", 10, proc, [], [], None, proc)
    gc.collect()
    assert not [item for item in gc.get_objects() if isinstance(item, _tcp_state.SocketTally)]
    assert entry["close_wait"]["owners_available"] is False and set(entry["sysctl"]) == set(
        _tcp_state.kernel_state.HEADROOM_KEYS)
    complete([], [], proc)
    assert entry["close_wait"]["owners_available"] is True
    assert set(entry["sysctl"]) == set(_tcp_state.FACT_KEYS)
    assert [s["pid"] for d in entry["time_wait"]["top_destinations"] for s in d["likely_sources"]] == [4444]


def test_a_surveyed_namespace_reads_its_sockets_under_the_thread_proc_it_is_given(make_proc_tree, tmp_path):
    """A worker thread's namespace shows under its own /proc directory (``own_proc``), not under
    ``proc_root/net``, which follows the main thread: the sockets come from ``own_proc/net``."""
    import shutil

    proc = make_proc_tree({}, base="modern")
    own = tmp_path / "thread"
    shutil.copytree(os.path.join(proc, "net"), str(own / "net"))
    for name in ("tcp", "tcp6"):  # the namespace the thread is in: no socket at all
        with open(str(own / "net" / name)) as handle:
            header = handle.readline()
        (own / "net" / name).write_text(header)
    main_view = _tcp_state.survey_namespace("proc", 10, proc, [], [], None, proc)[0]
    thread_view = _tcp_state.survey_namespace("proc", 10, proc, [], [], None, str(own))[0]
    assert main_view["counts"]["total"] > 0 and thread_view["counts"]["total"] == 0


def test_the_netlink_dump_reads_sockstat_under_the_thread_proc_it_is_given(monkeypatch):
    read = []

    def live_counts(path):
        read.append(path)
        return 0, 0, 0

    def collect_sockets(tally, counts):
        counts()
    monkeypatch.setattr(_tcp_state.kernel_state, "read_live_socket_counts", live_counts)
    monkeypatch.setattr(_sockdiag, "collect_sockets", collect_sockets)
    ephemeral = {"low": 32768, "high": 60999, "size": 28232, "reserved": [], "reserved_in_range": 0, "usable": 28232}
    _tcp_state._dump_sockets(ephemeral, "netlink", "/proc", [], [], "/proc/self/task/7")
    assert read == ["/proc/self/task/7"]
