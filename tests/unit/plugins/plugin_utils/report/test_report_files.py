# -*- coding: utf-8 -*-
"""Publishing a run as a whole: private directory, one rename or exchange, marker, retention, previous run."""

import errno
import json
import os
import re
import subprocess

import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files

RUN_FILES = sorted(files.RUN_FILES)


def rendered(generated_at="2026-01-01T00:00:00Z"):
    hosts = {"web-1": fleet.host_entry({"unreachable": True, "msg": "no route"})}
    return files.render_reports(fleet.build_document(hosts, generated_at), 1767225600)


def listing(path):
    return sorted(os.listdir(str(path)))


def fail_on_third_file(monkeypatch):
    real = files._write_file
    calls = []

    def write(path, text):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)

    monkeypatch.setattr(files, "_write_file", write)
    return calls


def test_a_run_failing_part_way_leaves_nothing_in_history(tmp_path, monkeypatch):
    first = files.publish_run(rendered(), str(tmp_path), "20260101T000000Z")
    files.point_latest(str(tmp_path), first)
    calls = fail_on_third_file(monkeypatch)
    with pytest.raises(OSError):
        files.publish_run(rendered("2026-01-02T00:00:00Z"), str(tmp_path), "20260102T000000Z")
    assert len(calls) == 3
    assert listing(tmp_path) == ["20260101T000000Z", "latest"]
    assert listing(first) == RUN_FILES


def published(dest):
    """{report name: content read through its link}, and the name of the run the links lead to."""
    contents = dict((name, (dest / name).read_bytes()) for name in files.REPORT_NAMES.values())
    for name in files.REPORT_NAMES.values():
        assert os.readlink(str(dest / name)) == os.path.join(".tcpops-current", name)
    version = os.readlink(str(dest / ".tcpops-current"))
    assert version.startswith(".tcpops-run-") and listing(dest / version) == RUN_FILES
    return contents, version


def test_a_fixed_directory_failing_part_way_keeps_the_old_reports(tmp_path, monkeypatch):
    dest = tmp_path / "reports"
    files.write_reports(rendered(), str(dest))
    before, entries = published(dest), listing(dest)
    fail_on_third_file(monkeypatch)
    with pytest.raises(OSError):
        files.write_reports(rendered("2026-01-02T00:00:00Z"), str(dest))
    assert published(dest) == before and listing(dest) == entries


def test_a_fixed_directory_switches_all_five_reports_in_one_step_and_keeps_other_entries(tmp_path):
    dest = tmp_path / "reports"
    dest.mkdir()
    (dest / "remediate-before").mkdir()
    (dest / "notes.txt").write_text("mine\n")
    paths = files.write_reports(rendered(), str(dest), {"report": "audit"})
    assert paths == dict((kind, str(dest / name)) for kind, name in files.REPORT_NAMES.items())
    _contents, first = published(dest)
    assert oct((dest / first).stat().st_mode & 0o777) == "0o755"
    files.write_reports(rendered("2026-01-02T00:00:00Z"), str(dest))
    contents, second = published(dest)
    assert second != first
    assert json.loads(contents["tcp-audit.json"])["generated_at"] == "2026-01-02T00:00:00Z"
    assert listing(dest) == sorted(list(files.REPORT_NAMES.values()) + [
        ".tcpops-current", second, "notes.txt", "remediate-before"])
    assert (dest / "notes.txt").read_text() == "mine\n"


def test_reports_written_as_plain_files_before_are_replaced_by_the_links(tmp_path):
    dest = tmp_path / "reports"
    dest.mkdir()
    for name in files.REPORT_NAMES.values():
        (dest / name).write_text("old\n")
    files.write_reports(rendered(), str(dest))
    contents, _version = published(dest)
    assert b"old\n" not in contents.values()


@pytest.mark.parametrize("setup, message", [
    (lambda d: d.write_text("x"), "reports exists and is not a directory"),
    (lambda d: (d.mkdir(), (d / "tcp-audit.csv").mkdir()), "tcp-audit.csv is a directory; move it away"),
    (lambda d: (d.mkdir(), (d / ".tcpops-current").mkdir()), ".tcpops-current is a directory; move it away"),
])
def test_a_fixed_destination_that_cannot_take_the_reports_is_refused(tmp_path, setup, message):
    dest = tmp_path / "reports"
    setup(dest)
    before = sorted(os.listdir(str(dest))) if dest.is_dir() else None
    with pytest.raises(files.ReportDirError, match=re.escape(message)):
        files.write_reports(rendered(), str(dest))
    assert listing(tmp_path) == ["reports"]
    assert (sorted(os.listdir(str(dest))) if dest.is_dir() else None) == before


def test_two_runs_in_the_same_second_and_a_clock_gone_back_get_their_own_names(tmp_path):
    base = str(tmp_path)
    names = [os.path.basename(files.publish_run(rendered(), base, stamp)) for stamp in (
        "20260102T000000Z", "20260102T000000Z", "20260102T000000Z", "20260101T000000Z")]
    assert names == ["20260102T000000Z", "20260102T000000Z-1", "20260102T000000Z-2", "20260101T000000Z"]
    files.point_latest(base, os.path.join(base, names[-1]))
    # the run written after the clock went back is the oldest by name, but latest: never deleted
    assert files.prune_runs(base, 1, os.path.join(base, names[-1])) == [
        "20260102T000000Z", "20260102T000000Z-1", "20260102T000000Z-2"]
    assert listing(tmp_path) == ["20260101T000000Z", "latest"]


def test_suffixes_sort_as_numbers(tmp_path):
    base = str(tmp_path)
    for _run in range(12):
        files.publish_run(rendered(), base, "20260102T000000Z")
    assert files.complete_runs(base)[-3:] == ["20260102T000000Z-9", "20260102T000000Z-10", "20260102T000000Z-11"]


def test_retention_counts_and_deletes_only_complete_marked_runs_of_its_own(tmp_path):
    base = tmp_path
    (base / "20200101T000000Z").mkdir()
    (base / "20200101T000000Z" / "important.txt").write_text("keep me\n")
    (base / "20200102T000000Z").mkdir()  # empty, as older versions left after a failure
    lookalike = base / "20200103T000000Z"
    lookalike.mkdir()
    for name in RUN_FILES:
        (lookalike / name).write_text("{}\n")  # a marker that does not name this module
    extra = files.publish_run(rendered(), str(base), "20200104T000000Z")
    (base / "20200104T000000Z" / "notes.txt").write_text("added by someone\n")
    os.symlink("20200101T000000Z", str(base / "20200105T000000Z"))
    runs = [files.publish_run(rendered(), str(base), "2026010%dT000000Z" % day) for day in (1, 2, 3)]
    files.point_latest(str(base), runs[-1])
    assert files.complete_runs(str(base)) == ["20260101T000000Z", "20260102T000000Z", "20260103T000000Z"]
    assert files.prune_runs(str(base), 1, runs[-1]) == ["20260101T000000Z", "20260102T000000Z"]
    assert listing(base) == ["20200101T000000Z", "20200102T000000Z", "20200103T000000Z", "20200104T000000Z",
                             "20200105T000000Z", "20260103T000000Z", "latest"]
    assert (base / "20200101T000000Z" / "important.txt").read_text() == "keep me\n"
    assert sorted(os.listdir(extra)) == sorted(RUN_FILES + ["notes.txt"])


def test_retention_never_deletes_the_run_latest_points_to(tmp_path):
    base = str(tmp_path)
    old = files.publish_run(rendered(), base, "20260101T000000Z")
    files.point_latest(base, old)
    files.publish_run(rendered(), base, "20260102T000000Z")
    current = files.publish_run(rendered(), base, "20260103T000000Z")
    assert files.prune_runs(base, 1, current) == ["20260102T000000Z"]
    assert listing(tmp_path) == ["20260101T000000Z", "20260103T000000Z", "latest"]


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_below_one_is_refused(tmp_path, keep):
    with pytest.raises(ValueError):
        files.prune_runs(str(tmp_path), keep, str(tmp_path / "x"))


def test_private_directories_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    sleeper = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        (tmp_path / (".tcpops-partial-%d-abc" % dead.pid)).mkdir()
        (tmp_path / (".tcpops-partial-%d-abc" % dead.pid) / "tcp-audit.json").write_text("{")
        os.symlink("nowhere", str(tmp_path / (".tcpops-partial-%d-latest" % dead.pid)))
        (tmp_path / (".tcpops-partial-%d-xyz" % sleeper.pid)).mkdir()
        (tmp_path / ".tcpops-partialities").mkdir()
        removed = files.remove_stale_partials(str(tmp_path))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(removed) == [".tcpops-partial-%d-abc" % dead.pid, ".tcpops-partial-%d-latest" % dead.pid]
    assert listing(tmp_path) == [".tcpops-partial-%d-xyz" % sleeper.pid, ".tcpops-partialities"]


def test_withdraw_and_restore_undo_a_published_run(tmp_path):
    base = str(tmp_path)
    first = files.publish_run(rendered(), base, "20260101T000000Z")
    files.point_latest(base, first)
    second = files.publish_run(rendered(), base, "20260102T000000Z")
    files.point_latest(base, second)
    files.restore_latest(base, "20260101T000000Z")
    files.withdraw_run(second)
    assert listing(tmp_path) == ["20260101T000000Z", "latest"]
    assert os.readlink(os.path.join(base, "latest")) == "20260101T000000Z"
    files.restore_latest(base, None)
    assert listing(tmp_path) == ["20260101T000000Z"]


@pytest.mark.parametrize("content, why", [
    ('{\n  "hosts": {\n    "a": {\n      "status": "pass",\n        "x": "cut', "is not valid JSON: Unterminated string"),
    ("[]", "is not a tcp-audit.json fleet document"),
    ('{"hosts": {"a": {"status": 3}}}', "is not a tcp-audit.json fleet document"),
    ('{"hosts": {"a": {"status": "fail", "findings": [{"id": "x"}]}}}', "is not a tcp-audit.json fleet document"),
    ("\xff\xfe", "is not valid JSON"),
])
def test_a_damaged_previous_run_is_named_and_not_used(tmp_path, content, why):
    run = files.publish_run(rendered(), str(tmp_path), "20260101T000000Z")
    files.point_latest(str(tmp_path), run)
    path = tmp_path / "latest" / "tcp-audit.json"
    path.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
    doc, warning = files.previous_document(str(tmp_path))
    assert doc is None and warning.startswith(str(path) + " ") and why in warning


def test_an_unreadable_previous_run_and_a_dangling_latest_are_named(tmp_path):
    run = files.publish_run(rendered(), str(tmp_path), "20260101T000000Z")
    files.point_latest(str(tmp_path), run)
    os.unlink(os.path.join(run, "tcp-audit.json"))
    doc, warning = files.previous_document(str(tmp_path))
    assert doc is None and warning == "cannot read %s/latest/tcp-audit.json: No such file or directory" % tmp_path
    os.symlink("20991231T000000Z", str(tmp_path / "dangling"))
    os.replace(str(tmp_path / "dangling"), str(tmp_path / "latest"))
    assert files.previous_document(str(tmp_path)) == (
        None, "%s/latest points to 20991231T000000Z, which does not exist" % tmp_path)


def test_latest_that_is_not_a_link_is_refused(tmp_path):
    (tmp_path / "latest").mkdir()
    with pytest.raises(files.ReportDirError, match="latest is a directory, not the symbolic link"):
        files.check_history_base(str(tmp_path))


def test_a_fixed_directory_never_deletes_the_run_its_link_points_to(tmp_path, monkeypatch):
    dest = tmp_path / "reports"
    files.write_reports(rendered(), str(dest))
    _contents, other = published(dest)
    real_link = files._link

    def another_run_swaps_back(directory, name, target):
        real_link(directory, name, target)
        if name == files.CURRENT:  # an overlapping run publishes right after this one
            real_link(directory, name, other)

    monkeypatch.setattr(files, "_link", another_run_swaps_back)
    files.write_reports(rendered("2026-01-02T00:00:00Z"), str(dest))
    assert os.readlink(str(dest / ".tcpops-current")) == other and listing(dest / other) == RUN_FILES
