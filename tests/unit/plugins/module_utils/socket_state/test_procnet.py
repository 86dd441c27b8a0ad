"""/proc/net/tcp{,6} parsing on fixture files: IPv4, IPv6, IPv4-mapped, every state."""

import os

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import kernel as _kernel_state
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import procnet as _procnet
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import SocketTally


def _destination_text(family, key):
    """(address text, port) of a destination key, as the report shows it."""
    return _procnet.destination_endpoint(_procnet.destination_identity(family, key))


EPHEMERAL = {"low": 32768, "high": 60999, "size": 28232, "reserved": [40000, 40001, 50000],
             "reserved_in_range": 3, "usable": 28229}


def tally_of(proc_root):
    tally = SocketTally(EPHEMERAL)
    warnings = []
    _procnet.collect_sockets(tally, proc_root, warnings)
    return tally, warnings


def test_every_state_is_counted_per_family(modern_proc):
    tally, warnings = tally_of(modern_proc)
    assert warnings == []
    # index = kernel state number: 1 ESTABLISHED ... 11 CLOSING
    assert tally.by_family["ipv4"] == [0, 2, 1, 1, 1, 1, 8, 1, 3, 1, 2, 1, 0]
    assert tally.by_family["ipv6"] == [0, 1, 0, 0, 0, 0, 3, 0, 1, 0, 1, 0, 0]


def test_time_wait_local_ports_and_outbound_destinations(modern_proc):
    tally = tally_of(modern_proc)[0]
    assert tally.tw_local_ports[80] == 2
    assert tally.tw_local_ports[40005] == 1
    assert tally.tw_local_ports[40000] == 1
    assert sum(tally.tw_local_ports) == 11
    ipv4 = dict((_destination_text(2, key), count) for key, count in tally.tw_destinations[2].items())
    ipv6 = dict((_destination_text(10, key), count) for key, count in tally.tw_destinations[10].items())
    # inbound TIME_WAIT (local port 80, the listening 40005, the reserved 40000) is not a destination
    assert ipv4 == {("10.0.0.5", 5432): 3, ("10.0.0.6", 443): 1}
    # the IPv4-mapped peer reads as IPv4
    assert ipv6 == {("2001:db8::1", 443): 2, ("10.0.0.5", 5432): 1}


def test_listeners_close_wait_inodes_and_ports(modern_proc):
    tally = tally_of(modern_proc)[0]
    assert sorted(tally.listeners) == [
        (2, "0.0.0.0", 80, 3, None),
        (2, "127.0.0.1", 40005, 0, None),
        (10, "::", 22, 0, None),
    ]
    assert tally.cw_inodes == {1001: 80, 1002: 80, 1003: 33010, 1004: 22}
    assert tally.cw_local_ports[80] == 2 and tally.cw_local_ports[22] == 1


@pytest.mark.parametrize("family, text, expected", [
    (2, "0100007F", "127.0.0.1"),
    (2, "0A0200C0", "192.0.2.10"),
    (10, "00000000000000000000000001000000", "::1"),
    (10, "B80D0120000000000000000001000000", "2001:db8::1"),
    (10, "0000000000000000FFFF00000500000A", "10.0.0.5"),
])
def test_hex_addresses(family, text, expected):
    assert _procnet.hex_to_address(family, text) == expected


def test_missing_tcp6_is_a_warning_not_an_error(old_kernel_proc):
    tally, warnings = tally_of(old_kernel_proc)
    assert tally.by_family["ipv4"][1] == 2
    assert tally.by_family["ipv4"][6] == 1
    assert tally.by_family["ipv6"] == [0] * 13
    assert any("tcp6 absent" in warning for warning in warnings)


def test_missing_tcp_is_an_error(tmp_path):
    with pytest.raises(_procnet.ProcNetError, match="net/tcp is missing"):
        tally_of(str(tmp_path))


def test_garbage_line_is_a_clear_error():
    lines = ["  sl  local_address rem_address   st tx_queue rx_queue\n", "   0: nonsense\n"]
    with pytest.raises(_procnet.ProcNetError, match="line 2"):
        _procnet.parse_lines(lines, 2, SocketTally(EPHEMERAL))


def test_wrong_header_is_a_clear_error():
    with pytest.raises(_procnet.ProcNetError, match="header"):
        _procnet.parse_lines(["hello\n"], 2, SocketTally(EPHEMERAL))


def test_outbound_table_excludes_reserved_and_listening_ports():
    table = _kernel_state.outbound_port_table(EPHEMERAL, [40005])
    assert table[32767] == 0 and table[32768] == 1 and table[60999] == 1 and table[61000] == 0
    assert table[40000] == 0 and table[40001] == 0 and table[50000] == 0 and table[40005] == 0


# -- odd /proc/net/tcp through proc_root: a bad line is an error naming the file, the rest counts -------

def _proc_with_tcp(modern_proc, tmp_path, extra_lines=b"", tcp6=None):
    import shutil

    proc = str(tmp_path / "proc")
    shutil.copytree(modern_proc, proc)
    with open(proc + "/net/tcp", "ab") as handle:
        handle.write(extra_lines)
    if tcp6 is not None:
        os.unlink(proc + "/net/tcp6")
        tcp6(proc + "/net/tcp6")
    return proc


def collect_with_errors(proc):
    tally = SocketTally(EPHEMERAL)
    warnings, errors = [], []
    _procnet.collect_sockets(tally, proc, warnings, errors)
    return tally, warnings, errors


def test_bad_hex_port_short_line_and_binary_are_errors_and_the_rest_is_counted(modern_proc, tmp_path):
    reference, _warnings, _errors = collect_with_errors(modern_proc)
    bad = (b"  90: 0100007F:ZZZZ 0500000A:1538 06 00000000:00000000 0\n"
           b"  91: 0100007F:1F90\n"
           b"  92: 0100007F:1F90 00000000:0000 0A 00000000:0000000G 0\n"
           b"\x00\xff\xfe\x89PNG\r\n")
    proc = _proc_with_tcp(modern_proc, tmp_path, bad)
    tally, warnings, errors = collect_with_errors(proc)
    path = proc + "/net/tcp"
    assert errors == [
        "%s line %d: unparsable, skipped: '  90: 0100007F:ZZZZ 0500000A:1538 06 00000000:00000000 0'" % (path, 24),
        "%s line %d: unparsable, skipped: '  91: 0100007F:1F90'" % (path, 25),
        "%s line %d: unparsable, skipped: '  92: 0100007F:1F90 00000000:0000 0A 00000000:0000000G 0'" % (path, 26),
        u"%s line %d: unparsable, skipped: '\\x00\ufffd\ufffd\ufffdPNG'" % (path, 27),
    ]
    assert all(error in warnings for error in errors)
    assert tally.by_family == reference.by_family
    assert tally.tw_local_ports == reference.tw_local_ports and tally.listeners == reference.listeners


def test_many_bad_lines_make_a_bounded_list_of_errors(modern_proc, tmp_path):
    proc = _proc_with_tcp(modern_proc, tmp_path, b"  99: garbage\n" * 100000)
    _tally, _warnings, errors = collect_with_errors(proc)
    assert len(errors) == _procnet.MAX_LINE_ERRORS_PER_FILE + 1
    assert errors[-1] == "%s/net/tcp: %d more unparsable lines skipped" % (proc, 100000 - _procnet.MAX_LINE_ERRORS_PER_FILE)


def test_wrong_header_skips_that_file_with_an_error(modern_proc, tmp_path):
    def binary(path):
        with open(path, "wb") as handle:
            handle.write(b"\x7fELF\x02\x01\x01\x00" * 1000)

    proc = _proc_with_tcp(modern_proc, tmp_path, tcp6=binary)
    tally, _warnings, errors = collect_with_errors(proc)
    assert len(errors) == 1 and errors[0].startswith("%s/net/tcp6: unexpected header '\\x7fELF" % proc)
    assert tally.by_family["ipv6"] == [0] * 13 and sum(tally.by_family["ipv4"]) == 22


def test_tcp6_that_is_a_fifo_is_an_error_not_a_hang(modern_proc, tmp_path):
    proc = _proc_with_tcp(modern_proc, tmp_path, tcp6=os.mkfifo)
    tally, _warnings, errors = collect_with_errors(proc)
    assert errors == ["cannot read %s/net/tcp6: a FIFO, not a regular file: not read" % proc]
    assert sum(tally.by_family["ipv4"]) == 22


def test_tcp_that_is_a_link_to_dev_zero_is_refused_by_name(modern_proc, tmp_path):
    proc = _proc_with_tcp(modern_proc, tmp_path)
    os.unlink(proc + "/net/tcp")
    os.symlink("/dev/zero", proc + "/net/tcp")
    with pytest.raises(_procnet.ProcNetError, match="cannot read %s/net/tcp: a character device" % proc):
        collect_with_errors(proc)


def test_destination_no_kernel_writes_is_shown_as_read():
    assert _destination_text(2, "ZZ\x00:1F90") == ("ZZ\\x00:1F90", None)


# -- port headroom: young TIME_WAIT from tm->when and the live outbound sockets -------------------------

def test_live_outbound_sockets_per_destination_with_their_inodes(modern_proc):
    tally = tally_of(modern_proc)[0]
    live = dict(((state, _destination_text(2, key)), count)
                for (state, key), count in tally.live_destinations[2].items())
    # port 80 and the listening 40005 are inbound; SYN_RECV and CLOSE hold no destination
    assert live == {(1, ("10.0.0.5", 5432)): 1, (2, ("10.0.0.9", 80)): 1, (4, ("10.0.0.9", 80)): 1,
                    (5, ("10.0.0.9", 80)): 1, (8, ("10.0.0.8", 8080)): 1, (11, ("10.0.0.9", 80)): 1}
    assert sorted(inode for _key, inode in tally.live_inode_pairs(2)) == [0, 1003, 3002, 3003, 3004, 3007]
    assert tally.tw_young[2] == {}  # reuse is not on in this tally: no timer is read


@pytest.mark.parametrize("ticks_per_second, young", [
    (100, {("10.0.0.5", 5432): 3 + 2, ("10.0.0.6", 443): 1}), (250, {("10.0.0.5", 5432): 1}),
    (1000, {("10.0.0.5", 5432): 1})])
def test_young_time_wait_from_the_timer_column(modern_proc, tmp_path, ticks_per_second, young):
    # tm->when counts USER_HZ ticks; young = more than 59,000 ms left (reuse delay 1000 ms). At 100 Hz the
    # fixture's own TIME_WAIT (0x1770 = 6000 ticks = 60 s, 3 toward 10.0.0.5:5432, 1 to 10.0.0.6) are young, and of the four
    # added here 6000 and 60000 ticks are, 5900 (exactly 59 s) is not; at 250 or 1000 Hz only 60000 ticks are
    lines = "".join("  %d: 0A0200C0:%04X 0500000A:1538 06 00000000:00000000 03:%08X 00000000 0 0 0 3\n"
                    % (90 + n, 0x9000 + n, when) for n, when in enumerate((0x1770, 0x170C, 0x10, 0xEA60)))
    proc = _proc_with_tcp(modern_proc, tmp_path, lines.encode())
    tally = SocketTally(dict(EPHEMERAL, reuse={"effective": "all", "delay_ms": 1000}))
    with open(proc + "/net/tcp") as handle:
        _procnet.parse_lines(handle, 2, tally, ticks_per_second=ticks_per_second)
    assert tally.young_after == 59000
    assert dict((_destination_text(2, key), count) for key, count in tally.tw_young[2].items()) == young
    assert sum(tally.tw_destinations[2].values()) == 3 + 4 + 1  # and 10.0.0.6:443


def test_clock_ticks_come_from_the_c_library():
    assert _procnet.clock_ticks_per_second() == os.sysconf("SC_CLK_TCK")
