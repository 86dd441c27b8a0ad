"""The top destinations are the first ``top`` of all destinations sorted by port usage, then held sockets,
then identity (lower address and port first), checked against that plain sort on random tallies:
reuse on and off, young TIME_WAIT, ties, no usable ports."""

import random

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect, sockdiag


def _key(destination, port):
    # netlink IPv4 key: destination port, the 16-byte source field (4 used), the 4-byte destination
    return port.to_bytes(2, "big") + bytes([10, 0, 0, 7]) + bytes(12) + destination


def _tally(rng, usable, reuse):
    tally = collect.SocketTally({"low": 32768, "high": 60999, "reserved": [], "usable": usable,
                                 "reuse": {"effective": reuse, "delay_ms": 1000}})
    destinations = [bytes([rng.choice([10, 127]), 0, rng.randrange(3), rng.randrange(4)])
                    for _destination in range(rng.randrange(1, 30))]
    for _socket in range(rng.randrange(0, 60)):
        key = (_key(rng.choice(destinations), rng.choice([80, 443, 5432])),)
        tally.tw_destinations[2][key] += rng.choice([1, 1, 2, 50])
        if rng.random() < 0.3:
            tally.tw_young[2][key] += 1
    for _socket in range(rng.randrange(0, 60)):
        state = rng.choice([1, 2, 4])
        tally.live_destinations[2][(state, _key(rng.choice(destinations), rng.choice([80, 443, 5432])))] += 1
    return tally


@pytest.mark.parametrize("seed", range(5))
def test_the_top_destinations_are_a_plain_sort_cut_at_top(seed):
    rng = random.Random(seed)
    for _tally_number in range(300):
        usable, reuse = rng.choice([28232, 100, 7, 0, None]), rng.choice(["none", "all", "loopback"])
        top = rng.choice([0, 1, 3, 10, 100])
        tally = _tally(rng, usable, reuse)
        entries, chosen, _identities = collect._top_destinations(tally, sockdiag, usable, top)
        merged = collect._Destinations(tally, sockdiag.destination_identities)

        def usage(destination):
            spared = 0
            if reuse == "all" or (reuse == "loopback" and destination[1] == 127):
                spared = merged.time_wait.get(destination, 0) - merged.young.get(destination, 0)
            return round((merged.held[destination] - spared) / usable, 4) if usable else None

        expected = sorted(merged.held, key=lambda d: (-(usage(d) or 0.0), -merged.held[d], d))[:top]
        assert chosen == expected
        assert [entry["port_usage"] for entry in entries] == [usage(d) for d in expected]
        assert [entry["held"] for entry in entries] == [merged.held[d] for d in expected]
