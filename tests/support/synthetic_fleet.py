"""A synthetic fleet: registered ``tcp_state_facts`` results for any number of hosts, run after run.

Built from the unit-test fixture and varied per host: port usage (rising over the runs for the hosts
that end up failing), TIME_WAIT toward three destinations of which the first is one of three shared
databases, the per-destination breakdown (held sockets, states, reusable TIME_WAIT, likely sources),
CLOSE_WAIT owners known or not, filling listen queues, unreachable hosts, hostile process names and
a hostile destination address. The HTML Chromium tests and ``make bench-html`` use it.
"""

import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "audit" / "tcp_state_clean.json"
HOSTILE_COMM = "<script>x"
HOSTILE_ADDRESS = '10.9.9.9"><img src=x>'
SHARED_DATABASES = ("10.20.0.10", "10.20.0.11", "10.20.0.12")
_FIXTURE_TEXT = FIXTURE.read_text()


def host_name(index):
    return "app-%03d.dc1.example" % index


def destination_address(index, rank):
    """The first destination of every host is a shared database; the others are the host's own."""
    if rank == 0:
        return SHARED_DATABASES[index % len(SHARED_DATABASES)]
    return "10.0.%d.%d" % (index % 250, 5 + rank)


def _destination(index, rank, count, usable):
    established = 3 + (index + rank) % 7
    reuse = index % 4 == 3
    reusable = count // 10 if reuse else 0
    held = count + established
    return {
        "address": destination_address(index, rank), "port": 5432 + rank, "count": count,
        "held": held, "states": {"established": established, "time_wait": count},
        "time_wait_reusable": reusable, "reuse_effective": reuse,
        "port_usage": round((held - reusable) / float(usable), 4),
        "likely_sources": None if index % 10 == 0 else [
            {"pid": 4000 + index, "comm": HOSTILE_COMM if index % 15 == 0 else "java", "count": established}],
    }


def synthetic_result(index, run):
    """A registered tcp_state_facts result for host ``index`` in run ``run`` (0 = oldest)."""
    if index % 97 == 5:
        return {"unreachable": True, "msg": "ssh: connect to host %s port 22: <b>No route</b>" % host_name(index)}
    facts = json.loads(_FIXTURE_TEXT)
    usable = facts["ephemeral_ports"]["usable"]
    usage = ((index * 37) % 100) / 100.0 * (0.6 + 0.2 * run)
    count = int(usage * usable)
    facts["time_wait"]["top_destinations"] = [
        _destination(index, rank, max(1, count // (rank + 1)), usable) for rank in range(3)]
    facts["time_wait"]["likely_sources_reason"] = "not root" if index % 10 == 0 else None
    facts["ephemeral_ports"]["reuse"] = {"effective": "all" if index % 4 == 3 else "loopback", "delay_ms": 1000}
    facts["sysctl"]["net.ipv4.tcp_tw_reuse"] = 1 if index % 4 == 3 else 2  # what that reuse comes from
    facts["time_wait"]["top_local_ports"] = [{"port": 1024 + p, "count": 10 - p} for p in range(10)]
    facts["counts"]["time_wait"] = facts["time_wait"]["total"] = sum(
        d["count"] for d in facts["time_wait"]["top_destinations"]) + 40
    facts["time_wait"]["outbound"] = facts["counts"]["time_wait"] - 10
    close_wait = 0 if index % 5 else 40 + index % 300
    facts["counts"]["close_wait"] = facts["close_wait"]["total"] = close_wait
    facts["close_wait"]["top_processes"] = []
    if index % 10 == 0:
        facts["close_wait"].update(owners_available=False, owners_reason="not root", top_processes=[])
    elif close_wait:
        facts["close_wait"]["top_processes"] = [
            {"pid": 4000 + index, "comm": HOSTILE_COMM if index % 15 == 0 else "java", "count": close_wait,
             "local_ports": [8080]}]
    if index % 25 == 1:
        facts["listen"]["sockets"].append({"address": "0.0.0.0", "port": 8443, "family": "ipv4", "queue": 120,
                                           "backlog": 128})
    if index == 2:
        facts["time_wait"]["top_destinations"][0]["address"] = HOSTILE_ADDRESS
    facts["counts"]["established"] = 100 + (index * 13) % 900
    facts["sysctl_config"] = {"files": [], "effective": {}, "live": {}, "errors": []}
    return {"changed": False, "ansible_facts": {"tcp_state": facts}}


def remediation_outcome(index):
    """What remediate would record for host ``index``: most applied, some failed, unreachable or not attempted."""
    if index % 7 == 3:
        return {"status": "failed", "task": "Apply the sysctl file",
                "reason": "tcp_tuning refused, nothing was changed: <i>conflict</i> in /etc/sysctl.conf"}
    if index % 97 == 5:
        return {"status": "unreachable", "task": None, "reason": "ssh: connect to host: No route"}
    if index % 11 == 4:
        return {"status": "not_attempted", "task": None,
                "reason": "remediation stopped: 2 of 40 hosts failed, more than tcp_remediate_max_fail_percentage=0%"}
    if index % 3:
        return None
    return {"status": "applied", "task": None, "reason": None}
