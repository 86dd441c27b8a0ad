"""What the plan refuses before any change: damaged restore files, paths, breaking overrides; and what a
profile switch gives back. The role's real vetted tables on fixture kernels and /etc trees."""

import json
import os
import pathlib

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan import build_plan, build_restore_plan

REPO = pathlib.Path(__file__).parents[5]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "tuning"
ROLE_FILE = ("# Ansible managed\n# tcpops.timewait.tcp_tuning: profile client\n\n"
             "net.ipv4.tcp_tw_reuse = 1\n")


@pytest.fixture
def host(tmp_path, tuning_kernel_proc, role_plan_input):
    count = []

    def make(**options):
        base = tmp_path / ("host%d" % len(count))
        count.append(base)
        root = base / "root"
        (root / "etc" / "sysctl.d").mkdir(parents=True)
        options.setdefault("profile", "client")
        facts = json.loads((FIXTURES / "facts" / "client.json").read_text())
        return role_plan_input(facts=facts, root=str(root),
                               proc_root=tuning_kernel_proc(base, "linux-6.12-container"), **options)

    return make


def on_host(given, path):
    return pathlib.Path(given.root, path.lstrip("/"))


def write(given, path, text):
    target = on_host(given, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def apply(given, plan):
    """What the role does after a plan: write the restore file, the sysctl file, the live values."""
    write(given, given.state_file, json.dumps(plan["restore_state"]))
    write(given, given.sysctl_file, ROLE_FILE)
    kernel = KernelSysctl(given.proc_root)
    for key, value in list(plan["rendered"].items()) + list(plan["release"].items()):
        kernel.write(key, value)
    write(given, given.state_file, json.dumps(plan["restore_state_after"]))


def live(given):
    kernel = KernelSysctl(given.proc_root)
    return dict((key, kernel.read(key)) for key in sorted(given.limits) if kernel.exists(key))


DAMAGED = [
    ("", "is empty"),
    ("garbage", "is not JSON"),
    ("[1, 2]", "holds a JSON list"),
    ('{"role": "tcpops.timewait.tcp_tuning", "version": 1, "file": "/etc/sysctl.d/90-tcpops-timewait.conf", '
     '"saved": {"net.ipv4.ip_forward": "1"}}', "names net.ipv4.ip_forward, a key this role never manages"),
    ('{"role": "tcpops.timewait.tcp_tuning", "version": 1, "file": "/etc/sysctl.d/90-tcpops-timewait.conf", '
     '"saved": {"net.ipv4.tcp_tw_reuse": "two"}}', "not a valid int value"),
]


@pytest.mark.parametrize("payload, fragment", DAMAGED)
def test_present_on_a_damaged_restore_file_refuses_naming_it(host, payload, fragment):
    given = host()
    write(given, given.state_file, payload)
    plan = build_plan(given)
    assert plan["restore_state"] is None and plan["rendered"] == {}
    assert plan["restore_file_damaged"] is True
    message = [error for error in plan["errors"] if given.state_file in error]
    assert len(message) == 1 and fragment in message[0] and "changes nothing" in message[0]
    assert "tcp_tuning_discard_restore_file: true" in message[0]


@pytest.mark.parametrize("payload, fragment", DAMAGED)
def test_absent_on_a_damaged_restore_file_restores_nothing_and_refuses(host, payload, fragment):
    given = host()
    write(given, given.state_file, payload)
    write(given, given.sysctl_file, ROLE_FILE)
    plan = build_restore_plan(given)
    assert plan["restore"] == {} and plan["live_changes"] == []
    assert plan["restore_file_damaged"] is True and plan["state_exists"] is True
    assert any(given.state_file in error and fragment in error for error in plan["errors"]), plan["errors"]


def test_discarding_a_damaged_restore_file_takes_the_current_live_values(host):
    given = host(discard_restore_file=True)
    write(given, given.state_file, "")
    plan = build_plan(given)
    assert plan["errors"] == [] and plan["restore_file_damaged"] is True
    assert plan["restore_state"]["saved"]["net.ipv4.tcp_tw_reuse"] == "2"
    absent = build_restore_plan(host(discard_restore_file=True))
    assert absent["errors"] == [] and absent["restore"] == {}


def test_present_never_saves_its_own_tuned_values_as_the_originals(host):
    given = host()
    apply(given, build_plan(given))
    on_host(given, given.state_file).unlink()
    plan = build_plan(given)
    assert plan["restore_state"] is None
    assert any("restore file %s is missing" % given.state_file in error for error in plan["errors"])
    # forced past it, the live (tuned) values become the originals: the documented consequence
    forced = build_plan(host(discard_restore_file=True))
    assert forced["errors"] == []


def test_absent_restores_every_original_after_present(host):
    given = host()
    before = live(given)
    apply(given, build_plan(given))
    assert live(given) != before
    plan = build_restore_plan(given)
    assert plan["errors"] == []
    kernel = KernelSysctl(given.proc_root)
    for key, value in plan["restore"].items():
        kernel.write(key, value)
    assert live(given) == before


def test_a_profile_switch_gives_back_the_keys_no_longer_set(host):
    given = host()
    originals = live(given)
    apply(given, build_plan(given))
    server = given._replace(profile="server")
    plan = build_plan(server)
    assert plan["errors"] == []
    assert plan["release"] == {"net.ipv4.ip_local_port_range": "32768 60999", "net.ipv4.tcp_max_tw_buckets": "65536",
                               "net.ipv4.tcp_tw_reuse": "2"}
    assert sorted(change["key"] for change in plan["release_changes"]) == sorted(plan["release"])
    # before the change the restore file keeps them (an interruption loses nothing); after, it drops them
    assert set(plan["release"]) <= set(plan["restore_state"]["saved"])
    assert not set(plan["release"]) & set(plan["restore_state_after"]["saved"])
    apply(server, plan)
    for key, value in plan["release"].items():
        assert live(server)[key].split() == value.split()
    again = build_plan(server)
    assert again["release"] == {} and again["restore_state"] == plan["restore_state_after"]
    absent = build_restore_plan(server)
    kernel = KernelSysctl(server.proc_root)
    for key, value in absent["restore"].items():
        kernel.write(key, value)
    assert live(server) == originals


@pytest.mark.parametrize("options, fragment", [
    ({"overrides": {"net.ipv4.ip_local_reserved_ports": "1-65535"}},
     "leaves 0 of the 55296 ephemeral ports (10240-65535) free, fewer than the vetted minimum 16384: outbound "
     "connect() would fail with EADDRNOTAVAIL"),
    ({"overrides": {"net.ipv4.ip_local_reserved_ports": "10240-60000"}}, "leaves 5535 of the 55296"),
    ({"profile": "server", "overrides": {"net.ipv4.ip_local_reserved_ports": "30000-60000"}},
     "leaves 999 of the 28232 ephemeral ports (32768-60999) free"),
    ({"overrides": {"net.ipv4.tcp_timestamps": 0}}, "net.ipv4.tcp_timestamps = 0: the role never turns timestamps off"),
    ({"profile": "server", "overrides": {"net.ipv4.tcp_timestamps": 0}}, "the role never turns timestamps off"),
    ({"overrides": {"net.ipv4.tcp_timestamps": 0, "net.ipv4.tcp_tw_reuse": 2}},
     "net.ipv4.tcp_tw_reuse = 2 with net.ipv4.tcp_timestamps = 0"),
    ({"auto_min_time_wait": -1}, "tcp_tuning_auto_min_time_wait = -1 must be 1 or more"),
    ({"auto_min_time_wait": 0}, "tcp_tuning_auto_min_time_wait = 0 must be 1 or more"),
    ({"auto_ignore_ports": [22, 0, 70000]}, "tcp_tuning_auto_ignore_ports holds 0, 70000, not ports"),
    ({"sysctl_file": "/etc/sysctl.conf"}, "directly under a sysctl directory"),
    ({"sysctl_file": "relative.conf"}, "is not an absolute path"),
    ({"state_file": "/etc/sysctl.d/tcp_tuning.json"}, "lies in a sysctl directory"),
    ({"sysctl_file": "/run/sysctl.d/90-tcpops-timewait.conf"}, "the directory /run/sysctl.d does not exist"),
])
def test_present_refuses_what_would_break_the_host(host, options, fragment):
    plan = build_plan(host(**options))
    assert any(fragment in error for error in plan["errors"]), plan["errors"]
    assert plan["restore_state"] is None


def test_a_reservation_that_leaves_enough_ports_passes(host):
    plan = build_plan(host(overrides={"net.ipv4.ip_local_reserved_ports": "20000-20100"}))
    assert plan["errors"] == []
    assert plan["rendered"]["net.ipv4.ip_local_reserved_ports"] == "20000-20100"


@pytest.mark.parametrize("options, fragment", [
    ({"sysctl_file": "/etc/sysctl.conf"}, "directly under a sysctl directory"),
    ({"sysctl_file": "rel/x.conf"}, "is not an absolute path"),
    ({"state_file": "/proc/x.json"}, "virtual tree /proc"),
])
def test_absent_refuses_the_same_paths(host, options, fragment):
    plan = build_restore_plan(host(**options))
    assert plan["restore"] == {}
    assert any(fragment in error for error in plan["errors"]), plan["errors"]


def test_absent_never_removes_a_file_the_role_did_not_write(host):
    given = host()
    write(given, given.sysctl_file, "net.core.somaxconn = 1024\n")
    plan = build_restore_plan(given)
    assert any("was not written by this role" in error for error in plan["errors"])
    present = build_plan(given)
    assert any("was not written by this role" in error for error in present["errors"])


def test_the_state_directory_is_created_only_when_missing(host):
    given = host()
    assert build_plan(given)["state_dir_missing"] is True
    os.makedirs(os.path.dirname(str(on_host(given, given.state_file))))
    assert build_plan(given)["state_dir_missing"] is False
    existing = host(state_file="/etc/tcp_tuning.json")
    assert build_plan(existing)["state_dir_missing"] is False


def test_fix_targets_are_checked_for_writability(host):
    given = host(fix_conflicts=True)
    write(given, "/etc/sysctl.d/99-late.conf", "net.ipv4.tcp_tw_reuse = 0\n")
    plan = build_plan(given)
    assert plan["errors"] == [] and plan["fixes"][0]["path"] == "/etc/sysctl.d/99-late.conf"
