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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import sys

AF_INET = 2
AF_INET6 = 10
STATE_BY_HEX = dict(("%02X" % number, number) for number in range(1, 13))
TCP_TIME_WAIT = 6
TCP_CLOSE_WAIT = 8
TCP_LISTEN = 10
FILES = (("tcp", AF_INET), ("tcp6", AF_INET6))


class ProcNetError(Exception):
    """/proc/net/tcp cannot be read or parsed."""


def hex_to_address(family, text):
    """Text form of a /proc/net/tcp{,6} hex address; IPv4-mapped IPv6 becomes IPv4."""
    raw = bytes.fromhex(text)
    if sys.byteorder == "little":
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if family == AF_INET6:
        if raw[:12] == b"\0" * 10 + b"\xff\xff":
            return socket.inet_ntop(socket.AF_INET, raw[12:])
        return socket.inet_ntop(socket.AF_INET6, raw)
    return socket.inet_ntop(socket.AF_INET, raw)


def format_endpoint(family, key):
    """(address text, port) of a TIME_WAIT destination key ("HEXADDR:HEXPORT")."""
    address, port = key.rsplit(":", 1)
    return hex_to_address(family, address), int(port, 16)


def parse_lines(lines, family, tally):
    """Aggregate the socket lines of one /proc/net/tcp{,6} file (header included) into ``tally``."""
    counts = tally.by_family["ipv6" if family == AF_INET6 else "ipv4"]
    tw_local_ports = tally.tw_local_ports
    tw_destinations = tally.tw_destinations[family]
    outbound = tally.outbound_ports
    cw_local_ports = tally.cw_local_ports
    cw_inodes = tally.cw_inodes
    state_by_hex = STATE_BY_HEX
    iterator = iter(lines)
    header = next(iterator, "")
    if "local_address" not in header:
        raise ProcNetError("unexpected /proc/net/tcp header: %r" % header[:80])
    for number, line in enumerate(iterator, 2):
        fields = line.split(None, 4)
        try:
            state = state_by_hex[fields[3]]
            local = fields[1]
        except (IndexError, KeyError):
            if not line.strip():
                continue
            raise ProcNetError("unparsable /proc/net/tcp line %d: %r" % (number, line[:120]))
        counts[state] += 1
        if state == TCP_TIME_WAIT:
            port = int(local[-4:], 16)
            tw_local_ports[port] += 1
            if outbound[port]:
                remote = fields[2]
                tw_destinations[remote] = tw_destinations.get(remote, 0) + 1
        elif state == TCP_CLOSE_WAIT:
            port = int(local[-4:], 16)
            cw_local_ports[port] += 1
            inode = int(fields[4].split(None, 6)[5])
            if inode:
                cw_inodes[inode] = port
        elif state == TCP_LISTEN:
            port = int(local[-4:], 16)
            queue = int(fields[4].split(None, 1)[0].split(":")[1], 16)
            outbound[port] = 0
            tally.listeners.append((family, hex_to_address(family, local[:-5]), port, queue, None))


def collect_sockets(tally, proc_root="/proc", warnings=None):
    for name, family in FILES:
        path = os.path.join(proc_root, "net", name)
        try:
            handle = open(path, "r", buffering=1 << 20)
        except FileNotFoundError:
            if family == AF_INET6:
                if warnings is not None:
                    warnings.append("%s absent: IPv6 disabled on this host" % path)
                continue
            raise ProcNetError("%s is missing: this needs Linux with /proc mounted" % path)
        except OSError as exc:
            raise ProcNetError("cannot read %s: %s" % (path, exc.strerror or exc))
        with handle:
            parse_lines(handle, family, tally)
