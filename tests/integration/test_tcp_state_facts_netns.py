"""tcp_state_facts on real sockets: a known mix planted in a fresh network namespace.

One namespace is planted per module, then the engine runs inside it right away (root and nobody,
netlink and /proc) together with ``ss``, so every number below is read well within the 60 s
that a TIME_WAIT socket lives. The assertions compare the facts with what was planted, with
``ss`` on the same namespace (exact for the stable states, within 1 % for TIME_WAIT), and the two
backends with each other.
"""

import time

import pytest

pytestmark = pytest.mark.root

# Inside the range: 8443 because a service listens there (else a planted client may take it
# first), 8080 and 9000-9009 for the count: 12 reserved ports
RESERVED = "8080,8443,9000-9009"
PORT_RANGE = (1024, 65000)
USABLE = PORT_RANGE[1] - PORT_RANGE[0] + 1 - 12
OUTBOUND = [("127.0.0.2", 8080, 3000), ("127.0.0.3", 8443, 1200), ("::1", 5432, 300)]
# one destination reached both over IPv4 and IPv4-mapped IPv6: reported once, as IPv4
MAPPED = [("127.0.0.4", 8080, 100), ("::ffff:127.0.0.4", 8080, 150)]
MERGED = OUTBOUND + [("127.0.0.4", 8080, 250)]
INBOUND = [("127.0.0.1", 80, 400)]  # port 80 is below the range: these count as inbound
PAIRS_V4, PAIRS_V6 = 50, 20
CLOSE_WAIT, LEAKER = 30, "cw-leaker"
# (address, port, backlog, pending, pending_closed): the closed ones wait in the accept queue as
# CLOSE_WAIT that no process holds (never accepted), so they count as close_wait.unowned
LISTENERS = [("0.0.0.0", 443, 128, 7, 3), ("::", 8443, 64, 0, 0)]
UNOWNED = 3
STABLE = ("established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "close",
          "close_wait", "last_ack", "listen", "closing")
BACKENDS = ("netlink", "proc")


def _total(destinations):
    return sum(count for _address, _port, count in destinations)


def _namespace_own(sockstat):
    """The sockstat keys that belong to the namespace: the kernel's TCP orphan count is host-wide
    (tcp_orphan_count is one global counter), so it moves with whatever else runs on the host."""
    return {key: sockstat[key] for key in ("inuse", "inuse6", "tw")}


class Snapshot:
    """Everything read from the planted namespace, right after planting."""


@pytest.fixture(scope="module")
def mix(planter, run_engine):
    with planter.Namespace(port_range=PORT_RANGE, reserved_ports=RESERVED) as ns:
        snap = Snapshot()
        snap.namespace = ns.name
        planter.plant_time_wait(ns, OUTBOUND, verify=True)
        for destination in MAPPED:
            planter.plant_time_wait(ns, [destination], verify=True)
        planter.plant_time_wait_inbound(ns, INBOUND, verify=True)
        planter.plant_established(ns, PAIRS_V4)
        planter.plant_established(ns, PAIRS_V6, address="::1")
        snap.leak = planter.plant_close_wait(ns, CLOSE_WAIT, comm=LEAKER)
        for address, port, backlog, pending, pending_closed in LISTENERS:
            planter.plant_listen(ns, port, backlog, pending=pending, address=address,
                                 pending_closed=pending_closed)
        snap.planted = dict(ns.planted)
        snap.ss_before = planter.ss_view(ns)
        snap.root = {backend: run_engine(ns, backend) for backend in BACKENDS}
        snap.nobody = {backend: run_engine(ns, backend, as_nobody=True) for backend in BACKENDS}
        snap.summary = run_engine(ns, mode="summary")
        snap.top2 = run_engine(ns, top=2)
        snap.ss = planter.ss_view(ns)
        snap.sockstat = ns.sockstat()
        snap.age = time.monotonic() - ns.planted_at
        yield snap


def test_everything_was_read_while_the_time_wait_sockets_lived(mix):
    assert mix.age < 50, "planting and reading took %.1f s; TIME_WAIT lasts 60 s" % mix.age
    assert mix.ss_before.counts == mix.ss.counts


def test_planted_mix_is_what_ss_sees(mix):
    expected = dict.fromkeys(STABLE + ("time_wait",), 0)
    expected.update(
        time_wait=_total(MERGED + INBOUND),
        established=2 * (PAIRS_V4 + PAIRS_V6) + 2 * sum(listener[3] for listener in LISTENERS),
        close_wait=CLOSE_WAIT + UNOWNED, fin_wait2=CLOSE_WAIT + UNOWNED, listen=len(LISTENERS))
    assert {k: v for k, v in mix.ss.counts.items() if k != "total"} == expected
    assert mix.planted == {k: v for k, v in expected.items() if v}


@pytest.mark.parametrize("backend", BACKENDS)
def test_counts_equal_ss_and_the_planted_numbers(mix, backend):
    facts = mix.root[backend]
    assert facts["backend"] == backend
    for state in STABLE:
        assert facts["counts"][state] == mix.ss.counts[state], state
        assert facts["counts"][state] == mix.planted.get(state, 0), state
    tw = facts["counts"]["time_wait"]
    assert abs(tw - mix.ss.counts["time_wait"]) <= 0.01 * mix.ss.counts["time_wait"]
    assert tw == mix.planted["time_wait"]
    assert facts["counts"]["total"] == sum(facts["counts"][s] for s in STABLE + ("time_wait",))
    assert facts["time_wait"]["total"] == tw
    assert facts["close_wait"]["total"] == CLOSE_WAIT + UNOWNED


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_family_counts_equal_ss(mix, backend):
    by_family = mix.root[backend]["by_family"]
    for family in ("ipv4", "ipv6"):
        for state in STABLE:
            assert by_family[family][state] == mix.ss.by_family[family][state], (family, state)
    assert by_family["ipv6"]["time_wait"] == 300 + 150
    assert by_family["ipv6"]["established"] == 2 * PAIRS_V6
    assert by_family["ipv6"]["listen"] == 1


def test_both_backends_agree(mix):
    netlink, proc = mix.root["netlink"], mix.root["proc"]
    for key in ("counts", "by_family", "time_wait", "close_wait", "ephemeral_ports", "sysctl"):
        assert netlink[key] == proc[key], key
    assert _namespace_own(netlink["sockstat"]) == _namespace_own(proc["sockstat"])
    # /proc/net/tcp has no listen backlog: the proc backend says null and warns, all else agrees
    assert [dict(s, backlog=None) for s in netlink["listen"]["sockets"]] == proc["listen"]["sockets"]
    backlog_warnings = [w for w in proc["warnings"] if "backlog" in w]
    assert len(backlog_warnings) == 1
    assert [w for w in proc["warnings"] if w not in backlog_warnings] == netlink["warnings"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_top_destination_and_its_port_usage(mix, backend):
    facts = mix.root[backend]
    assert (facts["ephemeral_ports"]["low"], facts["ephemeral_ports"]["high"]) == PORT_RANGE
    assert facts["ephemeral_ports"]["reserved_in_range"] == 12
    assert facts["ephemeral_ports"]["usable"] == USABLE
    top = facts["time_wait"]["top_destinations"]
    # the TIME_WAIT destinations come first, in this order; after them destinations of live sockets only
    # (the planted clients' ESTABLISHED and CLOSE_WAIT on ephemeral ports), which hold fewer ports
    with_time_wait = [d for d in top if d["count"]]
    assert top[:len(MERGED)] == with_time_wait
    assert [(d["address"], d["port"], d["count"]) for d in with_time_wait] == MERGED
    for destination in with_time_wait:
        assert destination["port_usage"] == pytest.approx(destination["count"] / USABLE, abs=1e-4)
        assert destination["held"] == destination["count"] and destination["time_wait_reusable"] == 0
    for destination in top:
        assert destination["port_usage"] == pytest.approx(destination["held"] / USABLE, abs=1e-4)
    for (address, port), count in mix.ss.time_wait_by_destination.most_common(len(MERGED)):
        assert (address, port, count) in MERGED


@pytest.mark.parametrize("backend", BACKENDS)
def test_outbound_and_inbound_time_wait(mix, backend):
    time_wait = mix.root[backend]["time_wait"]
    assert time_wait["outbound"] == _total(MERGED)
    assert time_wait["inbound"] == _total(INBOUND)
    assert time_wait["top_local_ports"][0] == {"port": 80, "count": 400}
    for entry in time_wait["top_local_ports"]:
        assert entry["count"] == mix.ss.time_wait_by_local_port[entry["port"]], entry
    ranked = sorted(mix.ss.time_wait_by_local_port.values(), reverse=True)
    assert [entry["count"] for entry in time_wait["top_local_ports"]] == ranked[:10]


def test_top_limits_every_list(mix):
    facts = mix.top2
    assert [(d["address"], d["port"], d["count"]) for d in facts["time_wait"]["top_destinations"]] == MERGED[:2]
    assert len(facts["time_wait"]["top_local_ports"]) == 2
    assert len(facts["close_wait"]["top_local_ports"]) == 2
    assert facts["time_wait"]["top_local_ports"] == mix.root["netlink"]["time_wait"]["top_local_ports"][:2]
    assert facts["counts"] == mix.root["netlink"]["counts"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_close_wait_owner_is_the_child_that_leaks(mix, backend):
    close_wait = mix.root[backend]["close_wait"]
    assert close_wait["owners_available"] is True, close_wait["owners_reason"]
    assert close_wait["owners_reason"] is None
    owner = close_wait["top_processes"][0]
    assert (owner["pid"], owner["comm"], owner["count"]) == (mix.leak["leaker_pid"], LEAKER, CLOSE_WAIT)
    assert owner["local_ports"] == mix.leak["local_ports"][:20]
    assert len(close_wait["top_processes"]) == 1
    assert close_wait["unowned"] == UNOWNED
    # the unowned ones all sit on the listening port 443; the leaker's each on its own port
    assert close_wait["top_local_ports"][0] == {"port": 443, "count": UNOWNED}
    assert {p["port"] for p in close_wait["top_local_ports"][1:]} <= set(mix.leak["local_ports"])
    assert all(p["count"] == 1 for p in close_wait["top_local_ports"][1:])
    assert mix.ss.close_wait_by_local_port[443] == UNOWNED


def test_listen_queue_and_backlog(mix):
    listen = mix.root["netlink"]["listen"]
    assert listen["total"] == len(LISTENERS)
    assert listen["ports"] == [443, 8443]
    assert listen["sockets"] == [
        {"address": "0.0.0.0", "port": 443, "family": "ipv4", "queue": 7 + UNOWNED, "backlog": 128},
        {"address": "::", "port": 8443, "family": "ipv6", "queue": 0, "backlog": 64},
    ]
    assert mix.ss.listen[("0.0.0.0", 443)] == (7 + UNOWNED, 128)
    assert mix.ss.listen[("::", 8443)] == (0, 64)


def test_sockstat_is_the_namespace_own(mix):
    sockstat = mix.root["netlink"]["sockstat"]
    tw = mix.planted["time_wait"]
    assert abs(sockstat["tw"] - tw) <= 0.01 * tw
    assert sockstat["tw"] == mix.sockstat["tw"]
    ipv4, ipv6 = mix.ss.by_family["ipv4"], mix.ss.by_family["ipv6"]
    assert sockstat["inuse"] == ipv4["total"] - ipv4["time_wait"]
    assert sockstat["inuse6"] == ipv6["total"] - ipv6["time_wait"]
    assert "alloc" not in sockstat and "mem" not in sockstat


def test_summary_mode_counts_time_wait_from_sockstat_alone(mix):
    summary = mix.summary
    assert summary["mode"] == "summary" and summary["backend"] is None
    for key in ("counts", "by_family", "time_wait", "close_wait", "listen"):
        assert summary[key] is None, key
    assert summary["sockstat"]["tw"] == mix.planted["time_wait"]
    assert summary["ephemeral_ports"] == mix.root["netlink"]["ephemeral_ports"]


def test_sysctls_are_read_from_the_namespace(mix):
    sysctl = mix.root["netlink"]["sysctl"]
    assert sysctl["net.ipv4.ip_local_port_range"] == "%d %d" % PORT_RANGE
    assert sysctl["net.ipv4.ip_local_reserved_ports"] == RESERVED
    assert sysctl["net.ipv4.tcp_tw_reuse"] == 0
    assert sysctl["net.ipv4.tcp_max_tw_buckets"] == 2000000


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_root_owners_are_unavailable_and_counts_stay_right(mix, backend):
    facts, root = mix.nobody[backend], mix.root[backend]
    close_wait = facts["close_wait"]
    assert close_wait["owners_available"] is False
    assert isinstance(close_wait["owners_reason"], str) and close_wait["owners_reason"]
    assert close_wait["top_processes"] == []
    assert close_wait["unowned"] is None
    assert any(close_wait["owners_reason"] in warning for warning in facts["warnings"])
    assert close_wait["total"] == CLOSE_WAIT + UNOWNED
    for key in ("counts", "by_family", "listen", "ephemeral_ports"):
        assert facts[key] == root[key], key
    # the time_wait numbers too; only the likely sources need the fd tables
    time_wait = facts["time_wait"]
    assert time_wait["likely_sources_reason"] == close_wait["owners_reason"]
    assert all(d["likely_sources"] is None for d in time_wait["top_destinations"])
    assert time_wait == dict(root["time_wait"], likely_sources_reason=time_wait["likely_sources_reason"],
                             top_destinations=[dict(d, likely_sources=None)
                                               for d in root["time_wait"]["top_destinations"]])
    assert _namespace_own(facts["sockstat"]) == _namespace_own(root["sockstat"])


def test_module_through_ansible_inside_a_namespace(planter, run_module_with_ansible):
    with planter.Namespace() as ns:
        planter.plant_time_wait(ns, [("127.0.0.5", 8080, 500)])
        planter.plant_established(ns, 10)
        leak = planter.plant_close_wait(ns, 4, comm=LEAKER)
        planter.plant_listen(ns, 443, backlog=16, pending=2)
        result = run_module_with_ansible(ns, "mode=full top=5")
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    facts = result["ansible_facts"]["tcp_state"]
    assert facts["backend"] == "netlink"
    counts = {k: v for k, v in facts["counts"].items() if v and k != "total"}
    assert counts == {"time_wait": 500, "established": 24, "close_wait": 4, "fin_wait2": 4, "listen": 1}
    assert facts["time_wait"]["top_destinations"][0]["address"] == "127.0.0.5"
    assert facts["time_wait"]["top_destinations"][0]["count"] == 500
    assert facts["close_wait"]["top_processes"][0]["pid"] == leak["leaker_pid"]
    assert facts["close_wait"]["top_processes"][0]["comm"] == LEAKER
    assert facts["listen"]["sockets"][0]["queue"] == 2
    assert facts["sysctl"]["net.ipv4.ip_local_port_range"] == "1024 65000"


def test_port_usage_one_means_the_kernel_refuses_the_next_connect(planter, run_engine):
    with planter.Namespace(port_range=(40000, 40999)) as ns:
        planter.plant_time_wait(ns, [("127.0.0.7", 8080, 1000)], verify=True)
        facts = run_engine(ns)

        toward_the_full_destination = planter.connect_probe(ns, "127.0.0.7", 8080)
        toward_another = planter.connect_probe(ns, "127.0.0.8", 8080)
    top = facts["time_wait"]["top_destinations"][0]
    assert (top["address"], top["port"], top["count"], top["port_usage"]) == ("127.0.0.7", 8080, 1000, 1.0)
    assert facts["ephemeral_ports"]["usable"] == 1000
    assert toward_the_full_destination == "EADDRNOTAVAIL"
    assert toward_another == "ECONNREFUSED"  # a local port was free: only that destination is exhausted


def test_without_root_owners_are_unavailable_even_with_no_close_wait(planter, run_engine):
    with planter.Namespace() as ns:
        facts = run_engine(ns, as_nobody=True)
        as_root = run_engine(ns)
    assert facts["close_wait"]["total"] == 0
    assert facts["close_wait"]["owners_available"] is False
    assert "not readable" in facts["close_wait"]["owners_reason"]
    assert as_root["close_wait"]["owners_available"] is True
    assert as_root["close_wait"]["owners_reason"] is None
