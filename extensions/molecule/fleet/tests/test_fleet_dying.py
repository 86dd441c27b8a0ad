"""The two remediations of converge.yml in which fleet-doomed is killed in the middle of the role.

Both hosts start with tw_recycle_configured (fail, fixed by the role). fleet-doomed sorts first,
so it is alone in the first batch and dies there; what happens to fleet-spare depends on the run:
serial1 (max_fail_percentage 100): remediated; defaults (25% of two hosts is a batch of one,
max_fail_percentage 0): not attempted. Every report file of each run is read from disk.
"""

import csv
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import testinfra

REPORTS = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "reports")
RUNS = ("serial1", "defaults")
REPORT_FILES = ["tcp-audit.csv", "tcp-audit.html", "tcp-audit.json", "tcp-audit.junit.xml", "tcp-audit.prom"]
# the module killed with its container, then the host no longer reachable
KILLED_IN_THE_ROLE = "; before that: Module result deserialization failed: No start of json char found; exit code 137"
SPARE_AFTER = {
    "serial1": ("pass", {}, "applied"),
    "defaults": ("fail", {"tw_recycle_configured": "fail"}, "not_attempted"),
}


def path(run, *parts):
    return os.path.join(REPORTS, "dying-%s" % run, *parts)


def read(run, *parts):
    with open(path(run, *parts)) as handle:
        return handle.read()


def problems(entry):
    return dict((f["id"], f["severity"]) for f in entry["findings"] if f["severity"] != "pass")


@pytest.mark.parametrize("run", RUNS)
def test_before_and_after_reports_were_all_written(run, published_reports):
    assert published_reports(path(run, "remediate-before")) == REPORT_FILES
    assert published_reports(path(run, "remediate-after")) == REPORT_FILES
    before = json.loads(read(run, "remediate-before", "tcp-audit.json"))
    for host in ("fleet-doomed", "fleet-spare"):
        assert before["hosts"][host]["status"] == "fail"
        assert problems(before["hosts"][host]) == {"tw_recycle_configured": "fail"}


@pytest.mark.parametrize("run", RUNS)
def test_after_json_reports_the_dead_host_unreachable_with_no_old_facts(run):
    after = json.loads(read(run, "remediate-after", "tcp-audit.json"))
    doomed = after["hosts"]["fleet-doomed"]
    assert doomed["status"] == "unreachable"
    assert doomed["reason"] == "Failed to create temporary directory, exited with result 255"
    assert doomed["facts"] is None and doomed["sysctl_config"] is None and doomed["findings"] == []
    outcome = doomed["remediation_outcome"]
    assert outcome["status"] == "unreachable"
    assert outcome["task"] == "Apply tcp_tuning sysctl values"
    assert outcome["reason"] == "Failed to create temporary directory, exited with result 255" + KILLED_IN_THE_ROLE
    assert doomed["remediation"] is None  # the role never published a tcp_tuning_result there
    assert after["comparison"]["hosts"]["fleet-doomed"] == {
        "comparable": False, "note": "host unreachable in this run", "new": [], "resolved": [], "persisting": []}


@pytest.mark.parametrize("run", RUNS)
def test_after_json_reports_the_other_host_as_its_run_left_it(run):
    status, expected, outcome = SPARE_AFTER[run]
    after = json.loads(read(run, "remediate-after", "tcp-audit.json"))
    spare = after["hosts"]["fleet-spare"]
    assert (spare["status"], problems(spare), spare["remediation_outcome"]["status"]) == (status, expected, outcome)
    change = after["comparison"]["hosts"]["fleet-spare"]
    if run == "serial1":
        assert change["resolved"] == ["tw_recycle_configured"]
        assert spare["remediation"]["file_changed"] is True
    else:
        assert change["persisting"] == ["tw_recycle_configured"]
        assert spare["remediation_outcome"]["reason"] == (
            "remediation stopped: 1 of 2 hosts failed (fleet-doomed), more than tcp_remediate_max_fail_percentage=0%")
        assert spare["remediation"] is None


@pytest.mark.parametrize("run", RUNS)
def test_after_csv_junit_prom_and_html_show_the_dead_host_unreachable(run):
    rows = dict((row["host"], row) for row in csv.DictReader(read(run, "remediate-after", "tcp-audit.csv").splitlines()))
    assert rows["fleet-doomed"]["status"] == "unreachable"
    assert rows["fleet-doomed"]["reason"] == "Failed to create temporary directory, exited with result 255"
    assert rows["fleet-spare"]["status"] == SPARE_AFTER[run][0]
    junit = ET.fromstring(read(run, "remediate-after", "tcp-audit.junit.xml"))
    error = junit.find("testsuite[@name='fleet-doomed']/testcase/error")
    assert error.get("type") == "unreachable" and "exited with result 255" in error.get("message")
    prom = read(run, "remediate-after", "tcp-audit.prom").splitlines()
    assert 'tcp_audit_host_status{host="fleet-doomed",report="remediate-after"} 4' in prom
    page = read(run, "remediate-after", "tcp-audit.html")
    assert "Reason: Failed to create temporary directory, exited with result 255" in page


@pytest.mark.parametrize("run", RUNS)
def test_run_ends_non_zero_and_says_where_the_role_did_not_finish(run):
    assert read(run, "rc") == "2"
    # ansible-playbook's output under molecule is coloured, and its YAML wraps long lines and
    # doubles the quotes inside quoted ones
    output = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", read(run, "output.txt")).split()).replace("''", "'")
    expected = {"serial1": "remediation: 1 applied, 1 unreachable",
                "defaults": "remediation: 1 unreachable, 1 not_attempted"}[run]
    assert expected in output
    assert "fleet-doomed: unreachable in task 'Apply tcp_tuning sysctl values': Failed to create" in output
    assert "tcp_tuning did not finish on fleet-doomed" in output
    assert "no findings before or after" not in output


def test_doomed_container_is_stopped():
    state = subprocess.run(["podman", "inspect", "--format", "{{.State.Running}}", "fleet-doomed"],
                           stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    assert state == "false"


def test_host_not_attempted_was_not_touched():
    """After the defaults run fleet-spare still has its tw_recycle line (the serial1 run had commented it out)."""
    spare = testinfra.get_host("podman://fleet-spare")
    assert spare.file("/etc/sysctl.d/50-folk.conf").content_string == "net.ipv4.tcp_tw_recycle = 1\n"
    # the serial1 run wrote the role's file; nothing took it away since
    assert spare.file("/etc/sysctl.d/90-tcpops-timewait.conf").exists
