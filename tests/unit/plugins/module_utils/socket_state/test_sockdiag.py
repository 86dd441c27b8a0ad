"""The netlink sock_diag decoder on crafted byte buffers, and the request it sends."""

import errno
import socket
import struct

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as _collect
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import sockdiag as _sockdiag
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import SocketTally


def _destination_text(family, key):
    """(address text, port) of a destination key, as the report shows it."""
    return _sockdiag.destination_endpoint(_sockdiag.destination_identity(family, key))


EPHEMERAL = {"low": 32768, "high": 60999, "size": 28232, "reserved": [], "reserved_in_range": 0, "usable": 28232}
NLM_F_MULTI = 0x02


def message(kind, payload=b"", seq=1):
    length = 16 + len(payload)
    padding = b"\0" * (-length % 4)
    return struct.pack("=IHHII", length, kind, NLM_F_MULTI, seq, 0) + payload + padding


def address(family, text):
    raw = socket.inet_pton(family, text)
    return raw + b"\0" * (16 - len(raw))


def diag(family, state, src, sport, dst, dport, rqueue=0, wqueue=0, inode=0, attributes=b"", expires=0):
    payload = struct.pack("=BBBB", family, state, 0, 0)
    payload += struct.pack(">HH", sport, dport) + address(family, src) + address(family, dst)
    payload += struct.pack("=III", 0, 0, 0)                              # if, cookie
    payload += struct.pack("=IIIII", expires, rqueue, wqueue, 0, inode)  # expires, queues, uid, inode
    return message(_sockdiag.SOCK_DIAG_BY_FAMILY, payload + attributes)


def done(code=0):
    return message(_sockdiag.NLMSG_DONE, struct.pack("=i", code))


def error(code):
    return message(_sockdiag.NLMSG_ERROR, struct.pack("=i", -code) + struct.pack("=IHHII", 72, 20, 0x301, 1, 0))


def fresh_tally(listening=(), reuse=None):
    tally = SocketTally(dict(EPHEMERAL, reuse=reuse) if reuse else EPHEMERAL)
    for port in listening:
        tally.outbound_ports[port] = 0
    return tally


def test_several_messages_in_one_buffer():
    tally = fresh_tally()
    data = b"".join([
        diag(2, 1, "10.0.0.1", 40000, "10.0.0.2", 5432),
        diag(2, 6, "10.0.0.1", 40001, "10.0.0.2", 5432),
        diag(2, 6, "10.0.0.1", 40002, "10.0.0.2", 5432),
        diag(2, 6, "10.0.0.1", 80, "198.51.100.1", 50000),      # inbound: port 80 is outside the range
        diag(2, 8, "10.0.0.1", 8080, "10.0.0.3", 50001, inode=777),
        diag(2, 10, "0.0.0.0", 8080, "0.0.0.0", 0, rqueue=5, wqueue=128),
        done(),
    ])
    assert _sockdiag.walk_messages(data, 2, tally) is True
    assert tally.by_family["ipv4"][1] == 1
    assert tally.by_family["ipv4"][6] == 3
    assert tally.by_family["ipv4"][8] == 1
    assert tally.by_family["ipv4"][10] == 1
    assert tally.tw_local_ports[40001] == 1 and tally.tw_local_ports[80] == 1
    destinations = dict((_destination_text(2, key), count)
                        for key, count in tally.tw_destinations[2].items())
    assert destinations == {("10.0.0.2", 5432): 2}
    assert tally.cw_inodes == {777: 8080}
    assert tally.listeners == [(2, "0.0.0.0", 8080, 5, 128)]


def test_ipv6_and_ipv4_mapped_destinations():
    tally = fresh_tally()
    data = b"".join([
        diag(10, 6, "2001:db8::10", 33000, "2001:db8::1", 443),
        diag(10, 6, "::ffff:192.0.2.10", 33001, "::ffff:10.0.0.5", 5432),
        diag(10, 10, "::", 22, "::", 0, rqueue=0, wqueue=4096),
    ])
    assert _sockdiag.walk_messages(data, 10, tally) is False
    destinations = dict((_destination_text(10, key), count)
                        for key, count in tally.tw_destinations[10].items())
    assert destinations == {("2001:db8::1", 443): 1, ("10.0.0.5", 5432): 1}
    assert tally.by_family["ipv6"][6] == 2 and tally.by_family["ipv4"] == [0] * 13
    assert tally.listeners == [(10, "::", 22, 0, 4096)]


def test_listening_port_inside_the_range_is_inbound():
    tally = fresh_tally(listening=[40005])
    _sockdiag.walk_messages(diag(2, 6, "127.0.0.1", 40005, "127.0.0.1", 50000), 2, tally)
    assert tally.tw_local_ports[40005] == 1
    assert tally.tw_destinations[2] == {}


def test_messages_with_attributes_are_walked_by_their_length():
    tally = fresh_tally()
    attribute = struct.pack("=HHB3x", 5, 8, 0)  # an rtattr (INET_DIAG_SHUTDOWN) padded to 8 bytes
    data = diag(2, 1, "10.0.0.1", 1, "10.0.0.2", 2, attributes=attribute) + diag(2, 9, "10.0.0.1", 3, "10.0.0.2", 4)
    assert _sockdiag.walk_messages(data, 2, tally) is False
    assert tally.by_family["ipv4"][1] == 1 and tally.by_family["ipv4"][9] == 1


def test_multipart_dump_across_buffers():
    tally = fresh_tally()
    first = diag(2, 6, "10.0.0.1", 40000, "10.0.0.2", 80) * 3
    second = diag(2, 6, "10.0.0.1", 40001, "10.0.0.2", 80) + done()
    assert _sockdiag.walk_messages(first, 2, tally) is False
    assert _sockdiag.walk_messages(second, 2, tally) is True
    assert sum(tally.tw_local_ports) == 4


def test_done_alone_ends_the_dump():
    assert _sockdiag.walk_messages(done(), 2, fresh_tally()) is True
    assert _sockdiag.walk_messages(message(_sockdiag.NLMSG_DONE), 2, fresh_tally()) is True


def test_done_with_an_error_code_raises():
    with pytest.raises(_sockdiag.SockDiagError, match="dump failed"):
        _sockdiag.walk_messages(done(-errno.EINTR), 2, fresh_tally())


def test_error_message_raises_with_the_errno():
    with pytest.raises(_sockdiag.SockDiagError, match="Operation not permitted"):
        _sockdiag.walk_messages(diag(2, 1, "10.0.0.1", 1, "10.0.0.2", 2) + error(errno.EPERM), 2, fresh_tally())


def test_error_zero_is_an_acknowledgement():
    tally = fresh_tally()
    assert _sockdiag.walk_messages(error(0) + diag(2, 1, "10.0.0.1", 1, "10.0.0.2", 2), 2, tally) is False
    assert tally.by_family["ipv4"][1] == 1


@pytest.mark.parametrize("cut", [5, 16, 30, 87])
def test_truncated_buffer_is_a_clear_error(cut):
    data = diag(2, 1, "10.0.0.1", 1, "10.0.0.2", 2) + diag(2, 1, "10.0.0.1", 3, "10.0.0.2", 4)[:cut]
    with pytest.raises(_sockdiag.SockDiagError, match="truncated|malformed"):
        _sockdiag.walk_messages(data, 2, fresh_tally())


def test_short_inet_diag_message_is_a_clear_error():
    with pytest.raises(_sockdiag.SockDiagError, match="truncated inet_diag_msg"):
        _sockdiag.walk_messages(message(_sockdiag.SOCK_DIAG_BY_FAMILY, b"\x02\x01" + b"\0" * 22), 2, fresh_tally())


def test_length_below_header_is_a_clear_error():
    data = struct.pack("=IHHII", 8, 20, 0, 0, 0) + b"\0" * 16
    with pytest.raises(_sockdiag.SockDiagError, match="malformed"):
        _sockdiag.walk_messages(data, 2, fresh_tally())


def test_truncated_error_message_is_a_clear_error():
    data = struct.pack("=IHHII", 18, _sockdiag.NLMSG_ERROR, 0, 0, 0) + b"\0\0" + b"\0" * 8
    with pytest.raises(_sockdiag.SockDiagError, match="truncated NLMSG_ERROR"):
        _sockdiag.walk_messages(data, 2, fresh_tally())


def test_unknown_message_type_is_a_clear_error():
    with pytest.raises(_sockdiag.SockDiagError, match="unexpected netlink message type 99"):
        _sockdiag.walk_messages(message(99, b"\0" * 8), 2, fresh_tally())


def test_request_layout():
    request = _sockdiag.build_request(10, 0xFFF, 7)
    length, kind, flags, seq, pid = struct.unpack_from("=IHHII", request)
    assert (length, kind, flags, seq, pid) == (72, 20, 0x301, 7, 0)
    assert len(request) == 72
    family, protocol, ext, pad, states = struct.unpack_from("=BBBBI", request, 16)
    assert (family, protocol, ext, pad, states) == (10, 6, 0, 0, 0xFFF)
    assert request[24:] == b"\0" * 48


def test_network_port_table_maps_every_raw_value_to_its_port():
    raw = struct.unpack("=H", struct.pack(">H", 8080))[0]
    assert _sockdiag.NETWORK_PORT[raw] == 8080
    assert list(_sockdiag.NETWORK_PORT) == list(struct.unpack("=65536H", struct.pack(">65536H", *range(65536))))


# --- the strided fast path for runs of same-length messages --------------------------------------

PADDING = struct.pack("=HHB3x", 5, 8, 0)  # one 8-byte attribute, as the kernel adds to TIME_WAIT replies


def chunk_tally(data, family, listening=(), reuse=None):
    """Aggregate through walk_chunk (fast path) and fold the TIME_WAIT ports as dump() does."""
    from collections import Counter

    tally = fresh_tally(listening, reuse)
    tally.listeners_complete(_sockdiag.NETWORK_PORT)
    run_state = _sockdiag.RunState()
    finished = _sockdiag.walk_chunk(data, family, tally, run_state)
    _sockdiag.fold_run(run_state, tally)
    return finished, tally


def walker_tally(data, family, listening=(), reuse=None):
    tally = fresh_tally(listening, reuse)
    tally.listeners_complete(_sockdiag.NETWORK_PORT)
    return _sockdiag.walk_messages(data, family, tally), tally


def same_aggregate(first, second):
    assert first.by_family == second.by_family
    assert first.tw_local_ports == second.tw_local_ports
    assert dict(first.tw_destinations[2]) == dict(second.tw_destinations[2])
    assert dict(first.tw_destinations[10]) == dict(second.tw_destinations[10])
    assert first.cw_local_ports == second.cw_local_ports
    assert first.cw_inodes == second.cw_inodes
    assert first.listeners == second.listeners
    for family in (2, 10):
        assert dict(first.tw_young[family]) == dict(second.tw_young[family])
        assert dict(first.live_destinations[family]) == dict(second.live_destinations[family])
        assert sorted(first.live_inode_pairs(family)) == sorted(second.live_inode_pairs(family))


def test_time_wait_run_takes_the_fast_path_and_agrees_with_the_walker():
    records = [diag(2, 6, "10.0.0.1", port, "10.0.0.%d" % (2 + port % 3), 5432, attributes=PADDING)
               for port in range(40000, 40050)]
    records += [diag(2, 6, "10.0.0.1", 80, "198.51.100.1", 50000 + n, attributes=PADDING) for n in range(5)]
    records.append(diag(2, 6, "10.0.0.1", 40100, "10.0.0.9", 443, attributes=PADDING))  # listening: inbound
    data = b"".join(records) + done()
    assert _sockdiag.uniform_run(data, 2) == (56, 96)
    finished, fast = chunk_tally(data, 2, listening=[40100])
    assert finished is True
    walked_finished, walked = walker_tally(data, 2, listening=[40100])
    assert walked_finished is True
    same_aggregate(fast, walked)
    assert fast.by_family["ipv4"][6] == 56
    assert fast.tw_local_ports[80] == 5 and fast.tw_local_ports[40100] == 1
    destinations = dict((_destination_text(2, key), count) for key, count in fast.tw_destinations[2].items())
    assert destinations == {("10.0.0.2", 5432): 16, ("10.0.0.3", 5432): 17, ("10.0.0.4", 5432): 17}


def test_ipv6_time_wait_run_with_mapped_addresses():
    records = [diag(10, 6, "2001:db8::10", 33000 + n, "2001:db8::1", 443) for n in range(4)]
    records += [diag(10, 6, "::ffff:192.0.2.10", 33100 + n, "::ffff:10.0.0.5", 5432) for n in range(3)]
    data = b"".join(records)
    assert _sockdiag.uniform_run(data, 10) == (7, 88)
    finished, fast = chunk_tally(data, 10)
    assert finished is False
    same_aggregate(fast, walker_tally(data, 10)[1])
    destinations = dict((_destination_text(10, key), count) for key, count in fast.tw_destinations[10].items())
    assert destinations == {("2001:db8::1", 443): 4, ("10.0.0.5", 5432): 3}


def test_mixed_state_run_counts_and_keeps_the_stateful_sockets():
    records = [diag(2, 1, "10.0.0.1", 1000 + n, "10.0.0.2", 80) for n in range(20)]
    records.insert(3, diag(2, 8, "10.0.0.1", 8080, "10.0.0.3", 50001, inode=4242))
    records.insert(9, diag(2, 10, "127.0.0.1", 9000, "0.0.0.0", 0, rqueue=1, wqueue=50))
    records.insert(12, diag(2, 6, "10.0.0.1", 45000, "10.0.0.7", 6379))
    records.append(diag(2, 5, "10.0.0.1", 2000, "10.0.0.2", 80))
    data = b"".join(records) + done()
    assert _sockdiag.uniform_run(data, 2) == (24, 88)
    finished, fast = chunk_tally(data, 2)
    assert finished is True
    same_aggregate(fast, walker_tally(data, 2)[1])
    assert fast.by_family["ipv4"][1] == 20 and fast.by_family["ipv4"][5] == 1
    assert fast.cw_inodes == {4242: 8080}
    assert fast.listeners == [(2, "127.0.0.1", 9000, 1, 50)]
    assert fast.tw_local_ports[45000] == 1


def test_the_per_port_tables_are_made_only_for_a_state_the_dump_holds():
    """Both paths leave the 256 KiB TIME_WAIT and CLOSE_WAIT tables unmade without such a socket, and the
    facts built from the tally still say 0 and no top ports."""
    established = b"".join(diag(2, 1, "10.0.0.1", 40000 + n, "10.0.0.2", 80) for n in range(5)) + done()
    for finished, tally in (chunk_tally(established, 2), walker_tally(established, 2)):
        assert finished is True
        assert tally._tw_local_ports is None and tally._cw_local_ports is None
        time_wait, _search = _collect._time_wait(tally, _sockdiag, 10)
        assert (time_wait["total"], time_wait["top_local_ports"]) == (0, [])
        assert (_collect._close_wait(tally, 10)["total"], _collect._close_wait(tally, 10)["top_local_ports"]) == (0, [])
    with_time_wait = diag(2, 6, "10.0.0.1", 45000, "10.0.0.7", 6379) + done()
    for _finished, tally in (chunk_tally(with_time_wait, 2), walker_tally(with_time_wait, 2)):
        assert tally._tw_local_ports is not None and tally._cw_local_ports is None
        assert tally.tw_local_ports[45000] == 1


def test_mixed_lengths_fall_back_to_the_walker():
    data = diag(2, 1, "10.0.0.1", 3, "10.0.0.2", 4) + diag(2, 6, "10.0.0.1", 40000, "10.0.0.2", 80, attributes=PADDING) * 2
    assert _sockdiag.uniform_run(data, 2) == (0, 0)
    finished, fast = chunk_tally(data + done(), 2)
    assert finished is True
    same_aggregate(fast, walker_tally(data + done(), 2)[1])
    assert fast.by_family["ipv4"][6] == 2 and fast.by_family["ipv4"][1] == 1


def test_wrong_family_is_not_a_uniform_run():
    data = diag(10, 1, "::1", 1, "::1", 2) * 3
    assert _sockdiag.uniform_run(data, 2) == (0, 0)


def test_truncated_tail_after_a_run_is_a_clear_error():
    data = diag(2, 6, "10.0.0.1", 40000, "10.0.0.2", 80) * 4 + diag(2, 6, "10.0.0.1", 40001, "10.0.0.2", 80)[:40]
    with pytest.raises(_sockdiag.SockDiagError):
        chunk_tally(data, 2)


# --- which dumps collect_sockets asks for --------------------------------------------------------

class _FakeSocket(object):
    def close(self):
        pass


@pytest.fixture
def recorded_dumps(monkeypatch):
    """Replace the kernel with a fixed table: 5 IPv4 TIME_WAIT, 2 IPv6 TIME_WAIT, 3 IPv4 ESTABLISHED."""
    calls = []
    table = {(2, _sockdiag.TIME_WAIT_ONLY): 5, (10, _sockdiag.TIME_WAIT_ONLY): 2, (2, _sockdiag.OTHER_STATES): 3}

    def fake_dump(sock, family, states, tally, seq=1):
        calls.append((family, states))
        state = 6 if states == _sockdiag.TIME_WAIT_ONLY else 1
        tally.by_family["ipv6" if family == 10 else "ipv4"][state] += table.get((family, states), 0)

    monkeypatch.setattr(_sockdiag, "open_socket", _FakeSocket)
    monkeypatch.setattr(_sockdiag, "dump", fake_dump)
    return calls


def test_all_dumps_without_live_counts(recorded_dumps):
    _sockdiag.collect_sockets(fresh_tally())
    assert len(recorded_dumps) == 6


def test_ipv6_dumps_kept_when_ipv6_has_time_wait_or_sockets(recorded_dumps):
    tally = fresh_tally()
    _sockdiag.collect_sockets(tally, lambda: (7, 1, 3))  # 7 TIME_WAIT in all, IPv4 holds only 5
    assert (10, _sockdiag.TIME_WAIT_ONLY) in recorded_dumps
    assert (10, _sockdiag.OTHER_STATES) in recorded_dumps
    assert tally.by_family["ipv6"][6] == 2


def test_ipv6_dumps_skipped_when_ipv4_accounts_for_everything(recorded_dumps):
    _sockdiag.collect_sockets(fresh_tally(), lambda: (5, 0, 3))
    assert recorded_dumps == [(2, _sockdiag.LISTEN_ONLY), (2, _sockdiag.TIME_WAIT_ONLY), (2, _sockdiag.OTHER_STATES)]


def test_ipv6_listeners_dumped_when_ipv6_sockets_are_in_use(recorded_dumps):
    _sockdiag.collect_sockets(fresh_tally(), lambda: (5, 1, 3))
    assert recorded_dumps[:2] == [(2, _sockdiag.LISTEN_ONLY), (10, _sockdiag.LISTEN_ONLY)]


def test_ipv6_dumps_kept_when_the_counts_moved_during_the_dump(recorded_dumps):
    readings = iter([(5, 0, 3), (6, 0, 3), (6, 1, 3)])
    _sockdiag.collect_sockets(fresh_tally(), lambda: next(readings))
    assert (10, _sockdiag.TIME_WAIT_ONLY) in recorded_dumps
    assert (10, _sockdiag.OTHER_STATES) in recorded_dumps


def test_a_namespace_without_any_tcp_socket_is_not_dumped(recorded_dumps):
    tally = fresh_tally(listening=(8080,))
    _sockdiag.collect_sockets(tally, lambda: (0, 0, 0))
    assert recorded_dumps == [] and tally.outbound_by_raw_port is not None
    for one_socket in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
        del recorded_dumps[:]
        _sockdiag.collect_sockets(fresh_tally(), lambda: one_socket)
        assert (2, _sockdiag.LISTEN_ONLY) in recorded_dumps, one_socket


def test_ipv6_dumps_kept_when_sockstat_is_unreadable(recorded_dumps):
    _sockdiag.collect_sockets(fresh_tally(), lambda: None)
    assert len(recorded_dumps) == 6


# --- receiving a dump over a real datagram socket pair --------------------------------------------

def deliver(datagrams, close=False):
    """A local socket from which receive_dump reads ``datagrams``, one per recv, as from netlink."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.settimeout(2)  # a decoder that waits for more than was sent fails instead of hanging the run
    for datagram in datagrams:
        theirs.send(datagram)
    if close:
        theirs.close()
    return ours, theirs


def looks_final(record):
    """A CLOSE_WAIT reply whose last 20 bytes read as an NLMSG_DONE header (expires 20 ms, 3 bytes queued)."""
    record = bytearray(record)
    struct.pack_into("=I", record, len(record) - 20, 20)
    return bytes(record)


def test_a_dump_across_datagrams_is_received_whole():
    time_wait = [diag(2, 6, "10.0.0.1", 40000 + n, "10.0.0.2", 80, attributes=PADDING) for n in range(30)]
    sock, peer = deliver([b"".join(time_wait[:10]), b"".join(time_wait[10:20]), b"".join(time_wait[20:]) + done()])
    tally = fresh_tally()
    tally.listeners_complete(_sockdiag.NETWORK_PORT)
    _sockdiag.receive_dump(sock, 2, tally)
    assert tally.by_family["ipv4"][6] == 30 and sum(tally.tw_local_ports) == 30
    peer.send(b"next")  # nothing of the dump is left unread, and no reader is left waiting
    assert sock.recv(16) == b"next"
    peer.close()


def mixed_time_wait(sources):
    """TIME_WAIT from ``sources`` toward four destinations on two ports, some young (reuse on), a few
    inbound on a listening port: the records of the fast path's number-keyed counters."""
    records = []
    for n in range(120):
        records.append(diag(2, 6, sources[n % len(sources)], 40000 + n, "10.0.0.%d" % (2 + n % 4),
                            5432 if n % 3 else 6379, attributes=PADDING, expires=59900 if n % 5 == 0 else 20000))
    records += [diag(2, 6, sources[0], 8080, "198.51.100.%d" % n, 50000 + n, attributes=PADDING) for n in range(3)]
    return records


@pytest.mark.parametrize("sources", [["10.0.0.1"], ["10.0.0.1", "192.0.2.7"]], ids=["one-source", "two-sources"])
def test_time_wait_counted_by_destination_number_agrees_with_the_walker(sources):
    data = b"".join(mixed_time_wait(sources)) + done()
    fast = chunk_tally(data, 2, listening=[8080], reuse=REUSE_ON)[1]
    walker = walker_tally(data, 2, listening=[8080], reuse=REUSE_ON)[1]
    same_aggregate(fast, walker)
    assert sum(fast.tw_destinations[2].values()) == 120 and sum(fast.tw_young[2].values()) == 24


def test_time_wait_whose_source_fields_differ_beyond_the_address_keeps_them_apart():
    """The key holds the whole 16-byte source field: replies that differ only past its first four bytes
    (which an IPv4 reply leaves zero) are not one source to the fast path."""
    records = []
    for n, record in enumerate(mixed_time_wait(["10.0.0.1"])):
        record = bytearray(record)
        record[16 + 8 + 8] = n % 2  # byte 8 of the source field
        records.append(bytes(record))
    data = b"".join(records) + done()
    fast = chunk_tally(data, 2, listening=[8080], reuse=REUSE_ON)[1]
    same_aggregate(fast, walker_tally(data, 2, listening=[8080], reuse=REUSE_ON)[1])
    assert len(fast.tw_destinations[2]) == 8


def walks_counted(monkeypatch, datagrams):
    """receive_dump over ``datagrams``: (how many replies each walk of the fast path took, the tally)."""
    walked = []
    real = _sockdiag.walk_uniform

    def walk_uniform(data, count, length, *args):
        walked.append(count)
        return real(data, count, length, *args)
    monkeypatch.setattr(_sockdiag, "walk_uniform", walk_uniform)
    sock, peer = deliver(datagrams)
    tally = fresh_tally()
    tally.listeners_complete(_sockdiag.NETWORK_PORT)
    _sockdiag.receive_dump(sock, 2, tally)
    peer.close()
    return walked, tally


def test_a_batch_is_walked_before_the_buffer_has_no_room_for_another_datagram(monkeypatch):
    monkeypatch.setattr(_sockdiag, "_PER_THREAD", type(_sockdiag._PER_THREAD)())
    monkeypatch.setattr(_sockdiag, "RECEIVE_BUFFER", 1000)
    monkeypatch.setattr(_sockdiag, "DATAGRAM_ROOM", 400)
    monkeypatch.setattr(_sockdiag, "BATCH", 10000)
    records = mixed_time_wait(["10.0.0.1"])[:15]
    walked, tally = walks_counted(monkeypatch, [b"".join(records[start:start + 3]) for start in range(0, 15, 3)]
                                  + [done()])
    # 288 bytes a datagram: after three, 136 bytes are left of 1000, fewer than the room a datagram needs
    assert walked == [9, 6] and tally.by_family["ipv4"][6] == 15


def test_datagrams_gathered_across_lengths_and_a_mixed_one_agree_with_the_walker():
    records = mixed_time_wait(["10.0.0.1"])
    short = [diag(2, 6, "10.0.0.1", 45000 + n, "10.0.0.3", 5432, expires=59950) for n in range(30)]  # no attribute
    mixed = [diag(2, 1, "10.0.0.1", 46000, "10.0.0.3", 5432, inode=9)] + short[:2]
    datagrams = [b"".join(records[:40]), b"".join(records[40:80]), b"".join(short[2:20]),
                 b"".join(mixed), b"".join(records[80:]), b"".join(short[20:]), done()]
    sock, peer = deliver(datagrams)
    tally = fresh_tally([8080], REUSE_ON)
    tally.listeners_complete(_sockdiag.NETWORK_PORT)
    _sockdiag.receive_dump(sock, 2, tally)
    walker = walker_tally(b"".join(datagrams), 2, listening=[8080], reuse=REUSE_ON)[1]
    same_aggregate(tally, walker)
    assert tally.by_family["ipv4"][6] == 123 + 30
    peer.close()


def test_a_batch_is_walked_when_it_reaches_its_size(monkeypatch):
    monkeypatch.setattr(_sockdiag, "BATCH", 3 * 96)
    records = mixed_time_wait(["10.0.0.1"])[:10]
    walked, tally = walks_counted(monkeypatch, [b"".join(records[start:start + 2]) for start in range(0, 10, 2)]
                                  + [done()])
    assert walked == [4, 4, 2] and tally.by_family["ipv4"][6] == 10


def test_a_datagram_larger_than_the_room_left_is_an_error_not_a_cut(monkeypatch):
    monkeypatch.setattr(_sockdiag, "_PER_THREAD", type(_sockdiag._PER_THREAD)())
    monkeypatch.setattr(_sockdiag, "RECEIVE_BUFFER", 200)
    sock, peer = deliver([b"".join(mixed_time_wait(["10.0.0.1"])[:3]) + done()])
    with pytest.raises(_sockdiag.SockDiagError, match="datagram of 308 bytes does not fit the 200 bytes"):
        _sockdiag.receive_dump(sock, 2, fresh_tally())
    peer.close()


def test_a_datagram_that_only_looks_final_does_not_end_the_dump():
    first = looks_final(diag(2, 8, "10.0.0.1", 5000, "10.0.0.2", 41000, rqueue=3, inode=77))
    second = diag(2, 8, "10.0.0.1", 5000, "10.0.0.2", 41001, inode=78) + done()
    sock, peer = deliver([first, second])
    tally = fresh_tally()
    _sockdiag.receive_dump(sock, 2, tally)
    assert tally.by_family["ipv4"][8] == 2 and tally.cw_inodes == {77: 5000, 78: 5000}
    peer.close()


def test_an_error_datagram_raises_with_the_errno():
    sock, peer = deliver([error(errno.EACCES)])
    with pytest.raises(_sockdiag.SockDiagError, match="Permission denied"):
        _sockdiag.receive_dump(sock, 2, fresh_tally())
    peer.close()


def test_a_socket_closed_before_the_end_is_a_clear_error():
    sock = deliver([diag(2, 1, "10.0.0.1", 1, "10.0.0.2", 2)], close=True)[0]
    with pytest.raises(_sockdiag.SockDiagError, match="closed before the end of the dump"):
        _sockdiag.receive_dump(sock, 2, fresh_tally())


# -- port headroom: young TIME_WAIT and the live outbound sockets per destination -------------------------

REUSE_ON = {"effective": "all", "delay_ms": 1000}


def destinations_of(counter, family=2):
    return dict((_destination_text(family, key), count) for key, count in counter.items())


@pytest.mark.parametrize("young_after", [-1, 0, 1, 255, 256, 58999, 59000, 59255, 59256, 60000, 65535])
def test_young_flags_compare_the_whole_expires_field(young_after):
    values = [0, 1, 255, 256, 257, 58999, 59000, 59001, 59255, 59256, 59744, 60000, 65535, 65536, 70000, 2 ** 32 - 1]
    data = b"".join(diag(2, 6, "10.0.0.1", 40000, "10.0.0.2", 80, expires=value) for value in values)
    flags = _sockdiag.young_flags(data, len(data), 88, young_after)
    assert list(flags) == [1 if value > young_after else 0 for value in values]


def test_young_outbound_time_wait_is_counted_per_destination_on_both_paths():
    records = [diag(2, 6, "10.0.0.1", 40000 + n, "10.0.0.2", 5432, attributes=PADDING, expires=59500 if n < 3 else 20000)
               for n in range(10)]
    records.append(diag(2, 6, "10.0.0.1", 80, "198.51.100.1", 50000, attributes=PADDING, expires=59999))  # inbound
    data = b"".join(records)
    fast = chunk_tally(data, 2, reuse=REUSE_ON)[1]
    same_aggregate(fast, walker_tally(data, 2, reuse=REUSE_ON)[1])
    assert fast.young_after == 59000
    assert destinations_of(fast.tw_young[2]) == {("10.0.0.2", 5432): 3}
    assert destinations_of(fast.tw_destinations[2]) == {("10.0.0.2", 5432): 10}


def test_without_reuse_no_age_is_looked_at():
    data = diag(2, 6, "10.0.0.1", 40000, "10.0.0.2", 5432, expires=59999) * 3
    for reuse in (None, {"effective": "none", "delay_ms": 1000}):
        fast = chunk_tally(data, 2, reuse=reuse)[1]
        assert fast.young_after is None and fast.tw_young[2] == {}


def test_live_outbound_sockets_are_keyed_by_destination_with_their_inodes():
    records = [diag(2, 1, "10.0.0.1", 40000 + n, "10.0.0.2", 5432, inode=500 + n) for n in range(5)]
    records.append(diag(2, 2, "10.0.0.1", 40010, "10.0.0.2", 5432, inode=600))          # SYN_SENT
    records.append(diag(2, 8, "10.0.0.1", 40011, "10.0.0.3", 80, inode=601))            # CLOSE_WAIT, outbound
    records.append(diag(2, 9, "10.0.0.1", 40012, "10.0.0.3", 80))                       # LAST_ACK, orphaned
    records.append(diag(2, 1, "10.0.0.1", 443, "198.51.100.7", 50000, inode=700))       # inbound: port 443
    records.append(diag(2, 1, "10.0.0.1", 40100, "198.51.100.8", 50001, inode=701))     # on a listening port
    records.append(diag(2, 3, "10.0.0.1", 40013, "10.0.0.4", 80))                       # SYN_RECV holds nothing
    records.append(diag(2, 7, "10.0.0.1", 40014, "0.0.0.0", 0, inode=702))              # CLOSE: no destination
    data = b"".join(records) + done()
    finished, fast = chunk_tally(data, 2, listening=[40100])
    assert finished is True
    same_aggregate(fast, walker_tally(data, 2, listening=[40100])[1])
    live = dict(((state, _destination_text(2, key)), count)
                for (state, key), count in fast.live_destinations[2].items())
    assert live == {(1, ("10.0.0.2", 5432)): 5, (2, ("10.0.0.2", 5432)): 1, (8, ("10.0.0.3", 80)): 1,
                    (9, ("10.0.0.3", 80)): 1}
    inodes = sorted((_destination_text(2, key), inode) for key, inode in fast.live_inode_pairs(2))
    assert inodes == sorted([(("10.0.0.2", 5432), 500 + n) for n in range(5)]
                            + [(("10.0.0.2", 5432), 600), (("10.0.0.3", 80), 601), (("10.0.0.3", 80), 0)])
    assert fast.cw_inodes == {601: 40011}


def test_live_ipv6_sockets_toward_a_mapped_address_read_as_ipv4():
    data = b"".join(diag(10, 1, "::ffff:192.0.2.10", 40000 + n, "::ffff:10.0.0.5", 5432, inode=800 + n) for n in range(3))
    fast = chunk_tally(data, 10)[1]
    same_aggregate(fast, walker_tally(data, 10)[1])
    assert dict(((state, _destination_text(10, key)), count)
                for (state, key), count in fast.live_destinations[10].items()) == {(1, ("10.0.0.5", 5432)): 3}


def test_the_listeners_dump_runs_before_the_outbound_ports_are_known():
    tally = fresh_tally()
    data = b"".join(diag(2, 10, "0.0.0.0", 8000 + n, "0.0.0.0", 0, wqueue=128) for n in range(4))
    from collections import Counter

    _sockdiag.walk_chunk(data, 2, tally, _sockdiag.RunState())
    assert [listener[2] for listener in tally.listeners] == [8000, 8001, 8002, 8003]
    assert tally.live_destinations[2] == {}


# --- one dump of every non-listening state against TIME_WAIT and the other states apart ---------

def kernel_table():
    """A namespace's sockets as the kernel replies them: TIME_WAIT (with its 8-byte attribute, so the
    replies of a mixed dump differ in length), live outbound and inbound sockets, CLOSE_WAIT, listeners,
    in both families, in hash order (interleaved)."""
    records = []
    for n in range(40):
        records.append(diag(2, 1, "10.0.0.1", 40000 + n, "10.0.0.%d" % (2 + n % 4), 5432, inode=1000 + n))
        if n % 3 == 0:
            records.append(diag(2, 6, "10.0.0.1", 41000 + n, "10.0.0.%d" % (2 + n % 2), 5432, attributes=PADDING,
                                expires=59900 if n % 2 else 30000))
        if n % 7 == 0:
            records.append(diag(2, 8, "10.0.0.1", 8080, "198.51.100.%d" % n, 50000 + n, inode=2000 + n))
    records.append(diag(2, 6, "10.0.0.1", 80, "198.51.100.1", 50001, attributes=PADDING))   # inbound TIME_WAIT
    records.append(diag(2, 6, "10.0.0.1", 40100, "10.0.0.9", 443, attributes=PADDING))     # on a listening port
    records.append(diag(2, 2, "10.0.0.1", 40200, "10.0.0.7", 6379, inode=3000))           # SYN_SENT
    records.append(diag(2, 5, "10.0.0.1", 40201, "10.0.0.7", 6379))                       # FIN_WAIT2
    records += [diag(2, 10, "0.0.0.0", port, "0.0.0.0", 0, rqueue=1, wqueue=128) for port in (8080, 40100)]
    records += [diag(10, 10, "::", 22, "::", 0, wqueue=4096)]
    for n in range(6):
        records.append(diag(10, 1, "2001:db8::10", 42000 + n, "2001:db8::1", 443, inode=4000 + n))
        records.append(diag(10, 6, "::ffff:192.0.2.10", 42100 + n, "::ffff:10.0.0.2", 5432, attributes=PADDING))
    return records


def replaying_kernel(monkeypatch, records, chunk):
    """Replace the kernel's dumps with ``records`` filtered by family and state mask, delivered ``chunk``
    replies per datagram through the real decoder; return the list of dumps asked for."""
    from collections import Counter

    calls = []

    def fake_dump(sock, family, states, tally, seq=1):
        calls.append((family, states))
        wanted = [record for record in records if record[16] == family and states & (1 << record[17])]
        datagrams = [b"".join(wanted[start:start + chunk]) for start in range(0, len(wanted), chunk)]
        datagrams.append(done())
        run_state = _sockdiag.RunState()
        for datagram in datagrams:
            if _sockdiag.walk_chunk(datagram, family, tally, run_state):
                break
        _sockdiag.fold_run(run_state, tally)

    monkeypatch.setattr(_sockdiag, "open_socket", _FakeSocket)
    monkeypatch.setattr(_sockdiag, "dump", fake_dump)
    return calls


@pytest.mark.parametrize("chunk", [1, 7, 1000])
@pytest.mark.parametrize("reuse", [None, REUSE_ON])
def test_one_dump_per_family_and_the_split_dumps_tally_the_same(monkeypatch, chunk, reuse):
    records = kernel_table()
    time_wait = sum(1 for record in records if record[17] == 6)
    calls = replaying_kernel(monkeypatch, records, chunk)
    split = fresh_tally(reuse=reuse)
    _sockdiag.collect_sockets(split, lambda: (time_wait, 7, 45))
    split_calls = list(calls)
    del calls[:]
    one = fresh_tally(reuse=reuse)
    one.split_dump_above = time_wait
    _sockdiag.collect_sockets(one, lambda: (time_wait, 7, 45))
    assert split_calls[2:] == [(2, _sockdiag.TIME_WAIT_ONLY), (10, _sockdiag.TIME_WAIT_ONLY),
                               (2, _sockdiag.OTHER_STATES), (10, _sockdiag.OTHER_STATES)]
    assert calls[2:] == [(2, _sockdiag.NOT_LISTENING), (10, _sockdiag.NOT_LISTENING)]
    same_aggregate(one, split)
    assert one.tw_young == split.tw_young and one.live_destinations == split.live_destinations
    assert one.by_family["ipv4"][6] == 16 and one.by_family["ipv6"][6] == 6 and one.by_family["ipv4"][1] == 40
    assert one.tw_local_ports[80] == 1 and one.tw_local_ports[40100] == 1 and sum(one.tw_local_ports) == 22
    assert destinations_of(one.tw_destinations[2]) == {("10.0.0.2", 5432): 7, ("10.0.0.3", 5432): 7}
    assert sorted(one.cw_inodes) == [2000 + n for n in range(0, 40, 7)]
    if reuse:
        assert destinations_of(one.tw_young[2]) == {("10.0.0.3", 5432): 7}


def test_one_dump_skips_ipv6_when_ipv4_holds_every_socket(monkeypatch):
    records = [record for record in kernel_table() if record[16] == 2]
    time_wait = sum(1 for record in records if record[17] == 6)
    calls = replaying_kernel(monkeypatch, records, 50)
    tally = fresh_tally()
    tally.split_dump_above = 10000
    _sockdiag.collect_sockets(tally, lambda: (time_wait, 0, 45))
    assert calls == [(2, _sockdiag.LISTEN_ONLY), (2, _sockdiag.NOT_LISTENING)]
    assert tally.by_family["ipv4"][6] == time_wait


def test_many_time_wait_keep_the_split_dumps(monkeypatch):
    calls = replaying_kernel(monkeypatch, kernel_table(), 50)
    tally = fresh_tally()
    tally.split_dump_above = 21  # the namespace holds 22
    _sockdiag.collect_sockets(tally, lambda: (22, 7, 45))
    assert (2, _sockdiag.NOT_LISTENING) not in calls and (2, _sockdiag.TIME_WAIT_ONLY) in calls
    assert tally.by_family["ipv4"][6] + tally.by_family["ipv6"][6] == 22
