"""Parsing, formatting, comparing and validating the values of the sysctls tcp_tuning manages."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values


@pytest.mark.parametrize("text, expected", [
    ("32768\t60999", (32768, 60999)),
    ("10240 65535", (10240, 65535)),
    ("10240-65535", (10240, 65535)),
    ([1024, 2048], (1024, 2048)),
])
def test_port_range_parses_every_spelling(text, expected):
    assert values.parse_port_range(text) == expected


@pytest.mark.parametrize("bad", ["10240", "a b", "1 2 3", True])
def test_port_range_rejects_malformed(bad):
    with pytest.raises(ValueError):
        values.parse_port_range(bad)


def test_port_list_round_trip_compacts_ranges():
    ports = values.parse_port_list("9000-9002, 8080,20000,9003")
    assert ports == [8080, 9000, 9001, 9002, 9003, 20000]
    assert values.format_port_list(ports) == "8080,9000-9003,20000"
    assert values.parse_port_list("") == [] and values.format_port_list([]) == ""


def test_same_value_ignores_white_space_and_order():
    assert values.same_value("port_range", "32768\t60999", "32768 60999")
    assert values.same_value("port_list", "20000,8080", "8080,20000")
    assert values.same_value("int", "1", 1)
    assert not values.same_value("int", "2", 1)
    assert not values.same_value("int", None, 1)


def test_parse_int_refuses_booleans_yaml_would_produce():
    with pytest.raises(ValueError, match="boolean"):
        values.parse_int(True)


@pytest.mark.parametrize("value, limit, fragment", [
    (5, {"min": 10, "max": 120}, "below the vetted minimum 10"),
    (500, {"min": 10, "max": 120}, "above the vetted maximum 120"),
    (3, {"choices": [0, 1, 2]}, "not one of the vetted values 0, 1, 2"),
    ("fast", {"min": 10}, "expected an integer"),
])
def test_int_limits_say_what_to_use(value, limit, fragment):
    errors = values.validate("net.ipv4.tcp_fin_timeout", value, dict(limit, kind="int"))
    assert len(errors) == 1 and fragment in errors[0]
    assert errors[0].startswith("net.ipv4.tcp_fin_timeout")


def test_int_inside_limits_passes():
    assert values.validate("k", "30", {"kind": "int", "min": 10, "max": 120}) == []


PORT_RANGE_LIMIT = {"kind": "port_range", "min_port": 1024, "max_port": 65535, "min_span": 28232}


@pytest.mark.parametrize("value, fragment", [
    ("80 65535", "both ports must lie within 1024-65535"),
    ("10240 70000", "both ports must lie within 1024-65535"),
    ("60000 50000", "first port must be lower"),
    ("40000 50000", "spans 10001 ports, fewer than the vetted minimum 28232"),
])
def test_port_range_bounds_and_span(value, fragment):
    errors = values.validate("net.ipv4.ip_local_port_range", value, PORT_RANGE_LIMIT)
    assert any(fragment in error for error in errors), errors


def test_port_range_inside_bounds_passes():
    assert values.validate("net.ipv4.ip_local_port_range", "10240 65535", PORT_RANGE_LIMIT) == []


def test_port_list_outside_bounds_is_named():
    errors = values.validate("r", "80,70000", {"kind": "port_list", "min_port": 1, "max_port": 65535})
    assert errors == ["r: ports 70000 lie outside 1-65535"]
