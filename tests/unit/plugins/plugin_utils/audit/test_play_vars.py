# -*- coding: utf-8 -*-
"""The playbooks' variables checked before any host is contacted (tcp_audit_preflight)."""

import os

import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import play_vars


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty directory: the default report directory (./reports) is checked where it would go."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


GOOD = [
    ("tcp_audit_top", 0), ("tcp_audit_top", "25"), ("tcp_audit_top", 10.0),
    ("tcp_audit_namespaces", "self"), ("tcp_audit_namespaces", "all"),
    ("tcp_audit_merge", False), ("tcp_audit_merge", "yes"), ("tcp_audit_merge", "False"), ("tcp_audit_merge", 1),
    ("tcp_audit_history", "true"), ("tcp_remediate_fix_conflicts", True), ("tcp_remediate_fix_conflicts", "y"),
    ("tcp_audit_fail_on", "warn"), ("tcp_report_keep", 1), ("tcp_report_in_progress_keep_days", "3"),
    ("tcp_audit_report_name", "nightly.eu-1"), ("tcp_audit_report_name", 2024), ("tcp_audit_run_id", "awx-job-42"),
    ("tcp_audit_run_id", 42), ("tcp_audit_run_id", ""),
    ("tcp_audit_thresholds", {"port_usage_warn": 0.3}), ("tcp_audit_thresholds", '{"close_wait_warn": 5}'),
    ("tcp_audit_thresholds", "close_wait_warn: 5"), ("tcp_audit_thresholds", ""), ("tcp_audit_thresholds", None),
    ("tcp_audit_thresholds", []), ("tcp_audit_thresholds", False),
    ("tcp_audit_textfile_dir", ""), ("tcp_audit_textfile_dir", None), ("tcp_audit_hosts", "web:&eu"),
    ("tcp_audit_hosts", ["web", "db"]), ("tcp_audit_report_dir", "out/reports"),
    ("tcp_remediate_serial", 2), ("tcp_remediate_serial", "25%"), ("tcp_remediate_serial", [1, "50%", "100%"]),
    ("tcp_remediate_serial", 0), ("tcp_remediate_serial", "150%"),
    ("tcp_remediate_max_fail_percentage", 0), ("tcp_remediate_max_fail_percentage", "12.5"),
    ("tcp_remediate_max_fail_percentage", 100), ("tcp_remediate_profile", "auto"),
    ("tcp_remediate_profile", "nat_gateway"), ("tcp_remediate_overrides", {}), ("tcp_remediate_overrides", None),
    ("tcp_remediate_overrides", "net.ipv4.tcp_fin_timeout=30"), ("tcp_remediate_overrides", '{"a": 1}'),
]


@pytest.mark.parametrize("name,value", GOOD)
def test_values_the_playbooks_take_pass(in_tmp, name, value):
    assert play_vars.problems({name: value}, "audit") == []


BAD = [
    ("tcp_audit_top", "ten", "tcp_audit_top must be a whole number of 0 or more, got 'ten'"),
    ("tcp_audit_top", -1, "tcp_audit_top must be a whole number of 0 or more, got -1"),
    ("tcp_audit_top", True, "tcp_audit_top must be a whole number of 0 or more, got True"),
    ("tcp_audit_top", 2.5, "tcp_audit_top must be a whole number of 0 or more, got 2.5"),
    ("tcp_audit_namespaces", "al", "tcp_audit_namespaces must be one of self, all, got 'al'"),
    ("tcp_audit_namespaces", True, "tcp_audit_namespaces must be one of self, all, got True"),
    ("tcp_audit_merge", "ture", "tcp_audit_merge must be true or false (yes, no, on, off, 1 or 0), got 'ture'"),
    ("tcp_audit_merge", "y", "tcp_audit_merge must be true or false (yes, no, on, off, 1 or 0), got 'y'"),
    ("tcp_audit_merge", " true", "tcp_audit_merge must be true or false"),
    ("tcp_audit_merge", 2, "tcp_audit_merge must be true or false"),
    ("tcp_audit_history", "maybe", "tcp_audit_history must be true or false (yes, no, on, off, 1 or 0), got "
                                   "'maybe'"),
    ("tcp_remediate_fix_conflicts", 2, "tcp_remediate_fix_conflicts must be true or false, got 2"),
    ("tcp_audit_fail_on", "fial", "tcp_audit_fail_on must be one of fail, warn, never, got 'fial'"),
    ("tcp_report_keep", 0, "tcp_report_keep must be a whole number of 1 or more, got 0"),
    ("tcp_report_in_progress_keep_days", "a week",
     "tcp_report_in_progress_keep_days must be a whole number of 1 or more, got 'a week'"),
    ("tcp_audit_report_name", "night ly", "tcp_audit_report_name must be 1 to 64 letters, digits"),
    ("tcp_audit_report_name", "-x", "tcp_audit_report_name must be 1 to 64 letters"),
    ("tcp_audit_report_name", "nightly\n", "tcp_audit_report_name must be 1 to 64 letters"),
    ("tcp_audit_run_id", "r1\n", "tcp_audit_run_id: run id 'r1\\n' must be 1 to 64 letters"),
    ("tcp_audit_run_id", "../x", "tcp_audit_run_id: run id '../x' must be 1 to 64 letters"),
    ("tcp_audit_thresholds", {"bogus": 1}, "tcp_audit_thresholds: unknown threshold 'bogus'"),
    ("tcp_audit_thresholds", '{"port_usage_warn": "high"}',
     "tcp_audit_thresholds: threshold port_usage_warn must be a number, got 'high'"),
    ("tcp_audit_thresholds", "[1, 2]",
     "tcp_audit_thresholds must be a mapping of threshold names to numbers (JSON or YAML), got list"),
    ("tcp_audit_thresholds", "{unclosed", "tcp_audit_thresholds: a string that is not valid JSON or YAML"),
    ("tcp_audit_thresholds", 7, "tcp_audit_thresholds must be a mapping of threshold names to numbers"),
    ("tcp_audit_textfile_dir", "/nonexistent/textfiles", "tcp_audit_textfile_dir: /nonexistent/textfiles is not a "
                                                         "directory"),
    ("tcp_audit_textfile_dir", 5, "tcp_audit_textfile_dir must be the path of node_exporter's textfile directory"),
    ("tcp_audit_hosts", "", "tcp_audit_hosts must be a non-empty string, got ''"),
    ("tcp_audit_hosts", [], "tcp_audit_hosts must be a non-empty string, got []"),
    ("tcp_audit_report_dir", "  ", "tcp_audit_report_dir must be a non-empty string"),
    ("tcp_remediate_serial", "12.5%", "tcp_remediate_serial must be a batch size (a whole number), a percentage"),
    ("tcp_remediate_serial", "2.0", "tcp_remediate_serial must be a batch size"),
    ("tcp_remediate_serial", "25 percent", "tcp_remediate_serial must be a batch size"),
    ("tcp_remediate_serial", [1, "x"], "tcp_remediate_serial must be a batch size"),
    ("tcp_remediate_max_fail_percentage", 101, "tcp_remediate_max_fail_percentage must be a number from 0 to 100"),
    ("tcp_remediate_max_fail_percentage", "-5", "tcp_remediate_max_fail_percentage must be a number from 0 to 100"),
    ("tcp_remediate_max_fail_percentage", True, "tcp_remediate_max_fail_percentage must be a number from 0 to 100"),
    ("tcp_remediate_profile", "servr", "tcp_remediate_profile must be one of auto, server, client, proxy, "
                                       "nat_gateway, got 'servr'"),
    ("tcp_remediate_overrides", "tcp_fin_timeout", "tcp_remediate_overrides must be a mapping, or a JSON or key=value "
                                                   "string, got 'tcp_fin_timeout'"),
]


@pytest.mark.parametrize("name,value,message", BAD, ids=["%s=%r" % (name, value) for name, value, _m in BAD])
def test_a_value_the_playbooks_cannot_take_is_named_with_what_to_fix(in_tmp, name, value, message):
    found = play_vars.problems({name: value}, "audit")
    assert len(found) == 1 and found[0].startswith(message), found


def test_a_misspelled_name_is_named_with_the_closest_variable(in_tmp):
    found = play_vars.problems({"tcp_audit_namespace": "all", "tcp_report_kepe": 3, "tcp_audit_colour": "red"}, "audit")
    assert found == [
        "tcp_audit_colour is not a variable of the tcpops.timewait playbooks; it would have no effect",
        "tcp_audit_namespace is not a variable of the tcpops.timewait playbooks (did you mean "
        "tcp_audit_namespaces?); it would have no effect",
        "tcp_report_kepe is not a variable of the tcpops.timewait playbooks (did you mean tcp_report_keep?); it "
        "would have no effect"]


def test_names_to_check_leave_out_what_the_playbooks_set_and_other_prefixes():
    names = ["tcp_audit_top", "tcp_audit_gathered", "tcp_remediate_outcome", "tcp_audit", "tcp_tuning_profile",
             "inventory_hostname", "tcp_report_result", "tcp_reportx", "tcp_remediate_serial"]
    assert play_vars.names_to_check(names) == ["tcp_audit_top", "tcp_remediate_serial"]


def test_every_problem_is_named_at_once(in_tmp):
    found = play_vars.problems({"tcp_audit_top": "x", "tcp_audit_fail_on": "no", "tcp_audit_topp": 1}, "report")
    assert [line.split()[0] for line in found] == ["tcp_audit_fail_on", "tcp_audit_top", "tcp_audit_topp"]


def test_merge_needs_a_run_id(in_tmp):
    assert play_vars.problems({}, "merge")[0].startswith("tcpops.timewait.merge needs tcp_audit_run_id")
    assert play_vars.problems({"tcp_audit_run_id": ""}, "merge")[0].startswith("tcpops.timewait.merge needs")
    assert play_vars.problems({"tcp_audit_run_id": "awx-workflow-7"}, "merge") == []
    assert play_vars.problems({}, "report") == []


def test_remediate_report_names_leave_room_for_before_and_after(in_tmp):
    assert play_vars.problems({"tcp_audit_report_name": "a" * 57}, "remediate") == []
    assert play_vars.problems({"tcp_audit_report_name": "a" * 58}, "remediate") == [
        "tcp_audit_report_name must be at most 57 characters for remediate, which adds -before and -after, got 58"]
    assert play_vars.problems({"tcp_audit_report_name": "a" * 64}, "audit") == []


def test_a_report_directory_the_reports_cannot_go_to_is_refused_per_playbook(in_tmp):
    (in_tmp / "afile").write_text("x")
    for playbook in play_vars.PLAYBOOKS:
        values = {"tcp_audit_report_dir": str(in_tmp / "afile"), "tcp_audit_run_id": "r1"}
        assert play_vars.problems(values, playbook) == [
            "tcp_audit_report_dir: %s exists and is not a directory" % (in_tmp / "afile")], playbook
    history = in_tmp / "history"
    (history / "latest").mkdir(parents=True)
    assert "not the symbolic link" in play_vars.problems({"tcp_audit_report_dir": str(history)}, "report")[0]
    merge_fixed = {"tcp_audit_report_dir": str(history), "tcp_audit_run_id": "r1", "tcp_audit_history": "false"}
    assert play_vars.problems(merge_fixed, "merge") == []
    fixed = in_tmp / "fixed"
    (fixed / "tcp-audit.json").mkdir(parents=True)
    assert "is a directory; move it away" in play_vars.problems({"tcp_audit_report_dir": str(fixed)}, "audit")[0]
    assert play_vars.problems({"tcp_audit_report_dir": str(fixed)}, "report") == []
    (fixed / "remediate-after" / "tcp-audit.csv").mkdir(parents=True)
    found = play_vars.problems({"tcp_audit_report_dir": str(fixed)}, "remediate")
    assert found == ["tcp_audit_report_dir: %s is a directory; move it away"
                     % os.path.join(str(fixed), "remediate-after", "tcp-audit.csv")]


def test_the_default_report_directory_is_checked_where_the_playbook_runs(in_tmp):
    (in_tmp / "reports").write_text("not a directory")
    assert play_vars.problems({}, "audit") == [
        "tcp_audit_report_dir: %s exists and is not a directory" % (in_tmp / "reports")]


def test_nothing_is_created_by_the_check(in_tmp):
    assert play_vars.problems({"tcp_audit_report_dir": "a/b/c"}, "report") == []
    assert os.listdir(str(in_tmp)) == []


def test_paths_are_expanded_as_the_report_task_expands_them(in_tmp, monkeypatch):
    (in_tmp / "textfile").mkdir()
    monkeypatch.setenv("TCPOPS_TEXTFILES", str(in_tmp / "textfile"))
    assert play_vars.problems({"tcp_audit_textfile_dir": "$TCPOPS_TEXTFILES"}, "audit") == []
    (in_tmp / "blocked").write_text("x")
    monkeypatch.setenv("TCPOPS_REPORTS", str(in_tmp / "blocked"))
    assert play_vars.problems({"tcp_audit_report_dir": "$TCPOPS_REPORTS"}, "audit") == [
        "tcp_audit_report_dir: %s exists and is not a directory" % (in_tmp / "blocked")]


def test_a_slice_writes_no_textfile_so_its_directory_is_not_required(in_tmp):
    values = {"tcp_audit_textfile_dir": "/nonexistent/textfiles", "tcp_audit_merge": "false"}
    assert play_vars.problems(values, "report") == []
    assert play_vars.problems(dict(values, tcp_audit_merge=True), "report") == [
        "tcp_audit_textfile_dir: /nonexistent/textfiles is not a directory"]


def test_merge_takes_any_run_id_that_names_a_directory(in_tmp):
    assert play_vars.problems({"tcp_audit_run_id": 0}, "merge") == []


def test_a_destination_problem_is_named_with_the_others(in_tmp):
    (in_tmp / "reports").write_text("x")
    found = play_vars.problems({"tcp_audit_top": "x"}, "audit")
    assert found == ["tcp_audit_top must be a whole number of 0 or more, got 'x'",
                     "tcp_audit_report_dir: %s exists and is not a directory" % (in_tmp / "reports")]


@pytest.fixture
def room(monkeypatch):
    """``room(free_blocks)``: every file system has that many 4 KiB blocks free, and the calls are recorded:
    ``room.paths`` (the paths whose file system was read)."""
    paths = []

    def set_room(free_blocks):
        figures = os.statvfs_result((4096, 4096, 10 ** 6, free_blocks, free_blocks, 10 ** 6, 10 ** 6, 10 ** 6, 0, 255))
        real = os.statvfs

        def statvfs(path):
            real(path)  # a path that does not exist fails as it would
            paths.append(str(path))
            return figures
        monkeypatch.setattr(os, "statvfs", statvfs)
    set_room.paths = paths
    return set_room


def test_room_is_judged_where_each_playbook_writes(in_tmp, room):
    room(0)
    found, _warnings = play_vars.room_problems({}, "audit", 40)
    assert found == ["tcp_audit_report_dir: the file system of %s has 0 bytes free; the reports of 40 hosts take at "
                     "least 28 KiB: free space there or choose another directory" % (in_tmp / "reports")]
    assert room.paths[-1] == str(in_tmp)  # ./reports does not exist yet: its nearest existing part
    # remediate writes a before and an after run, into two directories below the report directory
    found, _warnings = play_vars.room_problems({"tcp_audit_report_dir": "out"}, "remediate", 40)
    assert "the file system of %s has 0 bytes free; the reports of 40 hosts take at least 56 KiB" % (
        in_tmp / "out" / "remediate-before") in found[0]
    # a slice writes one file; the merge does not know the run's hosts before it reads the slices
    found, _warnings = play_vars.room_problems({"tcp_audit_merge": "no"}, "report", 40)
    assert "the slice of 40 hosts takes at least 4.0 KiB" in found[0]
    found, _warnings = play_vars.room_problems({"tcp_audit_run_id": "r1"}, "merge", 1)
    assert "the reports of a run take at least 28 KiB" in found[0]


def test_the_textfile_directory_is_judged_too_unless_a_slice_writes_none(in_tmp, room):
    (in_tmp / "textfile").mkdir()
    room(7)
    values = {"tcp_audit_textfile_dir": str(in_tmp / "textfile")}
    found, warnings = play_vars.room_problems(values, "audit", 40)
    assert found == [] and "the reports of 40 hosts usually take about 684 KiB" in warnings[0]
    room(0)
    found, _warnings = play_vars.room_problems(values, "remediate", 40)
    assert found[1] == ("tcp_audit_textfile_dir: the file system of %s has 0 bytes free; the .prom of 40 hosts takes "
                        "at least 8.0 KiB: free space there or choose another directory" % (in_tmp / "textfile"))
    found, _warnings = play_vars.room_problems(dict(values, tcp_audit_merge=False), "audit", 40)
    assert len(found) == 1 and found[0].startswith("tcp_audit_report_dir:")


def test_a_directory_refused_already_is_not_judged_again(in_tmp, room):
    room(0)
    (in_tmp / "reports").write_text("x")
    assert play_vars.room_problems({}, "audit", 40) == ([], [])
    assert play_vars.room_problems({"tcp_audit_report_dir": 7}, "audit", 40, refused=["tcp_audit_report_dir"]) == ([], [])
    values = {"tcp_audit_report_dir": "ok", "tcp_audit_textfile_dir": "/nonexistent"}
    found, _warnings = play_vars.room_problems(values, "audit", 40, refused=["tcp_audit_textfile_dir"])
    assert len(found) == 1 and found[0].startswith("tcp_audit_report_dir:")


def test_a_report_directory_behind_a_dangling_link_is_refused_by_name(in_tmp):
    (in_tmp / "link").symlink_to("/nonexistent/share")
    assert play_vars.problems({"tcp_audit_report_dir": str(in_tmp / "link" / "reports")}, "audit") == [
        "tcp_audit_report_dir: %s cannot be written to (%s is not reachable: No such file or directory)"
        % (in_tmp / "link" / "reports", in_tmp / "link")]
