"""Every report format of real audits: hostile process names planted in a network namespace, and
the Prometheus files of two fleet reports in one textfile directory, checked with promtool and
scraped from a real node_exporter.
"""

import csv
import json
import os
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.root

# A comm is at most 15 bytes; each name carries one class of bad character.
HOSTILE = {
    "ev\x01l": "ev\\x01l",                    # C0 control (forbidden in XML 1.0)
    "\x1b[31mred": "\\x1b[31mred",            # ESC: a terminal escape sequence
    "\u202egnp.exe": "\\u202egnp.exe",        # RIGHT-TO-LEFT OVERRIDE
    "\x7fd\x0bel": "\\x7fd\\x0bel",           # DEL and vertical tab
    "\xe9t\xe9": "\xe9t\xe9",                 # plain non-ASCII text stays as it is
}
RAW = [chr(c) for c in list(range(0, 9)) + [11, 12] + list(range(14, 32)) + [0x7f]] + ["\u202e"]


def no_raw_controls(text, where):
    for char in RAW:
        assert char not in text, (where, repr(char))


def test_hostile_process_names_are_safe_in_every_report(netns, planter, tmp_path, playbook, reportdirs):
    for comm in HOSTILE:
        planter.plant_close_wait(netns, 15, comm=comm)
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    dest = tmp_path / "reports"
    done = playbook.run("audit", dest, {"tcp_audit_textfile_dir": textfiles}, ns=netns)
    assert done.returncode == 0, done.stdout[-3000:]
    doc = reportdirs.assert_fixed(str(dest))

    # tcp_state_facts names each process in backslash notation at the source (docs/trust.md)
    owners = {o["comm"]: o["count"] for o in doc["hosts"]["localhost"]["facts"]["close_wait"]["top_processes"]}
    assert owners == dict((shown, 15) for shown in HOSTILE.values())
    raw_json = reportdirs.read(str(dest / "tcp-audit.json"))
    no_raw_controls(raw_json, "json")

    # JUnit: valid XML 1.0 for a strict parser, the names in backslash notation
    junit = reportdirs.read(str(dest / "tcp-audit.junit.xml"))
    no_raw_controls(junit, "junit")
    text = ET.tostring(ET.fromstring(junit), encoding="unicode")
    # the finding's message names three owners (visible notation), its evidence all of them (JSON)
    assert sum(1 for shown in HOSTILE.values() if shown in text) >= 3
    for shown in HOSTILE.values():
        assert shown in text or json.dumps(shown)[1:-1] in text, shown

    # CSV: no raw control or bidi character in any cell
    with open(str(dest / "tcp-audit.csv"), newline="", encoding="utf-8") as handle:
        rows = {row["host"]: row for row in csv.DictReader(handle)}
    cell = rows["localhost"]["close_wait_owners"]
    for shown in HOSTILE.values():
        assert shown in cell
    no_raw_controls(reportdirs.read(str(dest / "tcp-audit.csv")), "csv")

    # HTML: the names as visible text
    html = reportdirs.read(str(dest / "tcp-audit.html"))
    no_raw_controls(html, "html")
    assert sum(1 for shown in HOSTILE.values() if shown in html) >= 3
    for shown in HOSTILE.values():
        assert shown in html or json.dumps(shown)[1:-1] in html, shown

    # Prometheus: both copies pass promtool, and are the same file
    no_raw_controls(reportdirs.read(str(dest / "tcp-audit.prom")), "prom")
    assert os.listdir(str(textfiles)) == ["tcp-audit-audit.prom"]
    assert (textfiles / "tcp-audit-audit.prom").read_bytes() == (dest / "tcp-audit.prom").read_bytes()
    reportdirs.promtool_check(str(dest / "tcp-audit.prom"))


def test_two_fleet_reports_share_a_textfile_directory_scraped_by_node_exporter(tmp_path, playbook, reportdirs,
                                                                               node_exporter):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    (textfiles / "other.prom").write_text("# HELP other_up Something else.\n# TYPE other_up gauge\nother_up 1\n")
    for name, dest in (("audit", tmp_path / "reports"), ("report", tmp_path / "runs")):
        done = playbook.run(name, dest, {"tcp_audit_textfile_dir": textfiles})
        assert done.returncode == 0, done.stdout[-3000:]
    nightly = {"tcp_audit_textfile_dir": textfiles, "tcp_audit_report_name": "nightly"}
    done = playbook.run("audit", tmp_path / "nightly", nightly)
    assert done.returncode == 0, done.stdout[-3000:]
    assert sorted(os.listdir(str(textfiles))) == ["other.prom", "tcp-audit-audit.prom", "tcp-audit-nightly.prom",
                                                  "tcp-audit-report.prom"]
    assert ((textfiles / "tcp-audit-report.prom").read_bytes()
            == (tmp_path / "runs" / "latest" / "tcp-audit.prom").read_bytes())
    for name in os.listdir(str(textfiles)):
        reportdirs.promtool_check(str(textfiles / name))

    metrics = node_exporter.scrape_textfiles(str(textfiles))
    assert "node_textfile_scrape_error 0" in metrics.splitlines()
    lines = metrics.splitlines()
    for report in ("audit", "report", "nightly"):
        assert any(line.startswith('tcp_audit_host_status{host="localhost",report="%s"} ' % report) for line in lines)
        assert any(line.startswith('tcp_audit_last_run_timestamp_seconds{report="%s"} ' % report) for line in lines)
        assert 'tcp_audit_hosts{report="%s",status="pass"}' % report in metrics
    assert "other_up 1" in lines
    doc = json.loads((tmp_path / "runs" / "latest" / "tcp-audit.json").read_text())
    assert doc["summary"]["hosts"] == 1


def test_tcp_audit_top_bounds_the_facts_lists(netns, planter, tmp_path, playbook, reportdirs):
    for comm in ("leak-a", "leak-b", "leak-c"):
        planter.plant_close_wait(netns, 5, comm=comm)
    dest = tmp_path / "reports"
    done = playbook.run("audit", dest, {"tcp_audit_top": 2}, ns=netns)
    assert done.returncode == 0, done.stdout[-3000:]
    close_wait = reportdirs.assert_fixed(str(dest))["hosts"]["localhost"]["facts"]["close_wait"]
    assert close_wait["total"] == 15 and close_wait["processes_total"] == 3
    listed = sorted(p["comm"] for p in close_wait["top_processes"])
    assert len(listed) == 2 and set(listed) <= {"leak-a", "leak-b", "leak-c"}
