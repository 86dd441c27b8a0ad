# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.junit.xml: a testsuite per host, a testcase per rule.

``fail`` findings are failures; ``warn`` findings pass with the message in system-out (a CI can
still gate on warnings through tcp_audit_fail_on); a host that could not be audited gets one
``reachability`` testcase with an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET


def _testcase(suite, host, name):
    return ET.SubElement(suite, "testcase", {"classname": "tcp_audit.%s" % host, "name": name})


def render(doc):
    root = ET.Element("testsuites", {"name": "tcp-audit"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in doc["summary"]["hosts_worst_first"]:
        entry = doc["hosts"][host]
        suite = ET.SubElement(root, "testsuite", {"name": host, "timestamp": str(doc.get("generated_at") or "")})
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if entry["status"] in ("unreachable", "error"):
            case = _testcase(suite, host, "reachability")
            error = ET.SubElement(case, "error", {"type": entry["status"], "message": entry.get("reason") or ""})
            error.text = entry.get("reason") or ""
            counts["tests"] += 1
            counts["errors"] += 1
        for finding in entry.get("findings") or []:
            case = _testcase(suite, host, finding["id"])
            counts["tests"] += 1
            detail = "%s\nevidence: %s\nremediation: %s" % (
                finding["message"], json.dumps(finding["evidence"], sort_keys=True, default=str),
                finding["remediation"])
            if finding.get("skipped"):
                ET.SubElement(case, "skipped", {"message": finding["message"]})
                counts["skipped"] += 1
            elif finding["severity"] == "fail":
                failure = ET.SubElement(case, "failure", {"type": "fail", "message": finding["message"]})
                failure.text = detail
                counts["failures"] += 1
            elif finding["severity"] == "warn":
                ET.SubElement(case, "system-out").text = "WARN: " + detail
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    if hasattr(ET, "indent"):  # Python 3.9+
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
