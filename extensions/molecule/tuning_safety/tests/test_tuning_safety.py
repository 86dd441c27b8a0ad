"""Refusals change nothing; absent brings back the live values from before the role, exactly.

One command per container, through ``podman exec`` (the shared ``container`` fixture), collects
everything; the snapshot is the same one prepare.yml wrote to /root/before.txt.
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
COLLECT = (
    "{ %s; } > /tmp/now.txt; python3 -c '"
    "import json, os, subprocess\n"
    "def read(path):\n"
    "    try:\n"
    "        return open(path).read()\n"
    "    except (IOError, OSError):\n"
    "        return None\n"
    "write = subprocess.call([\"sysctl\", \"-qw\", \"net.ipv4.tcp_syncookies=1\"])\n"
    "print(json.dumps({\"before\": read(\"/root/before.txt\"), \"now\": read(\"/tmp/now.txt\"),\n"
    "    \"absent\": read(\"/root/absent_result.json\"), \"write_rc\": write,\n"
    "    \"paths\": dict((p, os.path.exists(p)) for p in (\"/etc/sysctl.d/90-tcpops-timewait.conf\",\n"
    "        \"/var/lib/tcpops-timewait/tcp_tuning.json\", \"/var/lib/tcpops-timewait\"))}))'"
) % SNAPSHOT

_STATES = {}


@pytest.fixture
def state(host, container):
    name = host.backend.get_hostname()
    if name not in _STATES:
        _STATES[name] = json.loads(container.check_output("bash -c %s", COLLECT))
        _STATES[name]["name"] = name
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
