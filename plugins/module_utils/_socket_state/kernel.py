# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel TCP settings and counters read from /proc: sysctls, netstat/snmp counters,
sockstat, netfilter state, the ephemeral port range, the kernel release, the boot time.

Every path is built from ``proc_root`` so tests can point it at a fixture tree.
Each reader returns plain data and appends to ``warnings`` what it could not read;
a missing value is None, never a guess. Every file goes through ``_host_files`` (regular files
only, a capped read, invalid UTF-8 replaced); a file or field that is there but unusable is also
appended to ``errors`` when the caller passes that list, naming the file. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import live
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import (
    CONNTRACK_COUNT, CONNTRACK_MAX, FACT_KEYS, PORT_RANGE, RESERVED_PORTS, TIMESTAMPS, TW_REUSE, TW_REUSE_DELAY)
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.policy import sysctl_int
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.values import (
    int_or_none, int_or_text, parse_port, parse_port_list)
from ansible_collections.tcpops.timewait.plugins.module_utils._host_files import (
    HostFileError, is_absent, printable, read_text)


# (file under proc_root/net, section prefix, counter names)
COUNTER_SOURCES = (
    ("netstat", "TcpExt", (
        "TCPTimeWaitOverflow", "TW", "TWRecycled", "TWKilled", "PAWSActive", "PAWSPassive",
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


# before tcp_tw_reuse_delay existed (6.14), a TIME_WAIT became reusable one second after its last timestamp
DEFAULT_TW_REUSE_DELAY_MS = 1000
# what ``ephemeral_ports`` (the usable range and the reuse of TIME_WAIT ports) is worked out from
HEADROOM_KEYS = (PORT_RANGE, RESERVED_PORTS, TW_REUSE, TW_REUSE_DELAY, TIMESTAMPS)

SMALL_FILE_CAP = 1 << 16   # sockstat, netstat, snmp
MODULES_CAP = 1 << 20      # /proc/modules
RELEASE_CAP = 256
STAT_CAP = 1 << 22         # /proc/stat: a line per CPU and one counter per interrupt before btime


def _read_text(path, cap=SMALL_FILE_CAP):
    return read_text(path, cap)


def _problem(warnings, errors, message):
    """Host data that is there but unusable: a warning, and an error entry when asked for."""
    warnings.append(message)
    if errors is not None:
        errors.append(message)


def _reason(exc):
    return exc.reason if isinstance(exc, HostFileError) else (exc.strerror or str(exc))


def read_sysctls(proc_root, warnings, keys=FACT_KEYS, errors=None):
    """The live value of each of ``keys`` (``int_or_text``): None when this kernel has no such key,
    None and a problem naming the key when it is there but cannot be read."""
    values = {}
    for key in keys:
        try:
            values[key] = int_or_text(live.read(proc_root, key))
        except live.SysctlReadError as exc:
            values[key] = None
            if exc.kind != live.ABSENT:
                _problem(warnings, errors, "sysctl %s unreadable: %s" % (key, exc))
    return values


def time_wait_reuse(sysctls):
    """Which TIME_WAIT ports connect() may take again, from already read sysctl values:
    ``effective`` "all" (tcp_tw_reuse=1), "loopback" (2: loopback destinations only) or "none",
    and ``delay_ms``, how old a TIME_WAIT must be first.

    The kernel reuses only a TIME_WAIT that recorded the peer's timestamps; timestamps on here
    (tcp_timestamps not 0) is taken to mean they were recorded, i.e. that peers send them too.
    A value that is missing or not a number counts as reuse off.
    """
    reuse = sysctl_int(sysctls.get(TW_REUSE))
    timestamps = sysctl_int(sysctls.get(TIMESTAMPS))
    delay = sysctl_int(sysctls.get(TW_REUSE_DELAY))
    effective = "none"
    if timestamps:
        effective = {1: "all", 2: "loopback"}.get(reuse, "none")
    return {"effective": effective,
            "delay_ms": delay if delay is not None and delay >= 0 else DEFAULT_TW_REUSE_DELAY_MS}


def ephemeral_ports(sysctls, warnings, errors=None):
    """The local port range and its usable size, and whether TIME_WAIT reuse relieves it, from
    already read sysctl values.

    ``reserved`` is the full expanded list here; the facts engine cuts it to ``top`` entries.
    """
    result = {"low": None, "high": None, "size": None, "reserved": [], "reserved_total": 0,
              "reserved_in_range": None, "usable": None, "reuse": time_wait_reuse(sysctls)}
    port_range = sysctls.get(PORT_RANGE)
    try:
        low, high = (parse_port(value) for value in str(port_range).split()) if isinstance(port_range, str) else (0, -1)
    except ValueError:
        low, high = 0, -1
    if high < low:
        if port_range is not None:
            _problem(warnings, errors, "/proc/sys/net/ipv4/ip_local_port_range: unusable value '%s'"
                     % printable(str(port_range)))
        warnings.append("net.ipv4.ip_local_port_range unavailable: outbound/inbound split and port_usage unknown")
        return result
    reserved_text = sysctls.get(RESERVED_PORTS)
    try:
        reserved = parse_port_list(str(reserved_text)) if reserved_text not in (None, "") else []
    except ValueError as exc:
        _problem(warnings, errors, "/proc/sys/net/ipv4/ip_local_reserved_ports: unusable value '%s' (%s)"
                 % (printable(str(reserved_text)), exc))
        reserved = []
    in_range = sum(1 for port in reserved if low <= port <= high)
    result.update(low=low, high=high, size=high - low + 1, reserved=reserved, reserved_total=len(reserved),
                  reserved_in_range=in_range, usable=high - low + 1 - in_range)
    return result


def parse_counter_table(text, section, bad=None):
    """Parse the header/value line pairs of /proc/net/netstat or /proc/net/snmp for one section.

    A value that is not an integer is left out and its name appended to ``bad``.
    """
    prefix = section + ":"
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    table = {}
    for header, values in zip(lines[0::2], lines[1::2]):
        names = header.split()[1:]
        numbers = values.split()[1:]
        for name, number in zip(names, numbers):
            value = int_or_none(number)
            if value is None:
                if bad is not None:
                    bad.append(name)
                continue
            table[name] = value
    return table


def read_counters(proc_root, warnings, errors=None):
    counters = {}
    for filename, section, names in COUNTER_SOURCES:
        path = os.path.join(proc_root, "net", filename)
        bad = []
        try:
            table = parse_counter_table(_read_text(path), section, bad)
        except OSError as exc:
            _problem(warnings, errors, "%s unreadable: %s" % (path, _reason(exc)))
            table = {}
        if bad:
            _problem(warnings, errors, "%s: %d %s values are not integers (%s): read as null"
                     % (path, len(bad), section, printable(", ".join(bad[:5]))))
        for name in names:
            counters[name] = table.get(name)
    return counters


def parse_sockstat(text, section, bad=None):
    """Return {field: int} of the line starting with ``section:`` ("TCP", "TCP6").

    A value that is not an integer is left out and its field name appended to ``bad``.
    """
    prefix = section + ":"
    for line in text.splitlines():
        if line.startswith(prefix):
            fields = line.split()[1:]
            values = {}
            for i in range(0, len(fields) - 1, 2):
                value = int_or_none(fields[i + 1])
                if value is None:
                    if bad is not None:
                        bad.append(fields[i])
                    continue
                values[fields[i]] = value
            return values
    return {}


def _read_sockstat_file(path, section, warnings, errors):
    """The section's fields, or None when the file is absent; problems reported."""
    bad = []
    try:
        fields = parse_sockstat(_read_text(path), section, bad)
    except OSError as exc:
        if is_absent(exc):
            return None
        _problem(warnings, errors, "%s unreadable: %s" % (path, _reason(exc)))
        return {}
    if bad:
        _problem(warnings, errors, "%s: %s fields not integers (%s): read as null"
                 % (path, section, printable(", ".join(bad[:5]))))
    elif not fields:
        _problem(warnings, errors, "%s: no %s line: read as null" % (path, section))
    return fields


def read_sockstat(proc_root, warnings, errors=None):
    """TCP counts of this network namespace (inuse, tw for IPv4; inuse6), plus orphan.

    The kernel keeps one orphan counter for the whole host, so ``orphan`` is host-wide even
    inside a container; ``host_wide`` names it so that nobody reads it as the namespace's own.
    """
    result = {"inuse": None, "orphan": None, "tw": None, "inuse6": None, "host_wide": ["orphan"]}
    path = os.path.join(proc_root, "net", "sockstat")
    tcp = _read_sockstat_file(path, "TCP", warnings, errors)
    if tcp is None:
        _problem(warnings, errors, "%s unreadable: absent" % path)
    else:
        for key in ("inuse", "orphan", "tw"):
            result[key] = tcp.get(key)
    tcp6 = _read_sockstat_file(os.path.join(proc_root, "net", "sockstat6"), "TCP6", warnings, errors)
    if tcp6 is None:
        warnings.append("/proc/net/sockstat6 absent: IPv6 disabled on this host")
    else:
        result["inuse6"] = tcp6.get("inuse")
    return result


def read_live_socket_counts(proc_root):
    """(TIME_WAIT sockets of both families, IPv6 TCP sockets in use, IPv4 TCP sockets in use) in this
    namespace, from /proc/net/sockstat{,6}; IPv6 in use is 0 when IPv6 is disabled; None when
    unreadable. A socket is in use from the moment it is hashed, listening, connecting or connected,
    until it closes or turns into TIME_WAIT."""
    try:
        ipv4 = parse_sockstat(_read_text(os.path.join(proc_root, "net", "sockstat")), "TCP")
        time_wait, inuse4 = ipv4["tw"], ipv4["inuse"]
        try:
            inuse6 = parse_sockstat(_read_text(os.path.join(proc_root, "net", "sockstat6")), "TCP6")["inuse"]
        except OSError as exc:
            if not is_absent(exc):
                raise
            inuse6 = 0
    except (OSError, KeyError):
        return None
    return time_wait, inuse6, inuse4


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
        text = _read_text(os.path.join(proc_root, "modules"), MODULES_CAP)
    except OSError:
        return False
    return any(line.split(" ", 1)[0] in NAT_MODULES for line in text.splitlines())


def read_netfilter(proc_root, sysctls):
    """Conntrack and NAT presence: NAT loaded means a NAT kernel module in /proc/modules
    or an iptables nat table registered in this namespace."""
    try:
        count = int_or_none(live.read(proc_root, CONNTRACK_COUNT))
    except live.SysctlReadError:
        count = None
    return {
        "conntrack_loaded": sysctls.get(CONNTRACK_MAX) is not None,
        "conntrack_count": count,
        "nat_loaded": _nat_modules_loaded(proc_root) or _nat_tables_present(proc_root),
    }


def read_boot_time(proc_root, warnings, errors=None):
    """When the host booted, epoch seconds (``btime`` of /proc/stat); None and a problem when unreadable.

    The kernel counters count since then: two reads with different boot times are two boots."""
    path = os.path.join(proc_root, "stat")
    try:
        text = _read_text(path, STAT_CAP)
    except OSError as exc:
        _problem(warnings, errors, "%s unreadable: %s: boot_time is null" % (path, _reason(exc)))
        return None
    for line in text.splitlines():
        if line.startswith("btime "):
            value = int_or_none(line[6:].strip())
            if value is not None and value > 0:
                return value
            _problem(warnings, errors, "%s: btime '%s' is not a positive integer: boot_time is null"
                     % (path, printable(line[6:].strip())))
            return None
    _problem(warnings, errors, "%s: no btime line: boot_time is null" % path)
    return None


def read_kernel_release(proc_root, warnings, errors=None):
    try:
        return printable(live.read(proc_root, live.RELEASE_KEY, RELEASE_CAP), 64)
    except live.SysctlReadError as exc:
        _problem(warnings, errors, "kernel release unreadable: %s: %s" % (live.key_path(proc_root, live.RELEASE_KEY), exc))
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
