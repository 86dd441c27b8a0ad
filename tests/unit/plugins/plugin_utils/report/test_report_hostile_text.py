# -*- coding: utf-8 -*-
"""Every report writer fed every class of bad character, in a process name and in an error message."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import common
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import csv_report as report_csv
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_hosts
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report as report_html
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import json_report as report_json
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import junit_report as report_junit
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import prom_report as report_prom
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load

# (class, text, how the text-only formats show it)
BAD = [
    ("C0 control", "ev\x01l", "ev\\x01l"),
    ("NUL", "a\x00b", "a\\x00b"),
    ("ESC sequence", "\x1b[2Jx", "\\x1b[2Jx"),
    ("vertical tab and form feed", "a\x0bb\x0cc", "a\\x0bb\\x0cc"),
    ("DEL", "d\x7fe", "d\\x7fe"),
    ("C1 control", "c\x85\x9bd", "c\\x85\\x9bd"),
    ("right-to-left override", "\u202egnp.exe", "\\u202egnp.exe"),
    ("bidi isolates and marks", "a\u2066b\u2069\u200fc\u061c", "a\\u2066b\\u2069\\u200fc\\u061c"),
    ("lone surrogate (undecodable byte)", "x\udcffy", "x\\udcffy"),
    ("XML non-characters", "a\ufffeb\uffff", "a\\ufffeb\\uffff"),
]
FORBIDDEN_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                 "\ud800-\udfff\ufffe\uffff]")
IDS = [case[0] for case in BAD]


def doc_with(text):
    facts = load("tcp_state_clean.json")
    facts["close_wait"]["total"] = 120
    facts["close_wait"]["top_processes"] = [{"pid": 66, "comm": text, "count": 120, "local_ports": [8080]}]
    hosts = {
        "web-1": fleet.host_entry({"ansible_facts": {"tcp_state": facts}}),
        "gone-1": fleet.host_entry({"unreachable": True, "msg": "ssh"}),
    }
    hosts["gone-1"]["reason"] = "ssh: " + text  # as it is, whatever host_entry keeps of a message
    return fleet.build_document(hosts, "2026-01-01T00:00:00Z")


@pytest.mark.parametrize("name, text, shown", BAD, ids=IDS)
def test_junit_is_valid_xml_with_the_text_in_backslash_notation(name, text, shown):
    xml = report_junit.render(doc_with(text))
    assert not FORBIDDEN_IN_XML.search(xml) and not RAW.search(xml)
    root = ET.fromstring(xml.encode("utf-8"))
    gone = root.find("testsuite[@name='gone-1']/testcase/error")
    assert gone.get("message") == "ssh: " + shown and gone.text == "ssh: " + shown
    warn = root.find("testsuite[@name='web-1']/testcase[@name='close_wait_leak']/system-out")
    assert shown in warn.text


@pytest.mark.parametrize("name, text, shown", BAD, ids=IDS)
def test_csv_cells_carry_no_control_or_bidi_character(name, text, shown):
    out = report_csv.render(doc_with(text))
    assert not RAW.search(out)
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(out))}
    assert rows["web-1"]["close_wait_owners"] == "%s/66:120" % shown
    assert rows["gone-1"]["reason"] == "ssh: " + shown


def test_csv_keeps_line_breaks_and_tabs_inside_quoted_cells_and_still_stops_formulas():
    doc = doc_with("x")
    doc["hosts"]["gone-1"]["reason"] = "line one\nline\ttwo\r\n"
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(report_csv.render(doc)))}
    assert rows["gone-1"]["reason"] == "line one\nline\ttwo\r\n"
    doc["hosts"]["gone-1"]["reason"] = "\u202e=cmd|' /C calc'!A0"
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(report_csv.render(doc)))}
    assert rows["gone-1"]["reason"] == "\\u202e=cmd|' /C calc'!A0"
    doc["hosts"]["gone-1"]["reason"] = "\x1b=1+1"
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(report_csv.render(doc)))}
    assert rows["gone-1"]["reason"] == "\\x1b=1+1"


@pytest.mark.parametrize("name, text, shown", BAD, ids=IDS)
def test_html_shows_the_text_in_backslash_notation(name, text, shown):
    page = report_html.render(doc_with(text))
    assert not RAW.search(page)
    assert "ssh: " + shown in page


@pytest.mark.parametrize("name, text, shown", BAD, ids=IDS)
def test_the_per_host_markup_takes_no_shortcut_past_a_hidden_character(name, text, shown):
    assert html_hosts.shown("<%s>" % text) == "&lt;%s&gt;" % shown
    assert html_hosts.shown(text) == shown


@pytest.mark.parametrize("value, expected", [
    ("plain 10.0.0.1:5432 java", "plain 10.0.0.1:5432 java"), ('a"b\'c&d', "a&#34;b&#39;c&amp;d"),
    (Markup("<b>kept</b>"), "<b>kept</b>"), (12345, "12345"), (True, "True"), (None, ""), (0.5, "0.5")])
def test_the_per_host_markup_prints_a_value_as_the_template_does(value, expected):
    env = report_html.environment()
    assert html_hosts.shown(value) == expected == env.from_string("{{ v }}").render(v=value)


class _Loud(str):
    def __str__(self):
        return "<img src=x>"


class _LoudInt(int):
    def __str__(self):
        return "<b>7</b>"


@pytest.mark.parametrize("value", [_Loud("plain"), _LoudInt(7)], ids=["str subclass", "int subclass"])
def test_a_subclass_that_prints_otherwise_is_escaped_as_the_template_does(value):
    env = report_html.environment()
    assert "%s" % html_hosts.shown(value) == env.from_string("{{ v }}").render(v=value)
    assert "<" not in "%s" % html_hosts.shown(value)


@pytest.mark.parametrize("name, text, shown", BAD, ids=IDS)
def test_prometheus_label_values_are_escaped(name, text, shown):
    doc = doc_with(text)
    doc["hosts"][text] = doc["hosts"].pop("web-1")
    doc["summary"]["hosts_worst_first"] = [text if n == "web-1" else n for n in doc["summary"]["hosts_worst_first"]]
    out = report_prom.render(doc, 1767225600, report="audit")
    assert not RAW.search(out)
    assert 'tcp_audit_host_status{host="%s",report="audit"} 1' % shown.replace("\\", "\\\\") in out
    out.encode("utf-8")  # no lone surrogate left


@pytest.mark.parametrize("text, escaped", [
    ('a"b', 'a\\"b'), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb"), ("a\tb", "a\\\\x09b"), ("a\rb", "a\\\\x0db"),
    ("\u202e", "\\\\u202e"), ("plain-1.example", "plain-1.example")])
def test_prometheus_label_value(text, escaped):
    assert report_prom.label_value(text) == escaped


def test_every_series_names_its_report():
    out = report_prom.render(doc_with("x"), 1767225600, report="remediate-after")
    samples = [line for line in out.splitlines() if not line.startswith("#")]
    assert samples and all('report="remediate-after"' in line for line in samples)


@pytest.mark.parametrize("name, text, shown", BAD, ids=IDS)
def test_json_keeps_the_text_exactly_as_json_escapes(name, text, shown):
    out = report_json.render(doc_with(text))
    assert not RAW.search(out)
    out.encode("ascii")
    assert json.loads(out)["hosts"]["web-1"]["facts"]["close_wait"]["top_processes"][0]["comm"] == text


@pytest.mark.parametrize("value, one_line, expected", [
    ("a\tb\nc\rd", False, "a\tb\nc\rd"), ("a\tb\nc\rd", True, "a\\x09b\\x0ac\\x0dd"),
    (None, False, ""), (12, False, "12"), ("caf\xe9 \u4e2d", False, "caf\xe9 \u4e2d")])
def test_visible(value, one_line, expected):
    assert common.visible(value, one_line) == expected
