"""What a directory of audit reports must look like afterwards, checked file by file."""

import calendar
import json
import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET

REPORTS = ("tcp-audit.json", "tcp-audit.csv", "tcp-audit.html", "tcp-audit.junit.xml", "tcp-audit.prom")
MARKER = ".tcpops-run.json"
RUN_FILES = set(REPORTS) | {MARKER}
PARTIAL = ".tcpops-partial-"


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def assert_complete_run(path, report="report"):
    """The five reports and the marker, nothing else, all five from the same run."""
    assert sorted(os.listdir(path)) == sorted(RUN_FILES), path
    doc = json.loads(read(os.path.join(path, "tcp-audit.json")))
    generated_at = doc["generated_at"]
    marker = json.loads(read(os.path.join(path, MARKER)))
    run_id, slices = marker.pop("run_id", None), marker.pop("slices", None)
    assert marker == {"writer": "tcpops.timewait.tcp_audit_report", "report": report,
                      "generated_at": generated_at}, path
    assert isinstance(run_id, str) and run_id and isinstance(slices, int) and slices >= 1, (path, run_id, slices)
    epoch = calendar.timegm(time.strptime(generated_at, "%Y-%m-%dT%H:%M:%SZ"))
    assert ('tcp_audit_last_run_timestamp_seconds{report="%s"} %d' % (report, epoch)
            in read(os.path.join(path, "tcp-audit.prom"))), path
    suites = ET.fromstring(read(os.path.join(path, "tcp-audit.junit.xml"))).findall("testsuite")
    assert suites and {s.get("timestamp") for s in suites} == {generated_at}, path
    assert "generated %s," % generated_at in read(os.path.join(path, "tcp-audit.html")), path
    csv_hosts = [line.split(",")[0] for line in read(os.path.join(path, "tcp-audit.csv")).splitlines()[1:]]
    assert csv_hosts == doc["summary"]["hosts_worst_first"], path
    return doc


def assert_fixed(dest, report="audit", others=()):
    """The five reports of one complete run through their links, and nothing left over."""
    for name in REPORTS:
        assert os.readlink(os.path.join(dest, name)) == os.path.join(".tcpops-current", name)
    version = os.readlink(os.path.join(dest, ".tcpops-current"))
    assert version.startswith(".tcpops-run-")
    assert sorted(os.listdir(dest)) == sorted(set(REPORTS) | {".tcpops-current", version} | set(others))
    return assert_complete_run(os.path.join(dest, version), report)


def snapshot(path):
    """{relative path: bytes} of everything below ``path`` (links as 'link -> target')."""
    found = {}
    for directory, subdirs, names in os.walk(path):
        for name in subdirs + names:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, path)
            if os.path.islink(full):
                found[relative] = "link -> " + os.readlink(full)
            elif os.path.isfile(full):
                with open(full, "rb") as handle:
                    found[relative] = handle.read()
    return found


def runs_in(base):
    return sorted(n for n in os.listdir(base) if re.match(r"^\d{8}T\d{6}Z(-\d+)?$", n))


def assert_history(base, report="report"):
    """Only complete runs, ``latest`` pointing to one of them, no private directory left: the runs."""
    names = set(os.listdir(base))
    runs = runs_in(base)
    assert names == set(runs) | {"latest"}, sorted(names)
    assert os.readlink(os.path.join(base, "latest")) in runs
    for name in runs:
        assert_complete_run(os.path.join(base, name), report)
    return runs


def promtool_check(path):
    done = subprocess.run(["promtool", "check", "metrics"], stdin=open(path, "rb"), capture_output=True,
                          check=False)
    assert done.returncode == 0, (path, done.stdout, done.stderr)
