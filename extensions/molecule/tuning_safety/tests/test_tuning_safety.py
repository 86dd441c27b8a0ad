"""Refusals change nothing; absent brings back the live values from before the role, exactly.

Each container is read once through the shared ``reader`` fixture (testinfra's file and command
modules over ``podman exec``); the snapshot command is the one prepare.yml wrote /root/before.txt with.
"""

import difflib
import json

import pytest

SNAPSHOT = (
    "export LC_ALL=C; set -o pipefail; {"
    " sysctl -a 2>/dev/null | grep -E '^net\\.(ipv4\\.(tcp_|ip_local_)|core\\.somaxconn|"
    "netfilter\\.nf_conntrack_(max|tcp_timeout_time_wait))' | LC_ALL=C sort;"
    " ls -A /etc/sysctl.d; find /var/lib/tcpops-timewait -type f 2>/dev/null || true;"
    " cat /etc/sysctl.conf 2>/dev/null || true;"
    " head -n 1000 /etc/sysctl.d/*.conf 2>/dev/null || true; }"
)
PATHS = ("/etc/sysctl.d/90-tcpops-timewait.conf", "/var/lib/tcpops-timewait/tcp_tuning.json", "/var/lib/tcpops-timewait")

_STATES = {}


def collect(reader, name):
    now = reader.run("bash -c %s", SNAPSHOT)
    assert now["rc"] == 0, now["stderr"]
    return {"name": name, "before": reader.text("/root/before.txt"), "now": now["stdout"],
            "absent": reader.text("/root/absent_result.json"),
            # writing the value it already has: a no-op where allowed, EACCES/EROFS where not
            "write_rc": reader.run("sysctl -qw net.ipv4.tcp_syncookies=1")["rc"],
            "paths": dict((path, reader.exists(path)) for path in PATHS)}


@pytest.fixture
def state(host, reader):
    name = host.backend.get_hostname()
    if name not in _STATES:
        _STATES[name] = collect(reader, name)
    return _STATES[name]


def test_nothing_changed_since_prepare(state):
    """Refused hosts after converge, check and idempotence; the restore host after present then absent."""
    before = state["before"].splitlines()
    now = state["now"].splitlines()
    assert len(before) > 50
    assert list(difflib.unified_diff(before, now, "before", "now", lineterm="")) == []


def test_no_file_and_no_saved_state_left(state):
    assert not state["paths"]["/etc/sysctl.d/90-tcpops-timewait.conf"]
    assert not state["paths"]["/var/lib/tcpops-timewait/tcp_tuning.json"]
    # refused hosts never got as far as creating the directory
    assert state["paths"]["/var/lib/tcpops-timewait"] == (state["name"] == "tuning_safety-restore-d13")


def test_restore_brought_back_the_non_default_values(state):
    if state["name"] != "tuning_safety-restore-d13":
        assert state["absent"] is None
        return
    now = state["now"]
    for line in ("net.ipv4.tcp_tw_reuse = 0", "net.ipv4.tcp_fin_timeout = 45",
                 "net.ipv4.ip_local_reserved_ports = 5000,40000-40002",
                 "net.ipv4.ip_local_port_range = 30000\t60999"):
        assert line in now.splitlines()
    reported = json.loads(state["absent"])
    changed = sorted(change["key"] for change in reported["live_changes"])
    # what the client profile had changed, and nothing else
    assert changed == ["net.ipv4.ip_local_port_range", "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_tw_reuse"]


def test_only_the_unprivileged_container_is_read_only(state):
    # writing the value it already has: a no-op where allowed, EACCES/EROFS where not
    assert (state["write_rc"] != 0) == (state["name"] == "tuning_safety-unprivileged-d13")
