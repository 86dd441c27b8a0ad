"""Profile auto: the choice from the host's tcp_state facts, and the reason reported with it."""

import json
import pathlib

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.profile import choose_profile

FACTS = pathlib.Path(__file__).parents[3] / "fixtures" / "tuning" / "facts"


def facts(name):
    return json.loads((FACTS / (name + ".json")).read_text())


@pytest.mark.parametrize("name, profile, fragment", [
    ("client", "client", "5200 outbound and 10 inbound TIME_WAIT"),
    ("proxy", "proxy", "service listeners on ports 443, 20000"),
    ("server", "server", "inbound TIME_WAIT dominates"),
    ("idle", "server", "no TIME_WAIT pressure and no service listener"),
    ("nat_gateway", "nat_gateway", "ip_forward = 1 and a NAT module is loaded"),
    ("router_without_nat", "client", "no NAT module loaded: not treated as a NAT gateway"),
    ("summary", "server", "no per-socket facts"),
])
def test_choice_and_reason(name, profile, fragment):
    chosen, reason = choose_profile(facts(name))
    assert chosen == profile
    assert fragment in reason


def test_client_ignores_ssh_and_loopback_listeners():
    # sshd on 0.0.0.0:22 and an MTA on 127.0.0.1:25 do not make a crawler a proxy
    assert choose_profile(facts("client"))[0] == "client"
    assert choose_profile(facts("client"), ignore_ports=())[0] == "proxy"


def test_threshold_decides_whether_time_wait_counts():
    assert choose_profile(facts("client"), min_time_wait=6000)[0] == "server"


def test_no_facts_at_all_is_the_least_changing_profile():
    assert choose_profile(None)[0] == "server"
