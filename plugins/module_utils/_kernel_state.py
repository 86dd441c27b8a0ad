# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel TCP settings and counters read from /proc: sysctls, netstat/snmp counters,
sockstat, netfilter state, the ephemeral port range, the kernel release.

Every path is built from ``proc_root`` so tests can point it at a fixture tree.
Each reader returns plain data and appends to ``warnings`` what it could not read;
a missing value is None, never a guess. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

SYSCTL_KEYS = (
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_tw_reuse_delay",
    "net.ipv4.tcp_tw_recycle",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_syncookies",
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.ip_forward",
    "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
    "net.netfilter.nf_conntrack_max",
)

# (file under proc_root/net, section prefix, counter names)
COUNTER_SOURCES = (
    ("netstat", "TcpExt", (
        "TCPTimeWaitOverflow", "TWRecycled", "TWKilled", "PAWSActive", "PAWSPassive",
        "PAWSEstab", "ListenOverflows", "ListenDrops", "TCPAbortOnClose",
        "TCPAbortOnTimeout", "SyncookiesSent", "SyncookiesFailed",
    )),
    ("snmp", "Tcp", (
        "CurrEstab", "ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "RetransSegs",
    )),
)

NAT_MODULES = frozenset((
    "nf_nat", "iptable_nat", "ip6table_nat", "nft_chain_nat", "nft_nat",
    "nf_nat_ipv4", "nf_nat_ipv6", "nft_masq", "xt_MASQUERADE",
))


def _read_text(path):
    with open(path, "r") as handle:
        return handle.read()


def parse_sysctl_value(text):
    """An int when the file holds one integer, else the text with white space runs folded."""
    folded = " ".join(text.split())
    try:
        return int(folded)
    except ValueError:
        return folded


def read_sysctls(proc_root, warnings, keys=SYSCTL_KEYS):
    values = {}
    base = os.path.join(proc_root, "sys")
    for key in keys:
        path = os.path.join(base, *key.split("."))
        try:
            values[key] = parse_sysctl_value(_read_text(path))
        except (FileNotFoundError, NotADirectoryError):
            values[key] = None
        except OSError as exc:
            values[key] = None
            warnings.append("sysctl %s unreadable: %s" % (key, exc.strerror or exc))
    return values


def parse_port_list(text):
    """Expand the ip_local_reserved_ports syntax ("8080,9000-9002") into a sorted list."""
    ports = set()
    for item in text.replace(" ", ",").split(","):
        item = item.strip()
        if not item:
            continue
        if "-" in item:
            first, last = item.split("-", 1)
            ports.update(range(int(first), int(last) + 1))
        else:
            ports.add(int(item))
    return sorted(ports)


def ephemeral_ports(sysctls, warnings):
    """The local port range and its usable size, from already read sysctl values."""
    result = {"low": None, "high": None, "size": None, "reserved": [],
              "reserved_in_range": None, "usable": None}
    port_range = sysctls.get("net.ipv4.ip_local_port_range")
    if not isinstance(port_range, str) or len(port_range.split()) != 2:
        warnings.append("net.ipv4.ip_local_port_range unavailable: outbound/inbound split and port_usage unknown")
        return result
    low, high = (int(value) for value in port_range.split())
    reserved_text = sysctls.get("net.ipv4.ip_local_reserved_ports")
    reserved = parse_port_list(str(reserved_text)) if reserved_text not in (None, "") else []
    in_range = sum(1 for port in reserved if low <= port <= high)
    result.update(low=low, high=high, size=high - low + 1, reserved=reserved,
                  reserved_in_range=in_range, usable=high - low + 1 - in_range)
    return result


def parse_counter_table(text, section):
    """Parse the header/value line pairs of /proc/net/netstat or /proc/net/snmp for one section."""
    prefix = section + ":"
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    table = {}
    for header, values in zip(lines[0::2], lines[1::2]):
        names = header.split()[1:]
        numbers = values.split()[1:]
        for name, number in zip(names, numbers):
            table[name] = int(number)
    return table


def read_counters(proc_root, warnings):
    counters = {}
    for filename, section, names in COUNTER_SOURCES:
        try:
            table = parse_counter_table(_read_text(os.path.join(proc_root, "net", filename)), section)
        except OSError as exc:
            warnings.append("/proc/net/%s unreadable: %s" % (filename, exc.strerror or exc))
            table = {}
        for name in names:
            counters[name] = table.get(name)
    return counters


def parse_sockstat(text, section):
    """Return {field: int} of the line starting with ``section:`` ("TCP", "TCP6")."""
    prefix = section + ":"
    for line in text.splitlines():
        if line.startswith(prefix):
            fields = line.split()[1:]
            return dict((fields[i], int(fields[i + 1])) for i in range(0, len(fields) - 1, 2))
    return {}


def read_sockstat(proc_root, warnings):
    """TCP counts of this network namespace (inuse, tw for IPv4; inuse6), plus orphan.

    The kernel keeps one orphan counter for the whole host, so ``orphan`` is host-wide even
    inside a container; ``host_wide`` names it so that nobody reads it as the namespace's own.
    """
    result = {"inuse": None, "orphan": None, "tw": None, "inuse6": None, "host_wide": ["orphan"]}
    try:
        tcp = parse_sockstat(_read_text(os.path.join(proc_root, "net", "sockstat")), "TCP")
        for key in ("inuse", "orphan", "tw"):
            result[key] = tcp.get(key)
    except OSError as exc:
        warnings.append("/proc/net/sockstat unreadable: %s" % (exc.strerror or exc))
    try:
        result["inuse6"] = parse_sockstat(_read_text(os.path.join(proc_root, "net", "sockstat6")), "TCP6").get("inuse")
    except FileNotFoundError:
        warnings.append("/proc/net/sockstat6 absent: IPv6 disabled on this host")
    except OSError as exc:
        warnings.append("/proc/net/sockstat6 unreadable: %s" % (exc.strerror or exc))
    return result


def read_time_wait_and_ipv6_inuse(proc_root):
    """(TIME_WAIT sockets of both families, IPv6 TCP sockets in use) in this namespace, from
    /proc/net/sockstat{,6}; IPv6 in use is 0 when IPv6 is disabled; None when unreadable."""
    try:
        time_wait = parse_sockstat(_read_text(os.path.join(proc_root, "net", "sockstat")), "TCP")["tw"]
        try:
            inuse6 = parse_sockstat(_read_text(os.path.join(proc_root, "net", "sockstat6")), "TCP6")["inuse"]
        except FileNotFoundError:
            inuse6 = 0
    except (OSError, KeyError):
        return None
    return time_wait, inuse6


def _nat_tables_present(proc_root):
    for name in ("ip_tables_names", "ip6_tables_names"):
        try:
            if "nat" in _read_text(os.path.join(proc_root, "net", name)).split():
                return True
        except OSError:
            continue
    return False


def _nat_modules_loaded(proc_root):
    try:
        text = _read_text(os.path.join(proc_root, "modules"))
    except OSError:
        return False
    return any(line.split(" ", 1)[0] in NAT_MODULES for line in text.splitlines())


def read_netfilter(proc_root, sysctls):
    """Conntrack and NAT presence: NAT loaded means a NAT kernel module in /proc/modules
    or an iptables nat table registered in this namespace."""
    count = None
    try:
        count = int(_read_text(os.path.join(proc_root, "sys", "net", "netfilter", "nf_conntrack_count")))
    except (OSError, ValueError):
        pass
    return {
        "conntrack_loaded": sysctls.get("net.netfilter.nf_conntrack_max") is not None,
        "conntrack_count": count,
        "nat_loaded": _nat_modules_loaded(proc_root) or _nat_tables_present(proc_root),
    }


def read_kernel_release(proc_root, warnings):
    try:
        return _read_text(os.path.join(proc_root, "sys", "kernel", "osrelease")).strip()
    except OSError as exc:
        warnings.append("kernel release unreadable: %s" % (exc.strerror or exc))
        return None


def outbound_port_table(ephemeral, listening_ports=()):
    """A 65536-byte lookup: 1 where a TIME_WAIT local port means this host opened the
    connection (inside the ephemeral range, not reserved, not a listening port)."""
    table = bytearray(65536)
    if ephemeral["low"] is None:
        return table
    low, high = ephemeral["low"], ephemeral["high"]
    table[low:high + 1] = b"\x01" * (high - low + 1)
    for port in ephemeral["reserved"]:
        table[port] = 0
    for port in listening_ports:
        table[port] = 0
    return table
