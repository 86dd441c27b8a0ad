# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect the ``tcp_state`` facts: the engine behind tcpops.timewait.tcp_state_facts.

Standard library only and free of any Ansible import, so it also runs standalone:

    python3 -m ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect \\
        [--mode full|summary] [--backend auto|netlink|proc] [--top N] [--proc-root DIR] [--config-root DIR]
        [--namespaces self|all]
        [--sample-seconds N] [--check nagios|npd [--thresholds JSON] [--problem-at warn|fail]]

prints the tcp_state dict as JSON (exit 1 with the message on stderr when it cannot). With
``--check`` it is a monitoring check instead (``check.py``): one line and a plugin's exit code.
Summary mode imports and reads only what needs no socket dump. The contract of the
returned dict is the RETURN of plugins/modules/tcp_state_facts.py (``ansible-doc``).

Host data is read defensively (``_host_files``): a file, line or process that cannot be used is
a warning and an entry of ``errors`` naming it, and the rest is still returned. Every list is
bounded: the socket breakdowns by ``top``, ``warnings`` and ``errors`` by ``MAX_MESSAGES``, each
with its full count beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time
from array import array
from collections import Counter
from itertools import chain, compress
from operator import itemgetter

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import kernel as kernel_state
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.address import identity_is_loopback
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import (
    COUNT_KEYS, HOLDING_STATES, STATE_NAMES, TCP_CLOSE_WAIT, TCP_TIME_WAIT)
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl import files as sysctl_files
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import FACT_KEYS

TIME_WAIT_MS = 60000  # TCP_TIMEWAIT_LEN, compiled into the kernel
MAX_LIKELY_SOURCES = 5
MODES = ("full", "summary")
BACKENDS = ("auto", "netlink", "proc")
NAMESPACE_SCOPES = ("self", "all")
DEFAULT_PROC_ROOT = "/proc"
DEFAULT_CONFIG_ROOT = "/"
MAX_LOCAL_PORTS_PER_PROCESS = 20
MAX_MESSAGES = 50
# above this many TIME_WAIT (sockstat) a namespace is dumped as TIME_WAIT and the other states apart,
# where the strided fast path takes each dump whole; at or below it, in one dump of every
# non-listening state per family, which walks the kernel's established hash once instead of twice
SPLIT_DUMP_ABOVE_TIME_WAIT = 10000
# JSON bytes of a result at top=10 leaving out listen.ports (at most 7 bytes per distinct listening
# port); docs/tcp_state_facts.md states it and a unit test holds it on a worst-case host
RESULT_SIZE_BOUND = 96 * 1024
# a per-port count table: 65,536 unsigned ints made by one memory copy (a list of as many zeros costs
# twenty times more to make and to free, once per namespace with namespaces: all)
_NO_PORTS = array("I", [0])
FACT_KEY_SET = frozenset(FACT_KEYS)


class TcpStateError(Exception):
    """The facts cannot be collected; the message says what is missing."""


def _live_inode_pairs(pairs, batches):
    batched = ((row[1], inode) for rows, inodes in batches for row, inode in zip(rows, inodes))
    return chain(pairs, batched)


class SocketTally(object):
    """What the backends aggregate into while they read the socket table."""

    def __init__(self, ephemeral):
        from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.address import AF_INET, AF_INET6

        self.ephemeral = ephemeral
        # counts per kernel state number (index 12, NEW_SYN_RECV, is reported as syn_recv)
        self.by_family = {"ipv4": [0] * 13, "ipv6": [0] * 13}
        self._tw_local_ports = None  # per local port, made on first use (see tw_local_ports)
        self.tw_destinations = {AF_INET: Counter(), AF_INET6: Counter()}
        self._cw_local_ports = None
        self.cw_inodes = {}
        self.listeners = []
        self.outbound_ports = kernel_state.outbound_port_table(ephemeral)
        self.outbound_by_raw_port = None
        # outbound TIME_WAIT too young for connect() to reuse: its timer (ms left) above this
        # (None when reuse is off, then none is looked at)
        reuse = ephemeral.get("reuse") or {}
        self.young_after = None
        if reuse.get("effective", "none") != "none":
            self.young_after = TIME_WAIT_MS - reuse["delay_ms"]
        self.tw_young = {AF_INET: Counter(), AF_INET6: Counter()}
        # the other outbound sockets: (state number, destination key) -> count, and (key, inode)
        # pairs, or batches of ([(state, key)], [inode]) from the netlink fast path (see live_inodes)
        self.live_destinations = {AF_INET: Counter(), AF_INET6: Counter()}
        self.live_inodes = {AF_INET: [], AF_INET6: []}
        self.live_inode_batches = {AF_INET: [], AF_INET6: []}
        # netlink: at most this many TIME_WAIT in sockstat, one dump of all non-listening states per
        # family (None: TIME_WAIT always dumped apart); see sockdiag.collect_sockets
        self.split_dump_above = None
        # each process's network namespace link as the owner search read it, kept across the
        # namespaces of one walk (owners.find_owners); None: read afresh
        self.namespace_links = None

    @property
    def tw_local_ports(self):
        """TIME_WAIT sockets per local port (65,536 counts), made when a backend first counts one: most
        namespaces hold none, and two tables of 256 KiB made and freed per namespace walked cost more
        than reading its sysctls."""
        if self._tw_local_ports is None:
            self._tw_local_ports = _NO_PORTS * 65536
        return self._tw_local_ports

    @property
    def cw_local_ports(self):
        """CLOSE_WAIT sockets per local port, made on first use like ``tw_local_ports``."""
        if self._cw_local_ports is None:
            self._cw_local_ports = _NO_PORTS * 65536
        return self._cw_local_ports

    def live_inode_pairs(self, family):
        """Every (key, inode) of the family's outbound live sockets."""
        return _live_inode_pairs(self.live_inodes[family], self.live_inode_batches[family])

    def listeners_complete(self, network_port):
        """Listening ports are now all known: TIME_WAIT on them is inbound. Also index the
        outbound table by port in network byte order as read natively (``network_port``
        maps that raw value to the port)."""
        for entry in self.listeners:
            self.outbound_ports[entry[2]] = 0
        if network_port[1] == 256:
            # raw values are the ports byte-swapped (a little-endian host): as a 256 x 256 table
            # that is its transpose, 256 C-level slices instead of 65536 lookups (this runs once per
            # namespace with namespaces: all)
            table = bytes(self.outbound_ports)
            self.outbound_by_raw_port = b"".join(table[low::256] for low in range(256))
        else:
            self.outbound_by_raw_port = bytes(map(self.outbound_ports.__getitem__, network_port))


def _state_counts(per_state):
    counts = dict((key, 0) for key in COUNT_KEYS)
    for number in range(1, 13):
        if per_state[number]:
            counts[STATE_NAMES[number]] += per_state[number]
    counts["total"] = sum(per_state)
    return counts


def _seen(tally, state):
    """Whether the dump saw any socket in ``state``: every backend counts a socket in ``by_family``
    where it adds it to a per-port table, so without one the 65,536-entry tables need no pass
    (a namespace seldom holds CLOSE_WAIT, often no TIME_WAIT)."""
    return bool(tally.by_family["ipv4"][state] or tally.by_family["ipv6"][state])


def _top_ports(per_port, top):
    if per_port is None:
        return []
    # most first, lower port first among equals (the sort is stable, even reversed)
    used = sorted(compress(range(65536), per_port), key=per_port.__getitem__, reverse=True)
    return [{"port": port, "count": per_port[port]} for port in used[:top]]


class _Destinations(object):
    """Every outbound socket merged by the ``address.identity`` of its destination."""

    def __init__(self, tally, identify_all):
        self.held = {}        # identity -> sockets holding a local port toward it, all states
        self.time_wait = {}   # identity -> TIME_WAIT toward it
        self.young = {}       # identity -> TIME_WAIT too young to reuse (counted only when reuse is on)
        self.live = []        # (identity, state number, count) of the other states
        self.identities = {}  # family -> {live socket key: identity}
        held, time_wait, young = self.held, self.time_wait, self.young
        for family, destinations in tally.tw_destinations.items():
            ages = tally.tw_young[family]
            identities = identify_all(family, destinations)
            for key, count in destinations.items():
                destination = identities[key]
                time_wait[destination] = time_wait.get(destination, 0) + count
                held[destination] = held.get(destination, 0) + count
                if key in ages:
                    young[destination] = young.get(destination, 0) + ages[key]
        for family, counted in tally.live_destinations.items():
            known = self.identities[family] = identify_all(family, set(map(itemgetter(1), counted)))
            for (state, key), count in counted.items():
                destination = known[key]
                held[destination] = held.get(destination, 0) + count
                self.live.append((destination, state, count))

    def states(self, destinations):
        """{identity: Counter of state numbers} for the given identities."""
        found = dict((destination, Counter({TCP_TIME_WAIT: self.time_wait.get(destination, 0)}))
                     for destination in destinations)
        for destination, state, count in self.live:
            if destination in found:
                found[destination][state] += count
        return found

    def entry(self, endpoint, destination, states, reusable, usage, effective):
        return {
            "address": endpoint[0],
            "port": endpoint[1],
            "count": states[TCP_TIME_WAIT],
            "held": self.held[destination],
            "states": dict((STATE_NAMES[number], states[number]) for number in HOLDING_STATES if states[number]),
            "time_wait_reusable": reusable,
            "reuse_effective": effective,
            "port_usage": usage,
            "likely_sources": None,
        }


def _top_destinations(tally, backend, usable, top):
    """The ``top`` destinations by port usage, then held sockets, then the lower address and port
    (IPv4 before IPv6); the identity of each of them, and of each live socket key. Only these few are
    turned into text, and only destinations that tie on usage and held sockets are compared one by one
    (a host can hold a socket toward each of thousands of destinations)."""
    import heapq

    merged = _Destinations(tally, backend.destination_identities)
    reuse = (tally.ephemeral.get("reuse") or {}).get("effective", "none")

    def reuse_applies(destination):
        return reuse == "all" or (reuse == "loopback" and identity_is_loopback(destination))

    reusable = {}  # identity -> TIME_WAIT toward it that connect() may take again
    for destination, count in merged.time_wait.items():
        if reuse_applies(destination):
            reusable[destination] = count - merged.young.get(destination, 0)
    usage_of = {}  # ports connect() cannot take -> port usage
    groups = {}  # (port usage, held) -> identities
    for destination, held in merged.held.items():
        taken = held - reusable.get(destination, 0)
        usage = usage_of.get(taken, False)
        if usage is False:
            usage = usage_of[taken] = round(taken / usable, 4) if usable else None
        groups.setdefault((usage, held), []).append(destination)
    chosen = []
    for usage, held in sorted(groups, key=lambda group: (-(group[0] or 0.0), -group[1])):
        if len(chosen) >= top:
            break
        chosen.extend(heapq.nsmallest(top - len(chosen), groups[(usage, held)]))
    states = merged.states(chosen)
    entries = []
    for destination in chosen:
        spared = reusable.get(destination, 0)
        entries.append(merged.entry(backend.destination_endpoint(destination), destination, states[destination],
                                    spared, usage_of[merged.held[destination] - spared], reuse_applies(destination)))
    return entries, chosen, merged.identities


class _OwnerSearch(object):
    """The one /proc scan for socket owners a dump calls for: the CLOSE_WAIT sockets' owners and the
    likely sources of the top TIME_WAIT destinations. It keeps only what the scan needs of the dump
    (not its per-port tables), so that a walk of namespaces can rank them all first and search owners
    only in the ones it shows in full."""

    def __init__(self, tally, identities, destinations, chosen):
        self.close_wait_ports = tally.cw_inodes  # CLOSE_WAIT socket inode -> its local port
        # family -> (live socket key, inode) pairs, kept apart from the tally and its per-port tables
        self.live_inodes, self.live_inode_batches = tally.live_inodes, tally.live_inode_batches
        self.identities = identities  # family -> {live socket key: identity}
        self.namespace_links = tally.namespace_links
        self.destinations = destinations  # time_wait.top_destinations, filled in place
        self.chosen = chosen  # the identity of each of them

    def _toward(self):
        """{live socket inode: the identity of the top destination it is connected to}."""
        toward = {}
        wanted = frozenset(self.chosen)
        for family, known in self.identities.items():
            keys = set(key for key, destination in known.items() if destination in wanted)
            if keys:
                pairs = _live_inode_pairs(self.live_inodes[family], self.live_inode_batches[family])
                toward.update((inode, known[key]) for key, inode in pairs if inode and key in keys)
        return toward

    def fill(self, time_wait, close_wait, proc_root, top, warnings, errors, own_proc=None):
        """Fill ``time_wait``'s likely sources (and ``likely_sources_reason``) and ``close_wait``'s owners;
        the processes of the namespace ``own_proc`` shows (by default ``proc_root/self``'s) are searched
        first."""
        from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.owners import find_owners

        toward = self._toward()
        process_errors = []
        owners, reason = find_owners(set(self.close_wait_ports).union(toward), proc_root, process_errors,
                                     self.namespace_links, own_proc)
        warnings.extend(process_errors)
        errors.extend(process_errors)
        if self.destinations and owners is None:
            time_wait["likely_sources_reason"] = reason
        elif self.destinations:
            self._fill_sources(owners, toward)
        _close_wait_owners(close_wait, owners, reason, self.close_wait_ports, top, warnings)

    def _fill_sources(self, owners, toward):
        """Each top destination's ``likely_sources``: the processes holding live sockets toward it now
        (TIME_WAIT sockets have no owner: this is an inference)."""
        from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.owners import sources_by_destination

        sources = sources_by_destination(owners, toward, MAX_LIKELY_SOURCES)
        for entry, destination in zip(self.destinations, self.chosen):
            entry["likely_sources"] = sources.get(destination, [])


def _time_wait(tally, backend, top):
    """``time_wait`` without its likely sources, and the ``_OwnerSearch`` that adds them."""
    seen = _seen(tally, TCP_TIME_WAIT)
    total = sum(tally.tw_local_ports) if seen else 0
    if tally.ephemeral["low"] is None:
        outbound = inbound = None
    else:
        outbound = sum(compress(tally.tw_local_ports, tally.outbound_ports)) if seen else 0
        inbound = total - outbound
    destinations, chosen, identities = _top_destinations(tally, backend, tally.ephemeral["usable"], top)
    return {
        "total": total,
        "outbound": outbound,
        "inbound": inbound,
        "top_destinations": destinations,
        "likely_sources_reason": None,
        "top_local_ports": _top_ports(tally.tw_local_ports if seen else None, top),
    }, _OwnerSearch(tally, identities, destinations, chosen)


def _close_wait(tally, top):
    """``close_wait`` without its owners."""
    seen = _seen(tally, TCP_CLOSE_WAIT)
    return {
        "total": sum(tally.cw_local_ports) if seen else 0,
        "owners_available": False,
        "owners_reason": None,
        "top_processes": [],
        "processes_total": None,
        "unowned": None,
        "top_local_ports": _top_ports(tally.cw_local_ports if seen else None, top),
    }


def _close_wait_owners(result, owners, reason, close_wait_ports, top, warnings):
    if owners is None:
        result["owners_reason"] = reason
        warnings.append("CLOSE_WAIT owners unavailable: %s" % reason)
        return
    held = set()
    processes = []
    for pid, owner in owners.items():
        inodes = [inode for inode in owner["inodes"] if inode in close_wait_ports]
        if not inodes:
            continue  # it holds only sockets the scan looked for on behalf of time_wait
        held.update(inodes)
        ports = sorted(set(close_wait_ports[inode] for inode in inodes))
        processes.append({"pid": pid, "comm": owner["comm"], "count": len(inodes),
                          "local_ports": ports[:MAX_LOCAL_PORTS_PER_PROCESS]})
    processes.sort(key=lambda item: (-item["count"], item["pid"]))
    result.update(owners_available=True, top_processes=processes[:top], processes_total=len(processes),
                  unowned=result["total"] - len(held))


def _fullest_first(listener):
    family, address, port, queue, backlog = listener
    return (-(queue / backlog) if backlog else 0.0, -queue, port, address, family)


def _listen(tally, top):
    """``sockets``: the ``top`` listeners with the fullest accept queues, listed by port;
    ``ports``: every listening port (tcp_tuning keeps them out of the ephemeral range)."""
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.address import AF_INET, AF_INET6

    family_name = {AF_INET: "ipv4", AF_INET6: "ipv6"}
    kept = sorted(tally.listeners, key=_fullest_first)[:top]
    sockets = [{"address": address, "port": port, "family": family_name[family],
                "queue": queue, "backlog": backlog}
               for family, address, port, queue, backlog in kept]
    sockets.sort(key=lambda item: (item["port"], item["address"], item["family"]))
    return {"total": len(tally.listeners), "sockets": sockets,
            "ports": sorted(set(entry[2] for entry in tally.listeners))}


def _dump_sockets(ephemeral, backend, proc_root, warnings, errors, own_proc):
    """Read the socket table of the calling thread's namespace, whose ``net/`` files are under
    ``own_proc``; return (tally, backend used, the backend's module: it knows its destination keys,
    ``destination_identities`` and ``destination_endpoint``)."""
    if backend == "auto" and os.path.realpath(proc_root) != os.path.realpath(DEFAULT_PROC_ROOT):
        backend = "proc"  # netlink always sees the calling thread's own namespace, not proc_root's
    if backend in ("auto", "netlink"):
        from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import sockdiag as _sockdiag

        tally = SocketTally(ephemeral)
        tally.split_dump_above = SPLIT_DUMP_ABOVE_TIME_WAIT
        live_counts = None
        if os.path.realpath(proc_root) == os.path.realpath(DEFAULT_PROC_ROOT):
            def live_counts():
                return kernel_state.read_live_socket_counts(own_proc)
        try:
            _sockdiag.collect_sockets(tally, live_counts)
            return tally, "netlink", _sockdiag
        except _sockdiag.SockDiagError as exc:
            if backend == "netlink":
                raise TcpStateError("backend netlink requested but not usable: %s" % exc)
            warnings.append("netlink sock_diag not usable (%s); read /proc/net/tcp{,6} instead, which is slower" % exc)
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import procnet as _procnet

    tally = SocketTally(ephemeral)
    try:
        _procnet.collect_sockets(tally, own_proc, warnings, errors)
    except _procnet.ProcNetError as exc:
        raise TcpStateError(str(exc))
    return tally, "proc", _procnet


def _socket_breakdown(sysctls, ephemeral, backend, proc_root, top, warnings, errors, namespace_links=None,
                      own_proc=None):
    """The full-mode keys (backend, counts, by_family, time_wait, close_wait, listen) of the network
    namespace the calling thread is in (its ``net/`` files under ``own_proc``, by default ``proc_root``),
    without the socket owners, and the ``_OwnerSearch`` that fills them in; the host's facts and each
    namespace entry both come from here."""
    tally, used, reader = _dump_sockets(ephemeral, backend, proc_root, warnings, errors, own_proc or proc_root)
    tally.namespace_links = namespace_links
    by_family = dict((name, _state_counts(per_state)) for name, per_state in tally.by_family.items())
    counts = dict((key, by_family["ipv4"][key] + by_family["ipv6"][key]) for key in by_family["ipv4"])
    time_wait, owner_search = _time_wait(tally, reader, top)
    breakdown = {
        "backend": used,
        "counts": counts,
        "by_family": by_family,
        "time_wait": time_wait,
        "close_wait": _close_wait(tally, top),
        "listen": _listen(tally, top),
    }
    if used == "proc" and tally.listeners:
        warnings.append("listen backlog unavailable from /proc/net/tcp: listen.sockets[].backlog is null")
    return breakdown, owner_search


def survey_namespace(backend, top, proc_root, warnings, errors, namespace_links, own_proc):
    """One network namespace's entry of ``tcp_state.namespaces`` (without inode, pids and owner), read in
    the namespace the calling thread is in: its port range and socket breakdown, all but the socket
    owners and the sysctls the ranking does not need; and ``complete(warnings, errors, own_proc)``, which
    adds those (run in the same namespace: the owner search looks at its processes first). A walk
    completes only the namespaces it shows in full.
    ``namespace_links``: a dict shared by the namespaces of one walk (see ``namespace_reader``), or None;
    ``own_proc``: the /proc directory that shows the calling thread's own ``net/`` (``entering.thread_proc``:
    ``/proc/net`` follows the main thread only), and ``complete`` is given its own thread's."""
    sysctls = kernel_state.read_sysctls(proc_root, warnings, kernel_state.HEADROOM_KEYS, errors)
    ephemeral = kernel_state.ephemeral_ports(sysctls, warnings, errors)
    breakdown, owner_search = _socket_breakdown(sysctls, ephemeral, backend, proc_root, top, warnings, errors,
                                                namespace_links, own_proc)
    entry = {"ephemeral_ports": ephemeral, "sysctl": sysctls}
    entry.update((key, breakdown[key]) for key in ("counts", "time_wait", "close_wait", "listen"))
    _cap_lists(entry, top)

    def complete(more_warnings, more_errors, completing_proc):
        rest = [key for key in FACT_KEYS if key not in sysctls]
        sysctls.update(kernel_state.read_sysctls(proc_root, more_warnings, rest, more_errors))
        entry["sysctl"] = dict((key, sysctls[key]) for key in FACT_KEYS)
        owner_search.fill(entry["time_wait"], entry["close_wait"], proc_root, top, more_warnings, more_errors,
                          completing_proc)

    return entry, complete


def _require_proc(proc_root):
    if not sys.platform.startswith("linux") and proc_root == DEFAULT_PROC_ROOT:
        raise TcpStateError("tcp_state_facts needs Linux (this is %s)" % sys.platform)
    marker = os.path.join(proc_root, "net", "sockstat")
    if not os.access(marker, os.R_OK):
        raise TcpStateError("%s is not readable: this needs Linux with procfs mounted at %s "
                            "(set proc_root to where it is mounted)" % (marker, proc_root))


def _bounded(messages):
    return messages[:MAX_MESSAGES], len(messages)


def _cap_lists(result, top):
    """Cut the lists that grow with the host's data to ``top`` entries (their totals stay beside)."""
    ephemeral = result["ephemeral_ports"]
    ephemeral["reserved"] = ephemeral["reserved"][:top]


def _check_namespaces(namespaces, mode, proc_root):
    if namespaces not in NAMESPACE_SCOPES:
        raise TcpStateError("namespaces must be one of %s, got %r" % (", ".join(NAMESPACE_SCOPES), namespaces))
    if namespaces == "all" and mode != "full":
        raise TcpStateError("namespaces all needs mode full (each namespace's entry is its socket breakdown)")
    if namespaces == "all" and os.path.realpath(proc_root) != os.path.realpath(DEFAULT_PROC_ROOT):
        raise TcpStateError("namespaces all enters the live namespaces through /proc: leave proc_root at /proc "
                            "(got %s)" % proc_root)


def namespace_reader(backend, top, proc_root):
    """``read_namespace(warnings, errors, own_proc)`` for ``namespaces.scan``: ``survey_namespace`` in
    whatever namespace the thread is in, the owner searches of one walk sharing what they learn of
    processes."""
    namespace_links = {}

    def read_namespace(ns_warnings, ns_errors, own_proc):
        return survey_namespace(backend, top, proc_root, ns_warnings, ns_errors, namespace_links, own_proc)

    return read_namespace


def _merged_thresholds(overrides):
    """The audit's thresholds with ``overrides`` (None: none given, the defaults apply)."""
    if overrides is None:
        return None
    from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules

    try:
        return rules.merge_thresholds(overrides)
    except rules.ThresholdError as exc:
        raise TcpStateError("thresholds: %s" % exc)


def _other_namespaces(backend, top, proc_root, warnings, thresholds):
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import namespaces as _namespaces

    read_namespace = namespace_reader(backend, top, proc_root)
    try:
        return _namespaces.scan(read_namespace, top, proc_root, warnings=warnings, thresholds=thresholds)
    except _namespaces.NamespaceReturnError as exc:
        raise TcpStateError(str(exc))


def _sampled_rates(result, proc_root, sample_seconds, started):
    """``rates``: the counters read again ``sample_seconds`` after the first read (``started``); the
    second read's problems are the first read's, already reported."""
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import rates as _rates

    return _rates.sample(sample_seconds, started, result["counters"],
                         lambda: kernel_state.read_counters(proc_root, []))


def collect(mode="full", backend="auto", top=10, proc_root=DEFAULT_PROC_ROOT, config_root=DEFAULT_CONFIG_ROOT,
            namespaces="self", sample_seconds=0, thresholds=None):
    """Return the tcp_state dict (RETURN of tcp_state_facts). Raise TcpStateError when it cannot.
    ``thresholds``: overrides of the audit's thresholds, by which ``namespaces="all"`` ranks the namespaces."""
    if mode not in MODES:
        raise TcpStateError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if backend not in BACKENDS:
        raise TcpStateError("backend must be one of %s, got %r" % (", ".join(BACKENDS), backend))
    if top < 0:
        raise TcpStateError("top must be 0 or more, got %d" % top)
    _check_namespaces(namespaces, mode, proc_root)
    thresholds = _merged_thresholds(thresholds)
    if sample_seconds != 0 or isinstance(sample_seconds, bool):
        from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.rates import check_seconds

        try:
            check_seconds(sample_seconds)
        except ValueError as exc:
            raise TcpStateError(str(exc))
    started = time.monotonic()
    collected_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _require_proc(proc_root)
    warnings = []
    errors = []
    config = sysctl_files.collect(config_root)
    # each live value once: the keys of interest, then every plain key a sysctl file sets
    configured = [key for key in sysctl_files.plain_keys(config) if key not in FACT_KEY_SET]
    sysctls = kernel_state.read_sysctls(proc_root, warnings, FACT_KEYS + tuple(configured), errors)
    ephemeral = kernel_state.ephemeral_ports(sysctls, warnings, errors)
    sample_started = time.monotonic()
    result = {
        "kernel": kernel_state.read_kernel_release(proc_root, warnings, errors),
        "mode": mode,
        "collected_at": collected_at,
        "backend": None,
        "duration_ms": None,
        "warnings": warnings,
        "warnings_total": None,
        "errors": errors,
        "errors_total": None,
        "counts": None,
        "by_family": None,
        "time_wait": None,
        "close_wait": None,
        "listen": None,
        "ephemeral_ports": ephemeral,
        "sysctl": sysctls,
        "counters": kernel_state.read_counters(proc_root, warnings, errors),
        "sockstat": kernel_state.read_sockstat(proc_root, warnings, errors),
        "netfilter": kernel_state.read_netfilter(proc_root, sysctls),
        "sysctl_config": config,
        "namespaces": None,
        "boot_time": kernel_state.read_boot_time(proc_root, warnings, errors),
        "rates": None,
    }
    for message in config["errors"]:
        warnings.append("sysctl configuration: %s" % message)
        errors.append("sysctl configuration: %s" % message)
    if config["errors_total"] > len(config["errors"]):
        more = "sysctl configuration: %d more errors not listed" % (config["errors_total"] - len(config["errors"]))
        warnings.append(more)
        errors.append(more)
    if mode == "full":
        breakdown, owner_search = _socket_breakdown(sysctls, ephemeral, backend, proc_root, top, warnings, errors)
        owner_search.fill(breakdown["time_wait"], breakdown["close_wait"], proc_root, top, warnings, errors)
        result.update(breakdown)
    if namespaces == "all":
        result["namespaces"] = _other_namespaces(backend, top, proc_root, warnings, thresholds)
    if sample_seconds:
        result["rates"] = _sampled_rates(result, proc_root, sample_seconds, sample_started)
    _cap_lists(result, top)
    result["warnings"], result["warnings_total"] = _bounded(warnings)
    result["errors"], result["errors_total"] = _bounded(errors)
    result["duration_ms"] = round((time.monotonic() - started) * 1000.0, 3)
    return result


USAGE = ("usage: _tcp_state [--mode full|summary] [--backend auto|netlink|proc] [--top N] [--proc-root DIR]"
         " [--config-root DIR] [--namespaces self|all] [--sample-seconds N]"
         " [--check nagios|npd [--thresholds JSON] [--problem-at warn|fail]]")


def _parse_arguments(argv):
    """Return (options, None) or (None, (exit code, text for the user))."""
    options = {"mode": "full", "backend": "auto", "top": 10, "proc_root": DEFAULT_PROC_ROOT,
               "config_root": DEFAULT_CONFIG_ROOT, "namespaces": "self", "sample_seconds": 0}
    names = {"--mode": "mode", "--backend": "backend", "--top": "top", "--proc-root": "proc_root",
             "--config-root": "config_root", "--namespaces": "namespaces", "--sample-seconds": "sample_seconds"}
    items = list(argv)
    while items:
        flag = items.pop(0)
        if flag in ("-h", "--help"):
            return None, (0, USAGE)
        value = None
        if "=" in flag:
            flag, value = flag.split("=", 1)
        elif items:
            value = items.pop(0)
        if flag not in names or value is None:
            return None, (2, USAGE)
        options[names[flag]] = value
    for name in ("top", "sample_seconds"):
        try:
            options[name] = int(options[name])
        except ValueError:
            return None, (2, "--%s needs an integer" % name.replace("_", "-"))
    return options, None


def main(argv=None):
    """The command line: print tcp_state as JSON; return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if any(item == "--check" or item.startswith("--check=") for item in argv):
        from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.check import main as check_main

        return check_main(argv)
    options, refusal = _parse_arguments(argv)
    if refusal is not None:
        code, text = refusal
        (sys.stdout if code == 0 else sys.stderr).write(text + "\n")
        return code
    try:
        result = collect(**options)
    except TcpStateError as exc:
        sys.stderr.write("tcp_state: %s\n" % exc)
        return 1
    import json

    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
