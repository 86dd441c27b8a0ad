"""Runs the report task's reading of hosts (``ActionModule._evaluate``) on the cases of
test_tcp_audit_report_hosts.py and prints what it found as JSON.

A process of its own: importing Ansible's controller side (the action plugin, its templar) makes module
warnings go to the controller's display for the rest of the process, which the module tests of the same
pytest run would then miss.
"""

import copy
import json
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.tcpops.timewait.plugins.action.tcp_audit_report import ActionModule
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load

ARGS = {"facts_var": "tcp_audit_gathered", "thresholds_var": "tcp_audit_thresholds", "remediation_var": None,
        "remediation_outcome_var": None, "playbook": None}


class FakeHostVars(object):
    """What the task sees of ``hostvars``: each host's variables as they are (``raw_get``)."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.reads = []

    def __contains__(self, name):
        return name in self.hosts

    def raw_get(self, name):
        self.reads.append(name)
        return self.hosts[name]


def _result():
    return {"changed": False, "ansible_facts": {"tcp_state": load("tcp_state_clean.json")}}


def _evaluate(hostvars, hosts, **args):
    action = ActionModule.__new__(ActionModule)
    action._templar = Templar(loader=DataLoader())
    return action._evaluate(dict(ARGS, hosts=hosts, **args), hostvars)


def per_host_thresholds():
    shared = {"close_wait_warn": trust_as_template("{{ warn_at }}")}
    hostvars = FakeHostVars({
        "web-1": {"warn_at": 11, "tcp_audit_thresholds": shared, "tcp_audit_gathered": _result()},
        "web-2": {"warn_at": 12, "tcp_audit_thresholds": shared, "tcp_audit_gathered": _result()},
        "web-3": {"tcp_audit_thresholds": shared, "tcp_audit_gathered": _result()},
    })
    return {"hosts": _evaluate(hostvars, ["web-1", "web-2", "web-3"]), "reads": hostvars.reads}


def registered_text():
    result = _result()
    result["ansible_facts"]["tcp_state"]["close_wait"]["top_processes"] = [
        {"pid": 7, "comm": trust_as_template("{{ lookup('env', 'HOME') }}"), "count": 1, "local_ports": [80]}]
    kept = copy.deepcopy(result)
    hosts = _evaluate(FakeHostVars({"web-1": {"tcp_audit_gathered": result}}), ["web-1"])
    return {"hosts": hosts, "unchanged": result == kept}


def facts_as_template():
    hostvars = FakeHostVars({"web-1": {"saved": _result(), "tcp_audit_gathered": trust_as_template("{{ saved }}")},
                             "web-2": {"tcp_audit_gathered": trust_as_template("{{ missing }}")}})
    return {"hosts": _evaluate(hostvars, ["web-1", "web-2"])}


def missing_host_and_remediation():
    hostvars = FakeHostVars({"web-1": {"tcp_audit_gathered": _result(), "tuned": {"changed": True},
                                       "outcome": {"status": "tuned"}}})
    hosts = _evaluate(hostvars, ["web-1", "gone"], remediation_var="tuned", remediation_outcome_var="outcome")
    return {"hosts": hosts, "reads": hostvars.reads}


def plain_mapping():
    return {"hosts": _evaluate({"web-1": {"tcp_audit_gathered": _result()}}, ["web-1"])}


def _folk_result():
    """A host whose findings the tcp_tuning role fixes (tw_recycle in its sysctl files)."""
    result = _result()
    result["ansible_facts"]["tcp_state"]["sysctl_config"] = load("sysctl_config_folk.json")
    return result


def misspelled_names():
    hostvars = FakeHostVars({
        "web-1": {"tcp_audit_gathered": _folk_result(), "tcp_audit_thresholds": {"close_wait_warn": 5},
                  "tcp_remediate_outcome": None, "tcp_audit_summary_of": {}},
        "web-2": {"tcp_audit_gathered": _folk_result(), "tcp_audit_threshold": {"close_wait_warn": 5},
                  "tcp_remediate_profil": "client"},
        "web-3": {"tcp_audit_gathered": {"unreachable": True, "msg": "ssh: connect to host web-3 port 22: timed out"},
                  "tcp_audit_namespace": "all"},
        "web-4": {"tcp_audit_facts": _folk_result(), "tcp_audit_tuned": {"changed": True}},
    })
    names = ["web-1", "web-2", "web-3"]
    hosts = _evaluate(hostvars, names, playbook="audit")
    return {"hosts": hosts, "outcomes": dict((name, fleet.host_outcome(entry)) for name, entry in hosts.items()),
            "outside_the_playbooks": _evaluate(hostvars, names),
            "variables_named_by_options": _evaluate(hostvars, ["web-4"], playbook="remediate",
                                                    facts_var="tcp_audit_facts", remediation_var="tcp_audit_tuned")}


CASES = (per_host_thresholds, registered_text, facts_as_template, missing_host_and_remediation, plain_mapping,
         misspelled_names)

if __name__ == "__main__":
    json.dump(dict((case.__name__, case()) for case in CASES), sys.stdout, default=str)
