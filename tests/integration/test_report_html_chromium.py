"""The HTML audit report of a real audit, opened in headless Chromium.

Processes with hostile names hold real CLOSE_WAIT sockets in a fresh network namespace; the audit
playbook runs inside it (plus an inventory host that cannot be reached); Chromium renders the report
and dumps its DOM. The hostile names must be text in the page, never markup.
"""

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
SCRIPT_NAME = "<script>x"  # a comm is at most 15 bytes
FORMULA_NAME = "=HYPERLINK(0)"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _load_dom_module():
    spec = importlib.util.spec_from_file_location("tcpops_html_dom", REPO / "tests" / "support" / "html_dom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Dom = _load_dom_module().Dom
OUTPUT = REPO / "tests" / "output"


def chromium():
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-deps.sh installs it)")
    return binary


def run_audit(ns, tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "leaky ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
        "ghost ansible_connection=containers.podman.podman ansible_host=tcpops-no-such-container\n")
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
    })
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    if not os.path.exists(playbook):
        playbook = shutil.which("ansible-playbook")
    argv = [playbook, "-i", str(inventory), "-e", "tcp_audit_report_dir=%s" % (tmp_path / "reports"),
            "-e", "tcp_audit_fail_on=never", "tcpops.timewait.audit"]
    done = subprocess.run(ns.exec_argv(argv), capture_output=True, text=True, env=env, check=False, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return tmp_path / "reports"


@pytest.fixture
def reports(netns, planter, tmp_path):
    planter.plant_close_wait(netns, 60, comm=FORMULA_NAME)
    planter.plant_close_wait(netns, 55, comm=SCRIPT_NAME)
    return run_audit(netns, tmp_path)


def test_reports_of_a_real_audit_show_hostile_names_as_text(reports, tmp_path):
    binary = chromium()
    page = reports / "tcp-audit.html"
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    shot = tmp_path / "report.png"
    flags = CHROMIUM_FLAGS + ["--user-data-dir=%s" % profile]
    dumped = subprocess.run([binary] + flags + ["--dump-dom", page.as_uri()],
                            capture_output=True, text=True, timeout=120, check=True)
    subprocess.run([binary] + flags + ["--window-size=1280,2000", "--screenshot=%s" % shot, page.as_uri()],
                   capture_output=True, text=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10000
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(str(shot), str(OUTPUT / "report-real-audit.png"))

    dom = Dom(dumped.stdout)
    doc = json.loads((reports / "tcp-audit.json").read_text())
    assert doc["hosts"]["ghost"]["status"] == "unreachable"
    owners = {o["comm"]: o["count"] for o in doc["hosts"]["leaky"]["facts"]["close_wait"]["top_processes"]}
    assert owners == {FORMULA_NAME: 60, SCRIPT_NAME: 55}

    # every host and every warn/fail finding is on the page
    for host, entry in doc["hosts"].items():
        assert "host-%s" % host in dom.ids
        for finding in entry["findings"]:
            if finding["severity"] != "pass":
                assert finding["id"] in dom.text and finding["message"] in dom.text
    assert doc["hosts"]["leaky"]["status"] == "warn"
    assert "close_wait_leak" in dom.text and "unreachable" in dom.text

    # the hostile names are text, not elements; nothing runs but the page's own script, nothing is fetched
    assert SCRIPT_NAME in dom.text and FORMULA_NAME in dom.text
    assert [s.attrs for s in dom.find("script")] == [{"type": "application/json", "id": "host-index"}, {}]
    assert dom.tags.count("svg") == 1 and "rect" in dom.tags

    # what matters per host, at a glance (the section of a host that has facts)
    leaky = dom.one(id="host-leaky")
    facts = doc["hosts"]["leaky"]["facts"]
    for state in ("established", "time_wait", "close_wait", "fin_wait2", "listen"):
        chip = leaky.one(cls="st-%s" % state)
        assert chip.text() == "{:,} {}".format(facts["counts"][state], state)
    ports = facts["ephemeral_ports"]
    assert "Ephemeral range %d\u2013%d" % (ports["low"], ports["high"]) in leaky.one(cls="ports").text()
    assert "{:,} usable".format(ports["usable"]) in leaky.one(cls="ports").text()
    sysctls = dict((row[0], row[1:]) for row in leaky.one("table", cls="sysctls").rows()[1:])
    for key in ("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_max_tw_buckets"):
        assert sysctls[key][0].replace(",", "") == str(facts["sysctl"][key]) and sysctls[key][1]
    owners = dict((row[0], row[2]) for row in leaky.one("table", cls="owners").rows()[1:])
    assert owners == {FORMULA_NAME: "60", SCRIPT_NAME: "55"}
    leak = [f for f in leaky.find(cls="finding") if "close_wait_leak" in f.text()]
    assert len(leak) == 1 and "warn" in leak[0].classes and leak[0].find("dl") and not leak[0].find("pre")
    assert "Listeners" in leaky.text()
    assert dom.one(id="count-pass").text() == "0 pass" and "zero" in dom.one(id="count-pass").classes

    # the same audit's CSV keeps the formula-named process as text for spreadsheets
    with open(str(reports / "tcp-audit.csv"), newline="") as handle:
        rows = {row["host"]: row for row in csv.DictReader(handle)}
    assert rows["leaky"]["close_wait_owners"].startswith("'" + FORMULA_NAME + "/")
    assert SCRIPT_NAME in rows["leaky"]["close_wait_owners"]
    assert rows["ghost"]["status"] == "unreachable"
