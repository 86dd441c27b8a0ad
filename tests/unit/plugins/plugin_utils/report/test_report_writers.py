# -*- coding: utf-8 -*-
"""Report writers: escaping of host-supplied text, CSV formula injection, formats, atomic writes, history."""

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import COUNT_KEYS
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import common
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import csv_report as report_csv
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report as report_html
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import json_report as report_json
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import junit_report as report_junit
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import prom_report as report_prom
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load

# "nan", "inf", "-inf" written where a number goes (not inside a word such as "info")
NOT_A_NUMBER = re.compile(r"(?<![A-Za-z])-?(?:nan|inf)(?![A-Za-z])", re.IGNORECASE)

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.invalid","x")'


def hostile_doc(previous=None):
    facts = load("tcp_state_clean.json")
    facts["close_wait"]["total"] = 120
    facts["close_wait"]["top_processes"] = [
        {"pid": 66, "comm": SCRIPT, "count": 100, "local_ports": [8080]},
        {"pid": 67, "comm": FORMULA, "count": 20, "local_ports": [8081]}]
    facts["time_wait"]["top_destinations"][0].update(address='10.0.0.5"><img src=x>', port_usage=0.9)
    facts["sysctl_config"] = load("sysctl_config_folk.json")
    hosts = {
        "web-1": fleet.host_entry({"ansible_facts": {"tcp_state": facts}}),
        "clean-1": fleet.host_entry({"ansible_facts": {"tcp_state": load("tcp_state_clean.json")}}),
        "gone-1": fleet.host_entry({"unreachable": True, "msg": "ssh: <b>no route</b>"}),
    }
    return fleet.build_document(hosts, "2026-01-01T00:00:00Z", previous)


def test_html_escapes_everything_that_comes_from_a_host():
    page = report_html.render(hostile_doc())
    assert "<script>alert" not in page and "<img" not in page and "<b>no route" not in page
    # the only script elements are the two the template writes: the hosts' words as JSON, the filter
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json" id="host-index">', "<script>"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;no route&lt;/b&gt;" in page
    # nothing fetched, nothing executed
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert "<link" not in page


def test_html_lists_hosts_worst_first_with_findings_and_remediation():
    page = report_html.render(hostile_doc())
    positions = [page.index('id="host-%s"' % name) for name in ("gone-1", "web-1", "clean-1")]
    assert positions == sorted(positions)
    for rule_id in ("close_wait_leak", "time_wait_port_exhaustion", "tw_recycle_configured", "config_drift"):
        assert rule_id in page
    assert "no sysctl fixes this" in page  # close_wait remediation text
    assert page.count("<svg") == 1 and page.count("<rect") >= 3


def test_csv_neutralises_formulas_and_keeps_one_row_per_host():
    rows = list(csv.reader(io.StringIO(report_csv.render(hostile_doc()))))
    assert rows[0][0] == "host" and len(rows) == 4
    web = dict(zip(rows[0], [r for r in rows if r[0] == "web-1"][0]))
    assert web["status"] == "fail"
    assert web["close_wait_owners"].startswith("<script>")  # CSV is not HTML: kept as text
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


@pytest.mark.parametrize("value, expected", [
    (FORMULA, "'" + FORMULA), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("plain", "plain"), (-5, "-5"), (None, ""), (True, "true"), (0.5, "0.5")])
def test_csv_cell(value, expected):
    assert common.csv_cell(value) == expected


def test_formula_named_top_process_is_neutralised():
    doc = hostile_doc()
    owners = doc["hosts"]["web-1"]["facts"]["close_wait"]["top_processes"]
    owners.reverse()
    rows = list(csv.reader(io.StringIO(report_csv.render(doc))))
    web = dict(zip(rows[0], [r for r in rows if r[0] == "web-1"][0]))
    assert web["close_wait_owners"].startswith("'" + FORMULA + "/67:20")


def test_formula_as_a_whole_cell_is_neutralised():
    doc = hostile_doc()
    doc["hosts"]["gone-1"]["reason"] = FORMULA
    rows = list(csv.reader(io.StringIO(report_csv.render(doc))))
    gone = dict(zip(rows[0], [r for r in rows if r[0] == "gone-1"][0]))
    assert gone["reason"] == "'" + FORMULA


def test_junit_has_a_testcase_per_host_and_rule():
    root = ET.fromstring(report_junit.render(hostile_doc()))
    suites = dict((s.get("name"), s) for s in root.findall("testsuite"))
    assert sorted(suites) == ["clean-1", "gone-1", "web-1"]
    assert len(suites["web-1"].findall("testcase")) == 10
    failures = [c.get("name") for c in suites["web-1"].findall("testcase") if c.find("failure") is not None]
    assert "close_wait_leak" not in failures  # 120 is a warning
    assert "time_wait_port_exhaustion" in failures and "tw_recycle_configured" in failures
    assert suites["gone-1"].find("testcase/error").get("type") == "unreachable"
    assert root.get("errors") == "1" and int(root.get("tests")) == 21
    assert SCRIPT in ET.tostring(root, encoding="unicode").replace("&lt;", "<").replace("&gt;", ">")


def test_prometheus_textfile_format():
    text = report_prom.render(hostile_doc(), generated_epoch=1767225600)
    sample = re.compile(r'^[a-z_]+(\{([a-z]+="([^"\\\n]|\\.)*",?)*\})? -?[0-9.e+]+$')
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or sample.match(line), line
    assert 'tcp_audit_host_status{host="gone-1",report="audit"} 4' in text
    assert 'tcp_audit_host_status{host="web-1",report="audit"} 2' in text
    assert 'tcp_audit_finding_severity{host="web-1",report="audit",rule="close_wait_leak"} 1' in text
    assert 'tcp_audit_tcp_sockets{host="clean-1",report="audit",state="time_wait"} 40' in text
    assert 'tcp_audit_last_run_timestamp_seconds{report="audit"} 1767225600' in text
    assert report_prom.label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_json_round_trips_with_hosts_findings_facts_and_summary(tmp_path):
    paths = files.write_reports(files.render_reports(hostile_doc()), str(tmp_path / "reports"))
    assert sorted(os.path.basename(p) for p in paths.values()) == sorted(files.REPORT_NAMES.values())
    with open(paths["json"]) as handle:
        doc = json.load(handle)
    assert doc["hosts"]["web-1"]["status"] == "fail"
    assert doc["hosts"]["web-1"]["facts"]["close_wait"]["top_processes"][0]["comm"] == SCRIPT
    assert doc["summary"]["hosts"] == 3 and doc["hosts"]["gone-1"]["findings"] == []


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "tcp-audit.json"
    common.atomic_write(str(target), "old\n")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        common.atomic_write(str(target), "new but never complete\n")
    assert target.read_text() == "old\n"
    assert os.listdir(str(tmp_path)) == ["tcp-audit.json"]  # no temporary file left behind


def test_atomic_write_replaces_and_sets_mode(tmp_path):
    target = tmp_path / "r.csv"
    common.atomic_write(str(target), "a\n")
    common.atomic_write(str(target), "b\n")
    assert target.read_text() == "b\n" and oct(target.stat().st_mode & 0o777) == "0o644"


def test_history_latest_link_comparison_and_retention(tmp_path):
    base = str(tmp_path)
    assert files.previous_document(base) == (None, None)
    run_dirs = []
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260102T000000Z", "20260103T000000Z"):
        previous, why_not = files.previous_document(base)
        assert why_not is None
        run_dir = files.publish_run(files.render_reports(hostile_doc(previous)), base, stamp)
        files.point_latest(base, run_dir)
        run_dirs.append(run_dir)
        removed = files.prune_runs(base, 3, run_dir)
    assert os.path.basename(run_dirs[2]) == "20260102T000000Z-1"
    assert removed == ["20260101T000000Z"]
    assert sorted(os.listdir(base)) == ["20260102T000000Z", "20260102T000000Z-1", "20260103T000000Z", "latest"]
    assert os.readlink(os.path.join(base, "latest")) == "20260103T000000Z"
    with open(os.path.join(base, "latest", "tcp-audit.json")) as handle:
        latest = json.load(handle)
    assert latest["comparison"]["hosts"]["web-1"]["persisting"] == [
        "close_wait_leak", "config_drift", "time_wait_port_exhaustion", "tw_recycle_configured"]


def test_prune_never_removes_the_current_run(tmp_path):
    base = str(tmp_path)
    current = files.publish_run(files.render_reports(hostile_doc()), base, "20260101T000000Z")
    files.publish_run(files.render_reports(hostile_doc()), base, "20260105T000000Z")
    assert files.prune_runs(base, 1, current) == ["20260105T000000Z"]
    assert os.path.isdir(current)


def test_html_shows_what_remediation_did_per_host():
    doc = hostile_doc()
    doc["hosts"]["web-1"]["remediation"] = {"profile": "client", "reason": "outbound <TIME_WAIT> dominates",
                                            "file": "/etc/sysctl.d/90-tcpops-timewait.conf", "file_changed": True,
                                            "conflicts": [{"path": "/etc/sysctl.conf", "line": 62}]}
    doc["hosts"]["clean-1"]["remediation"] = None
    page = report_html.render(doc)
    assert ("tcp_tuning applied profile client (outbound &lt;TIME_WAIT&gt; dominates); file "
            "/etc/sysctl.d/90-tcpops-timewait.conf changed; 1 conflicting line(s) reported.") in page
    assert "tcp_tuning was not applied to this host." in page


def doc_with_intervals():
    """web-1 with rates over a 600 s interval, clean-1 whose counters restarted, gone-1 without facts."""
    doc = hostile_doc()
    rates = {"outbound_connections": 100.0, "inbound_connections": 2.5, "failed_connection_attempts": 0.0,
             "time_wait_entered": 101.0, "time_wait_reused": 0.0, "time_wait_overflow": 0.0,
             "listen_overflows": 0.1, "listen_drops": None}
    doc["hosts"]["web-1"]["counter_deltas"] = {
        "interval_seconds": 600, "reboot": False, "deltas": {"ActiveOpens": 60000}, "rates": rates}
    doc["hosts"]["clean-1"]["counter_deltas"] = {
        "interval_seconds": 600, "reboot": True, "deltas": None, "rates": None}
    doc["hosts"]["gone-1"]["counter_deltas"] = None
    return doc


def test_prometheus_has_the_interval_rates_of_the_hosts_that_have_them():
    lines = report_prom.render(doc_with_intervals()).splitlines()
    assert 'tcp_audit_interval_seconds{host="web-1",report="audit"} 600' in lines
    assert 'tcp_audit_tcp_rate_per_second{host="web-1",rate="outbound_connections",report="audit"} 100.0' in lines
    assert 'tcp_audit_tcp_rate_per_second{host="web-1",rate="listen_overflows",report="audit"} 0.1' in lines
    rated = [line for line in lines if line.startswith("tcp_audit_tcp_rate_per_second{")]
    assert len(rated) == 7  # listen_drops unknown; clean-1 restarted and gone-1 unread have none
    assert not any('host="clean-1"' in line or 'host="gone-1"' in line for line in rated)
    # without any interval (no history) neither metric is declared
    assert "tcp_audit_tcp_rate_per_second" not in report_prom.render(hostile_doc())


def test_csv_closes_each_row_with_the_interval_and_its_rates():
    rows = dict((row["host"], row) for row in csv.DictReader(io.StringIO(report_csv.render(doc_with_intervals()))))
    assert list(rows["web-1"])[-16:-7] == ["interval_seconds"] + ["%s_per_second" % key for key in (
        "outbound_connections", "inbound_connections", "failed_connection_attempts", "time_wait_entered",
        "time_wait_reused", "time_wait_overflow", "listen_overflows", "listen_drops")]
    assert rows["web-1"]["interval_seconds"] == "600" and rows["web-1"]["outbound_connections_per_second"] == "100.0"
    assert rows["web-1"]["listen_drops_per_second"] == ""
    assert rows["clean-1"]["interval_seconds"] == "" and rows["clean-1"]["time_wait_entered_per_second"] == ""


def test_html_says_the_interval_rates_or_why_there_are_none():
    page = report_html.render(doc_with_intervals())
    assert ('<p class="rates">Over the 600 s since the previous run: outbound connections 100/s, inbound connections '
            '2.5/s, failed connection attempts 0/s, TIME_WAIT entered 101/s, TIME_WAIT reused 0/s, TIME_WAIT overflow '
            '0/s, listen overflows 0.1/s.</p>') in page
    assert ("The kernel&#39;s TCP counters restarted since the previous run (a reboot, or a new network namespace): "
            "no rates this run.") in page
    assert page.count('<p class="rates">') == 2


@pytest.mark.parametrize("odd", [
    {"interval_seconds": 600, "reboot": False, "deltas": {}, "rates": {"listen_drops": "1\nevil_metric 1"}},
    {"interval_seconds": 600, "reboot": False, "deltas": {}, "rates": {"listen_drops": float("nan")}},
    {"interval_seconds": 600, "reboot": False, "deltas": {}, "rates": {"listen_drops": True}},
    {"reboot": False, "deltas": {}, "rates": {"listen_drops": 1.0}},
    {"interval_seconds": None, "reboot": False, "deltas": {}, "rates": {"listen_drops": 1.0}},
    {"interval_seconds": 600, "reboot": False, "deltas": {}, "rates": ["not", "a", "dict"]},
], ids=["text with a line feed", "nan", "bool", "no interval", "null interval", "rates not a dict"])
def test_odd_counter_deltas_write_no_rate_sample_and_break_no_writer(odd):
    doc = hostile_doc()
    doc["hosts"]["web-1"]["counter_deltas"] = odd
    text = report_prom.render(doc)
    assert "evil_metric" not in text and "tcp_audit_tcp_rate_per_second{" not in text
    report_csv.render(doc)
    report_html.render(doc)


def test_a_rare_event_rate_is_shown_per_hour_and_a_big_one_without_exponent():
    doc = hostile_doc()
    rates = dict((key, None) for key in ("outbound_connections", "inbound_connections", "failed_connection_attempts",
                                         "time_wait_entered", "time_wait_reused", "time_wait_overflow",
                                         "listen_overflows", "listen_drops"))
    rates.update(listen_drops=5.787e-05, outbound_connections=12345.68)
    doc["hosts"]["web-1"]["counter_deltas"] = {"interval_seconds": 86400, "reboot": False, "deltas": {}, "rates": rates}
    page = report_html.render(doc)
    assert ('<p class="rates">Over the 86,400 s since the previous run: outbound connections 12,346/s, listen drops '
            '0.2083/h.</p>') in page


def doc_with_pods():
    """web-1: time_wait_port_exhaustion warns in the host (60%) and fails in two pods (90%, 85%)."""
    facts = load("tcp_state_clean.json")
    facts["time_wait"]["top_destinations"][0]["port_usage"] = 0.6
    pods = []
    clean = load("tcp_state_clean.json")
    worst = facts["time_wait"]["top_destinations"][0]
    for index, usage in enumerate((0.9, 0.85)):
        pod = dict((key, clean[key]) for key in ("counts", "close_wait", "listen", "ephemeral_ports", "sysctl"))
        pod["time_wait"] = {"total": 1, "top_destinations": [dict(worst, port_usage=usage)]}
        pod.update(inode=4026532400 + index, pids=[7], pids_total=1, owner={"kind": "pod", "id": "pod-%d" % index})
        pods.append(pod)
    facts["namespaces"] = {"total": 2, "top": pods}
    hosts = {"web-1": fleet.host_entry({"ansible_facts": {"tcp_state": facts}}),
             "clean-1": fleet.host_entry({"ansible_facts": {"tcp_state": load("tcp_state_clean.json")}})}
    return fleet.build_document(hosts, "2026-01-01T00:00:00Z")


def test_prometheus_has_one_sample_per_host_and_rule_at_its_worst():
    lines = report_prom.render(doc_with_pods(), 0).splitlines()
    severities = [line for line in lines if line.startswith("tcp_audit_finding_severity{")]
    labels = [line.rsplit(" ", 1)[0] for line in severities]
    assert len(labels) == len(set(labels))
    assert [line for line in severities if 'host="web-1"' in line and "time_wait_port_exhaustion" in line] == [
        'tcp_audit_finding_severity{host="web-1",report="audit",rule="time_wait_port_exhaustion"} 2']


def test_csv_names_each_rule_once_in_the_column_of_its_worst_finding():
    rows = dict((row["host"], row) for row in csv.DictReader(io.StringIO(report_csv.render(doc_with_pods()))))
    assert (rows["web-1"]["fail_count"], rows["web-1"]["warn_count"]) == ("2", "1")
    assert (rows["web-1"]["failing_rules"], rows["web-1"]["warning_rules"]) == ("time_wait_port_exhaustion", "")


def test_junit_names_a_pods_testcase_after_its_pod():
    suite = ET.fromstring(report_junit.render(doc_with_pods())).find("testsuite[@name='web-1']")
    names = [case.get("name") for case in suite.findall("testcase")]
    assert len(names) == len(set(names))
    assert suite.find("testcase[@name='time_wait_port_exhaustion']/system-out") is not None
    for pod in ("pod-0", "pod-1"):
        assert suite.find("testcase[@name='time_wait_port_exhaustion (pod %s)']/failure" % pod) is not None


def test_trends_take_the_worst_port_usage_of_the_pods_too():
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import trends

    assert trends.point(doc_with_pods())["hosts"]["web-1"]["usage"] == 0.9


def test_the_time_wait_trend_counts_the_pods_listed_beside_the_hosts_own():
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import trends

    clean = load("tcp_state_clean.json")["counts"]["time_wait"]
    now = trends.point(doc_with_pods())["hosts"]
    assert (now["web-1"]["time_wait"], now["web-1"]["with_namespaces"]) == (3 * clean, True)
    assert (now["clean-1"]["time_wait"], now["clean-1"]["with_namespaces"]) == (clean, False)
    history = trends.series([trends.point(doc_with_pods())], doc_with_pods())["hosts"]
    assert (history["web-1"]["time_wait_with_namespaces"], history["clean-1"]["time_wait_with_namespaces"]) == (
        "all", "none")
    page = report_html.render(doc_with_pods(), trend_runs=[trends.point(doc_with_pods())])
    assert "TIME_WAIT with its containers and pods steady at %d." % (3 * clean) in page
    # a run audited without the pods before this one: the line says it mixes both
    without_pods = doc_with_pods()
    del without_pods["hosts"]["web-1"]["facts"]["namespaces"]
    page = report_html.render(doc_with_pods(), trend_runs=[trends.point(without_pods)])
    assert "TIME_WAIT (with its containers and pods in some runs) <svg" in page


@pytest.mark.parametrize("own, pods, expected", [
    (float("nan"), [5, 5], (None, False)),
    (float("inf"), [5, 5], (None, False)),
    (True, [5, 5], (None, False)),
    (None, [5, 5], (None, False)),
    (-1, [5, 5], (None, False)),
    (5.5, [5, 5], (15.5, True)),
    (7, [2 ** 32, 2 ** 32], (7 + 2 ** 33, True)),  # as many sockets as a host could ever hold: counted
    (7, [2 ** 32 + 1, 2], (9, True)),  # more than that is forged or corrupt: left out
    (7, [1e308, 2], (9, True)),
    (7, [float("nan"), 2], (9, True)),
    (7, None, (7, False)),
    (1e308, [0, 0], (None, False)),  # finite, but printed in full it would break the page
    (2 ** 32, [0, 0], (2 ** 32, True)),  # the per-state bars must not overflow either
])
def test_the_time_wait_trend_keeps_only_finite_counts_read_back(own, pods, expected):
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import trends

    doc = doc_with_pods()
    host = doc["hosts"]["web-1"]
    host["facts"]["counts"]["time_wait"] = own
    if pods is None:
        del host["facts"]["namespaces"]
    else:
        for entry, value in zip(host["facts"]["namespaces"]["top"], pods):
            entry["counts"] = dict(entry["counts"], time_wait=value)
    found = trends.point(doc)["hosts"]["web-1"]
    assert (found["time_wait"], found["with_namespaces"]) == expected
    page = report_html.render(doc, trend_runs=[trends.point(doc)])
    assert not NOT_A_NUMBER.findall(page)


def test_counts_no_host_could_hold_are_printed_nowhere():
    doc = doc_with_pods()
    facts = doc["hosts"]["web-1"]["facts"]
    facts["counts"] = dict(facts["counts"], time_wait=1e308, established=10 ** 40)
    for entry in facts["namespaces"]["top"]:
        entry["counts"] = dict(entry["counts"], close_wait=fleet.COUNT_MAX + 1)
    facts["namespaces"]["total"] = 1e308  # the note's and the cells' "of N"
    facts["time_wait"]["top_destinations"].append(dict(facts["time_wait"]["top_destinations"][0], count=10 ** 30,
                                                       port_usage=0.01))
    digits = re.compile(r"[0-9](?:,?[0-9]){15,}")  # 10**15 sockets and more, with or without separators
    texts = (report_html.render(doc), report_csv.render(doc), report_prom.render(doc, generated_epoch=1))
    for text in texts:
        assert not digits.search(text) and "e+" not in text
        for pods in range(1, 3):  # the pods' counts beyond the bound summed after all
            assert str(pods * (fleet.COUNT_MAX + 1)) not in text and "{:,}".format(pods * (fleet.COUNT_MAX + 1)) not in text
    rows = dict((row["host"], row) for row in csv.DictReader(io.StringIO(report_csv.render(doc))))
    assert rows["web-1"]["time_wait"] == rows["web-1"]["established"] == ""


def test_sums_of_the_namespaces_no_host_could_hold_are_printed_nowhere():
    doc = doc_with_pods()
    summed = dict(dict.fromkeys(COUNT_KEYS, 0), total=5, time_wait=1e308, established=10 ** 40,
                  close_wait=fleet.COUNT_MAX + 1, fin_wait2=float("inf"))
    doc["hosts"]["web-1"]["facts"]["namespaces"].update(total=30, unread=1, counts=summed)
    digits = re.compile(r"[0-9](?:,?[0-9]){15,}")
    for text in (report_html.render(doc), report_csv.render(doc), report_prom.render(doc, generated_epoch=1)):
        assert not digits.search(text) and "e+" not in text and "inf" not in text.lower()
    web = dict((row["host"], row) for row in csv.DictReader(io.StringIO(report_csv.render(doc))))["web-1"]
    assert (web["namespaces_time_wait"], web["namespaces_close_wait"], web["namespaces_fin_wait2"]) == ("0", "0", "0")


@pytest.mark.parametrize("path, value", [
    (("close_wait", "total"), 1e308),
    (("counts", "fin_wait2"), 10 ** 40),
    (("time_wait", "total"), float("inf")),
    (("close_wait", "total"), True),
])
def test_a_count_a_rule_would_quote_that_no_host_could_hold_makes_the_host_an_error(path, value):
    facts = load("tcp_state_clean.json")
    facts[path[0]][path[1]] = value
    entry = fleet.host_entry({"ansible_facts": {"tcp_state": facts}})
    assert entry["status"] == "error"
    assert "%s.%s is not a socket count (a number from 0 to 4294967296)" % path in entry["reason"]


def test_the_sockets_of_the_pods_are_counted_beside_the_hosts_own():
    doc = doc_with_pods()
    rows = dict((row["host"], row) for row in csv.DictReader(io.StringIO(report_csv.render(doc))))
    assert list(rows["web-1"])[-7:] == ["namespaces_listed", "namespaces_total", "namespaces_summed",
                                        "namespaces_established", "namespaces_time_wait", "namespaces_close_wait",
                                        "namespaces_fin_wait2"]
    clean = load("tcp_state_clean.json")["counts"]
    web = rows["web-1"]
    # facts without the module's sum: summed over the two listed
    assert (web["namespaces_listed"], web["namespaces_total"], web["namespaces_summed"],
            web["namespaces_time_wait"]) == ("2", "2", "2", str(2 * clean["time_wait"]))
    assert web["time_wait"] == str(clean["time_wait"])  # the host's own, as before
    assert rows["clean-1"]["namespaces_listed"] == rows["clean-1"]["namespaces_summed"] == ""
    assert rows["clean-1"]["namespaces_time_wait"] == ""
    lines = report_prom.render(doc, 0).splitlines()
    assert ('tcp_audit_namespaces_tcp_sockets{host="web-1",report="audit",state="time_wait"} %d'
            % (2 * clean["time_wait"])) in lines
    assert not [line for line in lines if line.startswith('tcp_audit_namespaces_tcp_sockets{host="clean-1"')]


def test_the_pods_sockets_are_summed_over_every_namespace_read_when_the_facts_hold_the_sum():
    doc = doc_with_pods()
    summed = dict.fromkeys(COUNT_KEYS, 0)
    summed.update(total=52003, time_wait=52000, close_wait=3)
    # 2 listed in full of the 29 read
    doc["hosts"]["web-1"]["facts"]["namespaces"].update(total=30, unread=1, counts=summed)
    web = dict((row["host"], row) for row in csv.DictReader(io.StringIO(report_csv.render(doc))))["web-1"]
    assert (web["namespaces_listed"], web["namespaces_total"], web["namespaces_summed"], web["namespaces_time_wait"],
            web["namespaces_close_wait"]) == ("2", "30", "29", "52000", "3")
    lines = report_prom.render(doc, 0).splitlines()
    assert 'tcp_audit_namespaces_tcp_sockets{host="web-1",report="audit",state="time_wait"} 52000' in lines
    assert 'tcp_audit_namespaces_tcp_sockets{host="web-1",report="audit",state="close_wait"} 3' in lines


def _odd_facts_result():
    """A module result whose numbers are what Python's JSON decoder lets through: NaN and Infinity."""
    facts = load("tcp_state_clean.json")
    facts["counts"].update(fin_wait2=float("inf"), time_wait=float("nan"))
    facts["close_wait"]["total"] = float("inf")
    facts["time_wait"]["top_destinations"][0]["port_usage"] = float("inf")
    pod = dict((key, load("tcp_state_clean.json")[key]) for key in ("counts", "close_wait", "time_wait", "listen",
                                                                    "ephemeral_ports", "sysctl"))
    pod["counts"] = dict(pod["counts"], close_wait=float("inf"))
    pod.update(inode=4026532400, pids=[7], pids_total=1, owner={"kind": "pod", "id": "pod-0"})
    facts["namespaces"] = {"total": float("inf"), "top": [pod]}
    facts["duration_ms"] = float("nan")
    return {"ansible_facts": {"tcp_state": facts}}


def test_nan_and_infinity_in_a_hosts_facts_reach_no_report_and_stop_no_other_host():
    """Results with NaN and Infinity (a module's JSON may hold them): where a rule must read one the host is
    an error naming why (an infinite count used to stop the whole report with OverflowError), elsewhere
    the writers leave them out; the other hosts' report is whole and no writer prints nan or inf."""
    quiet = load("tcp_state_clean.json")  # odd numbers only where no rule reads them
    quiet["duration_ms"] = float("nan")
    quiet["namespaces"] = _odd_facts_result()["ansible_facts"]["tcp_state"]["namespaces"]
    quiet["namespaces"]["top"][0]["counts"].update(close_wait=3, fin_wait1=float("nan"))
    hosts = {"odd-1": fleet.host_entry(_odd_facts_result()),
             "odd-2": fleet.host_entry({"ansible_facts": {"tcp_state": quiet}}),
             "clean-1": fleet.host_entry({"ansible_facts": {"tcp_state": load("tcp_state_clean.json")}})}
    assert hosts["odd-1"]["status"] == "error" and "malformed" in hosts["odd-1"]["reason"]
    assert hosts["odd-2"]["facts"] is not None and hosts["clean-1"]["status"] == "pass"
    doc = fleet.build_document(hosts, "2026-01-01T00:00:00Z")
    written = {"json": report_json.render(doc), "csv": report_csv.render(doc), "junit": report_junit.render(doc),
               "prom": report_prom.render(doc, 0), "html": report_html.render(doc),
               "table": "\n".join(fleet.summary_table(doc))}
    for kind, text in written.items():
        assert not NOT_A_NUMBER.findall(text), kind
    assert json.loads(written["json"])["hosts"]["odd-2"]["facts"]["duration_ms"] is None  # strict JSON: null
    # the port usage a host claims as infinite or NaN is no worst usage (a rule's message may still quote it)
    odd = load("tcp_state_clean.json")
    odd["time_wait"]["top_destinations"][0]["port_usage"] = float("inf")
    assert fleet.worst_port_usage(odd) == (0.0004, None)  # the fixture's second destination


def test_a_count_that_is_not_a_number_is_never_written_as_it_is():
    """A string count could carry a line break and forge another host's Prometheus sample; a bool is no
    count either: both are left out (n/a, empty), never printed."""
    facts = load("tcp_state_clean.json")
    facts["counts"].update(time_wait='1\ntcp_audit_host_status{host="db-1"} 0', close_wait=True)
    doc = fleet.build_document({"web-1": fleet.host_entry({"ansible_facts": {"tcp_state": facts}})},
                               "2026-01-01T00:00:00Z")
    assert fleet.state_counts(doc["hosts"]["web-1"])["time_wait"] is None
    assert fleet.state_counts(doc["hosts"]["web-1"])["close_wait"] is None
    prom = report_prom.render(doc, 0)
    assert 'host="db-1"' not in prom
    assert not [line for line in prom.splitlines() if line.startswith("tcp_audit_tcp_sockets{")
                and ('state="time_wait"' in line or 'state="close_wait"' in line)]
    row = next(csv.DictReader(io.StringIO(report_csv.render(doc))))
    assert (row["time_wait"], row["close_wait"]) == ("", "")
    assert fleet.summary_table(doc)[1].split()[4:6] == ["-", "-"]


def test_kept_runs_and_slices_read_nan_and_infinity_as_null(tmp_path):
    path = tmp_path / "tcp-audit.json"
    path.write_text('{"hosts": {"web-1": {"status": "pass", "facts": {"counts": {"time_wait": NaN, '
                    '"close_wait": Infinity, "fin_wait2": -Infinity}}}}, "summary": {}, "generated_at": "t"}')
    with open(str(path), encoding="utf-8") as handle:
        doc = files._read_json(handle)
    assert doc["hosts"]["web-1"]["facts"]["counts"] == {"time_wait": None, "close_wait": None, "fin_wait2": None}
