# -*- coding: utf-8 -*-
"""sysctl config files read in the order sysctl --system applies them, on fixture trees."""

import os

from ansible_collections.tcpops.timewait.plugins.module_utils import _audit_sysctl_files as sf


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
    assert sf.config_file_order(str(tmp_path)) == [
        "/etc/sysctl.d/10-masked.conf", "/usr/lib/sysctl.d/50-default.conf", "/run/sysctl.d/70-run.conf",
        "/etc/sysctl.conf"]
    config = sf.collect(str(tmp_path), proc_root=str(tmp_path / "proc"))
    assert config["effective"]["net.ipv4.tcp_fin_timeout"] == {"value": "30", "path": "/etc/sysctl.conf", "line": 1}
    assert config["effective"]["net.ipv4.tcp_syncookies"]["path"] == "/etc/sysctl.d/10-masked.conf"


def test_debian_99_sysctl_conf_link_is_reported_once_as_etc_sysctl_conf(tmp_path):
    write(tmp_path, "/etc/sysctl.conf", "net.ipv4.tcp_tw_recycle = 1\n")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    os.symlink("../sysctl.conf", str(tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf"))
    assert sf.config_file_order(str(tmp_path)) == ["/etc/sysctl.conf"]


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
    empty = {"files": [], "effective": {}, "live": {}, "errors": []}
    assert sf.collect(str(tmp_path), proc_root=str(tmp_path)) == empty
