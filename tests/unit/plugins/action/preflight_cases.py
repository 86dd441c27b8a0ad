"""Runs the preflight's templating (``ActionModule._templated``) and Ansible's own readers of the playbooks'
variables on the cases of test_tcp_audit_preflight.py, and prints what they gave as JSON.

A process of its own, as evaluate_hosts.py explains: importing Ansible's controller side would send the
module tests' warnings to the controller's display.
"""

import json
import sys

from ansible.module_utils.common.validation import check_type_dict
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.filter.core import _valid_bool_false, _valid_bool_true, to_bool
from ansible.template import Templar, trust_as_template
from ansible.utils.helpers import pct_to_int

from ansible_collections.tcpops.timewait.plugins.action.tcp_audit_preflight import ActionModule
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import play_vars
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import run_wide

BOOL_CANDIDATES = [True, False, 0, 1, 2, "yes", "No", "ON", "off", "TRUE", "false", "1", "0", "y", "t", "ture",
                   " true", "", None, 1.0]
SERIAL_CANDIDATES = [1, 0, -3, "2", " 2", "25%", "150%", "0%", "12.5%", "2.0", "1e1", "x", "25 %", "%", ""]
OVERRIDE_CANDIDATES = ["net.ipv4.tcp_fin_timeout=30", '{"net.ipv4.tcp_fin_timeout": 30}', "a=1 b=2", "justtext",
                       "{broken", 7, [1]]


def templated():
    task_vars = {
        "limit": 5,
        "omit": "__omit_place_holder__test",
        "tcp_audit_top": trust_as_template("{{ limit * 2 }}"),
        "tcp_audit_textfile_dir": trust_as_template("{{ nowhere | default(omit) }}"),
        "tcp_audit_namespaces": trust_as_template("{{ no_such_variable }}"),
        "tcp_audit_thresholds": trust_as_template("{{ per_host_thresholds }}"),
        "tcp_audit_report_name": "nightly",
        "tcp_audit_gathered": {"failed": True},
        "inventory_hostname": "web-1",
    }
    action = ActionModule.__new__(ActionModule)
    action._templar = Templar(loader=DataLoader(), variables=task_vars)
    values, found, untemplatable = action._templated(task_vars)
    return {"values": values, "found": found, "untemplatable": untemplatable}


def _agreement(candidates, ansible_takes, variable):
    """[repr, Ansible takes it, the preflight takes it] for each candidate value of ``variable``."""
    return [[repr(value), ansible_takes(value), play_vars.INPUTS[variable](value) is None] for value in candidates]


def _bool_filter_knows(value):
    if isinstance(value, str):
        value = value.lower()
    elif isinstance(value, int):
        value = str(value).lower()
    try:
        return value in _valid_bool_true or value in _valid_bool_false
    except TypeError:
        return False


def _serial_batches(value):
    try:
        pct_to_int(value, 10)
    except (ValueError, TypeError):
        return False
    return True


def _role_takes_overrides(value):
    try:
        check_type_dict(value)
    except TypeError:
        return False
    return True


def bool_filter_agrees():
    return _agreement(BOOL_CANDIDATES, _bool_filter_knows, "tcp_audit_merge")


def serial_agrees():
    return _agreement(SERIAL_CANDIDATES, _serial_batches, "tcp_remediate_serial")


def overrides_agree():
    return _agreement(OVERRIDE_CANDIDATES, _role_takes_overrides, "tcp_remediate_overrides")


def merge_read_as_the_bool_filter_reads_it():
    """[repr, what ``| bool`` gives, what the run-wide comparison takes] for each value the filter knows."""
    return [[repr(value), to_bool(value), run_wide._as_read("tcp_audit_merge", value, "audit")]
            for value in BOOL_CANDIDATES if _bool_filter_knows(value)]


CASES = (templated, bool_filter_agrees, serial_agrees, overrides_agree, merge_read_as_the_bool_filter_reads_it)

if __name__ == "__main__":
    json.dump(dict((case.__name__, case()) for case in CASES), sys.stdout, default=str)
