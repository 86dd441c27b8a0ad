# -*- coding: utf-8 -*-
"""The slices of one run: written at the same time by several processes, merged into one fleet,
missing hosts named as missing (never ``pass``), damaged slices named, survey thresholds parsed."""

import json
import multiprocessing
import os
import re

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files


def passing(name):
    return {"status": "pass", "reason": None, "findings": [], "facts": {"host": name}, "sysctl_config": None}


def _write_one_slice(args):
    base, run_id, index = args
    names = ["s%d-h%d" % (index, i) for i in range(5)]
    return files.write_slice(base, run_id, dict((n, passing(n)) for n in names), names)


def test_slices_finishing_at_the_same_time_each_land_whole_under_their_own_name(tmp_path):
    with multiprocessing.Pool(8) as pool:
        paths = pool.map(_write_one_slice, [(str(tmp_path), "run-1", i) for i in range(32)])
    directory = tmp_path / files.IN_PROGRESS / "run-1"
    assert len(set(paths)) == 32
    assert sorted(os.listdir(str(directory))) == sorted(os.path.basename(p) for p in paths)
    slices, warnings = files.read_slices(str(tmp_path), "run-1")
    assert warnings == []
    assert len(slices) == 32
    hosts, missing = files.merge_slices(slices, [])
    assert len(hosts) == 160 and missing == []


def test_names_carry_no_process_id_and_no_temporary_file_is_left(tmp_path):
    path = files.write_slice(str(tmp_path), "r", {"a": passing("a")}, ["a"])
    name = os.path.basename(path)
    assert name.startswith("slice-") and name.endswith(".json")
    assert re.match(r"^slice-[0-9a-f]{32}\.json$", name)
    assert os.listdir(os.path.dirname(path)) == [name]
    record = json.loads(open(path).read())
    assert record["run_id"] == "r" and record["expected_hosts"] == ["a"] and record["format"] == files.SLICE_FORMAT


def test_hosts_no_slice_reported_are_missing_errors_never_pass(tmp_path):
    files.write_slice(str(tmp_path), "r", {"a": passing("a")}, ["a"])
    slices, _warnings = files.read_slices(str(tmp_path), "r")
    hosts, missing = files.merge_slices(slices, ["a", "b", "c"])
    assert missing == ["b", "c"]
    for name in missing:
        assert hosts[name]["status"] == "error"
        assert hosts[name]["reason"].startswith("missing:")
    summary = fleet.summarise(hosts)
    assert summary["by_status"] == {"unreachable": 0, "error": 2, "fail": 0, "warn": 0, "pass": 1}
    assert summary["worst_status"] == "error"


def test_a_host_audited_by_two_slices_keeps_the_newest_result(tmp_path, monkeypatch):
    clock = iter([100.0, 200.0])
    monkeypatch.setattr(files.time, "time", lambda: next(clock))
    files.write_slice(str(tmp_path), "r", {"a": dict(passing("a"), status="fail")}, ["a"])
    files.write_slice(str(tmp_path), "r", {"a": passing("a")}, ["a"])
    slices, _warnings = files.read_slices(str(tmp_path), "r")
    assert [s["written_at"] for s in slices] == [100.0, 200.0]
    assert files.merge_slices(slices, ["a"])[0]["a"]["status"] == "pass"


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": "other"}), json.dumps([1])])
def test_a_damaged_slice_is_named_and_its_hosts_count_as_missing(tmp_path, content):
    files.write_slice(str(tmp_path), "r", {"a": passing("a")}, ["a"])
    damaged = tmp_path / files.IN_PROGRESS / "r" / "slice-damaged.json"
    damaged.write_text(content)
    slices, warnings = files.read_slices(str(tmp_path), "r")
    assert len(slices) == 1
    assert len(warnings) == 1 and str(damaged) in warnings[0] and "missing" in warnings[0]
    assert files.merge_slices(slices, ["a", "b"])[1] == ["b"]


def test_a_slice_of_another_run_is_not_merged(tmp_path):
    path = files.write_slice(str(tmp_path), "r1", {"a": passing("a")}, ["a"])
    other = tmp_path / files.IN_PROGRESS / "r2"
    other.mkdir()
    os.rename(path, str(other / os.path.basename(path)))
    slices, warnings = files.read_slices(str(tmp_path), "r2")
    assert slices == [] and "not a slice of run r2" in warnings[0]


@pytest.mark.parametrize("run_id", ["", "..", ".", "a/b", "../x", "-x", "x" * 65, 12])
def test_run_ids_that_cannot_name_a_directory_are_refused(tmp_path, run_id):
    with pytest.raises(files.ReportDirError, match="run id"):
        files.write_slice(str(tmp_path), run_id, {}, [])
    assert os.listdir(str(tmp_path)) == []


def test_new_run_ids_differ_and_are_valid():
    ids = set(files.new_run_id(0) for _count in range(100))
    assert len(ids) == 100
    for run_id in ids:
        files.check_run_id(run_id)
        assert run_id.startswith("19700101T000000Z-")


def test_removing_the_slices_of_a_run_keeps_the_other_runs(tmp_path):
    files.write_slice(str(tmp_path), "r1", {"a": passing("a")}, ["a"])
    files.write_slice(str(tmp_path), "r2", {"a": passing("a")}, ["a"])
    files.remove_slices(str(tmp_path), "r1")
    assert os.listdir(str(tmp_path / files.IN_PROGRESS)) == ["r2"]
    files.remove_slices(str(tmp_path), "r2")
    assert os.listdir(str(tmp_path)) == []


def test_slices_are_not_runs_for_retention(tmp_path):
    files.write_slice(str(tmp_path), "20260101T000000Z", {"a": passing("a")}, ["a"])
    assert files.complete_runs(str(tmp_path)) == []


@pytest.mark.parametrize("text, expected", [
    ('{"close_wait_warn": 5, "port_usage_warn": 0.4}', {"close_wait_warn": 5, "port_usage_warn": 0.4}),
    ("close_wait_warn: 5\nport_usage_warn: 0.4\n", {"close_wait_warn": 5, "port_usage_warn": 0.4}),
    ("", {}),
    ("   ", {}),
])
def test_survey_thresholds_parse_from_json_or_yaml(text, expected):
    assert fleet.parse_thresholds(text) == expected


@pytest.mark.parametrize("text, message", [
    ("{unclosed", "a string that is not valid JSON or YAML"),
    ("[1, 2]", "must be a mapping of threshold names to numbers"),
    ("just words", "must be a mapping of threshold names to numbers .JSON or YAML., got str"),
    ('{"no_such_threshold": 1}', "unknown threshold 'no_such_threshold'"),
    ('{"close_wait_warn": "many"}', "close_wait_warn"),
])
def test_survey_thresholds_that_are_wrong_are_refused_saying_what_to_fix(text, message):
    with pytest.raises(rules.ThresholdError, match=message):
        fleet.parse_thresholds(text)


def _age(directory, seconds, now):
    for name in os.listdir(str(directory)):
        os.utime(str(directory / name), (now - seconds, now - seconds))
    os.utime(str(directory), (now - seconds, now - seconds))


def test_runs_never_merged_are_stale_after_the_age_and_retention_deletes_only_those(tmp_path):
    now = 2000000000.0
    base = str(tmp_path)
    for run_id in ("old-run", "recent-run", "merging-now"):
        files.write_slice(base, run_id, {"a": passing("a")}, ["a"])
    files.write_slice(base, "old-run", {"b": passing("b")}, ["b"])
    in_progress = tmp_path / files.IN_PROGRESS
    _age(in_progress / "old-run", 8 * 86400, now)
    _age(in_progress / "recent-run", 6 * 86400, now)
    _age(in_progress / "merging-now", 30 * 86400, now)
    (in_progress / "not a run id").mkdir()
    _age(in_progress / "not a run id", 30 * 86400, now)

    stale = files.stale_runs_in_progress(base, 7 * 86400, now, exclude="merging-now")
    assert stale == [{"run_id": "old-run", "age_seconds": 8 * 86400, "slices": 2}]
    assert [run["run_id"] for run in files.stale_runs_in_progress(base, 5 * 86400, now, exclude="merging-now")] \
        == ["old-run", "recent-run"]

    files.remove_runs_in_progress(base, [run["run_id"] for run in stale])
    assert sorted(os.listdir(str(in_progress))) == ["merging-now", "not a run id", "recent-run"]


def test_a_new_slice_keeps_a_run_in_progress_fresh(tmp_path):
    now = 2000000000.0
    base = str(tmp_path)
    files.write_slice(base, "r", {"a": passing("a")}, ["a"])
    directory = tmp_path / files.IN_PROGRESS / "r"
    _age(directory, 10 * 86400, now)
    newest = files.write_slice(base, "r", {"b": passing("b")}, ["b"])
    os.utime(newest, (now - 3600, now - 3600))
    assert files.stale_runs_in_progress(base, 7 * 86400, now) == []
    assert files.stale_runs_in_progress(str(tmp_path / "nowhere"), 0, now) == []
