"""The plan's parts on their own: composing rows, resolving them, the refusal tables, the originals."""

import copy
import json
import pathlib

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import refusals
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.compose import compose_rows, managed_kinds
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.originals import (
    Originals, give_back, restore_states)
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.resolve import resolve_rows

FACTS = pathlib.Path(__file__).parents[3] / "fixtures" / "tuning" / "facts"
TABLES = ("VARIABLES", "HOST", "PROFILE", "ROWS", "VALUES", "BOOT", "ABSENT")


@pytest.fixture
def client(tmp_path, tuning_kernel_proc, role_plan_input):
    (tmp_path / "root" / "etc" / "sysctl.d").mkdir(parents=True)
    return role_plan_input(profile="client", facts=json.loads((FACTS / "client.json").read_text()),
                           root=str(tmp_path / "root"), proc_root=tuning_kernel_proc(tmp_path, "linux-6.12-container"))


def test_composing_leaves_the_vetted_table_as_it_was(client):
    table = client.profiles["client"]["settings"]
    before = copy.deepcopy(table)
    rows, dropped = compose_rows("client", table, {"net.ipv4.tcp_tw_reuse": 0, "net.ipv4.tcp_max_tw_buckets": None,
                                                   "net.ipv4.tcp_keepalive_time": 600}, client.limits)
    assert table == before
    assert [row["key"] for row in rows][-1] == "net.ipv4.tcp_keepalive_time"
    assert [row for row in rows if row["key"] == "net.ipv4.tcp_tw_reuse"][0]["value"] == 0
    assert dropped == [{"key": "net.ipv4.tcp_max_tw_buckets", "value": 262144, "reason": "dropped by tcp_tuning_overrides"}]


def test_resolving_reads_the_kernel_and_changes_nothing(client):
    kernel = KernelSysctl(client.proc_root)
    live = dict((key, kernel.read(key)) for key in client.limits)
    rows, _dropped = compose_rows("client", client.profiles["client"]["settings"], {}, client.limits)
    settings, left_out = resolve_rows(rows, kernel, client.limits, [22, 25], client.tw_recycle_why)
    assert dict((key, kernel.read(key)) for key in client.limits) == live
    assert [s["key"] for s in settings] == ["net.ipv4.tcp_timestamps", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_tw_reuse",
                                            "net.ipv4.ip_local_port_range", "net.ipv4.tcp_max_tw_buckets"]
    assert [s["key"] for s in left_out] == ["net.ipv4.ip_local_reserved_ports"]


@pytest.mark.parametrize("table", TABLES)
def test_every_refusal_check_passes_a_sound_plan_with_an_empty_list(client, table):
    kernel = KernelSysctl(client.proc_root)
    rows, _dropped = compose_rows("client", client.profiles["client"]["settings"], {}, client.limits)
    settings, _left_out = resolve_rows(rows, kernel, client.limits, [22, 25], client.tw_recycle_why)
    view = refusals.new_view(client, kernel, Originals(False, {}, False, None))._replace(
        profile="client", rows=rows, rendered=dict((s["key"], s["value"]) for s in settings))
    checks = getattr(refusals, table)
    assert checks and all(callable(check) for check in checks)
    for check in checks:
        assert check(view) == [], check.__name__


def test_refusal_checks_return_their_messages(client):
    kernel = KernelSysctl(client.proc_root)
    view = refusals.new_view(client._replace(auto_min_time_wait=0, overrides={"net.ipv4.tcp_tw_recycle": 1}),
                             kernel, Originals(True, {}, True, "is empty"))
    messages = refusals.every(refusals.VARIABLES, view)
    assert len(messages) == 3
    assert "the restore file /var/lib/tcpops-timewait/tcp_tuning.json is empty." in messages[0]
    assert messages[1].startswith("tcp_tuning_auto_min_time_wait = 0 must be 1 or more")
    assert messages[2].startswith("tcp_tuning_overrides sets net.ipv4.tcp_tw_recycle")
    assert refusals.first(refusals.HOST, view) == []
    timestamps_off = view._replace(rendered={"net.ipv4.tcp_timestamps": 0, "net.ipv4.tcp_tw_reuse": 1})
    assert [check.__name__ for check in refusals.VALUES if check(timestamps_off)] == [
        "timestamps_stay_on", "tw_reuse_has_timestamps"]


def test_the_originals_before_and_after_a_switch(client):
    kernel = KernelSysctl(client.proc_root)
    saved = {"net.ipv4.tcp_tw_reuse": "2", "net.ipv4.tcp_timestamps": "1"}
    settings = [{"key": "net.ipv4.tcp_timestamps", "value": 1, "why": ""},
                {"key": "net.core.somaxconn", "value": 4096, "why": ""}]
    released, kept, left_out = give_back(saved, {"net.ipv4.tcp_timestamps": 1, "net.core.somaxconn": 4096}, kernel)
    assert (released, kept, left_out) == ({"net.ipv4.tcp_tw_reuse": "2"}, {}, [])
    before, after = restore_states(client.sysctl_file, saved, settings, kernel, kept)
    assert before["saved"] == {"net.core.somaxconn": kernel.read("net.core.somaxconn"), "net.ipv4.tcp_timestamps": "1",
                               "net.ipv4.tcp_tw_reuse": "2"}
    assert after["saved"] == {"net.core.somaxconn": kernel.read("net.core.somaxconn"), "net.ipv4.tcp_timestamps": "1"}
    assert saved == {"net.ipv4.tcp_tw_reuse": "2", "net.ipv4.tcp_timestamps": "1"}
    assert managed_kinds(client.limits)["net.ipv4.tcp_tw_recycle"] == "int"
