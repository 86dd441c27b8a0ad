# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp-audit.junit.xml: a testsuite per host, a testcase per rule, and one per rule and container or pod in
which it fails or warns, named ``<rule> (<owner_text>)``.

``fail`` findings are failures; ``warn`` findings pass with the message in system-out (a CI can
still gate on warnings through tcp_audit_fail_on); a host that could not be audited gets one
``reachability`` testcase with an error.

Every text from a host passes through ``visible``: XML 1.0 forbids most control characters (a JUnit
parser rejects the whole file). The XML is written as text, indented two spaces per level: building
an ElementTree of a large fleet and serialising it cost several times more than the rest of the report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.fleet import finding_name
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report.common import visible

COUNTS = ("tests", "failures", "errors", "skipped")
_EVIDENCE = json.JSONEncoder(sort_keys=True, default=str)


def _text(value):
    return visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value):
    return _text(value).replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _start(tag, attributes, escaped=""):
    """The start tag up to its closing bracket; ``escaped``: attributes already written as text."""
    return "<%s%s%s" % (tag, escaped, "".join(' %s="%s"' % (key, _attribute(value)) for key, value in attributes))


def _leaf(indent, tag, attributes, text=None):
    text = _text(text) if text is not None else ""
    if text:
        return "%s%s>%s</%s>" % (indent, _start(tag, attributes), text, tag)
    return "%s%s />" % (indent, _start(tag, attributes))


def _parent(indent, tag, attributes, children):
    if not children:
        return "%s%s />" % (indent, _start(tag, attributes))
    return "%s%s>\n%s\n%s</%s>" % (indent, _start(tag, attributes), "\n".join(children), indent, tag)


def _testcase(classname, name, outcome=None):
    start = _start("testcase", [("name", name)], classname)
    if outcome is None:
        return "    %s />" % start
    return "    %s>\n%s\n    </testcase>" % (start, _leaf("      ", *outcome))


def _suite(doc, host, totals):
    entry = doc["hosts"][host]
    counts = dict.fromkeys(COUNTS, 0)
    cases = []
    classname = ' classname="%s"' % _attribute("tcp_audit.%s" % host)
    if entry["status"] in ("unreachable", "error"):
        cases.append(_testcase(classname, "reachability", (
            "error", [("type", entry["status"]), ("message", entry.get("reason"))], entry.get("reason") or "")))
        counts["tests"] += 1
        counts["errors"] += 1
    for finding in entry.get("findings") or []:
        counts["tests"] += 1
        detail = "%s\nevidence: %s\nremediation: %s" % (
            finding["message"], _EVIDENCE.encode(finding["evidence"]), finding["remediation"])
        outcome = None
        if finding.get("skipped"):
            outcome = ("skipped", [("message", finding["message"])])
            counts["skipped"] += 1
        elif finding["severity"] == "fail":
            outcome = ("failure", [("type", "fail"), ("message", finding["message"])], detail)
            counts["failures"] += 1
        elif finding["severity"] == "warn":
            outcome = ("system-out", [], "WARN: " + detail)
        cases.append(_testcase(classname, finding_name(finding), outcome))
    for key in COUNTS:
        totals[key] += counts[key]
    attributes = [("name", host), ("timestamp", doc.get("generated_at"))] + [(key, counts[key]) for key in COUNTS]
    return _parent("  ", "testsuite", attributes, cases)


def render(doc):
    totals = dict.fromkeys(COUNTS, 0)
    suites = [_suite(doc, host, totals) for host in doc["summary"]["hosts_worst_first"]]
    root = _parent("", "testsuites", [("name", "tcp-audit")] + [(key, totals[key]) for key in COUNTS], suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + root + "\n"
