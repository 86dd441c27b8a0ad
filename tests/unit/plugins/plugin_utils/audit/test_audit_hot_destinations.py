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
    namespaces = overrides.pop("namespaces", None)
    facts = load("tcp_state_clean.json")
    facts["time_wait"]["top_destinations"] = list(destinations)
    if namespaces is not None:
        facts["namespaces"] = {"total": len(namespaces), "top": [
            {"inode": 4026530000 + index, "owner": {"kind": "pod", "id": "pod-%d" % index},
             "time_wait": {"top_destinations": list(listed)}} for index, listed in enumerate(namespaces)]}
    return fleet.host_entry({"ansible_facts": {"tcp_state": facts}}, overrides or None)


def test_the_same_destination_on_many_hosts_is_one_entry_with_the_fleet_numbers():
    hosts = dict(("app-%02d" % i, host(destination("10.20.0.10", 5432, 0.5 + i / 100.0, held=1000 + i),
                                       destination("10.0.%d.7" % i, 80, 0.01)))
                 for i in range(12))
    doc = fleet.build_document(hosts, "t")
    assert doc["hot_destinations_total"] == 1
    [hot] = doc["hot_destinations"]
    assert hot == {"address": "10.20.0.10", "port": 5432, "hosts_affected": 12, "namespaces_affected": 0,
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


def test_a_destination_at_risk_in_containers_or_pods_counts_on_their_host():
    database = ("10.20.0.10", 5432)
    hosts = {
        # at risk in two pods, not in the node's own namespace
        "node-1": host(destination("10.0.0.9", 80, 0.01),
                       namespaces=[[destination(*database, usage=0.7, held=19000)],
                                   [destination(*database, usage=0.55, held=15000)],
                                   [destination(*database, usage=0.2, held=5000)]]),  # below warn: not counted
        # at risk in the node's own namespace and in one pod
        "node-2": host(destination(*database, usage=0.6, held=16000),
                       namespaces=[[destination(*database, usage=0.9, held=25000)]]),
        # its pods are fine
        "node-3": host(namespaces=[[destination(*database, usage=0.1, held=2800)]]),
        "node-4": fleet.host_entry({"unreachable": True, "msg": "no route"}),
    }
    doc = fleet.build_document(hosts, "t")
    [hot] = doc["hot_destinations"]
    assert hot == {"address": "10.20.0.10", "port": 5432, "hosts_affected": 2, "namespaces_affected": 3,
                   "sockets_total": 19000 + 15000 + 16000 + 25000, "worst_port_usage": 0.9,
                   "worst_hosts": ["node-2", "node-1"]}


def test_a_malformed_namespace_list_counts_nothing_and_breaks_nothing():
    entry = host(destination("10.0.0.5", 5432, 0.6, held=17000))
    entry["facts"]["namespaces"] = {"top": ["not a dict", {"time_wait": None}, {"time_wait": {"top_destinations": "x"}}]}
    hot, total = fleet.hot_destinations({"a": entry})
    assert total == 1 and hot[0]["namespaces_affected"] == 0 and hot[0]["sockets_total"] == 17000


def test_odd_destination_records_are_skipped_not_fatal():
    entry = host(destination("10.0.0.5", 5432, 0.6, held=17000),
                 dict(destination("10.0.0.6", 5432, 0.7), address=["not", "hashable"]),
                 dict(destination("10.0.0.7", 5432, 0.7), port={"x": 1}),
                 destination("10.0.0.8", 5432, float("nan"), count=100))
    hot, total = fleet.hot_destinations({"a": entry})
    assert total == 1 and hot[0]["address"] == "10.0.0.5"


def test_odd_namespace_shapes_count_nothing():
    for namespaces in (["a list"], {"top": "text"}, {"top": [{"time_wait": ["x"]}]}, "text"):
        entry = host(destination("10.0.0.5", 5432, 0.6, held=17000))
        entry["facts"]["namespaces"] = namespaces
        hot, total = fleet.hot_destinations({"a": entry})
        assert total == 1 and hot[0]["namespaces_affected"] == 0, namespaces


def test_facts_the_rules_cannot_read_make_that_host_an_error_and_the_fleet_report_goes_on():
    facts = load("tcp_state_clean.json")
    facts["namespaces"] = {"top": [{"inode": 1, "time_wait": ["not", "a", "dict"]}]}
    odd = fleet.host_entry({"ansible_facts": {"tcp_state": facts}})
    assert odd["status"] == "error" and odd["facts"] is None
    assert odd["reason"].startswith("the tcp_state fact is malformed, the rules cannot read it (AttributeError: ")
    doc = fleet.build_document({"odd": odd, "fine": host(destination("10.0.0.5", 5432, 0.6, held=17000))}, "t")
    assert doc["summary"]["by_status"]["error"] == 1 and doc["hot_destinations_total"] == 1
