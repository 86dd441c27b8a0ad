# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""List TCP sockets through netlink NETLINK_SOCK_DIAG / SOCK_DIAG_BY_FAMILY (what ``ss`` uses).

The decoder aggregates while it walks the kernel's replies into a tally (see
``_tcp_state.SocketTally``); no per-socket object is kept. Standard library only.

Layouts (linux/netlink.h, linux/inet_diag.h):
  nlmsghdr        len u32, type u16, flags u16, seq u32, pid u32              16 bytes
  inet_diag_req_v2 family u8, protocol u8, ext u8, pad u8, states u32, sockid   56 bytes
  inet_diag_sockid sport be16, dport be16, src 16, dst 16, if u32, cookie 2*u32 48 bytes
  inet_diag_msg   family, state, timer, retrans (u8 each), sockid,
                  expires, rqueue, wqueue, uid, inode (u32 each)                 72 bytes
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import struct
import sys
from array import array
from collections import Counter
from itertools import compress, repeat
from operator import add, itemgetter

# the C module behind ``socket``: all that is needed here, without the enum-based wrapper
# classes that cost more to import than the whole summary mode takes
import _socket
from _thread import _local as _thread_local

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.address import (
    AF_INET, AF_INET6, address_text, identity, identity_endpoint)
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import (
    LIVE_HOLDING_STATES, TCP_CLOSE_WAIT, TCP_LISTEN, TCP_TIME_WAIT)

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x01
NLM_F_DUMP = 0x300
IPPROTO_TCP = 6

ALL_STATES = 0xFFF
LISTEN_ONLY = 1 << TCP_LISTEN
TIME_WAIT_ONLY = 1 << TCP_TIME_WAIT
OTHER_STATES = ALL_STATES & ~LISTEN_ONLY & ~TIME_WAIT_ONLY
NOT_LISTENING = ALL_STATES & ~LISTEN_ONLY

NLMSG_HEADER_LEN = 16
INET_DIAG_MSG_END = NLMSG_HEADER_LEN + 72

_REQUEST = struct.Struct("=IHHIIBBBBI48x")
_HEADER = struct.Struct("=IH")
_ERROR_CODE = struct.Struct("=i")
# nlmsghdr len/type, then inet_diag_msg state, sport, dport (ports in network order)
_SOCKET = struct.Struct("=IH11xB2xHH")
_PORTS = struct.Struct("=H")
_LENGTH = struct.Struct("=I")
_KIND_BYTES = struct.pack("=H", 20)
_SPORT_OFFSET = 20
_DPORT_OFFSET = 22
_QUEUES_INODE = struct.Struct("=II4xI")  # rqueue, wqueue, (uid), inode at offset 72
_RQUEUE_OFFSET = 72
_DST_OFFSET = 40
_SRC_OFFSET = 24
_EXPIRES_OFFSET = 68  # TIME_WAIT: ms left on the 60 s timer
_INODE_OFFSET = 84
_U32 = struct.Struct("=I")
# where each byte of the u32 expires field lies, least significant first
_EXPIRES_BYTES = tuple(_EXPIRES_OFFSET + (i if sys.byteorder == "little" else 3 - i) for i in range(4))
# 1 at each state number other than TIME_WAIT that holds a local port (bytes.translate table)
_LIVE_STATES = bytes(1 if state in LIVE_HOLDING_STATES else 0 for state in range(256))
_NONZERO = bytes([0]) + bytes([1]) * 255


def _network_port_table():
    """Ports arrive in network order; unpacking them natively and fixing them through this table
    costs one index per socket instead of a second unpack. Entry ``raw`` is the big-endian encoding
    of ``raw`` read natively: the port on a little-endian host, ``raw`` itself on a big-endian one.
    Built from bytes in C (a list of 65,536 ints would cost the module's every run ~9 ms)."""
    table = bytearray(2 * 65536)
    table[0::2] = b"".join(bytes((high,)) * 256 for high in range(256))
    table[1::2] = bytes(range(256)) * 256
    return memoryview(bytes(table)).cast("H")


NETWORK_PORT = _network_port_table()

RECEIVE_BUFFER = 1 << 20


class SockDiagError(Exception):
    """The kernel refused the dump or sent something this decoder cannot read."""


class SockDiagUnavailable(SockDiagError):
    """Netlink sock_diag cannot be used here (not Linux, not allowed, not built in)."""


def build_request(family, states, seq):
    return _REQUEST.pack(_REQUEST.size, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0,
                         family, IPPROTO_TCP, 0, 0, states)


def _error_message(data, offset, length):
    if length < NLMSG_HEADER_LEN + 4:
        raise SockDiagError("truncated NLMSG_ERROR message (%d bytes)" % length)
    code = -_ERROR_CODE.unpack_from(data, offset + NLMSG_HEADER_LEN)[0]
    return code


def walk_messages(data, family, tally):
    """Aggregate every inet_diag_msg in ``data`` (bytes holding whole netlink messages)
    into ``tally``, one message at a time. Return True once NLMSG_DONE is seen. Raise
    SockDiagError on NLMSG_ERROR, on a failed dump and on truncated or malformed input."""
    end = len(data)
    offset = 0
    counts = tally.by_family["ipv6" if family == AF_INET6 else "ipv4"]
    tw_local_ports = None  # the tally makes its table on first use: not for a chunk without TIME_WAIT
    tw_destinations = tally.tw_destinations[family]
    tw_young = tally.tw_young[family]
    young_after = tally.young_after
    outbound = tally.outbound_ports
    live_states = _LIVE_STATES
    port_of = NETWORK_PORT
    unpack_socket = _SOCKET.unpack_from
    dst_end = _DST_OFFSET + (16 if family == AF_INET6 else 4)
    while offset < end:
        if end - offset < 24:
            if end - offset >= NLMSG_HEADER_LEN:
                length, kind = _HEADER.unpack_from(data, offset)
                if kind in (NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP) and offset + length <= end:
                    return _control_message(data, offset, length, kind)
            raise SockDiagError("truncated netlink message: %d trailing bytes at offset %d" % (end - offset, offset))
        length, kind, state, sport, dport = unpack_socket(data, offset)
        if length < NLMSG_HEADER_LEN or offset + length > end:
            raise SockDiagError("malformed netlink message: length %d at offset %d of %d" % (length, offset, end))
        if kind != SOCK_DIAG_BY_FAMILY:
            if _control_message(data, offset, length, kind):
                return True
            offset += (length + 3) & ~3
            continue
        if length < INET_DIAG_MSG_END:
            raise SockDiagError("truncated inet_diag_msg: %d bytes at offset %d" % (length, offset))
        counts[state] += 1
        if state == TCP_TIME_WAIT:
            sport = port_of[sport]
            if tw_local_ports is None:
                tw_local_ports = tally.tw_local_ports
            tw_local_ports[sport] += 1
            if outbound[sport]:
                key = (data[offset + _DPORT_OFFSET:offset + dst_end],)
                tw_destinations[key] = tw_destinations.get(key, 0) + 1
                if young_after is not None and _U32.unpack_from(data, offset + _EXPIRES_OFFSET)[0] > young_after:
                    tw_young[key] += 1
            offset += (length + 3) & ~3
            continue
        if state == TCP_CLOSE_WAIT or state == TCP_LISTEN:
            _stateful_socket(data, offset, state, family, tally)
        if live_states[state] and outbound[port_of[sport]]:
            _live_socket(data, offset, state, dst_end, tally.live_destinations[family], tally.live_inodes[family])
        offset += (length + 3) & ~3
    return False


def _live_socket(data, offset, state, dst_end, destinations, inodes):
    """An outbound socket other than TIME_WAIT: counted toward its destination, inode kept."""
    key = data[offset + _DPORT_OFFSET:offset + dst_end]
    destinations[(state, key)] += 1
    inodes.append((key, _U32.unpack_from(data, offset + _INODE_OFFSET)[0]))


def _stateful_socket(data, offset, state, family, tally):
    """CLOSE_WAIT and LISTEN sockets: the few whose inode or queues matter."""
    sport = NETWORK_PORT[_PORTS.unpack_from(data, offset + _SPORT_OFFSET)[0]]
    queue, backlog, inode = _QUEUES_INODE.unpack_from(data, offset + _RQUEUE_OFFSET)
    if state == TCP_CLOSE_WAIT:
        tally.cw_local_ports[sport] += 1
        if inode:
            tally.cw_inodes[inode] = sport
    else:
        size = 16 if family == AF_INET6 else 4
        address = address_text(family, data[offset + _SRC_OFFSET:offset + _SRC_OFFSET + size])
        tally.listeners.append((family, address, sport, queue, backlog))


def uniform_run(data, family):
    """How many leading messages of ``data`` are inet_diag_msg of one and the same length
    (what a dump of one kind of socket looks like): (count, length), or (0, 0)."""
    if len(data) < INET_DIAG_MSG_END:
        return 0, 0
    length, kind = _HEADER.unpack_from(data, 0)
    if kind != SOCK_DIAG_BY_FAMILY or length < INET_DIAG_MSG_END or length % 4:
        return 0, 0
    count = len(data) // length
    view = memoryview(data)[:count * length]
    if (view.cast("I")[::length // 4].tobytes() != _LENGTH.pack(length) * count
            or view.cast("H")[2::length // 2].tobytes() != _KIND_BYTES * count
            or data[16:count * length:length] != bytes((family,)) * count):
        return 0, 0
    return count, length


def walk_uniform(data, count, length, family, tally, run_state):
    """Aggregate ``count`` messages of ``length`` bytes at once with C-level strided slices.
    ``run_state`` is the dump's ``RunState``, which the caller folds into the tally at the end of the
    dump (``fold_run``)."""
    span = count * length
    states = data[17:span:length]
    counts = tally.by_family["ipv6" if family == AF_INET6 else "ipv4"]
    view = memoryview(data)[:span]
    sports = view.cast("H")[_SPORT_OFFSET // 2::length // 2]
    if tally.outbound_by_raw_port is None:  # the listeners' dump: which ports are outbound is not known yet
        outbound = bytes(count)
    else:
        outbound = bytes(map(tally.outbound_by_raw_port.__getitem__, sports))
    dst_end = _DST_OFFSET + (16 if family == AF_INET6 else 4)
    if states.count(TCP_TIME_WAIT) == count:
        counts[TCP_TIME_WAIT] += count
        run_state.ports.update(sports)
        young = None
        if tally.young_after is not None:
            young = _both(outbound, young_flags(data, span, length, tally.young_after))
        if family == AF_INET and _one_source(data, span, length):
            counted = run_state.ipv4_by_source(data[_SRC_OFFSET:_DST_OFFSET])
            keys = _ipv4_destination_numbers(data, span, length)
            counted[0].update(compress(keys, outbound))
            if young is not None:
                counted[1].update(compress(keys, young))
            return
        keys = list(struct.iter_unpack("=%dx%ds%dx" % (_DPORT_OFFSET, dst_end - _DPORT_OFFSET, length - dst_end),
                                       view))
        tally.tw_destinations[family].update(compress(keys, outbound))
        if young is not None:
            tally.tw_young[family].update(compress(keys, young))
        return
    live = _both(outbound, states.translate(_LIVE_STATES))
    if live.count(1):
        rows = list(compress(struct.iter_unpack("=17xB%dx%ds%dx" % (
            _DPORT_OFFSET - 18, dst_end - _DPORT_OFFSET, length - dst_end), view), live))
        tally.live_destinations[family].update(rows)
        # the inodes only matter to the owner search, which may never come: kept beside the rows
        inodes = list(compress(view.cast("I")[_INODE_OFFSET // 4::length // 4], live))
        tally.live_inode_batches[family].append((rows, inodes))
    for state in set(states):
        counts[state] += states.count(state)
        if state == TCP_TIME_WAIT or state == TCP_CLOSE_WAIT or state == TCP_LISTEN:
            index = states.find(state)
            while index >= 0:
                _one_socket(data, index * length, state, family, tally)
                index = states.find(state, index + 1)


def _one_socket(data, offset, state, family, tally):
    if state != TCP_TIME_WAIT:
        _stateful_socket(data, offset, state, family, tally)
        return
    sport = NETWORK_PORT[_PORTS.unpack_from(data, offset + _SPORT_OFFSET)[0]]
    tally.tw_local_ports[sport] += 1
    if tally.outbound_ports[sport]:
        dst_end = _DST_OFFSET + (16 if family == AF_INET6 else 4)
        key = (data[offset + _DPORT_OFFSET:offset + dst_end],)
        destinations = tally.tw_destinations[family]
        destinations[key] = destinations.get(key, 0) + 1
        young_after = tally.young_after
        if young_after is not None and _U32.unpack_from(data, offset + _EXPIRES_OFFSET)[0] > young_after:
            tally.tw_young[family][key] += 1


def _both(flags, other):
    """Byte-wise AND of two equally long strings of 0/1 bytes, in C (through two big integers)."""
    return (int.from_bytes(flags, "little") & int.from_bytes(other, "little")).to_bytes(len(flags), "little")


def _one_source(data, span, length):
    """Whether every message of the run has the first one's 16-byte source field (strided compares)."""
    count = span // length
    return all(data[offset:span:length] == data[offset:offset + 1] * count
               for offset in range(_SRC_OFFSET, _DST_OFFSET))


def _ipv4_destination_numbers(data, span, length):
    """Each message's destination port and IPv4 address packed into 8 bytes and read as one native
    unsigned integer: one small object per socket for the counters, not a tuple holding a bytes object.
    ``destination_key`` turns a number back into the key the other paths use."""
    count = span // length
    packed = bytearray(8 * count)
    for slot, offset in enumerate((_DPORT_OFFSET, _DPORT_OFFSET + 1, _DST_OFFSET, _DST_OFFSET + 1,
                                   _DST_OFFSET + 2, _DST_OFFSET + 3)):
        packed[slot::8] = data[offset:span:length]
    return memoryview(packed).cast("Q")


def destination_key(number, source):
    """The TIME_WAIT destination key (destination port, the 16-byte source field, IPv4 destination) of
    a number of ``_ipv4_destination_numbers``, given the source field its run had."""
    packed = number.to_bytes(8, sys.byteorder)
    return (packed[:2] + source + packed[2:6],)


class RunState(object):
    """What the strided fast path counts during one dump, folded into the tally at its end
    (``fold_run``): TIME_WAIT local ports by raw network-order value, and per 16-byte IPv4 source field
    the outbound TIME_WAIT and the young ones by destination number (``_ipv4_destination_numbers``)."""

    __slots__ = ("ports", "ipv4")

    def __init__(self):
        self.ports = Counter()
        self.ipv4 = {}

    def ipv4_by_source(self, source):
        """(destinations, young destinations) Counters of one source field."""
        counted = self.ipv4.get(source)
        if counted is None:
            counted = self.ipv4[source] = (Counter(), Counter())
        return counted


_COMPARE_TABLES = {}


def _compare_tables(young_after):
    """The bytes.translate tables for one threshold, built once per dump, not per chunk:
    (low byte greater, high byte greater, high byte equal)."""
    tables = _COMPARE_TABLES.get(young_after)
    if tables is None:
        low, high = young_after & 0xFF, young_after >> 8
        tables = _COMPARE_TABLES[young_after] = (bytes(1 if byte > low else 0 for byte in range(256)),
                                                 bytes(1 if byte > high else 0 for byte in range(256)),
                                                 bytes(1 if byte == high else 0 for byte in range(256)))
    return tables


def young_flags(data, span, length, young_after):
    """One 0/1 byte per message of the run: 1 where its expires field (a TIME_WAIT's ms left)
    is above ``young_after``, compared byte by byte over strided slices so that no Python code
    runs per socket."""
    count = span // length
    if young_after < 0:
        return bytes([1]) * count
    # young_after is 60,000 ms less a delay >= 0, so it fits in the two low bytes compared below
    low_greater, high_greater, high_equal = _compare_tables(young_after)
    b0, b1, b2, b3 = (data[offset:span:length] for offset in _EXPIRES_BYTES)
    young = (int.from_bytes(b2.translate(_NONZERO), "little") | int.from_bytes(b3.translate(_NONZERO), "little")
             | int.from_bytes(b1.translate(high_greater), "little")
             | (int.from_bytes(b1.translate(high_equal), "little")
                & int.from_bytes(b0.translate(low_greater), "little")))
    return young.to_bytes(count, "little")


def walk_chunk(data, family, tally, run_state):
    """Aggregate one received chunk: the strided fast path for its leading run of
    same-length messages, the message-by-message walker for the rest. True at NLMSG_DONE."""
    count, length = uniform_run(data, family)
    if not count:
        return walk_messages(data, family, tally)
    walk_uniform(data, count, length, family, tally, run_state)
    rest = data[count * length:]
    return walk_messages(rest, family, tally) if rest else False


def fold_run(run_state, tally):
    """Add what the fast path counted by raw values (``RunState``) to the tally. The byte swap is its
    own inverse, so NETWORK_PORT also maps each port to its raw value; map() keeps the 65536 steps
    in C."""
    ports = run_state.ports
    if ports:
        folded = map(ports.get, NETWORK_PORT, repeat(0, 65536))
        tally.tw_local_ports[:] = array(tally.tw_local_ports.typecode, map(add, tally.tw_local_ports, folded))
        ports.clear()
    for source, counted in run_state.ipv4.items():
        for numbers, into in zip(counted, (tally.tw_destinations[AF_INET], tally.tw_young[AF_INET])):
            for number, sockets in numbers.items():
                into[destination_key(number, source)] += sockets
    run_state.ipv4.clear()


def _control_message(data, offset, length, kind):
    """Handle a non-socket message; True when it ends the dump."""
    if kind == NLMSG_DONE:
        if length >= NLMSG_HEADER_LEN + 4:
            code = _ERROR_CODE.unpack_from(data, offset + NLMSG_HEADER_LEN)[0]
            if code < 0:
                raise SockDiagError("socket dump failed: %s" % os.strerror(-code))
        return True
    if kind == NLMSG_ERROR:
        code = _error_message(data, offset, length)
        if code == 0:
            return False
        raise SockDiagError("kernel refused the socket dump: %s (errno %d)" % (os.strerror(code), code))
    if kind == NLMSG_NOOP:
        return False
    raise SockDiagError("unexpected netlink message type %d" % kind)


def destination_identity(family, key):
    """The ``address.identity`` of a destination key: the message bytes from the destination port to
    the end of the destination address (the local address in between is merged away here, so equal
    destinations add up); TIME_WAIT keys hold them in a 1-tuple."""
    raw = key[0] if isinstance(key, tuple) else key
    return identity(family, raw[_DST_OFFSET - _DPORT_OFFSET:], raw[:2])


_IPV4_KEY_LENGTH = _DST_OFFSET + 4 - _DPORT_OFFSET
_IPV4_IDENTITY = struct.Struct("7s")


def destination_identities(family, keys):
    """{key: its ``destination_identity``} for many keys of one family (those of a TIME_WAIT dump are
    1-tuples, the live sockets' bytes). IPv4 identities (``4``, address, port) are put together for all
    keys at once, by strided copies from the joined keys, in C."""
    keys = list(keys)
    kinds = set(map(type, keys))
    if family != AF_INET or kinds not in ({tuple}, {bytes}):
        return dict((key, destination_identity(family, key)) for key in keys)
    raw = b"".join(map(itemgetter(0), keys) if kinds == {tuple} else keys)
    count = len(keys)
    if len(raw) != count * _IPV4_KEY_LENGTH:
        return dict((key, destination_identity(family, key)) for key in keys)
    start = _DST_OFFSET - _DPORT_OFFSET
    width = _IPV4_IDENTITY.size
    packed = bytearray(width * count)
    packed[0::width] = b"\x04" * count
    for index in range(4):
        packed[1 + index::width] = raw[start + index::_IPV4_KEY_LENGTH]
    packed[5::width] = raw[0::_IPV4_KEY_LENGTH]
    packed[6::width] = raw[1::_IPV4_KEY_LENGTH]
    return dict(zip(keys, map(itemgetter(0), _IPV4_IDENTITY.iter_unpack(packed))))


destination_endpoint = identity_endpoint


def open_socket():
    try:
        sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    except AttributeError:
        raise SockDiagUnavailable("netlink is not available on this platform")
    except OSError as exc:
        raise SockDiagUnavailable("cannot open a NETLINK_SOCK_DIAG socket: %s" % (exc.strerror or exc))
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, RECEIVE_BUFFER)
    except OSError:
        pass
    return sock


def dump(sock, family, states, tally, seq=1):
    """Run one SOCK_DIAG_BY_FAMILY dump and aggregate its replies into ``tally``."""
    try:
        sock.sendto(build_request(family, states, seq), (0, 0))
    except OSError as exc:
        raise SockDiagUnavailable("netlink socket dump request refused: %s" % (exc.strerror or exc))
    receive_dump(sock, family, tally)


def _receive_into(sock, view):
    """Receive one datagram of the dump into ``view``; its length."""
    while True:
        try:
            # MSG_TRUNC: the datagram's whole length even where it did not fit (it is never cut unseen)
            received = sock.recv_into(view, 0, _socket.MSG_TRUNC)
        except InterruptedError:
            continue
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise SockDiagUnavailable("netlink socket dump not allowed: %s" % exc.strerror)
            raise SockDiagError("netlink receive failed: %s" % (exc.strerror or exc))
        if received == 0:
            raise SockDiagError("netlink socket closed before the end of the dump")
        if received > len(view):
            raise SockDiagError("netlink datagram of %d bytes does not fit the %d bytes left to receive it"
                                % (received, len(view)))
        return received


# threading.local without importing threading: freed with its thread
_PER_THREAD = _thread_local()


def _receive_view():
    """The calling thread's receive buffer, made on its first dump: a fresh megabyte per dump would be
    zeroed and faulted in each time (two dumps per namespace with ``namespaces: all``), and threads
    walking namespaces side by side each need their own."""
    view = getattr(_PER_THREAD, "view", None)
    if view is None:
        view = _PER_THREAD.view = memoryview(bytearray(RECEIVE_BUFFER))
    return view


# whole datagrams of same-length replies are gathered until they hold at least this many bytes, then taken
# by the fast path at once: the kernel sends at most 32 KiB per datagram, and each pass costs some fixed work
BATCH = 256 * 1024
# a datagram is received only where this much of the buffer is free (netlink truncates what does not fit)
DATAGRAM_ROOM = 128 * 1024


def receive_dump(sock, family, tally):
    """Aggregate the replies of the dump requested on ``sock`` until NLMSG_DONE. Datagrams that are
    nothing but replies of one length (no NLMSG_DONE among them) are gathered in the receive buffer and
    walked together."""
    view = _receive_view()
    run_state = RunState()
    gathered = 0  # bytes of whole same-length datagrams at the start of the buffer
    length = 0  # their replies' length
    while True:
        received = _receive_into(sock, view[gathered:])
        count, run_length = uniform_run(view[gathered:gathered + received], family)
        whole = count and count * run_length == received
        if whole and (not gathered or run_length == length):
            gathered += received
            length = run_length
            if gathered < BATCH and len(view) - gathered >= DATAGRAM_ROOM:
                continue
            walk_uniform(bytes(view[:gathered]), gathered // length, length, family, tally, run_state)
            gathered = 0
            continue
        if gathered:
            walk_uniform(bytes(view[:gathered]), gathered // length, length, family, tally, run_state)
        done = walk_chunk(bytes(view[gathered:gathered + received]), family, tally, run_state)
        gathered = 0
        if done:
            break
    fold_run(run_state, tally)


def collect_sockets(tally, live_counts=None):
    """Dump every TCP socket of this namespace into ``tally``.

    Listeners first (they decide which TIME_WAIT ports are inbound); their dumps are small (the
    kernel walks only its listening hash for them). Every other dump walks the kernel's whole
    established hash (shared by all namespaces), so there are as few as the sockets allow:

    - with ``tally.split_dump_above`` set and sockstat showing at most that many TIME_WAIT, one dump
      of all non-listening states per family;
    - else TIME_WAIT alone and the other states alone: each of those dumps is a run of same-length
      messages that the strided fast path takes whole, which pays off with many TIME_WAIT.

    The IPv6 dumps are skipped when they cannot find anything: ``live_counts()`` returns (TIME_WAIT
    of both families, IPv6 sockets in use, IPv4 sockets in use, listeners included) from
    /proc/net/sockstat{,6}; with no IPv6 socket in use there is no IPv6 listener, and when the IPv4
    dumps accounted for every TIME_WAIT, with the count unchanged before and after, and still no IPv6
    socket is in use, IPv6 has nothing to show. A namespace with no TCP socket at all is not dumped:
    each dump would walk every socket of every other namespace to find none (12 ms with 50,000 of
    them elsewhere on the machine, measured). Half-open connections (SYN_RECV) are not in use in
    sockstat: one whose listener has just closed may be missed so for the seconds it has left.
    """
    before = live_counts() if live_counts else None
    if before is not None and not any(before):
        tally.listeners_complete(NETWORK_PORT)
        return
    sock = open_socket()
    try:
        dump(sock, AF_INET, LISTEN_ONLY, tally, 1)
        if before is None or before[1]:
            dump(sock, AF_INET6, LISTEN_ONLY, tally, 2)
        tally.listeners_complete(NETWORK_PORT)
        split_above = tally.split_dump_above
        if split_above is not None and before is not None and before[0] <= split_above:
            _dump_not_listening(sock, tally, before, live_counts)
        else:
            _dump_split(sock, tally, before, live_counts)
    finally:
        sock.close()


def _ipv4_has_every_time_wait(tally, before, after):
    known = before is not None and after is not None
    return known and before[0] == after[0] == tally.by_family["ipv4"][TCP_TIME_WAIT]


def _dump_not_listening(sock, tally, before, live_counts):
    """One dump of every non-listening state per family (few TIME_WAIT)."""
    dump(sock, AF_INET, NOT_LISTENING, tally, 3)
    after = live_counts()
    if not (_ipv4_has_every_time_wait(tally, before, after) and before[1] == after[1] == 0):
        dump(sock, AF_INET6, NOT_LISTENING, tally, 4)


def _dump_split(sock, tally, before, live_counts):
    """TIME_WAIT and the other states in separate dumps per family (many TIME_WAIT)."""
    dump(sock, AF_INET, TIME_WAIT_ONLY, tally, 3)
    after = live_counts() if live_counts else None
    known = before is not None and after is not None
    if not _ipv4_has_every_time_wait(tally, before, after):
        dump(sock, AF_INET6, TIME_WAIT_ONLY, tally, 4)
    dump(sock, AF_INET, OTHER_STATES, tally, 5)
    last = live_counts() if known else None
    if not (last is not None and before[1] == after[1] == last[1] == 0):
        dump(sock, AF_INET6, OTHER_STATES, tally, 6)
