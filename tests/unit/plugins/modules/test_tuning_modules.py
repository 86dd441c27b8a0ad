"""The tcp_tuning_plan and tcp_tuning_live modules end to end: main() with arguments, JSON exit captured."""

import json
import pathlib

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan import ROLE_VARIABLES
from ansible_collections.tcpops.timewait.plugins.modules import tcp_tuning_live, tcp_tuning_plan


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def plan_args(tcp_tuning_vars, tcp_tuning_defaults):
    """The arguments tasks/plan.yml passes with the role's defaults, with a test's changes."""

    def make(**changes):
        args = dict((name, tcp_tuning_defaults["tcp_tuning_" + name]) for name in ROLE_VARIABLES)
        args.update(profiles=tcp_tuning_vars["__tcp_tuning_profiles"], limits=tcp_tuning_vars["__tcp_tuning_limits"],
                    tw_recycle_why=tcp_tuning_vars["__tcp_tuning_tw_recycle_why"])
        args.update(changes)
        return args

    return make


@pytest.fixture
def proc(tmp_path):
    ipv4 = tmp_path / "proc" / "sys" / "net" / "ipv4"
    ipv4.mkdir(parents=True)
    for name, value in {"tcp_timestamps": "1", "tcp_syncookies": "1", "tcp_tw_reuse": "2",
                        "tcp_tw_recycle": "1", "tcp_fin_timeout": "60"}.items():
        (ipv4 / name).write_text(value + "\n")
    (tmp_path / "etc" / "sysctl.d").mkdir(parents=True)
    return str(tmp_path / "proc")


def test_plan_module_on_an_old_kernel(proc, tmp_path, capsys, plan_args):
    result = run(tcp_tuning_plan, plan_args(profile="server", facts={}, root=str(tmp_path), proc_root=proc,
                                            _ansible_check_mode=True), capsys)
    assert result["changed"] is False and result["errors"] == []
    assert result["ran_in_check_mode"] is True
    assert result["rendered"] == {"net.ipv4.tcp_tw_recycle": 0, "net.ipv4.tcp_timestamps": 1,
                                  "net.ipv4.tcp_syncookies": 1, "net.ipv4.tcp_fin_timeout": 30}
    assert sorted(s["key"] for s in result["left_out"]) == ["net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"]
    # every key the role may write, with its kind, for tcp_tuning_live: the role computes none itself
    assert result["kinds"]["net.ipv4.ip_local_port_range"] == "port_range"
    assert result["kinds"]["net.ipv4.ip_local_reserved_ports"] == "port_list"
    assert result["kinds"]["net.ipv4.tcp_tw_recycle"] == "int"


def test_plan_module_reports_refusals_without_failing(proc, tmp_path, capsys, plan_args):
    result = run(tcp_tuning_plan, plan_args(profile="server", profiles={"server": {"settings": []}}, limits={},
                                            overrides={"net.ipv4.tcp_tw_recycle": 1}, root=str(tmp_path),
                                            proc_root=proc), capsys)
    assert result.get("failed") is not True
    assert len(result["errors"]) == 1


def test_live_module_diff_and_check_mode(proc, capsys):
    result = run(tcp_tuning_live, {"values": {"net.ipv4.tcp_tw_recycle": 0}, "proc_root": proc,
                                   "_ansible_check_mode": True, "_ansible_diff": True}, capsys)
    assert result["changed"] is True
    assert result["diff"]["before"] == "net.ipv4.tcp_tw_recycle = 1\n"
    assert result["diff"]["after"] == "net.ipv4.tcp_tw_recycle = 0\n"
    assert pathlib.Path(proc, "sys/net/ipv4/tcp_tw_recycle").read_text() == "1\n"


def test_live_module_writes_and_is_idempotent(proc, capsys):
    args = {"values": {"net.ipv4.tcp_tw_recycle": 0}, "proc_root": proc}
    assert run(tcp_tuning_live, args, capsys)["changed"] is True
    assert run(tcp_tuning_live, args, capsys)["changed"] is False


def test_live_module_fails_clearly_on_a_missing_key(proc, capsys):
    result = run(tcp_tuning_live, {"values": {"net.core.somaxconn": 4096}, "proc_root": proc}, capsys)
    assert result["failed"] is True and "no net.core.somaxconn" in result["msg"]


# Result keys Ansible itself interprets: a module returning one of them for its own data changes how the
# task is shown or judged (a non-empty `skipped` makes the task show as skipped).
RESERVED_RESULT_KEYS = {
    "changed", "failed", "skipped", "skip_reason", "msg", "rc", "results", "invocation", "warnings",
    "deprecations", "ansible_facts", "diff", "stdout", "stderr", "stdout_lines", "stderr_lines",
    "unreachable", "exception", "module_stdout", "module_stderr", "attempts", "item", "backup_file",
}


def test_no_module_result_uses_a_reserved_key_for_its_own_data(proc, tmp_path, capsys, plan_args):
    common = plan_args(profile="server", facts={}, root=str(tmp_path), proc_root=proc)
    present = run(tcp_tuning_plan, common, capsys)
    absent = run(tcp_tuning_plan, dict(common, state="absent"), capsys)
    live = run(tcp_tuning_live, {"values": {"net.ipv4.tcp_tw_recycle": 0}, "proc_root": proc,
                                 "_ansible_diff": True}, capsys)
    assert present["left_out"] and "left_out" in absent
    # what AnsibleModule itself adds (changed, invocation, and warnings/deprecations it collected) is fine
    own = RESERVED_RESULT_KEYS - {"changed", "invocation", "warnings", "deprecations"}
    assert set(present) & own == set()
    assert set(absent) & own == set()
    # diff is used for what Ansible means by it
    assert set(live) & own == {"diff"}


def test_plan_module_has_no_defaults_of_its_own_for_role_variables(proc, tmp_path, capsys, plan_args):
    """A role variable left out is an error, not a second default that could drift from defaults/main.yml."""
    args = plan_args(profile="server", facts={}, root=str(tmp_path), proc_root=proc)
    del args["state_file"]
    result = run(tcp_tuning_plan, args, capsys)
    assert result["failed"] is True and "state_file" in result["msg"]
