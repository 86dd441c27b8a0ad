# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""List TCP sockets from /proc/net/tcp and /proc/net/tcp6: the fallback when netlink
sock_diag is not allowed. Lines are aggregated into a tally (``_tcp_state.SocketTally``)
as they stream in; nothing per socket is kept. Standard library only.

Line layout (net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c):
  sl: local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
Addresses are hex of the kernel's 32-bit words in host byte order, ports are hex.
The kernel lists listening sockets before the others, which lets a single pass know
which local ports are listening before it classifies TIME_WAIT sockets.

The files are opened through ``_host_files`` (a regular file only, never a FIFO or a device) and
decoded with replacement. ``collect_sockets`` turns a line it cannot parse into an entry of its
``errors`` (the first few per file, then a count) and goes on with the next line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.address import (
    AF_INET, AF_INET6, address_text, identity, identity_endpoint)
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import (
    LIVE_HOLDING_STATES, TCP_CLOSE_WAIT, TCP_LISTEN, TCP_TIME_WAIT)
from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import (
    HostFileError, Problems, is_absent, open_regular, printable)

STATE_BY_HEX = dict(("%02X" % number, number) for number in range(1, 13))
LIVE_STATES = frozenset(LIVE_HOLDING_STATES)
FILES = (("tcp", AF_INET), ("tcp6", AF_INET6))
MAX_LINE_ERRORS_PER_FILE = 5
READ_BUFFER = 1 << 20


class ProcNetError(Exception):
    """/proc/net/tcp cannot be read or parsed."""


def _packed_address(text):
    """A /proc/net/tcp{,6} hex address (32-bit words in host byte order) in network byte order."""
    raw = bytes.fromhex(text)
    if sys.byteorder == "little":
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return raw


def hex_to_address(family, text):
    """Text form of a /proc/net/tcp{,6} hex address; IPv4-mapped IPv6 becomes IPv4."""
    return address_text(family, _packed_address(text))


def destination_identity(family, key):
    """The ``address.identity`` of a destination key ("HEXADDR:HEXPORT"); a key no kernel writes gets
    one of its own that sorts after every address (``destination_endpoint`` shows it as read)."""
    try:
        address, port = key.rsplit(":", 1)
        raw = _packed_address(address)
        if len(raw) not in (4, 16):
            raise ValueError(address)
        return identity(family, raw, int(port, 16).to_bytes(2, "big"))
    except (ValueError, OverflowError):
        return b"\xff" + key.encode("utf-8", "surrogateescape")


def destination_identities(family, keys):
    """{key: its ``destination_identity``} for many keys of one family."""
    return dict((key, destination_identity(family, key)) for key in keys)


def destination_endpoint(destination):
    """(address text, port) of a ``destination_identity``; a key no kernel writes is shown as read,
    escaped, with port None."""
    if destination[:1] == b"\xff":
        return printable(destination[1:].decode("utf-8", "surrogateescape")), None
    return identity_endpoint(destination)


def clock_ticks_per_second():
    """USER_HZ, the unit of the ``tm->when`` column (``jiffies_delta_to_clock_t``): 100 on common
    architectures but not all, so asked of the C library (the kernel passes it as AT_CLKTCK)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        ticks = -1
    return ticks if ticks > 0 else 100


def parse_lines(lines, family, tally, problems=None, path="/proc/net/tcp", ticks_per_second=None):
    """Aggregate the socket lines of one /proc/net/tcp{,6} file (header included) into ``tally``.

    Without ``problems`` an unparsable line or header raises ProcNetError; with a ``Problems``
    it is added there (naming ``path`` and the line) and skipped, the header skipping the file.
    A TIME_WAIT line's ``tm->when`` is its timer in ``ticks_per_second`` units (USER_HZ of the
    kernel that wrote the file: this host's unless given).
    """
    counts = tally.by_family["ipv6" if family == AF_INET6 else "ipv4"]
    tw_local_ports = tally.tw_local_ports
    tw_destinations = tally.tw_destinations[family]
    outbound = tally.outbound_ports
    cw_local_ports = tally.cw_local_ports
    cw_inodes = tally.cw_inodes
    tw_young = tally.tw_young[family]
    live_destinations = tally.live_destinations[family]
    live_inodes = tally.live_inodes[family]
    live_states = LIVE_STATES
    young_ticks = None
    if tally.young_after is not None:
        # young: more than young_after ms left, i.e. more than this many ticks (rounded down)
        young_ticks = tally.young_after * (ticks_per_second or clock_ticks_per_second()) // 1000
    state_by_hex = STATE_BY_HEX
    iterator = iter(lines)
    header = next(iterator, "")
    if "local_address" not in header:
        message = "%s: unexpected header '%s': file not read" % (path, printable(header))
        if problems is None:
            raise ProcNetError(message)
        problems.add(message)
        return
    for number, line in enumerate(iterator, 2):
        fields = line.split(None, 4)
        try:
            state = state_by_hex[fields[3]]
            if state == TCP_TIME_WAIT:
                port = int(fields[1][-4:], 16)
                young = (young_ticks is not None and outbound[port]
                         and int(fields[4].split(None, 2)[1].split(":")[1], 16) > young_ticks)
                tw_local_ports[port] += 1
                if outbound[port]:
                    remote = fields[2]
                    tw_destinations[remote] = tw_destinations.get(remote, 0) + 1
                    if young:
                        tw_young[remote] += 1
            elif state in live_states:
                port = int(fields[1][-4:], 16)
                inode = int(fields[4].split(None, 6)[5])
                if state == TCP_CLOSE_WAIT:
                    cw_local_ports[port] += 1
                    if inode:
                        cw_inodes[inode] = port
                if outbound[port]:
                    remote = fields[2]
                    live_destinations[(state, remote)] += 1
                    live_inodes.append((remote, inode))
            elif state == TCP_LISTEN:
                port = int(fields[1][-4:], 16)
                queue = int(fields[4].split(None, 1)[0].split(":")[1], 16)
                entry = (family, hex_to_address(family, fields[1][:-5]), port, queue, None)
                outbound[port] = 0
                tally.listeners.append(entry)
        except (IndexError, KeyError, ValueError):
            if not line.strip():
                continue
            message = "%s line %d: unparsable, skipped: '%s'" % (path, number, printable(line.rstrip("\n")))
            if problems is None:
                raise ProcNetError(message)
            problems.add(message)
            continue
        counts[state] += 1


def collect_sockets(tally, proc_root="/proc", warnings=None, errors=None):
    """Read /proc/net/tcp and tcp6 into ``tally``. Raise ProcNetError only when /proc/net/tcp is
    missing or refused; a bad line or a bad tcp6 becomes an entry of ``errors`` (and ``warnings``)."""
    for name, family in FILES:
        path = os.path.join(proc_root, "net", name)
        try:
            handle = open_regular(path, text=True, buffering=READ_BUFFER)
        except HostFileError as exc:
            if is_absent(exc) and family == AF_INET6:
                if warnings is not None:
                    warnings.append("%s absent: IPv6 disabled on this host" % path)
                continue
            if is_absent(exc):
                raise ProcNetError("%s is missing: this needs Linux with /proc mounted" % path)
            if family == AF_INET:
                raise ProcNetError("cannot read %s: %s" % (path, exc.reason))
            for target in (warnings, errors):
                if target is not None:
                    target.append("cannot read %s: %s" % (path, exc.reason))
            continue
        problems = Problems(MAX_LINE_ERRORS_PER_FILE)
        try:
            with handle:
                parse_lines(handle, family, tally, problems, path)
        except OSError as exc:
            problems.add("%s: read failed midway, later sockets not counted: %s" % (path, exc.strerror or exc))
        messages = list(problems.messages)
        if problems.omitted():
            messages.append("%s: %d more unparsable lines skipped" % (path, problems.omitted()))
        for target in (warnings, errors):
            if target is not None:
                target.extend(messages)
