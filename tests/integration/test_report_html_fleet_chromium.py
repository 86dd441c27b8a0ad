"""The HTML report of a synthetic fleet, written by the real action plugin and opened in headless Chromium.

Each inventory host carries a registered ``tcp_state_facts`` result as a host variable (built from the
unit-test fixture, varied per host: port usage, TIME_WAIT, CLOSE_WAIT owners known or not, filling
listen queues, unreachable hosts, hostile process names). A playbook runs
``tcpops.timewait.tcp_audit_report`` with ``history: true`` three times, as the report playbook does,
so the page has trends. Chromium renders the newest run; the test checks the DOM element by element
and writes screenshots to tests/output/ for a person to look at.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "unit" / "fixtures" / "audit" / "tcp_state_clean.json"
OUTPUT = REPO / "tests" / "output"
HOSTS = 320
RUNS = 3
HOSTILE_COMM = "<script>x"
HOSTILE_ADDRESS = '10.9.9.9"><img src=x>'
# The page grows by at most this much per host (measured: see docs/reports.md, "Size").
BYTES_PER_HOST_BOUND = 9000
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _load(name):
    spec = importlib.util.spec_from_file_location("tcpops_" + name, REPO / "tests" / "support" / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


html_dom = _load("html_dom")


def chromium():
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-deps.sh installs it)")
    return binary


def host_name(index):
    return "app-%03d.dc1.example" % index


def synthetic_result(index, run):
    """A registered tcp_state_facts result for host ``index`` in run ``run`` (0 = oldest)."""
    if index % 97 == 5:
        return {"unreachable": True, "msg": "ssh: connect to host %s port 22: <b>No route</b>" % host_name(index)}
    facts = json.loads(FIXTURE.read_text())
    usable = facts["ephemeral_ports"]["usable"]
    # a spread of port usage, rising over the runs for the hosts that end up failing
    usage = ((index * 37) % 100) / 100.0 * (0.6 + 0.2 * run)
    count = int(usage * usable)
    facts["time_wait"]["top_destinations"] = [
        {"address": "10.0.%d.%d" % (index % 250, 5 + d), "port": 5432 + d, "count": max(1, count // (d + 1)),
         "port_usage": round(max(1, count // (d + 1)) / float(usable), 4)} for d in range(3)]
    facts["time_wait"]["top_local_ports"] = [{"port": 1024 + p, "count": 10 - p} for p in range(10)]
    facts["counts"]["time_wait"] = facts["time_wait"]["total"] = sum(
        d["count"] for d in facts["time_wait"]["top_destinations"]) + 40
    facts["time_wait"]["outbound"] = facts["counts"]["time_wait"] - 10
    close_wait = 0 if index % 5 else 40 + index % 300
    facts["counts"]["close_wait"] = facts["close_wait"]["total"] = close_wait
    if index % 10 == 0:
        facts["close_wait"].update(owners_available=False, owners_reason="not root", top_processes=[])
    elif close_wait:
        facts["close_wait"]["top_processes"] = [
            {"pid": 4000 + index, "comm": HOSTILE_COMM if index % 15 == 0 else "java", "count": close_wait,
             "local_ports": [8080]}]
    if index % 25 == 1:
        facts["listen"]["sockets"].append({"address": "0.0.0.0", "port": 8443, "family": "ipv4", "queue": 120,
                                           "backlog": 128})
    if index == 2:
        facts["time_wait"]["top_destinations"][0]["address"] = HOSTILE_ADDRESS
    facts["counts"]["established"] = 100 + (index * 13) % 900
    facts["sysctl_config"] = {"files": [], "effective": {}, "live": {}, "errors": []}
    return {"changed": False, "ansible_facts": {"tcp_state": facts}}


def write_inventory(path, run, hosts):
    fleet = dict((host_name(i), {"tcp_audit_gathered": synthetic_result(i, run)}) for i in hosts)
    path.write_text(json.dumps({"fleet": {"hosts": fleet}}))


def run_reports(tmp_path, hosts, runs):
    """Run the action plugin ``runs`` times over the hosts numbered ``hosts``; the newest run's directory."""
    playbook = tmp_path / "report.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - tcpops.timewait.tcp_audit_report:\n"
        "        hosts: \"{{ groups['fleet'] }}\"\n"
        "        dest: \"%s\"\n"
        "        history: true\n"
        "        fail_on: never\n"
        "        title: TCP TIME_WAIT / CLOSE_WAIT compliance report\n" % (tmp_path / "runs"))
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")})
    binary = str(Path(sys.executable).parent / "ansible-playbook")
    if not os.path.exists(binary):
        binary = shutil.which("ansible-playbook")
    for run in range(runs):
        inventory = tmp_path / ("inventory-%d.json" % run)
        write_inventory(inventory, run, hosts)
        done = subprocess.run([binary, "-i", str(inventory), str(playbook),
                               "-e", "ansible_python_interpreter=%s" % sys.executable],
                              capture_output=True, text=True, env=env, check=False, cwd=str(tmp_path))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return tmp_path / "runs" / "latest"


def open_in_chromium(page, tmp_path, shot=None, size="1400,2000"):
    binary = chromium()
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    flags = CHROMIUM_FLAGS + ["--user-data-dir=%s" % profile]
    dumped = subprocess.run([binary] + flags + ["--dump-dom", page.as_uri()],
                            capture_output=True, text=True, timeout=180, check=True)
    if shot is not None:
        OUTPUT.mkdir(exist_ok=True)
        subprocess.run([binary] + flags + ["--window-size=%s" % size, "--screenshot=%s" % shot, page.as_uri()],
                       capture_output=True, text=True, timeout=180, check=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10000
    return html_dom.Dom(dumped.stdout)


def worst_usage(entry):
    usages = [d["port_usage"] for d in (((entry.get("facts") or {}).get("time_wait") or {})
                                        .get("top_destinations") or [])]
    return max(usages) if usages else None


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fleet")
    latest = run_reports(tmp_path, range(HOSTS), RUNS)
    doc = json.loads((latest / "tcp-audit.json").read_text())
    dom = open_in_chromium(latest / "tcp-audit.html", tmp_path, OUTPUT / "report-fleet.png")
    return doc, dom, latest


def test_fleet_summary_status_counts_exposure_and_rules(fleet_run):
    doc, dom, _latest = fleet_run
    assert doc["summary"]["hosts"] == HOSTS
    by_status = doc["summary"]["by_status"]
    assert by_status["fail"] and by_status["warn"] and by_status["pass"] and by_status["unreachable"]
    for status, count in by_status.items():
        card = dom.one(id="count-%s" % status)
        assert card.text() == "%d %s" % (count, status)
        assert ("zero" in card.classes) == (count == 0)

    expected = sorted((name for name in doc["hosts"] if worst_usage(doc["hosts"][name]) is not None),
                      key=lambda name: (-worst_usage(doc["hosts"][name]), name))[:10]
    rows = dom.one(id="closest-to-exhaustion").one("table").rows()[1:]
    assert [row[0] for row in rows] == expected
    assert rows[0][2] == "%.0f%%" % (worst_usage(doc["hosts"][expected[0]]) * 100)

    firing = [(rule, c["fail"] + c["warn"]) for rule, c in doc["summary"]["by_rule"].items() if c["fail"] + c["warn"]]
    rows = dom.one(id="rules-firing").one("table").rows()[1:]
    assert sorted(row[0] for row in rows) == sorted(rule for rule, _n in firing)
    totals = [int(row[1]) + int(row[2]) for row in rows]
    assert totals == sorted(totals, reverse=True)


def test_host_table_lists_every_host_worst_first_with_css_sort_keys(fleet_run):
    doc, dom, _latest = fleet_run
    table = dom.one(id="host-table")
    rows = [row for row in table.find(cls="row") if "head" not in row.classes]
    assert [row.find("a")[0].text() for row in rows] == doc["summary"]["hosts_worst_first"]
    ranks = {}
    for row in rows:
        name = row.find("a")[0].text()
        style = dict(part.split(":") for part in row.attrs["style"].strip(";").split(";"))
        ranks[name] = dict((key[len("--r-"):], int(value)) for key, value in style.items())
        assert ("s-%s" % doc["hosts"][name]["status"]) in row.classes
    for key in ("worst", "name", "port", "time_wait", "close_wait"):
        assert sorted(r[key] for r in ranks.values()) == list(range(HOSTS))
    by_port = sorted(ranks, key=lambda name: ranks[name]["port"])
    usages = [worst_usage(doc["hosts"][name]) for name in by_port]
    known = [u for u in usages if u is not None]
    assert known == sorted(known, reverse=True) and usages[len(known):] == [None] * (len(usages) - len(known))
    assert sorted(ranks, key=lambda name: ranks[name]["name"]) == sorted(doc["hosts"])
    # the filters and sorts are radio buttons: the page holds no script
    assert "script" not in dom.tags
    assert {"sort-worst", "sort-port", "only-fail", "only-all"} <= dom.ids


def test_per_host_sections_are_collapsed_and_say_what_matters(fleet_run):
    doc, dom, _latest = fleet_run
    sections = dom.find("details", cls="host")
    assert len(sections) == HOSTS and not any("open" in s.attrs for s in sections)
    not_root = dom.one(id="host-%s" % host_name(10))
    assert "CLOSE_WAIT owners not available (not root)" in not_root.text()
    hostile = dom.one(id="host-%s" % host_name(15))
    owners = hostile.one("table", cls="owners").rows()
    assert owners[1][:3] == [HOSTILE_COMM, "4015", str(40 + 15)]
    filling = dom.one(id="host-%s" % host_name(26)).one("table", cls="listeners").rows()
    assert filling[1][:3] == ["0.0.0.0:8443", "120", "128"]
    gone = dom.one(id="host-%s" % host_name(5))
    assert "No route" in gone.text() and doc["hosts"][host_name(5)]["status"] == "unreachable"
    assert HOSTILE_ADDRESS + ":5432" in dom.one(id="host-%s" % host_name(2)).text()
    assert "img" not in dom.tags and "script" not in dom.tags


def test_trends_over_the_kept_runs(fleet_run):
    doc, dom, latest = fleet_run
    runs = [p for p in latest.parent.iterdir() if p.name != "latest"]
    assert len(runs) == RUNS
    trend = dom.one(id="fleet-trend")
    rects = trend.find("rect")
    # one column per run, one segment per status present in that run
    assert len(set(r.attrs["x"] for r in rects)) == RUNS
    last_column = [r for r in rects if r.attrs["x"] == max((r.attrs["x"] for r in rects), key=float)]
    assert sum(int(r.find("title")[0].text().split(": ")[1].split()[0]) for r in last_column) == HOSTS
    host = dom.one(id="host-%s" % host_name(3))
    lines = host.find("polyline")
    assert len(lines) == 2 and all(len(line.attrs["points"].split()) == RUNS for line in lines)
    # the worst port usage of host 3 rose over the runs: the line climbs (SVG y grows downwards)
    ys = [float(p.split(",")[1]) for p in lines[0].attrs["points"].split()]
    assert ys == sorted(ys, reverse=True) and ys[0] > ys[-1]


def test_page_size_per_host_is_bounded(fleet_run):
    _doc, _dom, latest = fleet_run
    size = (latest / "tcp-audit.html").stat().st_size
    assert size / float(HOSTS) < BYTES_PER_HOST_BOUND, size


def test_one_host_with_findings_opens_with_everything_on_it(tmp_path):
    latest = run_reports(tmp_path, [35], RUNS)
    doc = json.loads((latest / "tcp-audit.json").read_text())
    dom = open_in_chromium(latest / "tcp-audit.html", tmp_path, OUTPUT / "report-one-host.png", size="1400,2300")
    name = host_name(35)
    assert doc["hosts"][name]["status"] == "fail"
    section = dom.one(id="host-%s" % name)
    assert section.tag == "details" and "open" in section.attrs
    destinations = section.one("table", cls="destinations").rows()[1:]
    worst = doc["hosts"][name]["facts"]["time_wait"]["top_destinations"][0]
    assert destinations[0][:3] == ["%s:%s" % (worst["address"], worst["port"]), "{:,}".format(worst["count"]),
                                   "%.0f%%" % (worst["port_usage"] * 100)]
    gauge = section.one("table", cls="destinations").find(cls="gauge")[0]
    assert "g-fail" in gauge.find("i")[0].classes
    assert [b.attrs["style"] for b in gauge.find("b")] == ["left:50.0%", "left:80.0%"]
    assert section.one("table", cls="owners").rows()[1][:3] == ["java", "4035", "75"]
    findings = dict((f.find("code")[0].text(), f) for f in section.find(cls="finding"))
    assert set(findings) == set(f["id"] for f in fleet_problems(doc["hosts"][name]))
    exhaustion = findings["time_wait_port_exhaustion"].one("dl").text()
    assert "thresholds warn at 50%, fail at 80%" in exhaustion and "port range 32768, 60999" in exhaustion
    assert len(section.find("polyline")) == 2
    assert dom.one(id="count-fail").text() == "1 fail" and "zero" in dom.one(id="count-warn").classes


def fleet_problems(entry):
    return [f for f in entry["findings"] if f["severity"] != "pass"]
