"""The preflight's templating of the variables, and its checks held against Ansible's own readers of them
(the ``bool`` filter, ``serial``'s ``pct_to_int``, the role's ``type: dict``). The cases run in a process of
their own (preflight_cases.py says why)."""

import pytest

from ..child import child_cases


@pytest.fixture(scope="module")
def found():
    return child_cases(__file__, "preflight_cases.py")


def test_values_are_templated_with_the_hosts_variables_and_omit_means_unset(found):
    case = found["templated"]
    assert case["values"] == {"tcp_audit_top": 10, "tcp_audit_report_name": "nightly"}
    assert len(case["found"]) == 1 and case["found"][0].startswith("tcp_audit_namespaces cannot be templated: ")
    assert "no_such_variable" in case["found"][0]
    assert sorted(case["untemplatable"]) == ["tcp_audit_namespaces", "tcp_audit_thresholds"]


def test_thresholds_that_cannot_be_templated_here_are_left_to_each_host(found):
    assert "tcp_audit_thresholds" not in found["templated"]["values"]
    assert not [line for line in found["templated"]["found"] if "tcp_audit_thresholds" in line]


@pytest.mark.parametrize("case", ["bool_filter_agrees", "serial_agrees", "overrides_agree"])
def test_the_preflight_takes_exactly_what_ansible_reads(found, case):
    disagree = [(value, ansible) for value, ansible, preflight in found[case] if ansible != preflight]
    assert disagree == [], case
    # both verdicts occur, so the comparison means something
    assert set(ansible for _value, ansible, _preflight in found[case]) == {True, False}


def test_values_across_hosts_read_tcp_audit_merge_as_the_bool_filter_does(found):
    readings = found["merge_read_as_the_bool_filter_reads_it"]
    assert [(value, ansible) for value, ansible, compared in readings if ansible is not compared] == []
    assert set(ansible for _value, ansible, _compared in readings) == {True, False}
