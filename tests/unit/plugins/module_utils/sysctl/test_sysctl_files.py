# -*- coding: utf-8 -*-
"""The one reader of sysctl config files: the order sysctl --system applies them, on fixture trees."""

import os

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import kernel
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import files as sf
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import live


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)
    return full


def live_values(root, config, errors=None):
    """What the facts report in tcp_state.sysctl for the plain keys the files set (proc_root = root/proc)."""
    return kernel.read_sysctls(os.path.join(str(root), "proc"), [], sf.plain_keys(config), errors)


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
    config = sf.collect(str(tmp_path))
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
    config = sf.collect(str(tmp_path))
    assert live_values(tmp_path, config) == {"net.ipv4.ip_local_port_range": "32768 60999",
                                             "net.ipv4.tcp_tw_recycle": None}
    assert config["files"] == [{"path": "/etc/sysctl.conf",
                                "settings": {"net.ipv4.tcp_tw_recycle": "1",
                                             "net.ipv4.ip_local_port_range": "1024 65000"},
                                "lines": {"net.ipv4.tcp_tw_recycle": 1, "net.ipv4.ip_local_port_range": 2},
                                "ignore_failure": []}]
    assert config["errors"] == []


def test_unreadable_file_is_an_error_not_a_crash(tmp_path):
    path = write(tmp_path, "/etc/sysctl.d/60-secret.conf", "net.ipv4.tcp_fin_timeout = 30\n")
    os.unlink(path)
    os.mkdir(path)  # a directory named *.conf cannot be opened as a file
    config = sf.collect(str(tmp_path))
    assert len(config["errors"]) == 1 and config["errors"][0].startswith("/etc/sysctl.d/60-secret.conf:")


def test_empty_tree(tmp_path):
    empty = {"files": [], "files_total": 0, "effective": {}, "errors": [], "errors_total": 0}
    assert sf.collect(str(tmp_path)) == empty


def test_dev_null_link_masks_the_name_in_every_later_directory(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-pid-max.conf", "kernel.pid_max = 4194304\n")
    write(tmp_path, "/usr/lib/sysctl.d/60-kept.conf", "net.ipv4.tcp_fin_timeout = 45\n")
    os.makedirs(str(tmp_path / "etc" / "sysctl.d"))
    os.symlink("/dev/null", str(tmp_path / "etc" / "sysctl.d" / "50-pid-max.conf"))
    assert sf.ordered_files(str(tmp_path)) == ["/usr/lib/sysctl.d/60-kept.conf"]
    config = sf.collect(str(tmp_path))
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
    config = sf.collect(str(tmp_path))
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
    config = sf.collect(str(tmp_path))
    assert config["effective"]["net.ipv4.conf.*.rp_filter"] == {
        "value": "2", "path": "/etc/sysctl.d/50-rp.conf", "line": 1}
    assert config["files"][0]["ignore_failure"] == ["net.ipv4.conf.eth?.accept_redirects"]
    assert sf.plain_keys(config) == ["net.ipv4.tcp_syncookies"]
    assert live_values(tmp_path, config) == {"net.ipv4.tcp_syncookies": 1}
    for glob in ("net.ipv4.conf.*.rp_filter", "net.ipv4.conf.eth?.accept_redirects"):
        with pytest.raises(live.SysctlReadError) as caught:
            live.read(str(tmp_path / "proc"), glob)
        assert caught.value.kind == live.ABSENT
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
    assert live.read(str(tmp_path / "proc"), "net.ipv4.conf.eth0/10.rp_filter") == "1"


def test_read_assignments_of_every_file_in_boot_order(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.tcp_fin_timeout = 60\nno equals sign\n")
    write(tmp_path, "/etc/sysctl.conf", "-net/ipv4/tcp_fin_timeout=30\n")
    found = [(a.path, a.lineno, a.key, a.value, a.ignore_failure)
             for path in sf.ordered_files(str(tmp_path)) for a in sf.read_assignments(str(tmp_path), path)]
    assert found == [("/usr/lib/sysctl.d/50-default.conf", 1, "net.ipv4.tcp_fin_timeout", "60", False),
                     ("/etc/sysctl.conf", 1, "net.ipv4.tcp_fin_timeout", "30", True)]
    assert sf.read_assignments(str(tmp_path), "/etc/sysctl.d/missing.conf") == []


# -- odd host data: every file below is one any local user could leave in /etc/sysctl.d --------------

def test_hostile_files_are_errors_naming_them_and_the_rest_is_read(tmp_path):
    os.symlink("/dev", str(tmp_path / "dev"))  # so that the link to /dev/zero below reaches the real device
    write(tmp_path, "/etc/sysctl.d/10-good.conf", "net.ipv4.tcp_fin_timeout = 30\n")
    os.symlink("/dev/zero", str(tmp_path / "etc/sysctl.d/81-x.conf"))
    os.mkfifo(str(tmp_path / "etc/sysctl.d/82-fifo.conf"))
    os.mkdir(str(tmp_path / "etc/sysctl.d/83-dir.conf"))
    os.symlink("/etc/sysctl.d/nowhere", str(tmp_path / "etc/sysctl.d/84-dangling.conf"))
    os.symlink("85-loop.conf", str(tmp_path / "etc/sysctl.d/85-loop.conf"))
    with open(str(tmp_path / "etc/sysctl.d/86-huge.conf"), "wb") as handle:
        handle.write(b"net.core.somaxconn = 1\n" * (sf.FILE_CAP // 20))
    write(tmp_path, "/etc/sysctl.d/87-nul.conf", "net.ipv4.tcp_fin\x00_timeout = 30\nnet.core.somaxconn = 4096\n")
    with open(str(tmp_path / "etc/sysctl.d/88-latin1.conf"), "wb") as handle:
        handle.write(b"net.ipv4.tcp_\xff\xfe = 1\nkernel.hostname = caf\xe9\n")
    config = sf.collect(str(tmp_path))
    assert config["errors"] == [
        "/etc/sysctl.d/81-x.conf: a character device, not a regular file: not read",
        "/etc/sysctl.d/82-fifo.conf: a FIFO, not a regular file: not read",
        "/etc/sysctl.d/83-dir.conf: a directory, not a regular file: not read",
        "/etc/sysctl.d/84-dangling.conf: No such file or directory",
        "/etc/sysctl.d/85-loop.conf: Too many levels of symbolic links",
        "/etc/sysctl.d/86-huge.conf: larger than %d bytes: not read" % sf.FILE_CAP,
        "/etc/sysctl.d/87-nul.conf line 1: key 'net.ipv4.tcp_fin\\x00_timeout' holds a control character,"
        " a NUL byte, a space or invalid UTF-8",
        u"/etc/sysctl.d/88-latin1.conf line 1: key 'net.ipv4.tcp_\ufffd\ufffd' holds a control character,"
        " a NUL byte, a space or invalid UTF-8",
    ]
    assert config["errors_total"] == 8 and config["files_total"] == 9
    assert config["effective"] == {
        "net.ipv4.tcp_fin_timeout": {"value": "30", "path": "/etc/sysctl.d/10-good.conf", "line": 1},
        "net.core.somaxconn": {"value": "4096", "path": "/etc/sysctl.d/87-nul.conf", "line": 2},
        "kernel.hostname": {"value": u"caf\ufffd", "path": "/etc/sysctl.d/88-latin1.conf", "line": 2},
    }


@pytest.mark.parametrize("shape", ["fifo", "file", "dev_zero_link"])
def test_a_sysctl_d_that_is_not_a_directory_is_skipped(tmp_path, shape):
    write(tmp_path, "/etc/sysctl.conf", "net.ipv4.tcp_fin_timeout = 30\n")
    target = str(tmp_path / "etc" / "sysctl.d")
    if shape == "fifo":
        os.mkfifo(target)
    elif shape == "file":
        write(tmp_path, "/etc/sysctl.d", "net.ipv4.tcp_fin_timeout = 1\n")
    else:
        os.symlink("/dev/zero", target)
    config = sf.collect(str(tmp_path))
    assert [entry["path"] for entry in config["files"]] == ["/etc/sysctl.conf"]


def test_a_sysctl_conf_that_is_a_fifo_is_an_error(tmp_path):
    os.makedirs(str(tmp_path / "etc"))
    os.mkfifo(str(tmp_path / "etc" / "sysctl.conf"))
    config = sf.collect(str(tmp_path))
    assert config["errors"] == ["/etc/sysctl.conf: a FIFO, not a regular file: not read"]


def test_a_file_name_that_is_not_utf8_or_holds_a_newline_is_an_error(tmp_path):
    write(tmp_path, "/etc/sysctl.d/10-ok.conf", "net.core.somaxconn = 1\n")
    directory = os.path.join(str(tmp_path), "etc", "sysctl.d").encode()
    for name in (b"20-\xff.conf", b"30-new\nline.conf"):
        with open(os.path.join(directory, name), "w") as handle:
            handle.write("net.core.somaxconn = 2\n")
    config = sf.collect(str(tmp_path))
    assert [entry["path"] for entry in config["files"]] == ["/etc/sysctl.d/10-ok.conf"]
    assert sorted(config["errors"]) == [
        "/etc/sysctl.d/20-\\udcff.conf: name holds a control character or invalid UTF-8: not read",
        "/etc/sysctl.d/30-new\\x0aline.conf: name holds a control character or invalid UTF-8: not read"]


def test_garbage_file_of_100k_lines_makes_a_bounded_list_of_errors(tmp_path):
    write(tmp_path, "/etc/sysctl.d/50-garbage.conf", "x\n" * 100000)  # 200 kB, under the cap
    config = sf.collect(str(tmp_path))
    assert config["errors"] == ["/etc/sysctl.d/50-garbage.conf line %d: no '=' in 'x'" % number
                                for number in range(1, sf.MAX_PROBLEMS_PER_FILE + 1)] + [
        "/etc/sysctl.d/50-garbage.conf %d more unusable lines not listed" % (100000 - sf.MAX_PROBLEMS_PER_FILE)]


def test_huge_key_and_value_lines_are_errors(tmp_path):
    write(tmp_path, "/etc/sysctl.conf", "%s = 1\nnet.core.somaxconn = %s\nnet.ipv4.tcp_fin_timeout = 30\n"
          % ("k" * (sf.MAX_KEY_LENGTH + 1), "9" * (sf.MAX_VALUE_LENGTH + 1)))
    config = sf.collect(str(tmp_path))
    assert config["errors"] == [
        "/etc/sysctl.conf line 1: key longer than %d characters" % sf.MAX_KEY_LENGTH,
        "/etc/sysctl.conf line 2: value longer than %d characters" % sf.MAX_VALUE_LENGTH]
    assert list(config["effective"]) == ["net.ipv4.tcp_fin_timeout"]


def test_a_key_cannot_read_a_live_value_outside_proc_sys(tmp_path):
    write(tmp_path, "/proc/secret", "hunter2\n")
    write(tmp_path, "/etc/sysctl.conf", "net/../../secret = 1\nnet..x = 1\n")
    config = sf.collect(str(tmp_path))
    assert set(config["effective"]) == {"net.//.//.secret", "net..x"}
    errors = []
    assert live_values(tmp_path, config, errors) == {"net.//.//.secret": None, "net..x": None}
    assert errors == []  # no such sysctl: null, as for a key this kernel lacks


def test_live_value_that_is_a_fifo_or_huge_is_null(tmp_path):
    write(tmp_path, "/etc/sysctl.conf", "net.core.somaxconn = 1\nnet.ipv4.tcp_fin_timeout = 30\n")
    os.makedirs(str(tmp_path / "proc/sys/net/core"))
    os.mkfifo(str(tmp_path / "proc/sys/net/core/somaxconn"))
    write(tmp_path, "/proc/sys/net/ipv4/tcp_fin_timeout", "3" * (live.VALUE_CAP + 1))
    config = sf.collect(str(tmp_path))
    errors = []
    assert live_values(tmp_path, config, errors) == {"net.core.somaxconn": None, "net.ipv4.tcp_fin_timeout": None}
    assert errors == ["sysctl net.core.somaxconn unreadable: a FIFO, not a regular file: not read",
                      "sysctl net.ipv4.tcp_fin_timeout unreadable: larger than %d bytes: not read" % live.VALUE_CAP]


def test_files_and_settings_are_bounded(tmp_path):
    for number in range(sf.MAX_FILES + 5):
        write(tmp_path, "/etc/sysctl.d/%03d.conf" % number,
              "".join("net.x%d.k%d = 1\n" % (number, key) for key in range(100)))
    config = sf.collect(str(tmp_path))
    assert config["files_total"] == sf.MAX_FILES + 5
    assert len(config["files"]) <= sf.MAX_FILES
    assert 0 < len(config["effective"]) <= sf.MAX_SETTINGS
    assert config["errors"][0] == ("%d sysctl files: only the first %d in order are read, /etc/sysctl.d/%03d.conf"
                                   " and the 4 after it are not" % (sf.MAX_FILES + 5, sf.MAX_FILES, sf.MAX_FILES))
    assert "more than %d settings or %d characters" % (sf.MAX_SETTINGS, sf.MAX_SETTINGS_CHARS) in config["errors"][1]


def test_settings_are_bounded_in_characters(tmp_path):
    for number in range(40):
        write(tmp_path, "/etc/sysctl.d/%03d.conf" % number,
              "".join("net.x%d.k%d = %s\n" % (number, key, "v" * (sf.MAX_VALUE_LENGTH - 1)) for key in range(10)))
    config = sf.collect(str(tmp_path))
    chars = sum(len(key) + len(entry["value"]) for key, entry in config["effective"].items())
    assert 0 < chars <= sf.MAX_SETTINGS_CHARS
    assert config["errors_total"] > 0 and "characters of keys and values" in config["errors"][0]


def test_dash_prefix_is_kept_per_file(tmp_path):
    write(tmp_path, "/usr/lib/sysctl.d/50-default.conf", "-net.ipv4.tcp_tw_recycle = 1\n-net.core.somaxconn = 1024\n")
    write(tmp_path, "/etc/sysctl.conf", "net.core.somaxconn = 4096\n")
    config = sf.collect(str(tmp_path))
    assert [entry["ignore_failure"] for entry in config["files"]] == [
        ["net.core.somaxconn", "net.ipv4.tcp_tw_recycle"], []]
    assert config["effective"]["net.ipv4.tcp_tw_recycle"] == {
        "value": "1", "path": "/usr/lib/sysctl.d/50-default.conf", "line": 1}
    # a later plain assignment wins, prefix and all
    assert config["effective"]["net.core.somaxconn"] == {
        "value": "4096", "path": "/etc/sysctl.conf", "line": 1}
