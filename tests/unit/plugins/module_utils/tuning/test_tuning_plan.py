"""The plan of the tcp_tuning role on fixture hosts: the role's real vetted tables, fixture kernels and files."""

import json
import os
import pathlib
import shutil

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import restore as restore_file
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan import build_plan, build_restore_plan

REPO = pathlib.Path(__file__).parents[5]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "tuning"


def facts(name):
    return json.loads((FIXTURES / "facts" / (name + ".json")).read_text())


@pytest.fixture
def host(tmp_path, tuning_kernel_proc, role_plan_input):
    """Build PlanInput for a fixture host: kernel tree, /etc tree (empty or the folk one), facts; the role's
    rendered tables and defaults for everything else."""

    hosts = []

    def make(kernel="linux-6.12-container", etc=None, facts_name="client", **options):
        base = tmp_path / ("host%d" % len(hosts))
        hosts.append(base)
        root = base / "root"
        if etc:
            shutil.copytree(str(FIXTURES / etc), str(root), symlinks=True)
        else:
            root.mkdir(parents=True)
        (root / "etc" / "sysctl.d").mkdir(parents=True, exist_ok=True)
        options.setdefault("profile", "client")
        return role_plan_input(facts=facts(facts_name), root=str(root), proc_root=tuning_kernel_proc(base, kernel),
                               **options)

    return make


def test_client_on_a_current_kernel(host):
    plan = build_plan(host())
    assert plan["errors"] == []
    assert plan["rendered"] == {
        "net.ipv4.tcp_timestamps": 1,
        "net.ipv4.tcp_syncookies": 1,
        "net.ipv4.tcp_tw_reuse": 1,
        "net.ipv4.ip_local_port_range": "10240 65535",
        "net.ipv4.tcp_max_tw_buckets": 262144,
    }
    # the client facts listen on 22 and 25 only, both below 10240: nothing to reserve
    assert plan["left_out"] == [{"key": "net.ipv4.ip_local_reserved_ports", "value": None,
                                "reason": "no listening port inside 10240-65535 and nothing reserved"}]
    assert {c["key"]: (c["before"], c["after"]) for c in plan["live_changes"]} == {
        "net.ipv4.tcp_tw_reuse": ("2", "1"),
        "net.ipv4.ip_local_port_range": ("32768 60999", "10240 65535"),
        "net.ipv4.tcp_max_tw_buckets": ("65536", "262144"),
    }
    assert all(setting["why"] for setting in plan["settings"])


def test_proxy_reserves_every_listening_port_inside_the_widened_range(host):
    plan = build_plan(host(profile="proxy", facts_name="proxy"))
    # 22 and 443 lie below 10240; 20000 is inside the new range and must be reserved
    assert plan["rendered"]["net.ipv4.ip_local_reserved_ports"] == "20000"


def test_reserved_ports_keep_what_was_reserved_and_add_overrides(host):
    plan = build_plan(host(kernel="linux-4.14-no-reuse-2", profile="proxy", facts_name="proxy",
                           overrides={"net.ipv4.ip_local_reserved_ports": "30000-30002"}))
    assert plan["errors"] == []
    assert plan["rendered"]["net.ipv4.ip_local_reserved_ports"] == "8080,20000,30000-30002"


def test_widening_without_known_listeners_is_refused(host):
    plan = build_plan(host(facts_name="summary"))
    assert any("listening ports of this host are unknown" in error for error in plan["errors"])


def test_server_leaves_tw_reuse_at_the_kernel_default(host):
    plan = build_plan(host(profile="server", facts_name="server"))
    assert "net.ipv4.tcp_tw_reuse" not in plan["rendered"]
    assert "net.ipv4.ip_local_port_range" not in plan["rendered"]
    assert plan["rendered"]["net.ipv4.tcp_max_syn_backlog"] == 4096


def test_sizes_are_never_lowered(host, tmp_path):
    given = host(profile="server", facts_name="server")
    pathlib.Path(given.proc_root, "sys", "net", "core", "somaxconn").write_text("65535\n")
    assert build_plan(given)["rendered"]["net.core.somaxconn"] == 65535


def test_old_kernel_forces_tw_recycle_off(host):
    plan = build_plan(host(kernel="linux-4.9-tw_recycle", profile="server", facts_name="server"))
    assert plan["errors"] == []
    assert plan["settings"][0]["key"] == "net.ipv4.tcp_tw_recycle"
    assert plan["rendered"]["net.ipv4.tcp_tw_recycle"] == 0
    assert "NAT" in plan["settings"][0]["why"]
    assert {"key": "net.ipv4.tcp_tw_recycle", "before": "1", "after": "0"} in plan["live_changes"]


def test_tw_recycle_is_never_rendered_on_a_current_kernel(host):
    for profile in ("server", "client", "proxy", "nat_gateway"):
        assert "net.ipv4.tcp_tw_recycle" not in build_plan(host(profile=profile))["rendered"]


def test_tw_recycle_override_is_refused(host):
    plan = build_plan(host(overrides={"net.ipv4.tcp_tw_recycle": 1}))
    assert any("never sets it" in error and "Remove it" in error for error in plan["errors"])


def test_tw_reuse_2_is_refused_where_the_kernel_cannot_take_it(host):
    for kernel in ("linux-4.9-tw_recycle", "linux-4.14-no-reuse-2"):
        plan = build_plan(host(kernel=kernel, overrides={"net.ipv4.tcp_tw_reuse": 2}))
        assert any("accepts only 0 or 1" in error for error in plan["errors"]), kernel
    assert build_plan(host(overrides={"net.ipv4.tcp_tw_reuse": 2}))["errors"] == []


def test_tw_reuse_without_timestamps_is_refused(host):
    plan = build_plan(host(overrides={"net.ipv4.tcp_timestamps": 0}))
    assert any("tcp_tw_reuse = 1 with net.ipv4.tcp_timestamps = 0" in error for error in plan["errors"])


def test_tw_reuse_without_timestamps_after_reboot_is_refused_unless_fixed(host):
    refused = build_plan(host(etc="etc-folk"))
    assert any("after a reboot" in error and "tcp_tuning_fix_conflicts: true" in error
               for error in refused["errors"])
    fixed = build_plan(host(etc="etc-folk", fix_conflicts=True))
    assert fixed["errors"] == []
    assert [f["path"] for f in fixed["fixes"]] == ["/etc/sysctl.conf", "/etc/sysctl.d/99-hardening.conf"]
    assert all(c["fixed"] == c["fixable"] for c in fixed["conflicts"])


def test_timestamps_off_in_a_package_file_is_refused_even_with_fix_conflicts(host):
    given = host(etc="etc-folk", fix_conflicts=True)
    pathlib.Path(given.root, "usr/lib/sysctl.d/98-vendor.conf").write_text("net.ipv4.tcp_timestamps = 0\n")
    errors = build_plan(given)["errors"]
    assert len(errors) == 1
    assert errors[0].startswith("/usr/lib/sysctl.d/98-vendor.conf:1 sets net.ipv4.tcp_timestamps = 0")
    assert "Mask that package file with an empty /etc/sysctl.d/98-vendor.conf" in errors[0]


def test_lowering_max_tw_buckets_is_refused(host):
    plan = build_plan(host(overrides={"net.ipv4.tcp_max_tw_buckets": 16384}))
    assert any("below 65536, the value before this role" in error for error in plan["errors"])


def test_floor_is_the_value_saved_before_the_first_change(host, tmp_path):
    given = host(overrides={"net.ipv4.tcp_max_tw_buckets": 100000})
    state = pathlib.Path(given.root, given.state_file.lstrip("/"))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps(restore_file.content(given.sysctl_file, {"net.ipv4.tcp_max_tw_buckets": "200000"})))
    assert any("below 200000" in error for error in build_plan(given)["errors"])


@pytest.mark.parametrize("overrides, fragment", [
    ({"net.ipv4.ip_local_port_range": "80 65535"}, "both ports must lie within 1024-65535"),
    ({"net.ipv4.ip_local_port_range": "50000 60000"}, "fewer than the vetted minimum 28232"),
    ({"net.ipv4.tcp_fin_timeout": 1}, "below the vetted minimum 10"),
    ({"net.core.somaxconn": "lots"}, "expected an integer"),
    ({"net.ipv4.tcp_syncookies": True}, "boolean"),
    ({"net.ipv4.tcp_tw_reuse_fast": 1}, "not a key this role vets"),
])
def test_invalid_overrides_are_refused_with_what_to_change(host, overrides, fragment):
    errors = build_plan(host(overrides=overrides))["errors"]
    assert any(fragment in error for error in errors), errors


def test_null_override_drops_a_key(host):
    plan = build_plan(host(overrides={"net.ipv4.tcp_max_tw_buckets": None}))
    assert "net.ipv4.tcp_max_tw_buckets" not in plan["rendered"]
    assert {"key": "net.ipv4.tcp_max_tw_buckets", "value": 262144,
            "reason": "dropped by tcp_tuning_overrides"} in plan["left_out"]


def test_extra_override_key_is_added_with_its_why(host):
    plan = build_plan(host(overrides={"net.ipv4.tcp_keepalive_time": 600}))
    assert plan["errors"] == []
    row = [s for s in plan["settings"] if s["key"] == "net.ipv4.tcp_keepalive_time"]
    # the fixture kernel has no tcp_keepalive_time file: skipped and reported, not failed
    assert row == []
    assert any(s["key"] == "net.ipv4.tcp_keepalive_time" and "this kernel has no" in s["reason"]
               for s in plan["left_out"])


def test_nat_gateway_tunes_conntrack_only_where_writable_and_loaded(host):
    plan = build_plan(host(profile="nat_gateway", facts_name="nat_gateway"))
    assert plan["rendered"]["net.netfilter.nf_conntrack_tcp_timeout_time_wait"] == 60
    assert {"key": "net.netfilter.nf_conntrack_max", "value": 262144,
            "reason": "not writable here (read-only in this network namespace)"} in plan["left_out"]
    old = build_plan(host(kernel="linux-4.9-tw_recycle", profile="nat_gateway", facts_name="nat_gateway"))
    reasons = dict((s["key"], s["reason"]) for s in old["left_out"])
    assert reasons["net.netfilter.nf_conntrack_max"] == "nf_conntrack is not loaded: no conntrack table to tune"


def test_auto_reports_its_choice(host):
    plan = build_plan(host(profile="auto", facts_name="proxy"))
    assert plan["profile"] == "proxy" and plan["profile_requested"] == "auto"
    assert "6000 outbound" in plan["reason"]


def test_read_only_proc_sys_net_is_refused(host):
    given = host()
    os.chmod(os.path.join(given.proc_root, "sys", "net", "ipv4", "tcp_timestamps"), 0o444)
    plan = build_plan(given)
    assert plan["rendered"] == {} and plan["restore_state"] is None
    assert any("/proc/sys/net is read-only here" in error for error in plan["errors"])


def test_restore_state_keeps_the_first_saved_values(host):
    given = host()
    first = build_plan(given)["restore_state"]
    assert first["saved"]["net.ipv4.tcp_tw_reuse"] == "2"
    assert first["saved"]["net.ipv4.ip_local_port_range"] == "32768 60999"
    state = pathlib.Path(given.root, given.state_file.lstrip("/"))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps(first))
    # the role applied its values; the saved ones must not be replaced by them
    pathlib.Path(given.proc_root, "sys", "net", "ipv4", "tcp_tw_reuse").write_text("1\n")
    assert build_plan(given)["restore_state"] == first


def test_restore_plan_writes_back_only_what_this_kernel_has(host):
    given = host()
    state = pathlib.Path(given.root, given.state_file.lstrip("/"))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps(restore_file.content(given.sysctl_file, {
        "net.ipv4.tcp_tw_reuse": "2", "net.ipv4.tcp_tw_recycle": "0"})))
    pathlib.Path(given.proc_root, "sys", "net", "ipv4", "tcp_tw_reuse").write_text("1\n")
    plan = build_restore_plan(given)
    assert plan["errors"] == []
    assert plan["restore"] == {"net.ipv4.tcp_tw_reuse": "2"}
    assert plan["live_changes"] == [{"key": "net.ipv4.tcp_tw_reuse", "before": "1", "after": "2"}]
    assert sorted(s["key"] for s in plan["left_out"]) == ["net.ipv4.tcp_tw_recycle"]
    assert plan["state_exists"] and not plan["file_exists"]


def test_restore_plan_with_a_key_it_cannot_write_restores_nothing(host):
    """Every saved value goes back or none does: nf_conntrack_max is read-only in this fixture namespace."""
    given = host()
    state = pathlib.Path(given.root, given.state_file.lstrip("/"))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps(restore_file.content(given.sysctl_file, {
        "net.ipv4.tcp_tw_reuse": "2", "net.netfilter.nf_conntrack_max": "65536"})))
    pathlib.Path(given.proc_root, "sys", "net", "ipv4", "tcp_tw_reuse").write_text("1\n")
    plan = build_restore_plan(given)
    assert plan["restore"] == {} and plan["live_changes"] == []
    assert any(error.startswith("net.netfilter.nf_conntrack_max cannot be written here") and
               "nothing was changed" in error for error in plan["errors"]), plan["errors"]
