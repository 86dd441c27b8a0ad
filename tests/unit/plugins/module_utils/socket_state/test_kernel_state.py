"""Sysctls, counters, sockstat and netfilter state read from fixture /proc trees."""

import os

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import FACT_KEYS
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import kernel as _kernel_state


def test_modern_sysctls(modern_proc):
    warnings = []
    sysctls = _kernel_state.read_sysctls(modern_proc, warnings)
    assert warnings == []
    assert set(sysctls) == set(FACT_KEYS)
    assert sysctls["net.ipv4.tcp_tw_reuse"] == 2
    assert sysctls["net.ipv4.tcp_tw_reuse_delay"] == 1000
    assert sysctls["net.ipv4.tcp_tw_recycle"] is None
    # the tab inside the range is folded to one space
    assert sysctls["net.ipv4.ip_local_port_range"] == "32768 60999"
    assert sysctls["net.ipv4.ip_local_reserved_ports"] == "40000-40001,50000"
    assert sysctls["net.netfilter.nf_conntrack_max"] == 262144


def test_old_kernel_sysctls(old_kernel_proc):
    sysctls = _kernel_state.read_sysctls(old_kernel_proc, [])
    assert sysctls["net.ipv4.tcp_tw_recycle"] == 1
    assert sysctls["net.ipv4.tcp_tw_reuse"] == 1
    assert sysctls["net.ipv4.tcp_tw_reuse_delay"] is None
    assert sysctls["net.ipv4.ip_local_reserved_ports"] == ""
    assert sysctls["net.netfilter.nf_conntrack_max"] is None
    assert sysctls["net.netfilter.nf_conntrack_tcp_timeout_time_wait"] is None


def test_ephemeral_ports_with_reserved(modern_proc):
    warnings = []
    ports = _kernel_state.ephemeral_ports(_kernel_state.read_sysctls(modern_proc, warnings), warnings)
    assert ports == {"low": 32768, "high": 60999, "size": 28232, "reserved": [40000, 40001, 50000],
                     "reserved_total": 3, "reserved_in_range": 3, "usable": 28229,
                     "reuse": {"effective": "loopback", "delay_ms": 1000}}


@pytest.mark.parametrize("reuse, timestamps, delay, expected", [
    (1, 1, 1000, {"effective": "all", "delay_ms": 1000}),
    (2, 1, 250, {"effective": "loopback", "delay_ms": 250}),
    (2, 2, None, {"effective": "loopback", "delay_ms": 1000}),   # timestamps without offsets still record them
    (1, 0, 1000, {"effective": "none", "delay_ms": 1000}),       # no timestamps: reuse does nothing
    (0, 1, 1000, {"effective": "none", "delay_ms": 1000}),
    (None, 1, None, {"effective": "none", "delay_ms": 1000}),    # unreadable: not counted as relief
    ("garbage", 1, "x", {"effective": "none", "delay_ms": 1000}),
])
def test_time_wait_reuse_from_the_sysctls(reuse, timestamps, delay, expected):
    sysctls = {"net.ipv4.tcp_tw_reuse": reuse, "net.ipv4.tcp_timestamps": timestamps,
               "net.ipv4.tcp_tw_reuse_delay": delay}
    assert _kernel_state.time_wait_reuse(sysctls) == expected
    assert _kernel_state.ephemeral_ports(dict(sysctls, **{"net.ipv4.ip_local_port_range": None}), [])["reuse"] == expected


def test_ephemeral_ports_reserved_outside_range_do_not_count():
    sysctls = {"net.ipv4.ip_local_port_range": "1024 65000", "net.ipv4.ip_local_reserved_ports": "80,443,65001-65003"}
    ports = _kernel_state.ephemeral_ports(sysctls, [])
    assert ports["reserved"] == [80, 443, 65001, 65002, 65003]
    assert ports["reserved_in_range"] == 0
    assert ports["usable"] == ports["size"] == 63977


def test_ephemeral_ports_unknown_range_is_null_with_a_warning():
    warnings = []
    ports = _kernel_state.ephemeral_ports({"net.ipv4.ip_local_port_range": None}, warnings)
    assert ports["low"] is None and ports["usable"] is None
    assert warnings and "ip_local_port_range" in warnings[0]


def test_counters_modern(modern_proc):
    warnings = []
    counters = _kernel_state.read_counters(modern_proc, warnings)
    assert warnings == []
    assert counters["TCPTimeWaitOverflow"] == 15
    assert counters["TWRecycled"] == 3
    assert counters["PAWSActive"] == 2
    assert counters["PAWSPassive"] is None  # not in this kernel's TcpExt line
    assert counters["ListenOverflows"] == 11 and counters["ListenDrops"] == 12
    assert counters["SyncookiesSent"] == 5 and counters["SyncookiesFailed"] == 1
    assert counters["CurrEstab"] == 3 and counters["ActiveOpens"] == 501
    assert counters["RetransSegs"] == 505


def test_counters_old_kernel(old_kernel_proc):
    counters = _kernel_state.read_counters(old_kernel_proc, [])
    assert counters["PAWSPassive"] == 33
    assert counters["TWRecycled"] == 20
    assert counters["TCPAbortOnTimeout"] is None
    assert counters["EstabResets"] == 1


def test_counters_missing_files_are_null_with_warnings(tmp_path):
    warnings = []
    counters = _kernel_state.read_counters(str(tmp_path), warnings)
    assert set(counters.values()) == {None}
    assert len(warnings) == 2


def test_sockstat_names_its_host_wide_keys(modern_proc):
    warnings = []
    assert _kernel_state.read_sockstat(modern_proc, warnings) == {"inuse": 9, "orphan": 1, "tw": 11, "inuse6": 3, "host_wide": ["orphan"]}
    assert warnings == []


def test_sockstat_without_ipv6(old_kernel_proc):
    warnings = []
    assert _kernel_state.read_sockstat(old_kernel_proc, warnings) == {"inuse": 2, "orphan": 0, "tw": 1, "inuse6": None, "host_wide": ["orphan"]}
    assert any("sockstat6" in warning for warning in warnings)


def test_netfilter_modern(modern_proc):
    sysctls = _kernel_state.read_sysctls(modern_proc, [])
    assert _kernel_state.read_netfilter(modern_proc, sysctls) == {
        "conntrack_loaded": True, "conntrack_count": 42, "nat_loaded": True}


def test_netfilter_absent(old_kernel_proc):
    sysctls = _kernel_state.read_sysctls(old_kernel_proc, [])
    assert _kernel_state.read_netfilter(old_kernel_proc, sysctls) == {
        "conntrack_loaded": False, "conntrack_count": None, "nat_loaded": False}


def test_nat_table_without_module_list(tmp_path):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "ip_tables_names").write_text("filter\nnat\n")
    assert _kernel_state.read_netfilter(str(tmp_path), {})["nat_loaded"] is True


def test_kernel_release(modern_proc, tmp_path):
    assert _kernel_state.read_kernel_release(modern_proc, []) == "6.1.0-28-amd64"
    warnings = []
    assert _kernel_state.read_kernel_release(str(tmp_path), warnings) is None
    assert warnings


# -- odd host data through proc_root: unusable values are null plus an error naming the file ----------

def _copy_modern(modern_proc, tmp_path):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    return proc


def test_non_numeric_sockstat_netstat_and_snmp_fields_are_null_with_errors(modern_proc, tmp_path):
    proc = _copy_modern(modern_proc, tmp_path)
    with open(proc + "/net/sockstat", "w") as handle:
        handle.write("sockets: used 5\nTCP: inuse x7 orphan 1 tw 11 alloc 9 mem 1\n")
    with open(proc + "/net/netstat") as handle:
        netstat = handle.read()
    with open(proc + "/net/netstat", "w") as handle:
        lines = netstat.splitlines()
        values = lines[1].split()
        values[1] = "NaN"
        handle.write("\n".join([lines[0], " ".join(values)] + lines[2:]) + "\n")
    first_counter = lines[0].split()[1]
    warnings, errors = [], []
    sockstat = _kernel_state.read_sockstat(proc, warnings, errors)
    counters = _kernel_state.read_counters(proc, warnings, errors)
    assert sockstat["inuse"] is None and sockstat["tw"] == 11 and sockstat["orphan"] == 1
    assert errors == ["%s/net/sockstat: TCP fields not integers (inuse): read as null" % proc,
                      "%s/net/netstat: 1 TcpExt values are not integers (%s): read as null" % (proc, first_counter)]
    assert warnings == errors
    if first_counter in counters:
        assert counters[first_counter] is None
    assert counters["CurrEstab"] is not None


@pytest.mark.parametrize("shape", ["fifo", "binary", "dev_zero_link"])
def test_sysctl_and_sockstat_files_that_are_not_text_are_errors(modern_proc, tmp_path, shape):
    proc = _copy_modern(modern_proc, tmp_path)
    for path in (proc + "/sys/net/ipv4/tcp_fin_timeout", proc + "/net/sockstat"):
        os.unlink(path)
        if shape == "fifo":
            os.mkfifo(path)
        elif shape == "binary":
            with open(path, "wb") as handle:
                handle.write(b"\x00\xff\xfe" * 100000)
        else:
            os.symlink("/dev/zero", path)
    warnings, errors = [], []
    sysctls = _kernel_state.read_sysctls(proc, warnings, errors=errors)
    sockstat = _kernel_state.read_sockstat(proc, warnings, errors)
    assert sockstat["tw"] is None and sockstat["inuse6"] == 3
    assert sysctls["net.ipv4.tcp_tw_reuse"] == 2
    if shape == "binary":
        # a large binary value is refused by the cap; a sockstat without a TCP line has no values
        assert sysctls["net.ipv4.tcp_fin_timeout"] is None
        assert errors == ["sysctl net.ipv4.tcp_fin_timeout unreadable: larger than 65534 bytes: not read",
                          "%s/net/sockstat unreadable: larger than 65536 bytes: not read" % proc]
    else:
        kind = "a FIFO" if shape == "fifo" else "a character device"
        assert errors == ["sysctl net.ipv4.tcp_fin_timeout unreadable: %s, not a regular file: not read" % kind,
                          "%s/net/sockstat unreadable: %s, not a regular file: not read" % (proc, kind)]


@pytest.mark.parametrize("reserved", ["0-99999999", "1-x", "70000"])
def test_reserved_ports_out_of_range_are_an_error_not_a_huge_list(reserved):
    warnings, errors = [], []
    sysctls = {"net.ipv4.ip_local_port_range": "32768 60999", "net.ipv4.ip_local_reserved_ports": reserved}
    ports = _kernel_state.ephemeral_ports(sysctls, warnings, errors)
    assert ports["reserved"] == [] and ports["usable"] == 28232
    assert len(errors) == 1 and errors[0].startswith(
        "/proc/sys/net/ipv4/ip_local_reserved_ports: unusable value '%s'" % reserved)


def test_port_range_that_is_not_two_ports_is_an_error():
    warnings, errors = [], []
    ports = _kernel_state.ephemeral_ports({"net.ipv4.ip_local_port_range": "60999 32768"}, warnings, errors)
    assert ports["low"] is None
    assert errors == ["/proc/sys/net/ipv4/ip_local_port_range: unusable value '60999 32768'"]


def test_kernel_release_with_control_characters_is_escaped(tmp_path):
    os.makedirs(str(tmp_path / "sys" / "kernel"))
    with open(str(tmp_path / "sys" / "kernel" / "osrelease"), "wb") as handle:
        handle.write(b"6.1\x1b[31m\xff\n")
    assert _kernel_state.read_kernel_release(str(tmp_path), []) == u"6.1\\x1b[31m\ufffd"


def test_sockstat_without_a_tcp_line_is_an_error(tmp_path):
    os.makedirs(str(tmp_path / "net"))
    with open(str(tmp_path / "net" / "sockstat"), "wb") as handle:
        handle.write(b"\x00\xff\xfe binary\n")
    warnings, errors = [], []
    sockstat = _kernel_state.read_sockstat(str(tmp_path), warnings, errors)
    assert sockstat["inuse"] is None and sockstat["tw"] is None
    assert errors == ["%s/net/sockstat: no TCP line: read as null" % tmp_path]


def _sockstat_tree(tmp_path, sockstat, sockstat6=None):
    net = tmp_path / "net"
    net.mkdir(parents=True)
    if isinstance(sockstat, bytes):
        (net / "sockstat").write_bytes(sockstat)
    elif sockstat is not None:
        sockstat(net / "sockstat")
    if sockstat6 is not None:
        (net / "sockstat6").write_bytes(sockstat6)
    return str(tmp_path)


GOOD_SOCKSTAT = b"sockets: used 7\nTCP: inuse 3 orphan 0 tw 5 alloc 4 mem 1\n"


def test_live_socket_counts_read_both_sockstat_files(tmp_path):
    root = _sockstat_tree(tmp_path, GOOD_SOCKSTAT, b"TCP6: inuse 2\n")
    assert _kernel_state.read_live_socket_counts(root) == (5, 2, 3)
    assert _kernel_state.read_live_socket_counts(_sockstat_tree(tmp_path / "no6", GOOD_SOCKSTAT)) == (5, 0, 3)


@pytest.mark.parametrize("hostile", [
    b"TCP: inuse x orphan 0 tw 0 alloc 0 mem 0\n",            # not a number: never read as 0
    b"TCP: inuse 0\x00 orphan 0 tw 0 alloc 0 mem 0\n",         # a NUL byte inside the value
    b"TCP: inuse \xff\xfe orphan 0 tw 0\n",                    # invalid UTF-8
    b"TCP: orphan 0 alloc 0 mem 0\n",                          # no inuse, no tw
    b"UDP: inuse 0\n",                                         # no TCP line
    b"TCP: inuse 0 tw 0 " + b"x" * (1 << 20) + b"\n",          # larger than the cap
])
def test_live_socket_counts_are_unknown_for_hostile_sockstat(tmp_path, hostile):
    """Unknown (None) makes the dump run: hostile data never passes for a namespace without sockets."""
    assert _kernel_state.read_live_socket_counts(_sockstat_tree(tmp_path, hostile)) is None


@pytest.mark.parametrize("make", [
    lambda path: os.mkfifo(str(path)),                          # a FIFO is never opened for reading
    lambda path: os.symlink("/dev/zero", str(path)),            # a link to a device
    lambda path: path.mkdir(),                                  # a directory
    None,                                                       # missing
])
def test_live_socket_counts_are_unknown_when_sockstat_is_not_a_regular_file(tmp_path, make):
    assert _kernel_state.read_live_socket_counts(_sockstat_tree(tmp_path, make)) is None


def test_hostile_sockstat6_leaves_the_counts_unknown(tmp_path):
    root = _sockstat_tree(tmp_path, GOOD_SOCKSTAT, b"TCP6: inuse nope\n")
    assert _kernel_state.read_live_socket_counts(root) is None
