"""Plant a known mix of TCP sockets inside a fresh network namespace, and read ``ss``'s view of it.

Needs root (``ip netns``). Standard library only. Import it by path, e.g. from tests/bench::

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
    import plant

    with plant.Namespace() as ns:            # "ip netns add tcpops-<hex>", lo up, sysctls below
        plant.plant_time_wait(ns, [("127.0.0.2", 8080, 50000), ("127.0.0.3", 8080, 50000)])
        plant.plant_time_wait_inbound(ns, [("127.0.0.1", 80, 500)])
        plant.plant_established(ns, 2000)    # 2000 connections = 4000 ESTABLISHED sockets
        plant.plant_close_wait(ns, 50, comm="cw-leaker")
        plant.plant_listen(ns, 443, backlog=128, pending=5)
        ns.planted                           # {"time_wait": 100500, "established": 4010, ...}
        plant.ss_view(ns).counts             # the same, as ``ss -Htan`` sees it
        ns.run(["cat", "/proc/net/sockstat"])
        ns.time_wait_seconds_left            # measure before the first TIME_WAIT expire
    # leaving the block stops every worker and deletes the namespace (atexit does it too)

The namespace
-------------
``Namespace(port_range=(1024, 65000), reserved_ports="", tw_buckets=2000000, tw_reuse=0,
rfc1337=1, sysctls=None)`` sets inside the namespace ``net.ipv4.ip_local_port_range``,
``net.ipv4.ip_local_reserved_ports``, ``net.ipv4.tcp_max_tw_buckets``, ``net.ipv4.tcp_tw_reuse``,
``net.ipv4.tcp_rfc1337`` and any extra ``{dotted.name: value}``. ``tcp_tw_reuse`` is 0 so that
connect() never recycles a planted TIME_WAIT (the kernel default 2 reuses loopback TIME_WAIT older
than one second). ``tcp_rfc1337`` is 1 so that no RST kills one either: on a loaded machine a
worker moving between CPUs can get a connection's segments processed out of order; a late ACK
then fails PAWS at the TIME_WAIT, which answers, the closed peer answers that with a RST and,
with the default 0, the RST ends the TIME_WAIT (seen: 119 of 50000 lost, as many as TcpOutRsts).
Attributes and helpers: ``name``; ``exec_argv(argv)`` (``["ip", "netns", "exec", name] + argv``);
``run(argv, check=True, **kw)`` (``subprocess.run`` of that, text, output captured);
``sysctl(name)`` (value with white space folded); ``write_sysctl(name, value)``; ``sockstat()``
(the TCP line of /proc/net/sockstat in the namespace); ``netstat(name)`` (a TcpExt counter);
``check_time_wait()`` (raises PlantError unless sockstat's ``tw`` equals the TIME_WAIT planted);
``inode`` (the namespace's inode number, as ``stat -L -c %i /proc/PID/ns/net`` prints it);
``usable_ports`` (range size minus the reserved ports inside it: the most TIME_WAIT toward one
destination); ``planted`` (Counter: state name -> sockets planted so far); ``planted_at`` (monotonic start of the first TIME_WAIT
planting) and ``time_wait_seconds_left`` (TIME_WAIT lasts 60 s); ``worker_timeout`` (s, 300).
Every socket lives in a worker process started with ``ip netns exec``; ``close()`` closes their
stdin (they exit), kills what is left in the namespace by pid, then ``ip netns del``.

What each call leaves in the namespace (each returns a dict describing what it did)
-----------------------------------------------------------------------------------
- ``plant_time_wait(ns, destinations, workers=None, verify=False)``: for each
  ``(address, port, count)`` a listener is bound to ``address:port``; ``count`` clients connect,
  the CLIENT closes first, the server waits for the FIN (EOF) and then closes. Result: exactly
  ``count`` TIME_WAIT on the client side (local address 127.0.0.1, ::1 for IPv6, ::ffff:127.0.0.1
  toward an IPv4-mapped address; local port from the ephemeral range; peer ``address:port``); the
  server sides end CLOSED and the listeners are closed. ``count`` may not exceed
  ``ns.usable_ports``, so 200k needs at least 4 destinations. Use destination addresses other
  than 127.0.0.1/::1 (the clients' own) when the port lies in the ephemeral range, or the bind
  may meet a planted client holding that port. Destinations are spread over ``workers``
  processes (default: one per CPU; a destination stays in one process). With
  ``verify``, ``ns.check_time_wait()`` runs afterwards. Result keys: ``total``, ``seconds``,
  ``rate`` (sockets per second), ``workers``, ``destinations``. Measured on the 2-core test
  machine while other jobs ran: 200k toward 4 destinations in 8-9 s (21-26k per second).
- ``plant_time_wait_inbound(ns, services, verify=False)``: for each IPv4 ``(address, port, count)``
  a listener on ``address:port``; clients bound to unique source addresses in 127.200.0.0/16
  connect and the SERVER closes first. Result: exactly ``count`` TIME_WAIT with local port
  ``port`` (choose a port outside the ephemeral range so that it counts as inbound); the client
  sides end CLOSED.
- ``plant_established(ns, n, address="127.0.0.1")``: ``n`` connections held open by worker
  processes (``fd_budget() // 2`` per process, 9872 here): ``2 * n`` ESTABLISHED sockets, both
  ends in the namespace.
- ``plant_close_wait(ns, n, comm="cw-leaker", address="127.0.0.1")``: a child process whose
  /proc/PID/comm is ``comm`` connects ``n`` times; the server side shuts down its write half (FIN)
  but stays open, the child never calls close(). Result: ``n`` CLOSE_WAIT owned by the child
  (``leaker_pid``; ``local_ports``, sorted) and ``n`` FIN_WAIT2 held by the worker (``pid``; not
  orphaned, so they do not time out).
- ``plant_clients(ns, address, port, n, comm="tw-client")``: a listener on ``address:port`` (kept
  open) and a child process named ``comm`` (``client_pid``) holding ``n`` connections to it:
  ``2 * n`` ESTABLISHED, the child's ``n`` on ephemeral ports (``local_ports``) toward
  ``address:port``. Plant it after any TIME_WAIT toward the same ``address:port`` (that planting
  binds its own listener there).
- ``plant_listen(ns, port, backlog, pending=0, address="0.0.0.0", pending_closed=0)``: one
  LISTEN socket with ``listen(backlog)`` (the kernel caps it at ``net.core.somaxconn``) and
  ``pending`` connections left in its accept queue: 1 LISTEN and ``2 * pending`` ESTABLISHED.
  A ``port`` inside the ephemeral range must be in ``reserved_ports`` (as on a real host: else
  an earlier planted client may already hold it and the bind fails now and then).
  ``pending_closed`` more queued connections whose client then shuts down its write half: the
  queued server side turns CLOSE_WAIT with no process holding it (never accepted, no fd) and the
  client, kept open, FIN_WAIT2. ``queue``/``backlog`` in the result are read back from the kernel.
- ``hold(ns)``: a worker that holds nothing and stays until ``close()``, so that the namespace has a
  process (what a scan of /proc/PID/ns/net finds, what ``nsenter -t PID -n`` enters); returns its pid.
- ``ss_view(ns)``: ``ss -Htan`` and ``ss -Htln`` parsed: ``counts`` (the facts' state names plus
  ``total``), ``by_family``, ``time_wait_by_destination`` (Counter of (address, port), IPv4-mapped
  shown as IPv4), ``time_wait_by_local_port``, ``close_wait_by_local_port``, ``listen``
  ({(address, port): (queue, backlog)}; ss's ``*``, a dual-stack ``::`` socket, is ``::``).

Command line (root)
-------------------
``python3 tests/support/plant.py --time-wait 127.0.0.2:8080:50000 --inbound 127.0.0.1:80:500
--established 1000 --close-wait 20 --listen 443:128:5 [--reserve 8443 --listen 8443:64:0]
--hold 30`` plants, prints a JSON summary (namespace name, rates, ``ss`` counts, sockstat),
keeps the sockets for ``--hold`` seconds (or until Ctrl-C), then cleans up. ``plant.py worker`` is the in-namespace worker (one JSON job on
stdin, one JSON line back); it is not meant to be run by hand.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import ctypes
import json
import os
import resource
import secrets
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

STATES = (
    "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
    "close", "close_wait", "last_ack", "listen", "closing",
)
SS_STATE_NAMES = {
    "ESTAB": "established", "SYN-SENT": "syn_sent", "SYN-RECV": "syn_recv",
    "FIN-WAIT-1": "fin_wait1", "FIN-WAIT-2": "fin_wait2", "TIME-WAIT": "time_wait",
    "UNCONN": "close", "CLOSE-WAIT": "close_wait", "LAST-ACK": "last_ack",
    "LISTEN": "listen", "CLOSING": "closing",
}
TCP_FIN_WAIT2 = 5
TIME_WAIT_SECONDS = 60  # TCP_TIMEWAIT_LEN, compiled into the kernel
IP_LOCAL_PORT_RANGE = 51  # Linux 6.3+; not in the socket module's constants
FD_SPARE = 256  # descriptors a worker keeps for the interpreter itself
INBOUND_SOURCE_PORTS = range(1024, 65024)
INBOUND_SOURCE_NET = (127, 200)


class PlantError(RuntimeError):
    """A worker could not plant what was asked."""


# --------------------------------------------------------------------------------------------
# Controller side: the namespace and the planting calls
# --------------------------------------------------------------------------------------------

class Namespace:
    """A fresh network namespace ``tcpops-<hex>`` that owns the workers planted into it."""

    def __init__(self, port_range=(1024, 65000), reserved_ports="", tw_buckets=2000000,
                 tw_reuse=0, rfc1337=1, sysctls=None, prefix="tcpops"):
        self.name = "%s-%s" % (prefix, secrets.token_hex(4))
        self.port_range = tuple(port_range)
        self.reserved_ports = reserved_ports
        self.sysctls = {
            "net.ipv4.ip_local_port_range": "%d %d" % self.port_range,
            "net.ipv4.ip_local_reserved_ports": reserved_ports,
            "net.ipv4.tcp_max_tw_buckets": str(tw_buckets),
            "net.ipv4.tcp_tw_reuse": str(tw_reuse),
            "net.ipv4.tcp_rfc1337": str(rfc1337),
        }
        self.sysctls.update({k: str(v) for k, v in (sysctls or {}).items()})
        self.planted = collections.Counter()
        self.planted_at = None
        self.worker_timeout = 300.0
        self._workers = []
        self._inbound_next = 0
        self._created = False

    # lifecycle
    def __enter__(self):
        self.create()
        return self

    def __exit__(self, *exc):
        self.close()

    def create(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self._created = True
        atexit.register(self.close)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            for key, value in self.sysctls.items():
                self.write_sysctl(key, value)
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Stop every worker (by pid), then delete the namespace. Safe to call twice."""
        atexit.unregister(self.close)
        for proc in self._workers:
            if proc.stdin and not proc.stdin.closed:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        for proc in self._workers:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        self._workers = []
        if self._created:
            self._created = False
            self._kill_leftovers()
            subprocess.run(["ip", "netns", "del", self.name], check=False)

    def _kill_leftovers(self):
        out = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True, check=False)
        for pid in out.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    # running things inside
    def exec_argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, check=True, **kwargs):
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.exec_argv(argv), check=check, **kwargs)

    def write_sysctl(self, key, value):
        path = "/proc/sys/" + key.replace(".", "/")
        self.run(["sh", "-c", 'printf "%s\\n" "$1" > "$2"', "sh", value, path])

    def sysctl(self, key):
        path = "/proc/sys/" + key.replace(".", "/")
        return " ".join(self.run(["cat", path]).stdout.split())

    def sockstat(self):
        """TCP line of /proc/net/sockstat inside the namespace: {"inuse", "orphan", "tw", ...}.

        Only ``inuse`` and ``tw`` are the namespace's own; ``orphan``, ``alloc`` and ``mem`` are
        host-wide kernel counters.
        """
        for line in self.run(["cat", "/proc/net/sockstat"]).stdout.splitlines():
            if line.startswith("TCP:"):
                fields = line.split()[1:]
                return {fields[i]: int(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}
        raise PlantError("no TCP line in /proc/net/sockstat")

    def netstat(self, name):
        """One TcpExt counter of /proc/net/netstat inside the namespace (e.g. TCPTimeWaitOverflow)."""
        lines = [line.split() for line in self.run(["cat", "/proc/net/netstat"]).stdout.splitlines()
                 if line.startswith("TcpExt:")]
        return int(dict(zip(lines[0][1:], lines[1][1:]))[name])

    def check_time_wait(self):
        """Raise PlantError unless the kernel holds every TIME_WAIT planted so far."""
        held = self.sockstat()["tw"]
        if held != self.planted["time_wait"]:
            raise PlantError("the namespace holds %d TIME_WAIT, %d were planted %.1f s ago "
                             "(TCPTimeWaitOverflow %d)" % (held, self.planted["time_wait"],
                                                           time.monotonic() - self.planted_at,
                                                           self.netstat("TCPTimeWaitOverflow")))
        return held

    @property
    def time_wait_seconds_left(self):
        """Seconds before the first planted TIME_WAIT sockets start to expire (None if none)."""
        if self.planted_at is None:
            return None
        return TIME_WAIT_SECONDS - (time.monotonic() - self.planted_at)

    @property
    def inode(self):
        """The namespace's inode number (``stat -L -c %i /proc/PID/ns/net`` of any process in it)."""
        return os.stat(os.path.join("/run/netns", self.name)).st_ino

    @property
    def usable_ports(self):
        low, high = self.port_range
        return high - low + 1 - len([p for p in _expand_ports(self.reserved_ports) if low <= p <= high])

    # workers
    def start_worker(self, job):
        proc = subprocess.Popen(
            self.exec_argv([sys.executable, os.path.abspath(__file__), "worker"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._workers.append(proc)
        proc.stdin.write(json.dumps(job) + "\n")
        proc.stdin.flush()
        return proc

    def wait_worker(self, proc):
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(self.worker_timeout):
                proc.kill()
                raise PlantError("worker %d gave no reply within %.0f s" % (proc.pid, self.worker_timeout))
        line = proc.stdout.readline()
        if not line:
            raise PlantError("worker %d exited (rc %s) without a reply" % (proc.pid, proc.wait()))
        reply = json.loads(line)
        if "error" in reply:
            raise PlantError(reply["error"])
        return reply

    def run_workers(self, jobs):
        procs = [self.start_worker(job) for job in jobs]
        return [self.wait_worker(proc) for proc in procs]


CONNECT_PROBE = """
import errno, socket, sys
sock = socket.socket()
try:
    sock.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as err:
    print(errno.errorcode[err.errno])
"""


def connect_probe(ns, address, port):
    """One connect() toward ``address:port`` from inside ``ns``: "connected" or the errno's name
    (EADDRNOTAVAIL: no local port left toward it; ECONNREFUSED: a port was free, nobody listens)."""
    return ns.run([sys.executable, "-c", CONNECT_PROBE, address, str(port)]).stdout.strip()


def fd_budget():
    """Sockets one worker may hold: its hard RLIMIT_NOFILE (it raises the soft one) minus a margin."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1] - FD_SPARE


def _expand_ports(spec):
    ports = []
    for part in spec.replace(",", " ").split():
        low, _dash, high = part.partition("-")
        ports.extend(range(int(low), int(high or low) + 1))
    return ports


def _balance(items, workers):
    """Split (address, port, count) items into at most ``workers`` groups of similar total count."""
    groups = [[] for _group in range(max(1, min(workers, len(items))))]
    totals = [0] * len(groups)
    for item in sorted(items, key=lambda it: -it[2]):
        i = totals.index(min(totals))
        groups[i].append(list(item))
        totals[i] += item[2]
    return [g for g in groups if g]


def _merge(destinations):
    merged = collections.OrderedDict()
    for address, port, count in destinations:
        merged[(address, int(port))] = merged.get((address, int(port)), 0) + int(count)
    forms = collections.Counter((unmap(a), p) for a, p in merged)
    for (address, port), seen in forms.items():
        if seen > 1:
            raise ValueError("%s:%d appears both as IPv4 and IPv4-mapped IPv6: their listeners would "
                             "take the same port, plant them in separate calls" % (address, port))
    return [(a, p, c) for (a, p), c in merged.items() if c > 0]


def plant_time_wait(ns, destinations, workers=None, verify=False):
    """Outbound TIME_WAIT: ``count`` client-side TIME_WAIT toward each ``(address, port, count)``."""
    destinations = _merge(destinations)
    for address, port, count in destinations:
        if count > ns.usable_ports:
            raise ValueError("%d TIME_WAIT toward %s:%d exceed the %d usable ephemeral ports"
                             % (count, address, port, ns.usable_ports))
    started = time.monotonic()
    jobs = [{"job": "time_wait", "destinations": group}
            for group in _balance(destinations, workers or os.cpu_count() or 2)]
    replies = ns.run_workers(jobs)
    seconds = time.monotonic() - started
    total = sum(count for _address, _port, count in destinations)
    if ns.planted_at is None:
        ns.planted_at = started
    ns.planted["time_wait"] += total
    if verify:
        ns.check_time_wait()
    return {"total": total, "seconds": seconds, "rate": total / seconds if seconds else None,
            "workers": len(jobs), "destinations": {"%s:%d" % (a, p): c for a, p, c in destinations},
            "worker_seconds": [r["seconds"] for r in replies]}


def plant_time_wait_inbound(ns, services, verify=False):
    """Inbound TIME_WAIT: the server side closes first; local port = the service port."""
    services = _merge(services)
    for address, _port, _count in services:
        if ":" in address:
            raise ValueError("inbound TIME_WAIT planting supports IPv4 services only")
    total = sum(count for _address, _port, count in services)
    started = time.monotonic()
    reply = ns.run_workers([{"job": "time_wait_inbound", "services": [list(s) for s in services],
                             "source_index": ns._inbound_next}])[0]
    ns._inbound_next += total
    if ns.planted_at is None:
        ns.planted_at = started
    ns.planted["time_wait"] += total
    seconds = time.monotonic() - started
    if verify:
        ns.check_time_wait()
    return {"total": total, "seconds": seconds, "services": {"%s:%d" % (a, p): c for a, p, c in services},
            "worker_seconds": reply["seconds"]}


def plant_established(ns, n, address="127.0.0.1"):
    """``n`` connections held open: ``2 * n`` ESTABLISHED sockets."""
    per_worker = fd_budget() // 2
    jobs = []
    left = n
    while left > 0:
        jobs.append({"job": "established", "address": address, "pairs": min(left, per_worker), "hold": True})
        left -= per_worker
    replies = ns.run_workers(jobs)
    ns.planted["established"] += 2 * n
    return {"pairs": n, "sockets": 2 * n, "pids": [r["pid"] for r in replies],
            "ports": [r["port"] for r in replies]}


def plant_close_wait(ns, n, comm="cw-leaker", address="127.0.0.1"):
    """``n`` CLOSE_WAIT held by a child named ``comm``; their peers stay in FIN_WAIT2."""
    if n > fd_budget():
        raise ValueError("at most %d CLOSE_WAIT per call" % fd_budget())
    reply = ns.run_workers([{"job": "close_wait", "address": address, "count": n, "comm": comm, "hold": True}])[0]
    ns.planted["close_wait"] += n
    ns.planted["fin_wait2"] += n
    return reply


def hold(ns):
    """Start a worker that holds no socket and only keeps a process in the namespace (a namespace
    with no process is invisible to a scan of /proc); return its pid, to enter the namespace with
    ``nsenter -t PID -n``."""
    return ns.run_workers([{"job": "hold"}])[0]["pid"]


def plant_clients(ns, address, port, n, comm="tw-client"):
    """``n`` live connections toward ``address:port`` held by a child named ``comm``."""
    if n > fd_budget():
        raise ValueError("at most %d connections per call" % fd_budget())
    reply = ns.run_workers([{"job": "clients", "address": address, "port": port, "count": n, "comm": comm,
                             "hold": True}])[0]
    ns.planted["established"] += 2 * n
    return reply


def plant_listen(ns, port, backlog, pending=0, address="0.0.0.0", pending_closed=0):
    """One LISTEN socket with ``pending + pending_closed`` connections left in its accept queue."""
    low, high = ns.port_range
    if low <= port <= high and port not in _expand_ports(ns.reserved_ports):
        raise ValueError("port %d lies in the ephemeral range %d-%d: reserve it (Namespace("
                         "reserved_ports=...)) so that no planted client can take it first"
                         % (port, low, high))
    limit = min(backlog, int(ns.sysctl("net.core.somaxconn")))
    if pending + pending_closed > limit:
        raise ValueError("pending connections (%d) must not exceed the backlog (%d, capped by "
                         "net.core.somaxconn)" % (pending + pending_closed, limit))
    reply = ns.run_workers([{"job": "listen", "address": address, "port": port, "backlog": backlog,
                             "pending": pending, "pending_closed": pending_closed, "hold": True}])[0]
    ns.planted.update(listen=1, established=2 * pending, close_wait=pending_closed,
                      fin_wait2=pending_closed)
    ns.planted += collections.Counter()  # drop the states that got nothing
    return reply


# --------------------------------------------------------------------------------------------
# ss's view of the namespace
# --------------------------------------------------------------------------------------------

class SsView:
    """``ss -Htan`` / ``ss -Htln`` of one namespace, counted like the tcp_state facts."""

    def __init__(self, tan_text, tln_text):
        self.counts = dict.fromkeys(STATES, 0)
        self.by_family = {"ipv4": dict.fromkeys(STATES, 0), "ipv6": dict.fromkeys(STATES, 0)}
        self.time_wait_by_destination = collections.Counter()
        self.time_wait_by_local_port = collections.Counter()
        self.close_wait_by_local_port = collections.Counter()
        for line in tan_text.splitlines():
            fields = line.split()
            if len(fields) < 5:
                continue
            state = SS_STATE_NAMES[fields[0]]
            local, peer = split_address(fields[3]), split_address(fields[4])
            family = "ipv6" if fields[3][0] in "[*" else "ipv4"
            self.counts[state] += 1
            self.by_family[family][state] += 1
            if state == "time_wait":
                self.time_wait_by_destination[(unmap(peer[0]), peer[1])] += 1
                self.time_wait_by_local_port[local[1]] += 1
            elif state == "close_wait":
                self.close_wait_by_local_port[local[1]] += 1
        for counts in [self.counts] + list(self.by_family.values()):
            counts["total"] = sum(counts[s] for s in STATES)
        self.listen = {}
        for line in tln_text.splitlines():
            fields = line.split()
            if len(fields) >= 4:
                address, port = split_address(fields[3])
                self.listen[(address, port)] = (int(fields[1]), int(fields[2]))


def split_address(text):
    """'127.0.0.1:80' / '[::1]:80' / '*:80' -> (address, port).

    ss prints ``*`` for an IPv6 socket bound to ``::`` that also takes IPv4: returned as ``::``.
    """
    host, _colon, port = text.rpartition(":")
    host = "::" if host == "*" else host.strip("[]")
    if "%" in host:
        host = host.split("%", 1)[0]
    return host, int(port) if port.isdigit() else 0


def unmap(address):
    return address[7:] if address.lower().startswith("::ffff:") and "." in address else address


def ss_view(ns):
    tan = ns.run(["ss", "-Htan"]).stdout
    tln = ns.run(["ss", "-Htln"]).stdout
    return SsView(tan, tln)


# --------------------------------------------------------------------------------------------
# Worker side: runs inside the namespace, standard library only
# --------------------------------------------------------------------------------------------

def _family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _listener(address, port, backlog):
    sock = socket.socket(_family(address), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(backlog)
    return sock


def _raise_nofile():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _tcp_info(sock):
    """(state, unacked, sacked) from TCP_INFO; for a listener unacked/sacked = queue/backlog."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 32)
    return raw[0], struct.unpack_from("I", raw, 24)[0], struct.unpack_from("I", raw, 28)[0]


def _wait_until(predicate, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise PlantError("timed out waiting for " + what)
        time.sleep(0.001)


def _client_port_range():
    """Packed IP_LOCAL_PORT_RANGE value equal to the namespace range, or None when unsupported.

    With the option set, connect() walks the range one port at a time. Without it, it tries the
    ports of one parity first and, once those are used toward a destination, scans all of them
    again on every connect: quadratic past ~half of the range.
    """
    with open("/proc/sys/net/ipv4/ip_local_port_range") as stream:
        low, high = (int(x) for x in stream.read().split())
    packed = struct.pack("I", low | high << 16)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE, packed)
    except OSError:
        return None
    finally:
        probe.close()
    return packed


def _job_time_wait(job):
    # One connection at a time: the only connection in the accept queue is this client's, and the
    # server's FIN carries the ACK of the client's FIN (no delayed-ACK timer, one segment less).
    port_range = _client_port_range()
    for address, port, count in job["destinations"]:
        listener = _listener(address, port, 16)
        accept = listener.accept
        for done in range(count):
            client = socket.socket(listener.family, socket.SOCK_STREAM)
            if port_range is not None:
                client.setsockopt(socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE, port_range)
            try:
                client.connect((address, port))
            except OSError as err:
                client.close()
                raise PlantError("connect to %s:%d after %d sockets: %s" % (address, port, done, err))
            server = accept()[0]
            client.close()  # the client closes first: it is the side that ends in TIME_WAIT
            server.recv(1)  # EOF: the client's FIN arrived, so this close is not simultaneous
            server.close()
        listener.close()
    return {}


def _inbound_source(index):
    block, offset = divmod(index, len(INBOUND_SOURCE_PORTS))
    address = "%d.%d.%d.%d" % (INBOUND_SOURCE_NET + (block // 250, 1 + block % 250))
    return address, INBOUND_SOURCE_PORTS[offset]


def _job_time_wait_inbound(job):
    index = job["source_index"]
    for address, port, count in job["services"]:
        listener = _listener(address, port, 16)
        for _connection in range(count):
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            client.bind(_inbound_source(index))  # a unique 4-tuple: no TIME_WAIT can be reused
            index += 1
            client.connect((address, port))
            server = listener.accept()[0]
            server.close()  # the server closes first: the TIME_WAIT sits on the service port
            client.recv(1)
            client.close()
        listener.close()
    return {}


def _job_established(job):
    listener = _listener(job["address"], 0, 4096)
    port = listener.getsockname()[1]
    held = []
    for _pair in range(job["pairs"]):
        client = socket.socket(listener.family, socket.SOCK_STREAM)
        client.connect((job["address"], port))
        held.append(client)
        held.append(listener.accept()[0])
    listener.close()
    return {"port": port}, held


def _set_comm(comm):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, ctypes.c_char_p(comm.encode()[:15]), 0, 0, 0)  # PR_SET_NAME
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: never outlive the worker


def _fork_clients(job, port, listener):
    """Fork a child named ``job["comm"]`` that opens ``job["count"]`` connections toward
    ``job["address"]:port`` and holds them, never closing them, until the worker exits. Return (pid,
    the accepted server sockets, the child's local ports, the write end that keeps it alive)."""
    count = job["count"]
    to_parent_r, to_parent_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(to_parent_r)
            os.close(hold_w)
            listener.close()
            _set_comm(job["comm"])
            clients = []
            for _connection in range(count):
                client = socket.socket(_family(job["address"]), socket.SOCK_STREAM)
                client.connect((job["address"], port))
                clients.append(client)
            os.write(to_parent_w, (json.dumps([c.getsockname()[1] for c in clients]) + "\n").encode())
            os.close(to_parent_w)
            os.read(hold_r, 1)  # blocks until the worker exits; the clients are never closed
        finally:
            os._exit(0)
    os.close(to_parent_w)
    os.close(hold_r)
    servers = [listener.accept()[0] for _connection in range(count)]
    with os.fdopen(to_parent_r) as stream:
        local_ports = json.loads(stream.readline())
    return pid, servers, local_ports, hold_w


def _comm_of(pid):
    with open("/proc/%d/comm" % pid) as stream:
        return stream.read().strip()


def _job_close_wait(job):
    count = job["count"]
    listener = _listener(job["address"], 0, min(count, 4096) or 1)
    port = listener.getsockname()[1]
    pid, servers, local_ports, hold_w = _fork_clients(job, port, listener)
    listener.close()
    for server in servers:
        server.shutdown(socket.SHUT_WR)  # FIN to the child, which never answers with close()
    _wait_until(lambda: all(_tcp_info(s)[0] == TCP_FIN_WAIT2 for s in servers), "FIN_WAIT2")
    reply = {"leaker_pid": pid, "comm": _comm_of(pid), "port": port, "count": count,
             "local_ports": sorted(local_ports)}
    return reply, servers + [hold_w]


def _job_clients(job):
    listener = _listener(job["address"], job["port"], min(job["count"], 4096) or 1)
    pid, servers, local_ports, hold_w = _fork_clients(job, job["port"], listener)
    reply = {"client_pid": pid, "comm": _comm_of(pid), "count": job["count"], "local_ports": sorted(local_ports)}
    # the listener stays open: the servers' port is a listening one, so only the clients are outbound
    return reply, servers + [listener, hold_w]


def _job_listen(job):
    listener = _listener(job["address"], job["port"], job["backlog"])
    connect_to = "127.0.0.1" if job["address"] == "0.0.0.0" else (
        "::1" if job["address"] == "::" else job["address"])
    held = [listener]
    closing = []
    for index in range(job["pending"] + job["pending_closed"]):
        client = socket.socket(_family(connect_to), socket.SOCK_STREAM)
        client.connect((connect_to, job["port"]))
        held.append(client)
        if index >= job["pending"]:
            closing.append(client)
    queued = job["pending"] + job["pending_closed"]
    _wait_until(lambda: _tcp_info(listener)[1] == queued, "the accept queue")
    for client in closing:
        client.shutdown(socket.SHUT_WR)  # the queued, never accepted, peer socket turns CLOSE_WAIT
    _wait_until(lambda: all(_tcp_info(c)[0] == TCP_FIN_WAIT2 for c in closing), "FIN_WAIT2")
    queue, backlog = _tcp_info(listener)[1:]
    return {"port": job["port"], "queue": queue, "backlog": backlog}, held


def _job_hold(job):
    return {}, []


JOBS = {
    "time_wait": _job_time_wait,
    "time_wait_inbound": _job_time_wait_inbound,
    "established": _job_established,
    "close_wait": _job_close_wait,
    "clients": _job_clients,
    "listen": _job_listen,
    "hold": _job_hold,
}


def worker_main():
    job = json.loads(sys.stdin.readline())
    started = time.monotonic()
    try:
        _raise_nofile()
        result = JOBS[job["job"]](job)
    except Exception as err:  # reported to the controller, which raises PlantError
        sys.stdout.write(json.dumps({"error": "%s: %s" % (type(err).__name__, err)}) + "\n")
        sys.stdout.flush()
        return 1
    held = None
    if isinstance(result, tuple):
        result, held = result
    result.update({"pid": os.getpid(), "seconds": time.monotonic() - started})
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    if held is not None:
        sys.stdin.read()  # hold the sockets until the controller closes our stdin or kills us
    return 0


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def _triple(text):
    address, port, count = text.rsplit(":", 2)
    return address.strip("[]"), int(port), int(count)


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def cli_main(argv):
    parser = argparse.ArgumentParser(description="Plant TCP sockets in a fresh network namespace.")
    parser.add_argument("--time-wait", action="append", type=_triple, default=[], metavar="ADDR:PORT:N")
    parser.add_argument("--inbound", action="append", type=_triple, default=[], metavar="ADDR:PORT:N")
    parser.add_argument("--established", type=int, default=0, metavar="PAIRS")
    parser.add_argument("--close-wait", type=int, default=0, metavar="N")
    parser.add_argument("--comm", default="cw-leaker")
    parser.add_argument("--listen", action="append", default=[], metavar="PORT:BACKLOG:PENDING")
    parser.add_argument("--workers", type=int, default=None, help="TIME_WAIT planting processes (one per CPU)")
    parser.add_argument("--reserve", default="", metavar="PORTS",
                        help="net.ipv4.ip_local_reserved_ports, e.g. 8443,9000-9009 (listeners in the range)")
    parser.add_argument("--hold", type=float, default=0, help="seconds to keep the sockets (Ctrl-C ends)")
    args = parser.parse_args(argv)
    # a plain `kill` must clean up like Ctrl-C does: leave through the with-block, not past atexit
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    summary = {}
    with Namespace(reserved_ports=args.reserve) as ns:
        summary["namespace"] = ns.name
        if args.time_wait:
            summary["time_wait"] = plant_time_wait(ns, args.time_wait, workers=args.workers)
        if args.inbound:
            summary["inbound"] = plant_time_wait_inbound(ns, args.inbound)
        if args.established:
            summary["established"] = plant_established(ns, args.established)
        if args.close_wait:
            summary["close_wait"] = plant_close_wait(ns, args.close_wait, comm=args.comm)
        for spec in args.listen:
            port, backlog, pending = (int(x) for x in spec.split(":"))
            summary.setdefault("listen", []).append(plant_listen(ns, port, backlog, pending))
        summary["planted"] = dict(ns.planted)
        summary["ss"] = ss_view(ns).counts
        summary["sockstat"] = ns.sockstat()
        print(json.dumps(summary, indent=2), flush=True)
        try:
            time.sleep(args.hold)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        sys.exit(worker_main())
    sys.exit(cli_main(sys.argv[1:]))
