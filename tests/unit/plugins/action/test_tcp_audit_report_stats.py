"""The report task publishes its outcome for an AWX workflow only when asked (set_stats: true, as the audit,
report and merge playbooks do; remediate does not), in the form Ansible's strategy publishes: not per host
and not aggregated, so that a second publication in one run replaces the run id instead of appending to it."""

import pytest

from ..child import child_cases


@pytest.fixture(scope="module")
def found():
    return child_cases(__file__, "stats_cases.py")


def test_with_set_stats_the_result_carries_the_outcome_as_ansible_publishes_it(found):
    result = found["on"]
    assert result["ansible_stats"] == {"data": result["stats"], "per_host": False, "aggregate": False}
    assert result["stats"]["tcp_audit_run_id"] == "nightly-1" and result["changed"] is True


def test_without_it_nothing_is_published(found):
    assert found["default"] is False
    assert "ansible_stats" not in found["off"] and found["off"]["stats"]["tcp_audit"]["scope"] == "fleet"
