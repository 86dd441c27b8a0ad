"""The shipped Prometheus alerting rules and Grafana dashboard, against promtool and a real audit.

promtool checks the rules and runs their unit tests (tests/monitoring/). The audit playbook runs
against this machine plus an inventory host that cannot be reached, and the report playbook runs
twice against this machine (its second run has a previous one: the rates); every metric name the
rules and the dashboard use must be in the tcp-audit.prom they wrote, and the rules, fed the audit's
series, must fire exactly the alerts its tcp-audit.json calls for.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.rates import RATE_COUNTERS

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "monitoring" / "prometheus" / "tcp-audit.rules.yml"
RULE_TESTS = REPO / "tests" / "monitoring" / "tcp-audit.rules.test.yml"
PLANTED_CLOSE_WAIT = 60
DASHBOARD = REPO / "monitoring" / "grafana" / "tcp-audit.dashboard.json"

PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
                   "and", "or", "unless", "inf", "nan"}
# Grafana's variables, replaced by what they expand to so that promtool can parse the expression.
GRAFANA_VARIABLES = {"$report": "report", "$host": ".*"}
STATUS_ALERTS = {"fail": "TcpAuditHostFailing", "error": "TcpAuditHostError", "unreachable": "TcpAuditHostUnreachable"}


def promtool():
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip("promtool is not installed (scripts/install-system-deps.sh installs Debian's prometheus)")
    return binary


def run_promtool(*args, stdin=None):
    return subprocess.run([promtool()] + list(args), input=stdin, capture_output=True, text=True, check=False)


def metric_names(expr):
    """Metric names in a PromQL expression: identifiers that are not functions, keywords, label
    names (in braces or in by/on/... lists), strings or durations."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        if match.group(2) is None and match.group(1).lower() not in PROMQL_KEYWORDS:
            names.add(match.group(1))
    return names


def alert_rules():
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard():
    return json.loads(DASHBOARD.read_text())


def dashboard_exprs(board):
    """(where, expression) for every panel target and every query variable, Grafana variables expanded."""
    found = []
    for panel in board["panels"]:
        for target in panel["targets"]:
            found.append(("panel %r" % panel["title"], target["expr"]))
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["query"]["query"])
            assert query, "variable %s: expected label_values(<selector>, <label>)" % variable["name"]
            found.append(("variable %s" % variable["name"], query.group(1)))
    expanded = []
    for where, expr in found:
        for name, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(name, value)
        assert "$" not in expr, "%s uses a variable the test does not know: %s" % (where, expr)
        expanded.append((where, expr))
    return expanded


def audit_rule_ids():
    from ansible_collections.tcpops.timewait.plugins.module_utils._audit.rules import RULE_IDS

    assert len(RULE_IDS) == 10, RULE_IDS
    return list(RULE_IDS)


def parse_prom(text):
    """[(name, {label: value}, value)] of a Prometheus text exposition (the writer's own escaping)."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        assert match, "unparsable sample line: %r" % line
        labels = dict((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                      for k, v in re.findall(r'(\w+)="((?:\\.|[^"\\])*)"', match.group(2) or ""))
        samples.append((match.group(1), labels, float(match.group(3))))
    return samples


@pytest.fixture(scope="module")
def audit(tmp_path_factory, playbook, planter):
    """A real audit (``tcp_audit_namespaces: all``) of this machine, where a network namespace holds 60
    CLOSE_WAIT (over close_wait_warn: ranked first among namespaces holding none), and of a host that cannot
    be reached: (tcp-audit.prom text, JSON doc)."""
    tmp = tmp_path_factory.mktemp("monitoring-audit")
    inventory = tmp / "inventory.ini"
    inventory.write_text(
        "localhost ansible_connection=local\n"
        "ghost ansible_connection=containers.podman.podman ansible_host=tcpops-monitoring-no-such-container\n")
    reports = tmp / "reports"
    with planter.Namespace(prefix="tcpops-monitoring") as ns:
        planter.plant_close_wait(ns, PLANTED_CLOSE_WAIT)
        planted_inode = ns.inode
        done = subprocess.run(playbook.argv("audit", reports, {"tcp_audit_namespaces": "all"}, inventory=str(inventory)),
                              capture_output=True, text=True, env=playbook.env(), check=False, cwd=str(tmp))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads((reports / "tcp-audit.json").read_text())
    assert doc["hosts"]["ghost"]["status"] == "unreachable"
    listed = doc["hosts"]["localhost"]["facts"]["namespaces"]["top"]
    planted = [entry for entry in listed if entry["inode"] == planted_inode]
    assert planted and planted[0]["close_wait"]["total"] == PLANTED_CLOSE_WAIT, [e["inode"] for e in listed]
    return (reports / "tcp-audit.prom").read_text(), doc


@pytest.fixture(scope="module")
def history_prom(tmp_path_factory, playbook):
    """The tcp-audit.prom of a report run that follows another one in the same directory."""
    reports = tmp_path_factory.mktemp("monitoring-history") / "runs"
    for _run in range(2):
        done = playbook.run("report", reports)
        assert done.returncode == 0, done.stdout[-3000:]
    return (reports / "latest" / "tcp-audit.prom").read_text()


def test_promtool_checks_the_rules():
    done = run_promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: %d rules found" % len(alert_rules()) in done.stdout


def test_promtool_unit_tests_of_the_alerts_pass():
    done = run_promtool("test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_firing_and_a_silent_unit_test():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in alert_rules():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), "%s: no test where it fires" % rule["alert"]
        assert any(not case["exp_alerts"] for case in mine), "%s: no test where it stays silent" % rule["alert"]


def test_every_audit_rule_has_exactly_one_finding_alert():
    selected = {}
    for rule in alert_rules():
        for rule_id in re.findall(r'rule="(\w+)"', rule["expr"]):
            selected.setdefault(rule_id, []).append(rule["alert"])
    assert sorted(selected) == sorted(audit_rule_ids())
    assert all(len(alerts) == 1 for alerts in selected.values()), selected


def test_every_alert_tells_what_to_do_and_where_to_read():
    for rule in alert_rules():
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "description", "runbook"}, rule["alert"]
        assert "://" not in json.dumps(annotations), rule["alert"]
        for page in re.findall(r"docs/[\w.]+", annotations["runbook"]):
            assert (REPO / page).is_file(), "%s links %s" % (rule["alert"], page)
        if re.search(r"tcp_audit_(host_status|finding_severity|tcp_sockets)\b", rule["expr"]):
            assert "{{ $labels.host }}" in annotations["summary"], rule["alert"]
        if "rule=" in rule["expr"]:
            assert "{{ $labels.rule }}" in annotations["description"], rule["alert"]
            rule_id = re.search(r'rule="(\w+)"', rule["expr"]).group(1)
            assert "rule %s" % rule_id in annotations["runbook"], rule["alert"]


def test_the_metric_name_extractor_finds_names_and_only_names():
    assert metric_names('sort_desc(count by (rule) (tcp_audit_finding_severity{report="a", host=~"b"} == 2))') \
        == {"tcp_audit_finding_severity"}
    assert metric_names('time() - tcp_audit_last_run_timestamp_seconds{report!~"audit|x"} > 3 * 3600') \
        == {"tcp_audit_last_run_timestamp_seconds"}
    assert metric_names('a{state="x"} - b{state="x"} offset 6h >= 50 and on (host) c') == {"a", "b", "c"}


def test_the_dashboard_is_a_grafana_dashboard_on_a_prometheus_datasource_variable():
    board = dashboard()
    assert board["schemaVersion"] >= 39 and board["uid"] and board["title"]
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert "report" in variables and "host" in variables
    assert board["panels"], "no panels"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            assert 'report="$report"' in target["expr"], "%s ignores the report variable" % panel["title"]
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == "${datasource}", variable["name"]


def test_promtool_parses_every_dashboard_expression(tmp_path):
    exprs = dashboard_exprs(dashboard())
    as_rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": "tcpops:dashboard_expr_%d" % number, "expr": expr} for number, (_where, expr) in enumerate(exprs)]}]}
    path = tmp_path / "dashboard-exprs.rules.yml"
    path.write_text(yaml.safe_dump(as_rules))
    done = run_promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr + "\n".join(e for _w, e in exprs)
    assert "SUCCESS: %d rules found" % len(exprs) in done.stdout


@pytest.mark.root
def test_the_real_prom_passes_promtool_check_metrics(audit):
    prom, _doc = audit
    done = run_promtool("check", "metrics", stdin=prom)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.root
def test_every_metric_name_and_label_value_used_exists_in_the_real_prom(audit, history_prom):
    prom, doc = audit
    samples = parse_prom(prom)
    with_history = parse_prom(history_prom)
    rates = {(labels["host"], labels["rate"]) for name, labels, _value in with_history
             if name == "tcp_audit_tcp_rate_per_second"}
    assert {host for host, _rate in rates} == {"localhost"}, "the second report run wrote no rate"
    names = {rate for _host, rate in rates}
    assert "outbound_connections" in names and names <= set(name for name, _counters in RATE_COUNTERS)
    assert run_promtool("check", "metrics", stdin=history_prom).returncode == 0
    produced = {name for name, _labels, _value in samples + with_history}
    states = {labels["state"] for name, labels, _value in samples if name == "tcp_audit_tcp_sockets"}
    in_namespaces = {labels["state"]: value for name, labels, value in samples
                     if name == "tcp_audit_namespaces_tcp_sockets" and labels["host"] == "localhost"}
    namespaces = doc["hosts"]["localhost"]["facts"]["namespaces"]
    assert in_namespaces["close_wait"] == namespaces["counts"]["close_wait"]
    assert namespaces["counts"]["close_wait"] >= sum(entry["counts"]["close_wait"] for entry in namespaces["top"])
    assert namespaces["counts"]["close_wait"] >= PLANTED_CLOSE_WAIT
    used = [("alert %s" % rule["alert"], rule["expr"]) for rule in alert_rules()] + dashboard_exprs(dashboard())
    for where, expr in used:
        names = metric_names(expr)
        assert names, "%s: no metric name found in %s" % (where, expr)
        assert names <= produced, "%s uses %s, not in the audit's tcp-audit.prom" % (where, sorted(names - produced))
        for state in re.findall(r'state="(\w+)"', expr):
            assert state in states, "%s: state %s is not in the audit's tcp-audit.prom" % (where, state)


@pytest.mark.root
def test_the_rules_fire_on_the_real_prom_what_its_json_says(audit, tmp_path):
    """The real series (with whatever labels the writer gives them) go into promtool; the expected
    alerts come from the same run's JSON: one host alert per fail/error/unreachable host, one finding
    alert per fail finding, no staleness or absence alert."""
    prom, doc = audit
    samples = parse_prom(prom)
    rules = yaml.safe_load(RULES.read_text())
    for rule in (r for group in rules["groups"] for r in group["rules"]):
        rule.pop("annotations")  # the unit tests check the texts; this test checks what fires
    stripped = tmp_path / "rules.yml"
    stripped.write_text(yaml.safe_dump(rules))
    severities = {rule["alert"]: rule["labels"]["severity"] for rule in alert_rules()}
    finding_alerts = {re.search(r'rule="(\w+)"', rule["expr"]).group(1): rule["alert"]
                      for rule in alert_rules() if rule["expr"].startswith("tcp_audit_finding_severity")}

    def series(name, labels):
        return "%s{%s}" % (name, ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"'))
                                          for k, v in sorted(labels.items())))

    expected = dict((alert, []) for alert in list(STATUS_ALERTS.values()) + list(finding_alerts.values())
                    + ["TcpAuditNotRunRecently", "TcpAuditMetricsAbsent"])
    for name, labels, value in samples:
        if name == "tcp_audit_host_status":
            status = doc["hosts"][labels["host"]]["status"]
            if status in STATUS_ALERTS:
                expected[STATUS_ALERTS[status]].append(labels)
        if name == "tcp_audit_finding_severity" and value == 2:
            expected[finding_alerts[labels["rule"]]].append(labels)
    finding_labels = [labels for alert in finding_alerts.values() for labels in expected[alert]]
    for host, entry in doc["hosts"].items():
        fails = {f["id"] for f in entry["findings"] if f["severity"] == "fail" and not f.get("skipped")}
        assert fails == {labels["rule"] for labels in finding_labels if labels["host"] == host}, host
    assert expected["TcpAuditHostUnreachable"], "the unreachable host is missing from the .prom"

    test = {"rule_files": [str(stripped)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": series(name, labels), "values": "%sx200" % repr(value)}
                         for name, labels, value in samples],
        "alert_rule_test": [{"eval_time": "150m", "alertname": alert,
                             "exp_alerts": [{"exp_labels": dict(labels, severity=severities[alert])}
                                            for labels in fired]}
                            for alert, fired in sorted(expected.items())]}]}
    path = tmp_path / "real.test.yml"
    path.write_text(yaml.safe_dump(test, width=1000))
    done = run_promtool("test", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.root
def test_node_exporter_publishes_the_real_prom_through_a_link(audit, tmp_path, node_exporter):
    """A link in the textfile directory to the .prom a report writes is published as the file itself."""
    prom, _doc = audit
    written = tmp_path / "reports" / "tcp-audit.prom"
    written.parent.mkdir()
    written.write_text(prom)
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    (textfile_dir / "tcp-audit.prom").symlink_to(written)
    scraped = node_exporter.scrape_textfiles(str(textfile_dir))
    assert "node_textfile_scrape_error 0" in scraped.splitlines()
    published = [s for s in parse_prom(scraped) if s[0].startswith("tcp_audit_")]
    assert sorted(published, key=repr) == sorted(parse_prom(prom), key=repr)
