"""How the report task reads each host: its variables once and as they are, templating only the thresholds
and a variable set as a template instead of a registered result, each with that host's own variables;
a variable that cannot be templated, or a misspelled name of the playbooks' variables, makes only its host
an error. The cases run in a process of their
own (evaluate_hosts.py says why)."""

import pytest

from ..child import child_cases


@pytest.fixture(scope="module")
def found():
    return child_cases(__file__, "evaluate_hosts.py")


def test_thresholds_are_templated_with_each_hosts_own_variables(found):
    hosts = found["per_host_thresholds"]["hosts"]
    assert [hosts[name]["thresholds"]["close_wait_warn"] for name in ("web-1", "web-2")] == [11, 12]
    assert hosts["web-1"]["status"] != "error" and hosts["web-2"]["status"] != "error"
    assert found["per_host_thresholds"]["reads"] == ["web-1", "web-2", "web-3"]  # each host's variables once


def test_a_threshold_that_cannot_be_templated_makes_only_its_host_an_error(found):
    web_3 = found["per_host_thresholds"]["hosts"]["web-3"]
    assert web_3["status"] == "error"
    assert web_3["reason"].startswith("tcp_audit_thresholds cannot be templated for this host: ")
    assert "warn_at" in web_3["reason"]


def test_a_registered_result_is_read_as_it_is_never_templated(found):
    case = found["registered_text"]
    assert case["hosts"]["web-1"]["facts"]["close_wait"]["top_processes"][0]["comm"] == "{{ lookup('env', 'HOME') }}"
    assert case["unchanged"] is True


def test_a_facts_variable_set_as_a_template_is_templated_and_an_undefined_one_is_its_hosts_error(found):
    hosts = found["facts_as_template"]["hosts"]
    assert hosts["web-1"]["status"] != "error" and hosts["web-1"]["facts"]["counts"]["total"] >= 0
    assert hosts["web-2"]["status"] == "error"
    assert hosts["web-2"]["reason"].startswith("tcp_audit_gathered cannot be templated for this host: ")


def test_a_host_not_in_the_inventory_and_the_remediation_variables(found):
    case = found["missing_host_and_remediation"]
    assert case["hosts"]["gone"] == {"status": "error", "reason": "tcp_state_facts did not run on this host",
                                     "findings": [], "facts": None, "sysctl_config": None, "remediation": None,
                                     "remediation_outcome": None}
    assert case["hosts"]["web-1"]["remediation"] == {"changed": True}
    assert case["hosts"]["web-1"]["remediation_outcome"] == {"status": "tuned"}
    assert case["reads"] == ["web-1"]


def test_hostvars_without_raw_get_are_read_as_a_mapping(found):
    assert found["plain_mapping"]["hosts"]["web-1"]["status"] != "error"


def test_a_misspelled_variable_makes_only_its_host_an_error_naming_it_and_the_closest_variable(found):
    """An error, not a judgement without what was meant: remediate then leaves that host alone."""
    hosts = found["misspelled_names"]["hosts"]
    outcomes = found["misspelled_names"]["outcomes"]
    assert outcomes["web-1"]["fixable_by_tuning"] is True and outcomes["web-2"]["fixable_by_tuning"] is False
    assert hosts["web-1"]["status"] != "error"
    assert hosts["web-1"]["thresholds"]["close_wait_warn"] == 5
    assert hosts["web-2"]["status"] == "error" and hosts["web-2"]["findings"] == []
    assert hosts["web-2"]["reason"] == (
        "tcp_audit_threshold is not a variable of the tcpops.timewait playbooks (did you mean tcp_audit_thresholds?); "
        "it would have no effect; tcp_remediate_profil is not a variable of the tcpops.timewait playbooks (did you "
        "mean tcp_remediate_profile?); it would have no effect")
    assert hosts["web-2"]["facts"]["counts"]["total"] >= 0 and hosts["web-2"]["sysctl_config"]["files"]


def test_a_misspelled_variable_keeps_the_reason_the_host_had_already(found):
    reason = found["misspelled_names"]["hosts"]["web-3"]["reason"]
    assert reason.startswith("tcp_audit_namespace is not a variable of the tcpops.timewait playbooks (did you mean "
                             "tcp_audit_namespaces?); it would have no effect; ")
    assert "ssh: connect to host web-3 port 22: timed out" in reason


def test_names_are_checked_only_in_the_collections_playbooks_and_never_the_variables_the_task_is_told_to_read(found):
    outside = found["misspelled_names"]["outside_the_playbooks"]
    assert outside["web-2"]["status"] != "error" and outside["web-3"]["status"] == "unreachable"
    named = found["misspelled_names"]["variables_named_by_options"]["web-4"]
    assert named["status"] != "error" and named["remediation"] == {"changed": True}
