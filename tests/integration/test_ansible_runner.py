"""The audit and report playbooks under ``ansible-runner run`` with a private data directory, as AWX
and CI run them: rc and status, the reports, the published outcome a workflow branches on, and the
size of every job event at a stated fleet size.

The hosts are inventory names reached with the local connection (each one audits this machine).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FLEET_SIZE = 20
# every job event of a FLEET_SIZE-host audit stays below this (measured: about 7 KB, one host's
# tcp_state_facts result; the report task's result grows by about 200 bytes per host)
MAX_EVENT_BYTES = 32 * 1024
HOST_PYTHON = "/usr/bin/python3"


@pytest.fixture
def private_data_dir(tmp_path):
    pdd = tmp_path / "runner"
    (pdd / "inventory").mkdir(parents=True)
    (pdd / "env").mkdir()
    hosts = "\n".join("node-%02d" % i for i in range(1, FLEET_SIZE + 1))
    (pdd / "inventory" / "hosts").write_text(
        "[fleet]\n%s\n[fleet:vars]\nansible_connection=local\nansible_python_interpreter=%s\n" % (hosts, HOST_PYTHON))
    (pdd / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORKS": "10",
    }))
    (pdd / "env" / "extravars").write_text(json.dumps({
        "tcp_audit_report_dir": str(tmp_path / "reports"),
        "tcp_audit_fail_on": "never",
        "tcp_audit_thresholds": '{"close_wait_warn": 100000, "close_wait_fail": 200000}',
    }))
    return pdd


def runner(pdd, playbook, ident):
    env = dict(os.environ)
    env["PATH"] = "%s:%s" % (Path(sys.executable).parent, env.get("PATH", ""))
    binary = Path(sys.executable).parent / "ansible-runner"
    done = subprocess.run([str(binary), "run", str(pdd), "-p", playbook, "--ident", ident],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, check=False,
                          timeout=900)
    artifacts = pdd / "artifacts" / ident
    return done, artifacts


def events(artifacts):
    found = []
    for path in sorted((artifacts / "job_events").iterdir()):
        found.append((path.stat().st_size, path, json.loads(path.read_text())))
    return found


@pytest.mark.parametrize("playbook, ident", [("tcpops.timewait.audit", "audit"), ("tcpops.timewait.report", "report")])
def test_playbook_under_ansible_runner(private_data_dir, tmp_path, playbook, ident):
    done, artifacts = runner(private_data_dir, playbook, ident)
    assert done.returncode == 0, done.stdout
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"

    found = events(artifacts)
    largest = max(found, key=lambda item: item[0])
    print("largest job event: %d bytes (%s)" % (largest[0], largest[2].get("event")))
    assert largest[0] < MAX_EVENT_BYTES, (largest[0], largest[1])

    stats = [event for _size, _path, event in found if event.get("event") == "playbook_on_stats"]
    assert len(stats) == 1
    artifact = stats[0]["event_data"]["artifact_data"]
    summary = artifact["tcp_audit"]
    assert summary["scope"] == "fleet" and summary["hosts"] == FLEET_SIZE and summary["missing_hosts"] == 0
    assert sum(summary["by_status"].values()) == FLEET_SIZE
    assert summary["worst_status"] in summary["by_status"]
    assert artifact["tcp_audit_run_id"] == summary["run_id"]

    reports = tmp_path / "reports"
    report_dir = Path(summary["report_dir"])
    if ident == "report":
        assert os.readlink(str(reports / "latest")) == report_dir.name
    else:
        assert report_dir == reports
    doc = json.loads((reports / ("latest" if ident == "report" else "") / "tcp-audit.json").read_text())
    assert sorted(doc["hosts"]) == ["node-%02d" % i for i in range(1, FLEET_SIZE + 1)]
    assert all(entry["status"] in ("pass", "warn", "fail") for entry in doc["hosts"].values()), doc["summary"]
    # the survey string reached the rules: every host carries the thresholds it gave
    assert all(entry["thresholds"]["close_wait_warn"] == 100000 for entry in doc["hosts"].values())
    for name in ("tcp-audit.csv", "tcp-audit.html", "tcp-audit.junit.xml", "tcp-audit.prom"):
        assert (report_dir / name).stat().st_size > 0


def test_failed_run_still_publishes_the_outcome(private_data_dir, tmp_path):
    """fail_on reached: the job fails on the summary task, and its artifact still carries the outcome (the
    report task publishes it, before the run is failed). Every host is at least warn: no host's live
    tcp_max_tw_buckets reaches a max_tw_buckets_min of 2**31."""
    extravars = json.loads((private_data_dir / "env" / "extravars").read_text())
    extravars.update(tcp_audit_fail_on="warn", tcp_audit_thresholds='{"max_tw_buckets_min": 2147483648}')
    (private_data_dir / "env" / "extravars").write_text(json.dumps(extravars))
    done, artifacts = runner(private_data_dir, "tcpops.timewait.report", "failing")
    assert done.returncode != 0, done.stdout
    assert (artifacts / "status").read_text().strip() == "failed"

    found = [event for _size, _path, event in events(artifacts)]
    failed = [event for event in found if event.get("event") == "runner_on_failed"]
    assert [event["event_data"]["task"] for event in failed] == [
        "Print the audit summary, failing the run when findings reach tcp_audit_fail_on"]
    message = failed[0]["event_data"]["res"]["msg"]
    assert message[0].startswith("Audit status ") and "reaches tcp_audit_fail_on=warn" in message[0], message
    assert any(line.startswith("HOST ") for line in message), message
    summary = [event for event in found if event.get("event") == "playbook_on_stats"][0]["event_data"]["artifact_data"]
    assert summary["tcp_audit"]["scope"] == "fleet" and summary["tcp_audit"]["hosts"] == FLEET_SIZE
    assert summary["tcp_audit"]["worst_status"] in ("warn", "fail")
    assert summary["tcp_audit"]["by_status"]["pass"] == 0
    assert os.path.isdir(summary["tcp_audit"]["report_dir"])
