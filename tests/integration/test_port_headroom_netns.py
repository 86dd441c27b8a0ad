"""Port headroom per destination on real sockets: every state counts, TIME_WAIT reuse relieves, the
likely source is named.

Each test plants into a fresh network namespace with a small ephemeral range (1,000 ports), runs the
engine inside it and judges the facts with the audit rule ``time_wait_port_exhaustion``. Where the
kernel itself can confirm a verdict, a connect() probe inside the namespace does: EADDRNOTAVAIL means
no local port was left toward that destination, ECONNREFUSED that one was found (nothing listens).
"""

import time

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules

pytestmark = pytest.mark.root

PORT_RANGE = (40000, 40999)
USABLE = 1000
RULE = "time_wait_port_exhaustion"
CLIENT = "tw-client"
BACKENDS = ("netlink", "proc")


def verdict(facts):
    found = [f for f in rules.evaluate(facts) if f["id"] == RULE]
    return found[0]


def destination(facts, address, port):
    entries = [d for d in facts["time_wait"]["top_destinations"] if (d["address"], d["port"]) == (address, port)]
    assert len(entries) == 1, facts["time_wait"]["top_destinations"]
    return entries[0]


def ss_sockets_toward(ns, address, port):
    """``ss``'s count of the sockets toward address:port holding a local port of the ephemeral range."""
    lines = ns.run(["ss", "-Htan", "dst", "%s:%d" % (address, port)]).stdout.splitlines()
    local_ports = [int(line.split()[3].rsplit(":", 1)[1]) for line in lines if line.strip()]
    return sum(1 for local in local_ports if PORT_RANGE[0] <= local <= PORT_RANGE[1])


@pytest.fixture(scope="module")
def mixed(planter, run_engine):
    """300 TIME_WAIT and 250 live connections of one client process toward 127.0.0.7:8080."""
    with planter.Namespace(port_range=PORT_RANGE) as ns:
        planter.plant_time_wait(ns, [("127.0.0.7", 8080, 300)], verify=True)
        client = planter.plant_clients(ns, "127.0.0.7", 8080, 250, comm=CLIENT)
        facts = dict((backend, run_engine(ns, backend)) for backend in BACKENDS)
        nobody = run_engine(ns, as_nobody=True)
        ss_count = ss_sockets_toward(ns, "127.0.0.7", 8080)
        age = time.monotonic() - ns.planted_at
    return {"facts": facts, "nobody": nobody, "client": client, "ss": ss_count, "age": age}


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_risk_only_when_established_and_time_wait_count_together(mixed, backend):
    assert mixed["age"] < 50
    facts = mixed["facts"][backend]
    entry = destination(facts, "127.0.0.7", 8080)
    assert entry["count"] == 300
    assert entry["states"] == {"established": 250, "time_wait": 300}
    assert entry["held"] == 550 == mixed["ss"]
    assert entry["time_wait_reusable"] == 0 and entry["reuse_effective"] is False  # the namespace has reuse 0
    assert entry["port_usage"] == 0.55
    assert facts["time_wait"]["top_destinations"][0] == entry
    # TIME_WAIT alone (300 of 1000) is below port_usage_warn; with the live connections it is above
    assert entry["count"] / USABLE < rules.DEFAULT_THRESHOLDS["port_usage_warn"] <= entry["port_usage"]
    finding = verdict(facts)
    assert finding["severity"] == "warn"
    assert finding["message"].startswith("550 sockets toward 127.0.0.7:8080 (300 TIME_WAIT, 250 ESTABLISHED) hold 55%")


@pytest.mark.parametrize("backend", BACKENDS)
def test_likely_source_is_the_planted_client(mixed, backend):
    facts = mixed["facts"][backend]
    entry = destination(facts, "127.0.0.7", 8080)
    client = mixed["client"]
    assert entry["likely_sources"] == [{"pid": client["client_pid"], "comm": CLIENT, "count": 250}]
    assert facts["time_wait"]["likely_sources_reason"] is None
    assert "likely source (processes with live sockets toward it): %s (pid %d, 250 sockets)" % (
        CLIENT, client["client_pid"]) in verdict(facts)["message"]


def test_without_root_sources_are_unknown_and_the_headroom_stays(mixed):
    facts, root = mixed["nobody"], mixed["facts"]["netlink"]
    assert facts["time_wait"]["likely_sources_reason"] == facts["close_wait"]["owners_reason"]
    assert "not readable" in facts["time_wait"]["likely_sources_reason"]
    strip = [dict(d, likely_sources=None) for d in root["time_wait"]["top_destinations"]]
    assert facts["time_wait"]["top_destinations"] == strip
    assert verdict(facts)["severity"] == "warn"


@pytest.fixture(scope="module")
def full_destination(planter, run_engine):
    """1000 TIME_WAIT toward 127.0.0.8:8080: the whole range, judged with reuse off, then on."""
    with planter.Namespace(port_range=PORT_RANGE) as ns:
        planter.plant_time_wait(ns, [("127.0.0.8", 8080, USABLE)], verify=True)
        seen = {"off": run_engine(ns), "probe_off": planter.connect_probe(ns, "127.0.0.8", 8080)}
        has_delay = ns.run(["test", "-e", "/proc/sys/net/ipv4/tcp_tw_reuse_delay"], check=False).returncode == 0
        ns.write_sysctl("net.ipv4.tcp_tw_reuse", "2")  # the kernel default: loopback destinations only
        if has_delay:
            # a delay no planted TIME_WAIT is old enough for yet: reuse on, nothing reusable
            ns.write_sysctl("net.ipv4.tcp_tw_reuse_delay", "50000")
            seen["long_delay"] = run_engine(ns)
            seen["probe_long_delay"] = planter.connect_probe(ns, "127.0.0.8", 8080)
            ns.write_sysctl("net.ipv4.tcp_tw_reuse_delay", "1000")
        time.sleep(max(0.0, 1.5 - (time.monotonic() - ns.planted_at)))  # every TIME_WAIT older than 1 s
        seen["on"] = {backend: run_engine(ns, backend) for backend in BACKENDS}
        seen["probe_on"] = planter.connect_probe(ns, "127.0.0.8", 8080)
        seen["age"] = time.monotonic() - ns.planted_at
    return seen


def test_same_load_fails_with_reuse_off_and_the_kernel_agrees(full_destination):
    facts = full_destination["off"]
    assert facts["ephemeral_ports"]["reuse"]["effective"] == "none"
    entry = destination(facts, "127.0.0.8", 8080)
    assert (entry["count"], entry["held"], entry["time_wait_reusable"], entry["port_usage"]) == (USABLE, USABLE, 0, 1.0)
    assert verdict(facts)["severity"] == "fail"
    assert full_destination["probe_off"] == "EADDRNOTAVAIL"


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_load_passes_with_loopback_reuse_and_the_kernel_agrees(full_destination, backend):
    assert full_destination["age"] < 50
    facts = full_destination["on"][backend]
    assert facts["ephemeral_ports"]["reuse"] == {"effective": "loopback", "delay_ms": 1000}
    entry = destination(facts, "127.0.0.8", 8080)
    assert entry["reuse_effective"] is True
    assert (entry["count"], entry["held"], entry["time_wait_reusable"], entry["port_usage"]) == (USABLE, USABLE,
                                                                                                 USABLE, 0.0)
    finding = verdict(facts)
    assert finding["severity"] == "pass"
    assert "once tcp_tw_reuse frees 1000 TIME_WAIT older than 1000 ms (fail without reuse: 100%)" in finding["message"]
    assert finding["evidence"]["relieved_by_reuse"]["severity_without_reuse"] == "fail"
    assert full_destination["probe_on"] == "ECONNREFUSED"  # a TIME_WAIT port was taken again


def test_time_wait_younger_than_the_reuse_delay_is_not_reusable(full_destination):
    if "long_delay" not in full_destination:
        pytest.skip("this kernel has no net.ipv4.tcp_tw_reuse_delay (before 6.14)")
    facts = full_destination["long_delay"]
    assert facts["ephemeral_ports"]["reuse"] == {"effective": "loopback", "delay_ms": 50000}
    entry = destination(facts, "127.0.0.8", 8080)
    assert (entry["reuse_effective"], entry["time_wait_reusable"], entry["port_usage"]) == (True, 0, 1.0)
    assert verdict(facts)["severity"] == "fail"
    assert full_destination["probe_long_delay"] == "EADDRNOTAVAIL"
