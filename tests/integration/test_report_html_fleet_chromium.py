"""The HTML report of a synthetic fleet, written by the real action plugin and opened in headless Chromium.

Each inventory host carries a registered ``tcp_state_facts`` result as a host variable
(tests/support/synthetic_fleet.py: port usage, TIME_WAIT toward shared databases, the per-destination
breakdown, CLOSE_WAIT owners known or not, filling listen queues, unreachable hosts, hostile process
names) and a remediation outcome. A playbook runs ``tcpops.timewait.tcp_audit_report`` with
``history: true`` three times, as the report playbook does, so the page has trends. Chromium renders
the newest run; the tests check the DOM element by element, click and type in it as a reader does
(DevTools protocol, tests/support/cdp.py), and write screenshots to tests/output/ for a person to
look at.
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
OUTPUT = REPO / "tests" / "output"
HOSTS = 320
RUNS = 3
# The page grows by at most this much per host (measured: see docs/reports.md, "Size").
BYTES_PER_HOST_BOUND = 5000
# The elements of a host's section (the DOM Chromium builds), with and without a warn/fail finding,
# and of its row in the host table.
SECTION_ELEMENTS_BOUND = {"findings": 175, "other": 45}
ROW_ELEMENTS_BOUND = 15
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _load(name):
    spec = importlib.util.spec_from_file_location("tcpops_" + name, REPO / "tests" / "support" / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


html_dom = _load("html_dom")
cdp = _load("cdp")
synthetic = _load("synthetic_fleet")
host_name = synthetic.host_name
HOSTILE_COMM = synthetic.HOSTILE_COMM
HOSTILE_ADDRESS = synthetic.HOSTILE_ADDRESS
# the page's own script elements: the hosts' words as JSON, then the text filter
PAGE_SCRIPTS = [{"type": "application/json", "id": "host-index"}, {}]


def chromium():
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-deps.sh installs it)")
    return binary


def write_inventory(path, run, hosts):
    fleet = dict((host_name(i), {"tcp_audit_gathered": synthetic.synthetic_result(i, run),
                                 "tcp_remediate_outcome": synthetic.remediation_outcome(i)}) for i in hosts)
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
        "        remediation_outcome_var: tcp_remediate_outcome\n"
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
    # the sorts and status filters are radio buttons; the only scripts are the page's own two
    assert [script.attrs for script in dom.find("script")] == PAGE_SCRIPTS
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
    assert "img" not in dom.tags and [script.attrs for script in dom.find("script")] == PAGE_SCRIPTS


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


# --- the fleet's hot destinations, remediation outcomes, the per-destination breakdown -------------------

def at_risk_hosts(doc, address, port):
    """The hosts on which ``address:port`` reaches the host's port_usage_warn, from the JSON alone."""
    names = []
    for name, entry in doc["hosts"].items():
        warn = (entry.get("thresholds") or {}).get("port_usage_warn")
        for d in ((entry.get("facts") or {}).get("time_wait") or {}).get("top_destinations") or []:
            if (d["address"], d["port"]) == (address, port) and warn is not None and d["port_usage"] >= warn:
                names.append(name)
    return names


def test_hot_destinations_are_one_row_per_destination_in_the_json_and_the_page(fleet_run):
    doc, dom, _latest = fleet_run
    hot = doc["hot_destinations"]
    assert 0 < len(hot) <= 20 and doc["hot_destinations_total"] >= len(hot)
    top = hot[0]
    assert top["address"] in synthetic.SHARED_DATABASES and top["port"] == 5432
    affected = at_risk_hosts(doc, top["address"], top["port"])
    assert top["hosts_affected"] == len(affected) > 30
    assert top["worst_hosts"] == sorted(affected, key=lambda n: (-worst_usage_toward(doc, n, top), n))[:5]
    section = dom.one(id="hot-destinations")
    lead = section.one("p", cls="lead").text()
    where = "%s:%d" % (top["address"], top["port"])
    assert ("%d hosts are running out of local ports toward the same destination, %s: that is one problem, not %d."
            % (top["hosts_affected"], where, top["hosts_affected"])) in lead
    rows = section.one("table").rows()
    assert rows[0] == ["destination", "hosts affected", "sockets", "worst port usage", "worst hosts"]
    assert [row[0] for row in rows[1:]] == ["%s:%s" % (d["address"], d["port"]) for d in hot]
    assert rows[1][1:4] == [str(top["hosts_affected"]), "{:,}".format(top["sockets_total"]),
                            "%.0f%%" % (top["worst_port_usage"] * 100)]
    worst_cell = section.one("table").find("tr")[1].find("td")[4]
    assert [a.text() for a in worst_cell.find("a")] == top["worst_hosts"]
    assert [a.attrs["href"] for a in worst_cell.find("a")] == ["#host-" + n for n in top["worst_hosts"]]
    assert rows[1][4].endswith(" and %d more" % (top["hosts_affected"] - 5))
    # the hostile address of host 2 is one more destination at risk: text in a cell, not markup
    assert [HOSTILE_ADDRESS + ":5432", "1"] in [row[:2] for row in rows]


def worst_usage_toward(doc, name, destination):
    return max(d["port_usage"] for d in doc["hosts"][name]["facts"]["time_wait"]["top_destinations"]
               if (d["address"], d["port"]) == (destination["address"], destination["port"]))


def test_remediation_outcomes_are_shown_per_host_and_counted(fleet_run):
    doc, dom, _latest = fleet_run
    outcomes = dict((name, e["remediation_outcome"]) for name, e in doc["hosts"].items() if e["remediation_outcome"])
    failed = host_name(3)
    assert outcomes[failed]["status"] == "failed"
    section = dom.one(id="host-%s" % failed)
    shown = section.one("p", cls="outcome").text()
    assert shown == ("Remediation failed in task 'Apply the sysctl file': tcp_tuning refused, nothing was changed: "
                     "<i>conflict</i> in /etc/sysctl.conf")
    assert "o-failed" in section.one("p", cls="outcome").classes and not section.one("p", cls="outcome").find()
    assert "remediation failed" in section.one("summary").text()
    assert "Remediation not attempted: remediation stopped" in dom.one(id="host-%s" % host_name(4)).text()
    applied = host_name(6)
    assert dom.one(id="host-%s" % applied).one("p", cls="outcome").text() == "Remediation: tcp_tuning was applied."
    assert not dom.one(id="host-%s" % host_name(1)).find("p", cls="outcome")  # not in the remediation
    counts = dict((status, sum(1 for o in outcomes.values() if o["status"] == status))
                  for status in ("applied", "failed", "unreachable", "not_attempted"))
    line = dom.one(id="remediation-outcomes").text()
    assert ("%(applied)d applied, %(failed)d failed, %(unreachable)d unreachable, %(not_attempted)d not attempted"
            % counts) in line
    table_rows = dict((row.find("a")[0].text(), row) for row in dom.one(id="host-table").find(cls="row")
                      if "head" not in row.classes)
    assert [cell.text() for cell in table_rows[failed].children if isinstance(cell, html_dom.Node)][6] == "failed"


def test_destinations_show_what_holds_the_ports_and_who_likely_opens_them(fleet_run):
    doc, dom, _latest = fleet_run
    name = host_name(35)  # reuse effective there: part of its TIME_WAIT is reusable
    worst = doc["hosts"][name]["facts"]["time_wait"]["top_destinations"][0]
    assert worst["time_wait_reusable"] > 0
    rows = dom.one(id="host-%s" % name).one("table", cls="destinations").rows()
    assert rows[0][4] == "held, reuse, likely sources"
    assert rows[1][4] == "{:,} held: {:,} time_wait, {} established; reuse relieves {:,}; inferred: 4035 java ({})".format(
        worst["held"], worst["count"], worst["states"]["established"], worst["time_wait_reusable"],
        worst["states"]["established"])
    # no reuse on host 26, sources unknown on host 10 (not root): said so, nothing made up
    assert "reuse relieves" not in dom.one(id="host-%s" % host_name(26)).one("table", cls="destinations").text()
    not_root = dom.one(id="host-%s" % host_name(10))
    assert "inferred" not in not_root.one("table", cls="destinations").text()
    assert "Likely sources unknown: not root." in not_root.text()
    # a host without findings says it in a line, without tables or gauges
    quiet = dom.one(id="host-%s" % host_name(3))
    assert doc["hosts"][host_name(3)]["status"] == "pass" and not quiet.find("table") and not quiet.find(cls="gauge")
    assert quiet.one("p", cls="destination").text().startswith("Worst destination 10.20.0.10:5432: ")


def test_dom_per_host_is_bounded(fleet_run):
    doc, dom, _latest = fleet_run
    elements = {}
    for section in dom.find("details", cls="host"):
        name = section.attrs["id"][len("host-"):]
        kind = "findings" if any(f["severity"] != "pass" for f in doc["hosts"][name]["findings"]) else "other"
        elements.setdefault(kind, []).append(sum(1 for _n in section.walk()) + 1)
    assert len(elements["findings"]) > HOSTS / 2 and len(elements["other"]) > HOSTS / 3
    assert max(elements["other"]) <= SECTION_ELEMENTS_BOUND["other"], max(elements["other"])
    assert max(elements["findings"]) <= SECTION_ELEMENTS_BOUND["findings"], max(elements["findings"])
    # the host table: one row per host and a few elements in it
    table = dom.one(id="host-table")
    assert sum(1 for _n in table.walk()) / float(HOSTS) < ROW_ELEMENTS_BOUND


# --- sorting and filtering as a reader does it: real clicks and key presses -------------------------------

VISIBLE_ROWS = ("Array.from(document.querySelectorAll('#host-table .row:not(.head)'))"
                ".filter(row => row.getClientRects().length)"
                ".sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)"
                ".map(row => row.querySelector('a').textContent)")


@pytest.fixture
def browser(fleet_run, tmp_path):
    _doc, _dom, latest = fleet_run
    with cdp.Browser(chromium(), tmp_path / "cdp-profile", window="1400,1000") as page:
        page.open((latest / "tcp-audit.html").as_uri())
        page.settled()
        yield page


def count_of(doc, state):
    return lambda name: ((doc["hosts"][name]["facts"] or {}).get("counts") or {}).get(state)


def ranked(doc, names, value_of):
    """``names`` (worst first) by a number, largest first, unknown last: the page's order."""
    present = [n for n in names if value_of(n) is not None]
    return sorted(present, key=value_of, reverse=True) + [n for n in names if value_of(n) is None]


def test_clicking_column_headers_sorts_the_visible_rows(fleet_run, browser):
    doc = fleet_run[0]
    worst_first = doc["summary"]["hosts_worst_first"]
    assert browser.evaluate(VISIBLE_ROWS) == worst_first
    browser.click("#host-table .head label[for=sort-name]")
    assert browser.evaluate(VISIBLE_ROWS) == sorted(doc["hosts"])
    browser.click("#host-table .head label[for=sort-time_wait]")
    assert browser.evaluate(VISIBLE_ROWS) == ranked(doc, worst_first, count_of(doc, "time_wait"))
    browser.click("#host-table .head label[for=sort-established]")
    assert browser.evaluate(VISIBLE_ROWS) == ranked(doc, worst_first, count_of(doc, "established"))
    browser.click("#host-table .head label[for=sort-worst]")
    assert browser.evaluate(VISIBLE_ROWS) == worst_first


def test_typing_into_the_filter_keeps_the_matching_rows_in_the_chosen_order(fleet_run, browser):
    doc = fleet_run[0]
    worst_first = doc["summary"]["hosts_worst_first"]
    database = synthetic.SHARED_DATABASES[1]
    toward = [n for n in worst_first if any(d["address"] == database for d in
                                            ((doc["hosts"][n]["facts"] or {}).get("time_wait") or {})
                                            .get("top_destinations") or [])]
    assert 0 < len(toward) < HOSTS
    browser.click("#host-filter")
    browser.type(database)
    assert browser.evaluate(VISIBLE_ROWS) == toward
    assert browser.evaluate("document.getElementById('host-filter-count').textContent") == \
        "%d of %d hosts match" % (len(toward), HOSTS)
    # the filter and the status buttons together; then a column header sorts what is left
    browser.click("label[for=only-fail]")
    failing = [n for n in toward if doc["hosts"][n]["status"] == "fail"]
    assert 0 < len(failing) < len(toward) and browser.evaluate(VISIBLE_ROWS) == failing
    browser.click("#host-table .head label[for=sort-name]")
    assert browser.evaluate(VISIBLE_ROWS) == sorted(failing)
    # a second word narrows: hosts toward that database whose CLOSE_WAIT leaks
    browser.click("label[for=only-all]")
    browser.click("#host-filter")
    browser.type(" close_wait_leak")
    leaking = sorted(n for n in toward
                     if any(f["id"] == "close_wait_leak" and f["severity"] != "pass" for f in doc["hosts"][n]["findings"]))
    assert leaking and browser.evaluate(VISIBLE_ROWS) == leaking


def test_hostile_text_typed_into_the_filter_stays_text(fleet_run, browser):
    doc = fleet_run[0]
    browser.click("#host-filter")
    browser.type(HOSTILE_ADDRESS)
    assert browser.evaluate(VISIBLE_ROWS) == [host_name(2)]
    browser.evaluate("document.getElementById('host-filter').value = ''")
    browser.click("#host-filter")
    browser.type(HOSTILE_COMM)
    # the process is named on the hosts numbered 15 modulo 30 (on the others its owners are unknown)
    expected = sorted((n for n in doc["hosts"] if int(n[4:7]) % 30 == 15 and doc["hosts"][n]["facts"]),
                      key=doc["summary"]["hosts_worst_first"].index)
    assert browser.evaluate(VISIBLE_ROWS) == expected
    assert browser.evaluate("[document.scripts.length, document.images.length]") == [2, 0]


def test_a_link_to_a_host_opens_its_section(fleet_run, browser):
    doc = fleet_run[0]
    first = doc["hot_destinations"][0]["worst_hosts"][0]
    assert browser.evaluate("document.getElementById(%s).open" % json.dumps("host-" + first)) is False
    browser.click("#hot-destinations td a")
    assert browser.evaluate("location.hash") == "#host-" + first
    assert browser.evaluate("document.getElementById(%s).open" % json.dumps("host-" + first)) is True


def test_without_script_the_page_still_sorts_and_filters_by_status(fleet_run, tmp_path):
    doc, _dom, latest = fleet_run
    with cdp.Browser(chromium(), tmp_path / "noscript-profile") as page:
        page.disable_scripts()
        page.open((latest / "tcp-audit.html").as_uri())
        page.settled()
        # the text filter needs the script: without it, it is not shown at all
        assert page.evaluate("document.getElementById('host-filter').getClientRects().length") == 0
        page.click("#host-table .head label[for=sort-name]")
        assert page.evaluate(VISIBLE_ROWS) == sorted(doc["hosts"])
        page.click("label[for=only-warn]")
        assert page.evaluate(VISIBLE_ROWS) == sorted(n for n in doc["hosts"] if doc["hosts"][n]["status"] == "warn")
