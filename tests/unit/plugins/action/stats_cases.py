"""Runs the report task's publication of its outcome (``ActionModule._with_stats``) with the set_stats
option on and off, and prints the results as JSON (a process of its own: ../child.py says why)."""

import json
import sys

from ansible_collections.tcpops.timewait.plugins.action.tcp_audit_report import ARGUMENT_SPEC, ActionModule

STATS = {"tcp_audit_run_id": "nightly-1", "tcp_audit": {"scope": "fleet", "worst_status": "warn"}}

if __name__ == "__main__":
    json.dump({
        "default": ARGUMENT_SPEC["set_stats"]["default"],
        "on": ActionModule._with_stats({"set_stats": True}, {"changed": True, "stats": STATS}),
        "off": ActionModule._with_stats({"set_stats": False}, {"changed": True, "stats": STATS}),
    }, sys.stdout)
