"""Sysctl files in boot order, conflicts with the role's file, and the edits that fix them."""

import pathlib
import re
import shutil

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.conflicts import (
    SysctlFiles, find_conflicts, fixes_for)

FOLK = pathlib.Path(__file__).parents[3] / "fixtures" / "tuning" / "etc-folk"
OWN = "/etc/sysctl.d/90-tcpops-timewait.conf"
KINDS = {"net.ipv4.ip_local_port_range": "port_range"}


@pytest.fixture
def folk_root(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(str(FOLK), str(root), symlinks=True)
    return str(root)


def same(key, left, right):
    return values.same_value(KINDS.get(key, "int"), left, right)


def test_the_role_s_file_takes_its_place_in_boot_order_before_it_exists(folk_root):
    assert SysctlFiles(folk_root, OWN).paths == [
        "/etc/sysctl.d/10-early.conf",
        "/usr/lib/sysctl.d/50-default.conf",
        OWN,
        "/usr/lib/sysctl.d/95-vendor.conf",
        "/run/sysctl.d/97-runtime.conf",
        "/etc/sysctl.d/99-hardening.conf",  # hides /usr/lib/sysctl.d/99-hardening.conf
        "/etc/sysctl.conf",                 # last, and not twice through the 99-sysctl.conf link
    ]


def test_a_dev_null_link_masks_a_name(folk_root):
    pathlib.Path(folk_root, "etc", "sysctl.d", "95-vendor.conf").symlink_to("/dev/null")
    paths = SysctlFiles(folk_root, OWN).paths
    assert "/usr/lib/sysctl.d/95-vendor.conf" not in paths
    assert "/etc/sysctl.d/95-vendor.conf" not in paths


def test_dash_prefix_and_slash_spelling_are_the_same_key(folk_root):
    files = SysctlFiles(folk_root, OWN)
    hardening = [(a.key, a.value) for a in files.assignments if a.path == "/etc/sysctl.d/99-hardening.conf"]
    assert hardening == [("net.ipv4.tcp_timestamps", "0"), ("net.ipv4.tcp_syncookies", "1")]


def conflicts_for(root, own_values, kernel_keys=()):
    files = SysctlFiles(root, OWN)
    return files, find_conflicts(files, own_values, same, lambda key: key in kernel_keys)


def test_folk_block_and_hardening_baseline_are_flagged(folk_root):
    own = {"net.ipv4.tcp_timestamps": 1, "net.ipv4.tcp_tw_reuse": 1, "net.ipv4.tcp_fin_timeout": 30,
           "net.ipv4.tcp_max_syn_backlog": 4096, "net.core.somaxconn": 4096}
    files, conflicts = conflicts_for(folk_root, own)
    found = sorted((c["path"], c["line"], c["key"], c["kind"], c["fixable"]) for c in conflicts)
    assert found == [
        ("/etc/sysctl.conf", 7, "net.ipv4.tcp_tw_recycle", "obsolete", True),
        ("/etc/sysctl.d/99-hardening.conf", 2, "net.ipv4.tcp_timestamps", "overrides", True),
        ("/run/sysctl.d/97-runtime.conf", 1, "net.ipv4.tcp_tw_recycle", "obsolete", False),
        ("/usr/lib/sysctl.d/95-vendor.conf", 1, "net.ipv4.tcp_max_syn_backlog", "overrides", False),
    ]
    # sysctl.conf sets tw_reuse = 1 and fin_timeout = 30 like the role: same value, no conflict;
    # 10-early.conf sets somaxconn before the role's file: the role wins, no conflict.
    vendor = [c for c in conflicts if c["path"].startswith("/usr/lib")][0]
    assert "mask it with an empty /etc/sysctl.d/95-vendor.conf" in vendor["how_to_fix"]


def test_a_different_value_in_sysctl_conf_overrides_the_role(folk_root):
    conflicts = conflicts_for(folk_root, {"net.ipv4.tcp_fin_timeout": 60})[1]
    assert [(c["path"], c["value"], c["ours"]) for c in conflicts if c["kind"] == "overrides"] == [
        ("/etc/sysctl.conf", "30", 60)]


def test_tw_recycle_zero_is_harmless_where_the_kernel_has_it(folk_root):
    conflicts = conflicts_for(folk_root, {}, kernel_keys=("net.ipv4.tcp_tw_recycle",))[1]
    assert [(c["path"], c["value"]) for c in conflicts] == [("/etc/sysctl.conf", "1")]
    assert "drops SYNs from clients behind NAT" in conflicts[0]["reason"]


def test_fixes_comment_out_only_the_offending_lines_once(folk_root):
    own = {"net.ipv4.tcp_timestamps": 1, "net.ipv4.tcp_tw_reuse": 1}
    files, conflicts = conflicts_for(folk_root, own)
    fixes = fixes_for(files, conflicts)
    assert [(f["path"], f["keys"]) for f in fixes] == [
        ("/etc/sysctl.conf", ["net.ipv4.tcp_tw_recycle"]),
        ("/etc/sysctl.d/99-hardening.conf", ["net.ipv4.tcp_timestamps"]),
    ]
    for fix in fixes:
        path = pathlib.Path(folk_root, fix["path"].lstrip("/"))
        text = path.read_text()
        # what ansible.builtin.replace does with the role's replacement
        fixed = re.sub(fix["regexp"], r"# \1  # disabled", text, flags=re.MULTILINE)
        assert re.sub(fix["regexp"], r"# \1  # disabled", fixed, flags=re.MULTILINE) == fixed
        path.write_text(fixed)
    assert "# net.ipv4.tcp_tw_recycle = 1  # disabled" in pathlib.Path(folk_root, "etc/sysctl.conf").read_text()
    assert "# net/ipv4/tcp_timestamps = 0  # disabled" in pathlib.Path(
        folk_root, "etc/sysctl.d/99-hardening.conf").read_text()
    left = conflicts_for(folk_root, own)[1]
    assert [c["path"] for c in left] == ["/run/sysctl.d/97-runtime.conf"]


def test_dash_tw_recycle_is_noise_without_the_key_and_a_conflict_with_it(folk_root):
    pathlib.Path(folk_root, "etc", "sysctl.d", "40-legacy.conf").write_text("-net.ipv4.tcp_tw_recycle = 1\n")
    legacy = "/etc/sysctl.d/40-legacy.conf"
    # 4.12+: the failure to set it is ignored, the boot goes on: not a conflict
    without = conflicts_for(folk_root, {})[1]
    assert legacy not in [c["path"] for c in without]
    assert "/etc/sysctl.conf" in [c["path"] for c in without]  # the plain line still fails sysctl --system
    # a kernel that still has the key applies the line: tcp_tw_recycle = 1, reported
    with_key = conflicts_for(folk_root, {}, kernel_keys=("net.ipv4.tcp_tw_recycle",))[1]
    flagged = [c for c in with_key if c["path"] == legacy]
    assert [(c["kind"], c["value"]) for c in flagged] == [("obsolete", "1")]
    assert "drops SYNs from clients behind NAT" in flagged[0]["reason"]
