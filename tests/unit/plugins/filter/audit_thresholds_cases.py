"""Runs the audit_thresholds filter on the cases of test_audit_thresholds.py and prints, for each, the
thresholds it returned or the error it raised, as JSON. A process of its own (tests/unit/plugins/child.py
says why): the filter raises ``ansible.errors.AnsibleFilterError``."""

import json
import sys

from ansible.errors import AnsibleFilterError

from ansible_collections.tcpops.timewait.plugins.filter.audit_thresholds import FilterModule

CASES = {
    "dict": {"close_wait_warn": 10},
    "json": '{"close_wait_warn": 10}',
    "yaml": "close_wait_warn: 10",
    "empty dict": {},
    "empty string": "",
    "null": None,
    "unknown name": {"close_wait_warning": 10},
    "not a number": '{"close_wait_warn": "many"}',
    "not a mapping": "[1, 2]",
    "warn above fail": {"port_usage_warn": 0.9},
}


def main():
    audit_thresholds = FilterModule().filters()["audit_thresholds"]
    found = {}
    for name, given in CASES.items():
        try:
            found[name] = {"thresholds": audit_thresholds(given)}
        except AnsibleFilterError as exc:
            found[name] = {"error": str(exc)}
    sys.stdout.write(json.dumps(found))


if __name__ == "__main__":
    main()
