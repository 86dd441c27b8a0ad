# -*- coding: utf-8 -*-
"""Fleet-wide hot destinations: one destination putting many hosts at risk is one entry."""

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load

USABLE = 28232


def destination(address, port, usage, held=None, count=None):
    record = {"address": address, "port": port, "count": count if count is not None else int(usage * USABLE),
              "port_usage": usage}
    if held is not None:
        record["held"] = held
    return record


def host(*destinations, **overrides):
    facts = load("tcp_state_clean.json")
    facts["time_wait"]["top_destinations"] = list(destinations)
    return fleet.host_entry({"ansible_facts": {"tcp_state": facts}}, overrides or None)


def test_the_same_destination_on_many_hosts_is_one_entry_with_the_fleet_numbers():
    hosts = dict(("app-%02d" % i, host(destination("10.20.0.10", 5432, 0.5 + i / 100.0, held=1000 + i),
                                       destination("10.0.%d.7" % i, 80, 0.01)))
                 for i in range(12))
    doc = fleet.build_document(hosts, "t")
    assert doc["hot_destinations_total"] == 1
    [hot] = doc["hot_destinations"]
    assert hot == {"address": "10.20.0.10", "port": 5432, "hosts_affected": 12,
                   "sockets_total": sum(1000 + i for i in range(12)), "worst_port_usage": 0.61,
                   "worst_hosts": ["app-11", "app-10", "app-09", "app-08", "app-07"]}


def test_destinations_below_the_hosts_port_usage_warn_are_left_out():
    hosts = {
        "a": host(destination("10.0.0.5", 5432, 0.49)),
        "b": host(destination("10.0.0.5", 5432, 0.5, held=None, count=14116)),
        # this host warns from 0.3 on: the same usage counts there
        "c": host(destination("10.0.0.5", 5432, 0.31), port_usage_warn=0.3, port_usage_fail=0.9),
        "d": host(destination("10.0.0.6", 5432, None, count=9000)),  # usable ports unknown
        "gone": fleet.host_entry({"unreachable": True, "msg": "no route"}),
    }
    hot, total = fleet.hot_destinations(hosts)
    assert total == 1
    assert hot[0]["hosts_affected"] == 2 and hot[0]["worst_hosts"] == ["b", "c"]
    # without ``held`` (facts of an older module) the TIME_WAIT count is what is summed
    assert hot[0]["sockets_total"] == 14116 + int(0.31 * USABLE)


def test_the_list_and_the_worst_hosts_are_bounded_and_ranked_by_hosts_affected_then_usage():
    hosts = {}
    for i in range(30):
        # destination i is at risk on i + 1 hosts; on its hosts, usage grows with the host number
        for h in range(i + 1):
            name = "h%02d" % h
            entry = hosts.setdefault(name, [])
            entry.append(destination("10.1.0.%d" % i, 443, 0.5 + h / 100.0, held=10))
    doc = fleet.build_document(dict((name, host(*d)) for name, d in hosts.items()), "t")
    hot = doc["hot_destinations"]
    assert doc["hot_destinations_total"] == 30 and len(hot) == fleet.HOT_DESTINATIONS_LIMIT == 20
    assert [e["hosts_affected"] for e in hot] == list(range(30, 10, -1))
    assert all(len(e["worst_hosts"]) == min(5, e["hosts_affected"]) for e in hot)
    assert hot[0]["worst_hosts"] == ["h29", "h28", "h27", "h26", "h25"] and hot[0]["worst_port_usage"] == 0.79
    assert hot[0]["sockets_total"] == 300
    # equal hosts affected: the worse usage first
    tie = fleet.hot_destinations({"x": host(destination("10.2.0.1", 1, 0.6), destination("10.2.0.2", 1, 0.9))})[0]
    assert [e["address"] for e in tie] == ["10.2.0.2", "10.2.0.1"]


def test_a_fleet_with_no_destination_at_risk_has_an_empty_list():
    doc = fleet.build_document({"a": host(destination("10.0.0.5", 5432, 0.0007))}, "t")
    assert doc["hot_destinations"] == [] and doc["hot_destinations_total"] == 0
