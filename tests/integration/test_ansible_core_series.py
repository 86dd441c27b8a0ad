"""The playbooks on each older ansible-core series that meta/runtime.yml admits, each release pinned in
requirements/ansible-core-series.txt and installed once into a virtualenv of its own under build/:
an audit that passes and publishes its outcome, one that fails on tcp_audit_fail_on and still publishes
it, the report playbook twice (the second run compared with the first), a sliced run merged, and a variable
the run reads once set for one group only refused before any host is contacted.

The hosts are inventory names reached with the local connection (each one audits this machine).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERIES_FILE = REPO / "requirements" / "ansible-core-series.txt"
HOST_PYTHON = "/usr/bin/python3"
HOSTS = ("web-1", "web-2", "db-1")
# every host at least warn: no host's live tcp_max_tw_buckets reaches it
WARN_EVERY_HOST = '{"tcp_audit_thresholds": {"max_tw_buckets_min": 2147483648}}'


def releases():
    lines = (line.strip() for line in SERIES_FILE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def core_venv(requirement):
    """The virtualenv holding ``requirement`` (installed on first use; a stamp names what it holds)."""
    venv = REPO / "build" / "ansible-core-series" / requirement.replace("==", "-")
    stamp = venv / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", requirement],
                       check=True, timeout=900)
        stamp.write_text(requirement + "\n")
    return venv


def run(playbook, venv, tmp_path, name, *extra):
    """The playbook ``name`` as the other playbook tests run it (conftest's ``playbook``), with the
    ansible-playbook of ``venv``."""
    inventory = tmp_path / "hosts.ini"
    if not inventory.exists():
        inventory.write_text("[web]\nweb-1\nweb-2\n[db]\ndb-1\n[all:vars]\nansible_connection=local\n"
                             "ansible_python_interpreter=%s\n" % HOST_PYTHON)
    argv = list(playbook.argv(name, str(tmp_path / "reports"), None, str(inventory)))
    argv[0] = str(venv / "bin" / "ansible-playbook")
    env = dict(playbook.env(), ANSIBLE_SHOW_CUSTOM_STATS="1", PATH="%s:%s" % (venv / "bin", os.environ.get("PATH", "")))
    env.pop("PYTHONPATH", None)
    done = subprocess.run(argv[:-1] + list(extra) + [argv[-1]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, cwd=str(tmp_path), timeout=600, check=False)
    return done.returncode, done.stdout


def published(out):
    """What the run published for a workflow, as the default callback prints it (CUSTOM STATS)."""
    assert "CUSTOM STATS" in out, out[-3000:]
    return out[out.index("CUSTOM STATS"):]


def latest(tmp_path):
    return json.loads((tmp_path / "reports" / "latest" / "tcp-audit.json").read_text())


@pytest.mark.parametrize("requirement", releases())
def test_playbooks_on_an_older_ansible_core(requirement, tmp_path, playbook):
    venv = core_venv(requirement)
    version = subprocess.run([str(venv / "bin" / "ansible-playbook"), "--version"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
    assert "[core %s]" % requirement.split("==")[1] in version, version

    rc, out = run(playbook, venv, tmp_path, "audit")
    assert rc == 0, out[-3000:]
    doc = json.loads((tmp_path / "reports" / "tcp-audit.json").read_text())
    assert sorted(doc["hosts"]) == sorted(HOSTS)
    assert "reports: %s/tcp-audit.{html,json,csv,junit.xml,prom}" % (tmp_path / "reports") in out, out[-3000:]
    assert "scope: fleet" in published(out) and "hosts: 3 " in published(out), out[-3000:]

    rc, out = run(playbook, venv, tmp_path, "audit", "-e", "tcp_audit_fail_on=warn", "-e", WARN_EVERY_HOST)
    assert rc != 0, out[-3000:]
    assert re.search(r"Audit status (warn|fail) reaches tcp_audit_fail_on=warn; see \S+/tcp-audit.html", out), out[-3000:]
    assert "pass: 0 " in published(out), out[-3000:]

    rc, out = run(playbook, venv, tmp_path, "report")
    assert rc == 0, out[-3000:]
    first = latest(tmp_path)
    rc, out = run(playbook, venv, tmp_path, "report")
    assert rc == 0, out[-3000:]
    second = latest(tmp_path)
    assert second["comparison"]["previous_generated_at"] == first["generated_at"], second.get("comparison")

    for group in ("web", "db"):
        rc, out = run(playbook, venv, tmp_path, "report", "-e", "tcp_audit_run_id=series-1", "-e", "tcp_audit_merge=false",
                      "--limit", group)
        assert rc == 0 and "slice of run series-1" in out, out[-3000:]
        assert "scope: slice" in published(out), out[-3000:]
    rc, out = run(playbook, venv, tmp_path, "merge", "-e", "tcp_audit_run_id=series-1")
    assert rc == 0, out[-3000:]
    merged = latest(tmp_path)
    assert sorted(merged["hosts"]) == sorted(HOSTS)
    assert merged["summary"]["by_status"]["error"] == 0 and merged["summary"]["by_status"]["unreachable"] == 0
    assert merged["comparison"]["previous_generated_at"] == second["generated_at"]
    assert "scope: fleet" in published(out) and "tcp_audit_run_id: series-1" in published(out), out[-3000:]

    # a value the run reads once set for one group only, and a play keyword set as a host variable: refused
    # before any host is contacted, the published reports left as they were
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "db.yml").write_text("tcp_audit_report_name: nightly\ntcp_remediate_serial: 1\n")
    # templated into omit: unset, as on the first host (web-2 is not named)
    (tmp_path / "group_vars" / "web.yml").write_text("tcp_audit_report_name: \"{{ omit }}\"\n")
    rc, out = run(playbook, venv, tmp_path, "remediate")
    text = " ".join(out.split()).replace("''", "'")
    assert rc != 0 and "2 problems with the playbook's variables; nothing was gathered or written" in text, text[-3000:]
    assert ("tcp_audit_report_name is read once for the whole run, as the play's first host sees it (web-1: unset); "
            "1 other host has another value, which would be ignored (db-1: 'nightly')") in text, text[-3000:]
    assert "tcp_remediate_serial is set as a host variable (db-1: 1), where it has no effect" in text, text[-3000:]
    assert latest(tmp_path) == merged and not (tmp_path / "reports" / "remediate-before").exists()
