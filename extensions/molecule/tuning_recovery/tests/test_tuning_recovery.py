"""Every refusal left the host as its snapshot; every recovery brought back the original live values exactly.

converge.yml wrote /root/snap/NAME.txt after each step; a name ``X--BASE`` must equal snapshot BASE.
The shared ``reader`` fixture (testinfra's file module over ``podman exec``) reads all of them once.
"""

import difflib
import json

import pytest

# Every comparison converge.yml makes: a missing snapshot fails the run instead of passing it by.
EXPECTED = sorted(
    ["damaged-%s-%s--damaged-%s" % (case, state, case)
     for case in ("empty", "foreign-key", "bad-value")
     for state in ("present", "absent")]
    + ["missing-present--missing", "damage-absent--original", "switch-absent--original",
       "interrupted-save-absent--original",
       "interrupted-apply-present-absent--original", "ro-switch--client-again",
       "ro-absent--client-again", "ro-recovered--original", "etc-state-absent--original",
       "facts-absent--original"])
SWITCHED_BACK = ("net.ipv4.tcp_tw_reuse", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
                 "net.ipv4.tcp_max_tw_buckets")


_STATE = {}


def collect(reader):
    snaps = dict((name[:-4], reader.text("/root/snap/" + name)) for name in reader.names("/root/snap")
                 if name.endswith(".txt"))
    return {"snaps": snaps, "switch": reader.text("/root/switch_result.json"),
            "auto": reader.text("/root/auto_result.json"), "discard": reader.text("/root/discard_result.json")}


@pytest.fixture
def state(reader):
    if not _STATE:
        _STATE.update(collect(reader))
    return _STATE


def section(text, name):
    lines = text.splitlines()
    start = lines.index("## %s" % name) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def sysctl(snaps, name):
    return dict(line.split(" = ", 1) for line in section(snaps[name], "sysctl") if " = " in line)


def test_every_comparison_was_made(state):
    assert sorted(name for name in state["snaps"] if "--" in name) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_snapshot_matches_its_base(state, name):
    base = name.split("--")[1]
    before = state["snaps"][base].splitlines()
    after = state["snaps"][name].splitlines()
    assert len(section(state["snaps"][base], "sysctl")) > 50
    assert list(difflib.unified_diff(before, after, base, name, lineterm="")) == []


def test_the_damaged_file_itself_is_kept_as_it_was(state):
    text = state["snaps"]["damaged-empty-absent--damaged-empty"]
    assert section(text, "restore files") == ["== /var/lib/tcpops-timewait/tcp_tuning.json", ""]
    assert "90-tcpops-timewait.conf" in section(text, "sysctl.d")


def test_the_originals_differ_from_the_tuned_values(state):
    """Otherwise every '--original' comparison would prove nothing."""
    original, client = sysctl(state["snaps"], "original"), sysctl(state["snaps"], "client")
    assert original["net.ipv4.tcp_tw_reuse"] == "0" and client["net.ipv4.tcp_tw_reuse"] == "1"
    assert original["net.ipv4.ip_local_port_range"] != client["net.ipv4.ip_local_port_range"]


def test_the_switch_to_server_gave_back_the_client_only_keys(state):
    original, server = sysctl(state["snaps"], "original"), sysctl(state["snaps"], "server")
    for key in SWITCHED_BACK:
        assert server[key] == original[key], key
    assert server["net.core.somaxconn"] == "4096" and original["net.core.somaxconn"] == "1024"
    client = sysctl(state["snaps"], "client")
    released = json.loads(state["switch"])["released"]
    assert sorted(change["key"] for change in released) == sorted(
        key for key in SWITCHED_BACK if client[key] != original[key])
    assert "net.ipv4.tcp_tw_reuse" in [change["key"] for change in released]
    restore = "\n".join(section(state["snaps"]["server"], "restore files"))
    assert "net.ipv4.tcp_tw_reuse" not in restore and "net.core.somaxconn" in restore


def test_interruptions_left_the_live_values_untouched(state):
    original = sysctl(state["snaps"], "original")
    for name in ("interrupted-save", "interrupted-apply"):
        assert sysctl(state["snaps"], name) == original, name
    save, apply = state["snaps"]["interrupted-save"], state["snaps"]["interrupted-apply"]
    assert "90-tcpops-timewait.conf" not in section(save, "sysctl.d")
    assert "== /var/lib/tcpops-timewait/tcp_tuning.json" in section(save, "restore files")
    assert "90-tcpops-timewait.conf" in section(apply, "sysctl.d")


def test_a_restore_file_in_etc_leaves_etc_at_its_mode(state):
    assert section(state["snaps"]["etc-state"], "modes") == ["/etc 755"]
    assert "== /etc/tcp_tuning.json" in section(state["snaps"]["etc-state"], "restore files")


def test_auto_planned_from_fresh_facts_not_the_cache(state):
    result = json.loads(state["auto"])
    # the cache said 5000 outbound TIME_WAIT and 3001 listeners: proxy, reserving 3001 ports
    assert result["profile"] == "server"
    assert "5000 outbound" not in result["reason"]
    assert "net.ipv4.ip_local_reserved_ports" not in result["rendered"]


def test_discarding_restores_nothing_and_keeps_the_damaged_file(state):
    result = json.loads(state["discard"])
    assert result["restored"] == {} and result["live_changes"] == []
    text = state["snaps"]["discarded"]
    assert "90-tcpops-timewait.conf" not in section(text, "sysctl.d")
    restore = section(text, "restore files")
    assert restore[:2] == ["== /var/lib/tcpops-timewait/tcp_tuning.json.discarded", "not json {"]
    # the live values stay tuned: the originals were in the discarded file (documented)
    assert sysctl(state["snaps"], "discarded")["net.ipv4.tcp_tw_reuse"] == "1"
