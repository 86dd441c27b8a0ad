"""The HTML audit report of a real audit, opened in headless Chromium.

Processes with hostile names hold real CLOSE_WAIT sockets in a fresh network namespace; the audit
playbook runs inside it (plus an inventory host that cannot be reached); Chromium renders the report
and dumps its DOM. The hostile names must be text in the page, never markup.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
SCRIPT_NAME = "<script>x"  # a comm is at most 15 bytes
FORMULA_NAME = "=HYPERLINK(0)"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Dom(HTMLParser):
    """Tags, ids and the text of a dumped DOM."""

    def __init__(self, text):
        HTMLParser.__init__(self)
        self.tags = []
        self.ids = set()
        self.chunks = []
        self.feed(text)
        self.text = " ".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids.update(value for name, value in attrs if name == "id")

    def handle_data(self, data):
        self.chunks.append(data)


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

    # the hostile names are text, not elements; nothing runs, nothing is fetched
    assert SCRIPT_NAME in dom.text and FORMULA_NAME in dom.text
    assert "script" not in dom.tags
    assert dom.tags.count("svg") == 1 and "rect" in dom.tags

    # the same audit's CSV keeps the formula-named process as text for spreadsheets
    with open(str(reports / "tcp-audit.csv"), newline="") as handle:
        rows = {row["host"]: row for row in csv.DictReader(handle)}
    assert rows["leaky"]["close_wait_owners"].startswith("'" + FORMULA_NAME + "/")
    assert SCRIPT_NAME in rows["leaky"]["close_wait_owners"]
    assert rows["ghost"]["status"] == "unreachable"
