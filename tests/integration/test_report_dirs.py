"""Report directories after real runs of the report and audit playbooks against this machine:
a full disk (a real tmpfs), damaged history, a user's files beside the runs, odd destinations,
and runs killed part-way. Each test asserts what is on disk afterwards, file by file.
"""

import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

PAGE = 4096


@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MiB tmpfs mounted below tmp_path, unmounted afterwards."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tcpops-test", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def fill(mount_point):
    """Fill the filesystem with one-page files until it is full; returns them."""
    fillers = mount_point / "filler"
    fillers.mkdir()
    made = []
    while True:
        path = fillers / str(len(made))
        try:
            with open(str(path), "wb") as handle:
                handle.write(b"x" * PAGE)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            if path.exists():
                path.unlink()
            return made
        made.append(path)


def free_pages(mount_point, fillers, pages):
    for path in fillers[len(fillers) - pages:]:
        path.unlink()
    del fillers[len(fillers) - pages:]
    return os.statvfs(str(mount_point)).f_bavail


# pages free above the least one host's reports take (7 files of a page each), below what they take (the
# HTML and the JSON span pages): the run passes the first task, with a warning, and fails at write time
ROOM_ABOVE_FLOOR = 8


def assert_refused_for_room(done, dest):
    """Refused by the first task for want of space, before any host is contacted."""
    out = " ".join(done.stdout.split())
    assert ("tcp_audit_report_dir: the file system of %s has" % dest) in out, out[-3000:]
    assert "the reports of 1 host take at least 28 KiB: free space there or choose another directory" in out
    assert "nothing was gathered or written" in out and "Gather TCP state facts" not in out
    assert "No space left on device" not in out


def assert_unwritten_with_outcome(done):
    """Warned by the first task, failed at write time, and the failure still carries the run's outcome."""
    out = " ".join(done.stdout.split())
    assert "the reports of 1 host usually take about" in out and "the run may end unable to write them" in out
    assert "No space left on device" in out and "nothing was published" in out, out[-3000:]
    assert "the outcome of the 1 host is in this result (summary, table, hosts)" in out
    # the summary table and each host's status, in the failed task's result
    assert "- HOST STATUS FAIL WARN TIME_WAIT CLOSE_WAIT FINDINGS" in out and "- '1 host: 1 " in out
    assert "worst_status:" in out and "localhost: " in out


def compared_with(doc):
    return (doc.get("comparison") or {}).get("previous_generated_at")


pytestmark = pytest.mark.root


def test_disk_full_leaves_no_run_behind_and_retention_keeps_the_complete_runs(tmpfs, playbook, reportdirs):
    base = tmpfs / "runs"
    for _run in range(2):
        done = playbook.run("report", base)
        assert done.returncode == 0, done.stdout[-3000:]
        time.sleep(1)
    first, second = reportdirs.assert_history(str(base))
    before = reportdirs.snapshot(str(base))

    fillers = fill(tmpfs)
    # a full disk and room for less than the least a run takes: refused before the host is contacted;
    # then room for some of the five files but not all of them: the run fails at write time
    freed = 0
    for room in (0, 3, ROOM_ABOVE_FLOOR):
        free_pages(tmpfs, fillers, room - freed)
        freed = room
        done = playbook.run("report", base, {"tcp_report_keep": 2})
        assert done.returncode != 0, done.stdout[-3000:]
        if room < ROOM_ABOVE_FLOOR:
            assert_refused_for_room(done, base)
        else:
            assert_unwritten_with_outcome(done)
        assert reportdirs.snapshot(str(base)) == before  # no new directory, latest unchanged

    for path in fillers:
        path.unlink()
    done = playbook.run("report", base, {"tcp_report_keep": 2})
    assert done.returncode == 0, done.stdout[-3000:]
    runs = reportdirs.assert_history(str(base))
    assert runs[0] == second and len(runs) == 2 and first not in runs
    assert os.readlink(str(base / "latest")) == runs[1]
    latest = json.loads((base / "latest" / "tcp-audit.json").read_text())
    previous = json.loads((base / second / "tcp-audit.json").read_text())
    assert compared_with(latest) == previous["generated_at"]


def test_disk_full_keeps_the_fixed_directory_of_the_last_complete_audit(tmpfs, playbook, reportdirs):
    dest = tmpfs / "reports"
    done = playbook.run("audit", dest)
    assert done.returncode == 0, done.stdout[-3000:]
    reportdirs.assert_fixed(str(dest))
    before = reportdirs.snapshot(str(dest))

    fillers = fill(tmpfs)
    for pages in (0, ROOM_ABOVE_FLOOR):
        free_pages(tmpfs, fillers, pages)
        done = playbook.run("audit", dest)
        assert done.returncode != 0, done.stdout[-3000:]
        if pages == 0:
            assert_refused_for_room(done, dest)
        else:
            assert_unwritten_with_outcome(done)
        assert reportdirs.snapshot(str(dest)) == before
        assert sorted(os.listdir(str(tmpfs))) == ["filler", "reports"]

    for path in fillers:
        path.unlink()
    time.sleep(1)
    done = playbook.run("audit", dest)
    assert done.returncode == 0, done.stdout[-3000:]
    doc = reportdirs.assert_fixed(str(dest))
    old = [json.loads(content) for name, content in before.items() if name.endswith("/tcp-audit.json")]
    assert len(old) == 1 and doc["generated_at"] != old[0]["generated_at"]
    assert sorted(os.listdir(str(tmpfs))) == ["filler", "reports"]


def test_damaged_latest_is_named_in_a_warning_and_the_run_succeeds(tmp_path, playbook, reportdirs):
    base = tmp_path / "runs"
    done = playbook.run("report", base)
    assert done.returncode == 0, done.stdout[-3000:]
    first = reportdirs.assert_history(str(base))[0]
    damaged = base / first / "tcp-audit.json"
    damaged.write_text('{\n  "hosts": {\n    "web-1": {\n      "status": "pass",\n        "reason": "cut')
    # a user's directory named like a run, and a look-alike without the marker
    (base / "20200101T000000Z").mkdir()
    (base / "20200101T000000Z" / "important.txt").write_text("keep me\n")
    (base / "20200102T000000Z").mkdir()
    for name in reportdirs.REPORTS:
        (base / "20200102T000000Z" / name).write_text("not written by the audit\n")
    users = reportdirs.snapshot(str(base / "20200101T000000Z")), reportdirs.snapshot(str(base / "20200102T000000Z"))

    time.sleep(1)
    done = playbook.run("report", base, {"tcp_report_keep": 1})
    assert done.returncode == 0, done.stdout[-3000:]
    assert "[WARNING]" in done.stdout and str(base / "latest" / "tcp-audit.json") in done.stdout
    assert "is not valid JSON: Unterminated string" in done.stdout
    runs = [n for n in reportdirs.runs_in(str(base)) if not n.startswith("2020")]
    assert len(runs) == 1 and runs[0] != first  # the damaged run was the oldest complete run: pruned
    assert sorted(os.listdir(str(base))) == ["20200101T000000Z", "20200102T000000Z", runs[0], "latest"]
    assert os.readlink(str(base / "latest")) == runs[0]
    doc = reportdirs.assert_complete_run(str(base / runs[0]))
    assert "comparison" not in doc
    assert (reportdirs.snapshot(str(base / "20200101T000000Z")),
            reportdirs.snapshot(str(base / "20200102T000000Z"))) == users


def test_dangling_latest_is_a_warning_and_moves_to_the_new_run(tmp_path, playbook, reportdirs):
    base = tmp_path / "runs"
    base.mkdir()
    os.symlink("20991231T000000Z", str(base / "latest"))
    done = playbook.run("report", base)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "points to 20991231T000000Z, which does not exist" in done.stdout
    runs = reportdirs.assert_history(str(base))
    assert len(runs) == 1 and os.readlink(str(base / "latest")) == runs[0]


def assert_refused_before_any_host(playbook, reportdirs, watched, name, dest, extra, expected):
    """Run the playbook ``name``: the first task refuses it with ``expected`` and ``watched`` stays as it was."""
    before = reportdirs.snapshot(str(watched))
    done = playbook.run(name, dest, extra)
    out = " ".join(done.stdout.split())
    assert done.returncode != 0, out[-3000:]
    assert expected in out and "nothing was gathered or written" in out, out[-3000:]
    assert "Gather TCP state facts" not in out
    assert reportdirs.snapshot(str(watched)) == before


def mounted(path, options):
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tcpops-test", str(path)], check=True)
    return path


@pytest.mark.parametrize("case", ["no free inode for the reports", "textfile directory full",
                                  "textfile directory read-only"])
def test_file_systems_without_room_are_refused_before_any_host(case, tmp_path, playbook, reportdirs):
    dest, extra = tmp_path / "reports", {}
    try:
        if case == "no free inode for the reports":
            inodes = mounted(tmp_path / "fs", "size=1m,nr_inodes=16")
            dest = inodes / "reports"
            made = 0
            while True:
                try:
                    (inodes / ("empty-%d" % made)).touch()
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
                made += 1
            expected = "tcp_audit_report_dir: the file system of %s has 0 inodes free; a run creates at least 7 files" % dest
        elif case == "textfile directory full":
            textfile = mounted(tmp_path / "textfile", "size=64k")
            fill(textfile)
            extra = {"tcp_audit_textfile_dir": str(textfile)}
            expected = ("tcp_audit_textfile_dir: the file system of %s has 0 bytes free; the .prom of 1 host takes "
                        "at least 4.0 KiB" % textfile)
        else:
            textfile = mounted(tmp_path / "textfile", "ro,size=64k")
            extra = {"tcp_audit_textfile_dir": str(textfile)}
            expected = "tcp_audit_textfile_dir: %s cannot be written to: it is on a read-only file system" % textfile
        assert_refused_before_any_host(playbook, reportdirs, tmp_path, "audit", dest, extra, expected)
    finally:
        for name in ("fs", "textfile"):
            if (tmp_path / name).is_dir():
                subprocess.run(["umount", str(tmp_path / name)], check=False)


@pytest.mark.parametrize("case", ["latest is a directory", "dest is a file", "keep 0", "keep -1",
                                  "a report name is a directory", "read-only filesystem"])
def test_bad_destinations_fail_with_a_clear_error_and_change_nothing(case, tmp_path, playbook, reportdirs):
    base = tmp_path / "runs"
    base.mkdir()
    name, extra, expected = "report", {}, None
    if case == "latest is a directory":
        (base / "latest").mkdir()
        (base / "latest" / "notes.txt").write_text("mine\n")
        expected = "latest is a directory, not the symbolic link this module maintains"
    elif case == "dest is a file":
        base.rmdir()
        base.write_text("a file\n")
        expected = "runs exists and is not a directory"
    elif case.startswith("keep"):
        extra = {"tcp_report_keep": case.split()[1]}
        expected = "tcp_report_keep must be a whole number of 1 or more, got %s" % case.split()[1]
    elif case == "a report name is a directory":
        name = "audit"
        (base / "tcp-audit.json").mkdir()
        expected = "tcp-audit.json is a directory; move it away"
    else:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tcpops-test-ro", str(base)], check=True)
        expected = "runs cannot be written to (%s is on a read-only file system)" % base
    try:
        assert_refused_before_any_host(playbook, reportdirs, tmp_path, name, base, extra, expected)
    finally:
        if case == "read-only filesystem":
            subprocess.run(["umount", str(base)], check=False)


def start_and_kill(playbook, processes, name, report_dir, sig, when):
    """Start a playbook in its own process group, kill the group and the forks it started (in sessions of
    their own) with ``sig`` after ``when`` seconds, or (``when="writing"``) as soon as a private
    directory of this run shows up; return once every process of the run is gone; True if it did."""
    parent = Path(report_dir)
    earlier = set(os.listdir(str(parent)))
    proc = subprocess.Popen(playbook.argv(name, report_dir), env=playbook.env(), cwd=str(parent.parent),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    seen = False
    try:
        if when == "writing":
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if any(n.startswith(".tcpops-partial-") for n in set(os.listdir(str(parent))) - earlier):
                    seen = True
                    break
        else:
            time.sleep(when)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            processes.signal_run("tcp_audit_report_dir=%s" % report_dir, sig)
    finally:
        proc.wait(timeout=120)
        processes.wait_run_gone("tcp_audit_report_dir=%s" % report_dir)
    return seen


KILLS = [(signal.SIGKILL, 2.0), (signal.SIGTERM, 4.0), (signal.SIGINT, "writing"), (signal.SIGKILL, "writing"),
         (signal.SIGTERM, "writing")]


def test_killed_report_runs_never_leave_a_partial_run_in_sight(tmp_path, playbook, processes, reportdirs):
    base = tmp_path / "runs"
    done = playbook.run("report", base)
    assert done.returncode == 0, done.stdout[-3000:]
    caught_writing = []
    for sig, when in KILLS:
        caught_writing.append(start_and_kill(playbook, processes, "report", base, sig, when))
        visible = [n for n in os.listdir(str(base)) if not n.startswith(".tcpops-partial-")]
        assert set(visible) == set(reportdirs.runs_in(str(base))) | {"latest"}, visible
        assert os.readlink(str(base / "latest")) in visible
        for run in reportdirs.runs_in(str(base)):
            reportdirs.assert_complete_run(str(base / run))
        time.sleep(1)
    assert caught_writing.count(True) >= 2, caught_writing  # killed while the reports were being written
    done = playbook.run("report", base)  # cleans what killed runs left in private directories
    assert done.returncode == 0, done.stdout[-3000:]
    reportdirs.assert_history(str(base))


def test_killed_audit_runs_leave_the_fixed_directory_whole(tmp_path, playbook, processes, reportdirs):
    dest = tmp_path / "reports"
    done = playbook.run("audit", dest)
    assert done.returncode == 0, done.stdout[-3000:]
    caught_writing = []
    for sig, when in KILLS:
        caught_writing.append(start_and_kill(playbook, processes, "audit", dest, sig, when))
        current = os.readlink(str(dest / ".tcpops-current"))
        # a killed run may leave its private directory, or its complete run not yet linked: hidden
        left = [n for n in os.listdir(str(dest)) if n.startswith(".tcpops-partial-")
                or (n.startswith(".tcpops-run-") and n != current)]
        reportdirs.assert_fixed(str(dest), others=left)
        time.sleep(1)
    assert caught_writing.count(True) >= 2, caught_writing
    done = playbook.run("audit", dest)  # cleans what killed runs left in private directories
    assert done.returncode == 0, done.stdout[-3000:]
    reportdirs.assert_fixed(str(dest))
