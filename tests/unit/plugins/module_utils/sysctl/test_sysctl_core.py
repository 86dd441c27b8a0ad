"""The sysctl core: one key-to-path function, one live reader with one error type, one value parser."""

import os

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import live, values


@pytest.mark.parametrize("text, expected", [
    ("1\n", 1), ("-1\n", -1), ("32768\t60999\n", "32768 60999"), ("\n", ""), ("cubic reno\n", "cubic reno"),
])
def test_sysctl_value_parsing(text, expected):
    assert values.int_or_text(text) == expected


@pytest.mark.parametrize("text", ["1_000", "+5", "\u0663", "\u00b2", "0x10", "1.5", "", "-"])
def test_parse_int_takes_ascii_digits_only(text):
    assert values.int_or_none(text) is None
    with pytest.raises(values.SysctlValueError, match="expected an integer"):
        values.parse_int(text)


def test_key_path_swaps_slash_and_dot_and_never_leaves_proc_sys(tmp_path):
    proc = str(tmp_path)
    assert live.key_path(proc, "net.ipv4.conf.eth0/10.rp_filter") == os.path.join(
        proc, "sys", "net", "ipv4", "conf", "eth0.10", "rp_filter")
    for key in ("net.//.//.secret", "net..x", "net.ipv4.conf.*.rp_filter", "", "net.\0x"):
        with pytest.raises(live.SysctlReadError) as caught:
            live.key_path(proc, key)
        assert caught.value.kind == live.ABSENT


def test_read_errors_say_which_kind(tmp_path):
    proc = tmp_path / "proc"
    (proc / "sys" / "net" / "core").mkdir(parents=True)
    os.mkfifo(str(proc / "sys" / "net" / "core" / "somaxconn"))
    (proc / "sys" / "net" / "core" / "big").write_text("9" * (live.VALUE_CAP + 1))
    kinds = {}
    for key in ("net.core.somaxconn", "net.core.big", "net.core.missing"):
        with pytest.raises(live.SysctlReadError) as caught:
            live.read(str(proc), key)
        kinds[key] = (caught.value.kind, str(caught.value))
    assert kinds["net.core.somaxconn"] == (live.REFUSED, "a FIFO, not a regular file: not read")
    assert kinds["net.core.big"] == (live.REFUSED, "larger than %d bytes: not read" % live.VALUE_CAP)
    assert kinds["net.core.missing"] == (live.ABSENT, "this kernel has no net.core.missing")
    assert live.read_or_none(str(proc), "net.core.missing") is None
    with pytest.raises(live.SysctlReadError):
        live.read_or_none(str(proc), "net.core.somaxconn")


def test_port_list_refuses_ports_outside_0_65535_and_backward_ranges():
    assert values.parse_port_list("8080, 9000-9002") == [8080, 9000, 9001, 9002]
    for bad, message in (("0-99999999", "out of 0-65535"), ("70000", "out of 0-65535"), ("9002-9000", "backwards"),
                         ("1-x", "expected an integer")):
        with pytest.raises(values.SysctlValueError, match=message):
            values.parse_port_list(bad)


def test_port_ranges_merge_when_formatted():
    assert values.format_port_ranges([(9000, 9002), (8080, 8080), (9003, 9010), (9005, 9006)]) == "8080,9000-9010"


def test_a_write_only_key_of_the_running_kernel_is_unreadable():
    # /proc/sys/net/ipv4/route/flush is mode 0200: the kernel refuses the read, to root as well
    if not os.path.exists("/proc/sys/net/ipv4/route/flush"):
        pytest.skip("this kernel has no net.ipv4.route.flush")
    with pytest.raises(live.SysctlReadError) as caught:
        live.read("/proc", "net.ipv4.route.flush")
    assert caught.value.kind == live.UNREADABLE
