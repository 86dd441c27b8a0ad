"""The one-line conflict summary the role prints."""

from ansible_collections.tcpops.timewait.plugins.filter.tuning_conflict_line import FilterModule


def test_fixed_and_unfixed_conflicts_read_differently():
    line = FilterModule().filters()["tuning_conflict_line"]
    conflict = {"path": "/etc/sysctl.conf", "line": 7, "key": "net.ipv4.tcp_tw_recycle", "value": "1",
                "kind": "obsolete", "reason": "no such key", "fixed": False, "how_to_fix": "set fix_conflicts"}
    assert line(conflict) == "/etc/sysctl.conf:7 net.ipv4.tcp_tw_recycle = 1 (obsolete: no such key; set fix_conflicts)"
    assert line(dict(conflict, fixed=True)).endswith("; fixed)")
