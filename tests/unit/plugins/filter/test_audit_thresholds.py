"""The audit_thresholds filter: tcp_audit_thresholds as the playbooks give it to tcp_state_facts."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._audit.thresholds import DEFAULT_THRESHOLDS

from ..child import child_cases


@pytest.fixture(scope="module")
def cases():
    return child_cases(__file__, "audit_thresholds_cases.py")


@pytest.mark.parametrize("name", ["dict", "json", "yaml"])
def test_overrides_are_merged_into_every_threshold(cases, name):
    assert cases[name] == {"thresholds": dict(DEFAULT_THRESHOLDS, close_wait_warn=10)}


@pytest.mark.parametrize("name", ["empty dict", "empty string", "null"])
def test_none_given_is_the_defaults(cases, name):
    assert cases[name] == {"thresholds": DEFAULT_THRESHOLDS}


@pytest.mark.parametrize("name, says", [
    ("unknown name", "unknown threshold 'close_wait_warning'"),
    ("not a number", "threshold close_wait_warn must be a number, got 'many'"),
    ("not a mapping", "must be a mapping of threshold names to numbers"),
    ("warn above fail", "threshold port_usage_warn (0.9) is above port_usage_fail (0.8)"),
])
def test_bad_overrides_fail_naming_the_variable(cases, name, says):
    error = cases[name]["error"]
    assert error.startswith("tcp_audit_thresholds: ") and says in error
