# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.junit.xml: a testsuite per host, a testcase per rule.

``fail`` findings are failures; ``warn`` findings pass with the message in system-out (a CI can
still gate on warnings through tcp_audit_fail_on); a host that could not be audited gets one
``reachability`` testcase with an error.

Every text from a host passes through ``visible``: ElementTree writes control characters as they
are, and XML 1.0 forbids most of them (a JUnit parser rejects the whole file).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible


def _element(parent, tag, text=None, **attributes):
    node = ET.SubElement(parent, tag, dict((key, visible(value)) for key, value in attributes.items()))
    if text is not None:
        node.text = visible(text)
    return node


def _testcase(suite, host, name):
    return _element(suite, "testcase", classname="tcp_audit.%s" % host, name=name)


def render(doc):
    root = ET.Element("testsuites", {"name": "tcp-audit"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in doc["summary"]["hosts_worst_first"]:
        entry = doc["hosts"][host]
        suite = _element(root, "testsuite", name=host, timestamp=doc.get("generated_at"))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if entry["status"] in ("unreachable", "error"):
            case = _testcase(suite, host, "reachability")
            _element(case, "error", entry.get("reason") or "", type=entry["status"], message=entry.get("reason"))
            counts["tests"] += 1
            counts["errors"] += 1
        for finding in entry.get("findings") or []:
            case = _testcase(suite, host, finding["id"])
            counts["tests"] += 1
            detail = "%s\nevidence: %s\nremediation: %s" % (
                finding["message"], json.dumps(finding["evidence"], sort_keys=True, default=str),
                finding["remediation"])
            if finding.get("skipped"):
                _element(case, "skipped", message=finding["message"])
                counts["skipped"] += 1
            elif finding["severity"] == "fail":
                _element(case, "failure", detail, type="fail", message=finding["message"])
                counts["failures"] += 1
            elif finding["severity"] == "warn":
                _element(case, "system-out", "WARN: " + detail)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    if hasattr(ET, "indent"):  # Python 3.9+
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
