# -*- coding: utf-8 -*-
"""The one reader of sysctl config files: the order sysctl --system applies them, on fixture trees."""

import os

from ansible_collections.tcpops.timewait.plugins.module_utils import _sysctl_files as sf


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)
    return full


def test_order_masking_and_sysctl_conf_last(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.tcp_fin_timeout = 60\n")
    write(tmp_path, "/usr/lib/sysctl.d/10-masked.conf", "net.ipv4.tcp_syncookies = 0\n")
    write(tmp_path, "/etc/sysctl.d/10-masked.conf", "net.ipv4.tcp_syncookies = 1\n")
    write(tmp_path, "/run/sysctl.d/70-run.conf", "net.ipv4.tcp_fin_timeout = 45\n")
    write(tmp_path, "/etc/sysctl.d/README", "not a conf file = 1\n")
    write(tmp_path, "/etc/sysctl.conf", "net.ipv4.tcp_fin_timeout = 30\n")
    assert sf.ordered_files(str(tmp_path)) == [
        "/etc/sysctl.d/10-masked.conf", "/usr/lib/sysctl.d/50-default.conf", "/run/sysctl.d/70-run.conf",
        "/etc/sysctl.conf"]
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert config["effective"]["net.ipv4.tcp_fin_timeout"] == {"value": "30", "path": "/etc/sysctl.conf", "line": 1}
    assert config["effective"]["net.ipv4.tcp_syncookies"]["path"] == "/etc/sysctl.d/10-masked.conf"


def test_debian_99_sysctl_conf_link_is_reported_once_as_etc_sysctl_conf(tmp_path):
    write(tmp_path, "/etc/sysctl.conf", "net.ipv4.tcp_tw_recycle = 1\n")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    os.symlink("../sysctl.conf", str(tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf"))
    assert sf.ordered_files(str(tmp_path)) == ["/etc/sysctl.conf"]


def test_parse_comments_dash_prefix_slashes_and_last_assignment_wins():
    text = ("# comment\n; other comment\n\n-net.ipv4.tcp_tw_recycle = 1\nnet/ipv4/tcp_tw_reuse=1\n"
            "net.ipv4.ip_local_port_range =  1024\t65000 \nnet.ipv4.tcp_tw_reuse = 0\ngarbage line\n")
    settings, lines, problems = sf.parse_sysctl_text(text)
    assert settings == {"net.ipv4.tcp_tw_recycle": "1", "net.ipv4.tcp_tw_reuse": "0",
                        "net.ipv4.ip_local_port_range": "1024 65000"}
    assert lines == {"net.ipv4.tcp_tw_recycle": 4, "net.ipv4.tcp_tw_reuse": 7, "net.ipv4.ip_local_port_range": 6}
    assert problems == ["line 8: no '=' in 'garbage line'"]


def test_live_values_read_through_proc_root_and_missing_keys_are_null(tmp_path):
    write(tmp_path, "/etc/sysctl.conf", "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.ip_local_port_range = 1024 65000\n")
    write(tmp_path, "/proc/sys/net/ipv4/ip_local_port_range", "32768\t60999\n")
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert config["live"] == {"net.ipv4.ip_local_port_range": "32768 60999", "net.ipv4.tcp_tw_recycle": None}
    assert config["files"] == [{"path": "/etc/sysctl.conf",
                                "settings": {"net.ipv4.tcp_tw_recycle": "1",
                                             "net.ipv4.ip_local_port_range": "1024 65000"},
                                "lines": {"net.ipv4.tcp_tw_recycle": 1, "net.ipv4.ip_local_port_range": 2}}]
    assert config["errors"] == []


def test_unreadable_file_is_an_error_not_a_crash(tmp_path):
    path = write(tmp_path, "/etc/sysctl.d/60-secret.conf", "net.ipv4.tcp_fin_timeout = 30\n")
    os.unlink(path)
    os.mkdir(path)  # a directory named *.conf cannot be opened as a file
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert len(config["errors"]) == 1 and config["errors"][0].startswith("/etc/sysctl.d/60-secret.conf:")


def test_empty_tree(tmp_path):
    empty = {"files": [], "files_total": 0, "effective": {}, "live": {}, "errors": [], "errors_total": 0}
    assert sf.collect(str(tmp_path), proc_root=str(tmp_path)) == empty


def test_dev_null_link_masks_the_name_in_every_later_directory(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-pid-max.conf", "kernel.pid_max = 4194304\n")
    write(tmp_path, "/usr/lib/sysctl.d/60-kept.conf", "net.ipv4.tcp_fin_timeout = 45\n")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    os.symlink("/dev/null", str(tmp_path / "etc" / "sysctl.d" / "50-pid-max.conf"))
    assert sf.ordered_files(str(tmp_path)) == ["/usr/lib/sysctl.d/60-kept.conf"]
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert "kernel.pid_max" not in config["effective"]
    assert [entry["path"] for entry in config["files"]] == ["/usr/lib/sysctl.d/60-kept.conf"]


def test_links_resolve_inside_root_like_a_chroot(tmp_path):
    write(tmp_path, "/etc/sysctl.conf", "net.ipv4.tcp_fin_timeout = 30\n")
    write(tmp_path, "/usr/lib/sysctl.d/70-vendor.conf", "net.ipv4.tcp_syncookies = 1\n")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    # absolute targets name host paths: they are looked up below root, not on this machine
    os.symlink("/etc/sysctl.conf", str(tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf"))
    os.symlink("/usr/lib/sysctl.d/70-vendor.conf", str(tmp_path / "etc" / "sysctl.d" / "70-vendor.conf"))
    assert sf.ordered_files(str(tmp_path)) == ["/etc/sysctl.d/70-vendor.conf", "/etc/sysctl.conf"]
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert config["effective"]["net.ipv4.tcp_syncookies"] == {
        "value": "1", "path": "/etc/sysctl.d/70-vendor.conf", "line": 1}
    assert config["errors"] == []


def test_extra_name_takes_its_place_in_the_order(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.tcp_fin_timeout = 60\n")
    write(tmp_path, "/usr/lib/sysctl.d/99-late.conf", "net.ipv4.tcp_fin_timeout = 50\n")
    write(tmp_path, "/usr/lib/sysctl.d/60-masked.conf", "")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    os.symlink("/dev/null", str(tmp_path / "etc" / "sysctl.d" / "60-masked.conf"))
    assert sf.ordered_files(str(tmp_path), extra_name="90-tcp.conf") == [
        "/usr/lib/sysctl.d/50-default.conf", "/etc/sysctl.d/90-tcp.conf", "/usr/lib/sysctl.d/99-late.conf"]
    assert sf.ordered_files(str(tmp_path), extra_name="60-masked.conf") == [
        "/usr/lib/sysctl.d/50-default.conf", "/usr/lib/sysctl.d/99-late.conf"]


def test_glob_keys_are_recognised_and_have_no_single_live_value(tmp_path):
    write(tmp_path, "/etc/sysctl.d/50-rp.conf",
          "net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.eth?.accept_redirects = 0\nnet.ipv4.tcp_syncookies = 1\n")
    write(tmp_path, "/proc/sys/net/ipv4/tcp_syncookies", "1\n")
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert config["effective"]["net.ipv4.conf.*.rp_filter"] == {
        "value": "2", "path": "/etc/sysctl.d/50-rp.conf", "line": 1}
    assert config["live"] == {"net.ipv4.conf.*.rp_filter": None, "net.ipv4.conf.eth?.accept_redirects": None,
                              "net.ipv4.tcp_syncookies": "1"}
    assignments, problems = sf.parse_assignments(sf.read_text(str(tmp_path), "/etc/sysctl.d/50-rp.conf"),
                                                 "/etc/sysctl.d/50-rp.conf")
    assert problems == []
    assert [(a.key, a.glob, a.ignore_failure) for a in assignments] == [
        ("net.ipv4.conf.*.rp_filter", True, False), ("net.ipv4.conf.eth?.accept_redirects", True, True),
        ("net.ipv4.tcp_syncookies", False, False)]
    assert assignments[0].matches("net.ipv4.conf.eth0.rp_filter")
    assert not assignments[0].matches("net.ipv4.conf.eth0.accept_redirects")
    assert assignments[1].matches("net.ipv4.conf.eth1.accept_redirects")
    assert not assignments[1].matches("net.ipv4.conf.eth10.accept_redirects")
    assert assignments[2].matches("net.ipv4.tcp_syncookies") and not assignments[2].matches("net.ipv4.tcp_syncookie")


def test_slash_keys_swap_dots_like_sysctl():
    assert sf.normalise_key("net/ipv4/tcp_tw_reuse") == "net.ipv4.tcp_tw_reuse"
    assert sf.normalise_key(" /net/ipv4/tcp_tw_reuse/ ") == "net.ipv4.tcp_tw_reuse"
    assert sf.normalise_key("net/ipv4/conf/eth0.10/rp_filter") == "net.ipv4.conf.eth0/10.rp_filter"
    assert sf.normalise_key("net.ipv4.conf.eth0/10.rp_filter") == "net.ipv4.conf.eth0/10.rp_filter"


def test_live_value_of_a_key_with_a_dotted_interface_name(tmp_path):
    write(tmp_path, "/proc/sys/net/ipv4/conf/eth0.10/rp_filter", "1\n")
    assert sf.read_live("net.ipv4.conf.eth0/10.rp_filter", str(tmp_path / "proc")) == "1"


def test_read_assignments_of_every_file_in_boot_order(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.tcp_fin_timeout = 60\nno equals sign\n")
    write(tmp_path, "/etc/sysctl.conf", "-net/ipv4/tcp_fin_timeout=30\n")
    found = [(a.path, a.lineno, a.key, a.value, a.ignore_failure)
             for path in sf.ordered_files(str(tmp_path)) for a in sf.read_assignments(str(tmp_path), path)]
    assert found == [("/usr/lib/sysctl.d/50-default.conf", 1, "net.ipv4.tcp_fin_timeout", "60", False),
                     ("/etc/sysctl.conf", 1, "net.ipv4.tcp_fin_timeout", "30", True)]
    assert sf.read_assignments(str(tmp_path), "/etc/sysctl.d/missing.conf") == []
