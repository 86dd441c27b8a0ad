#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_state_facts
short_description: Gather TCP socket state, TIME_WAIT and CLOSE_WAIT pressure as facts
version_added: "0.1.0"
description:
  - Counts TCP sockets per state and address family, breaks TIME_WAIT down by destination
    and local port (outbound against the ephemeral port range, inbound otherwise), names the
    processes holding CLOSE_WAIT sockets, lists listening sockets with their accept queues, and
    reads the sysctls, kernel counters and per-namespace C(sockstat) that matter for TIME_WAIT.
  - Reads the sysctl configuration files in the order C(sysctl --system) applies them, with the
    line that sets each key and its live value, in both modes (a handful of small files), so one
    call gives an audit everything it needs from a host.
  - Sets one fact, C(ansible_facts.tcp_state); its full contract is RV(ansible_facts.tcp_state) below.
    C(docs/tcp_state_facts.md) in the collection explains it (why, bounds, odd host data).
  - Lists sockets through netlink C(SOCK_DIAG_BY_FAMILY) (what C(ss) uses) and falls back to
    C(/proc/net/tcp) and C(/proc/net/tcp6) when netlink is not allowed, with a warning.
  - Aggregates while reading, so memory does not grow with the number of sockets.
  - Reads host data defensively, since any local user can name a process or may drop a file in
    C(/etc/sysctl.d). Only regular files are read (a FIFO, a device such as a link to C(/dev/zero),
    a socket or a directory is refused by name), every read is capped (a sysctl file over 256 KiB is
    reported, not read), invalid UTF-8 is replaced. A file, line or process that cannot be used is a
    warning and an entry of RV(ansible_facts.tcp_state.errors) naming it; the rest is still returned.
  - Every list is bounded (by O(top) for the socket lists) with its full count beside it, so one
    host's result stays small; RV(ansible_facts.tcp_state) and C(docs/tcp_state_facts.md) state the bounds.
  - Read-only; never reports a change.
  - The same engine runs without Ansible as
    C(python3 -m ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect).
author:
  - tcpops maintainers (@tcpops)
options:
  mode:
    description:
      - V(full) lists every socket for the per-state, per-destination, owner and listener breakdowns.
      - V(summary) reads only C(sockstat), the kernel counters, the sysctls and the sysctl configuration
        files, which costs the same whatever the number of sockets; the socket breakdown keys are then V(null).
    type: str
    choices: [full, summary]
    default: full
  top:
    description:
      - Length of each "top" list (destinations, local ports, processes), of the listening sockets
        listed (the fullest accept queues) and of the reserved ports listed.
    type: int
    default: 10
  backend:
    description:
      - How sockets are listed in V(full) mode.
      - V(auto) uses netlink and falls back to C(/proc/net/tcp{,6}) with a warning when netlink is
        refused. With a O(proc_root) other than C(/proc), V(auto) reads O(proc_root), because netlink
        always shows the namespace the module runs in.
      - V(netlink) fails when netlink sock_diag is not usable.
      - V(proc) always reads C(/proc/net/tcp{,6}) (slower; the listen backlog is then V(null)).
    type: str
    choices: [auto, netlink, proc]
    default: auto
  proc_root:
    description:
      - Where C(/proc) is mounted. Every C(/proc) and C(/proc/sys) read goes through it.
      - Useful to read a host's C(/proc) mounted elsewhere, and for tests.
    type: path
    default: /proc
  config_root:
    description:
      - Directory that stands for C(/) when reading the sysctl configuration files
        (C(/etc/sysctl.d), C(/etc/sysctl.conf), ...) into RV(ansible_facts.tcp_state.sysctl_config).
      - For tests, and to read a host tree mounted elsewhere (links are followed inside it, as in a chroot).
    type: path
    default: /
  namespaces:
    description:
      - V(self) reads the network namespace the module runs in, as before; RV(ansible_facts.tcp_state.namespaces)
        is then V(null).
      - V(all) also reads every other network namespace that has a process on the host (each container, each
        pod), each with its own socket table, sysctls and port range, into RV(ansible_facts.tcp_state.namespaces);
        the module's own namespace stays the top level. It enters each namespace with setns(2), so it needs
        root (V(become=true)); without root RV(ansible_facts.tcp_state.namespaces.reason) says so and the rest
        is returned as usual. Worker threads enter the namespaces (two where the module may run on more than
        one CPU, else one); the module's main thread never leaves its own namespace.
      - V(all) needs O(mode=full) and O(proc_root=/proc). Each namespace costs one socket dump of its own; every
        namespace is read and ranked first, and only the O(top) ones shown in full are entered again for their
        socket owners and the rest of their sysctls.
    type: str
    choices: [self, all]
    default: self
  sample_seconds:
    description:
      - V(0) reads the kernel counters once (RV(ansible_facts.tcp_state.rates) is V(null)).
      - From V(1) to V(60), reads them a second time that many seconds after the first and returns
        their per-second rates in RV(ansible_facts.tcp_state.rates), for a one-off audit of what happens now
        (the counters themselves count since boot). The module takes that much longer.
      - Anything else is refused with a message naming the allowed range.
    type: int
    default: 0
  thresholds:
    description:
      - Overrides of the audit's thresholds, as C(tcp_audit_thresholds) gives them (the filter
        P(tcpops.timewait.audit_thresholds#filter) turns a JSON or YAML string into this dict). With
        O(namespaces=all) the namespaces are ranked by how near they come to these warn thresholds
        (C(port_usage_warn), C(close_wait_warn), C(fin_wait2_warn)) instead of the defaults, so that the
        O(top) listed in full are those nearest to a finding of this host's audit.
      - Unknown names, values that are not numbers or are negative, and a warn threshold above its fail
        threshold are refused with a message naming the threshold.
    type: dict
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
    details: Linux only (needs C(/proc/net)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
notes:
  - Naming the processes that hold CLOSE_WAIT sockets needs to read every C(/proc/PID/fd), that is root.
    Without it C(close_wait.owners_available) is V(false) and C(close_wait.owners_reason) says why;
    the counts stay right.
  - The returned C(warnings) list and the module warnings name everything that could not be read.
  - The module fails only when nothing usable can be read (not Linux, or C(proc_root/net/sockstat) not
    readable), with a message saying what to fix.
seealso:
  - name: ss(8)
    description: The iproute2 tool that uses the same netlink interface.
    link: https://man7.org/linux/man-pages/man8/ss.8.html
"""

EXAMPLES = r"""
- name: Gather TCP state
  tcpops.timewait.tcp_state_facts:

- name: Show the TIME_WAIT total and the busiest destination
  ansible.builtin.debug:
    msg: >-
      {{ ansible_facts.tcp_state.time_wait.total }} TIME_WAIT,
      top destination {{ ansible_facts.tcp_state.time_wait.top_destinations[:1] }}

- name: Cheap poll of sockstat, counters and sysctls only
  tcpops.timewait.tcp_state_facts:
    mode: summary

- name: Show which file sets tcp_tw_recycle, if any
  ansible.builtin.debug:
    msg: "{{ ansible_facts.tcp_state.sysctl_config.effective['net.ipv4.tcp_tw_recycle'] | default('not set') }}"

- name: Rates of connections, TIME_WAIT and listen queue drops over ten seconds
  tcpops.timewait.tcp_state_facts:
    mode: summary
    sample_seconds: 10

- name: Show the outbound connections per second
  ansible.builtin.debug:
    msg: "{{ ansible_facts.tcp_state.rates.per_second.outbound_connections }} connect() per second"

- name: Insist on netlink and keep the five biggest entries per list
  tcpops.timewait.tcp_state_facts:
    backend: netlink
    top: 5

- name: Read every container's and pod's network namespace too
  tcpops.timewait.tcp_state_facts:
    namespaces: all
  become: true

- name: Show the owner of the namespace nearest a finding (port usage, CLOSE_WAIT or FIN_WAIT2)
  ansible.builtin.debug:
    msg: "{{ ansible_facts.tcp_state.namespaces.top[:1] | map(attribute='owner') }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: complex
  contains:
    tcp_state:
      description:
        - TCP state of the host's network namespace. Every key below is always present; a value that could
          not be read is V(null) and the reason is in RV(ansible_facts.tcp_state.warnings).
        - This is the whole contract. C(docs/tcp_state_facts.md) in the collection explains why the facts
          look the way they do, their bounds and what odd host data gives.
      returned: always
      type: complex
      contains:
        kernel:
          description: Kernel release (C(uname -r)), control characters escaped, at most 64 characters.
          type: str
          returned: always
          sample: 6.1.0-18-amd64
        mode:
          description: V(full) or V(summary), as requested.
          type: str
          returned: always
          sample: full
        collected_at:
          description: When the facts were collected, UTC, C(YYYY-MM-DDTHH:MM:SSZ), so that cached facts show their age.
          type: str
          returned: always
          sample: "2026-11-29T18:30:00Z"
        backend:
          description: V(netlink) or V(proc), how sockets were listed; V(null) in summary mode.
          type: str
          returned: always
          sample: netlink
        duration_ms:
          description: Time spent collecting, in milliseconds.
          type: float
          returned: always
          sample: 12.5
        warnings:
          description: Everything that was unavailable, and why; at most 50 entries. Each is also a module warning.
          type: list
          elements: str
          returned: always
          sample: ["/proc/net/sockstat6 absent: IPv6 disabled on this host"]
        warnings_total:
          description: How many warnings there were, listed or not.
          type: int
          returned: always
          sample: 1
        errors:
          description:
            - Host data that is there but could not be used (a file, a line, a process), each naming it,
              at most 50 entries. Every error is also a warning.
          type: list
          elements: str
          returned: always
          sample: ["sysctl configuration: /etc/sysctl.d/82-fifo.conf: a FIFO, not a regular file: not read"]
        errors_total:
          description: How many errors there were, listed or not.
          type: int
          returned: always
          sample: 1
        counts:
          description:
            - Sockets per state, IPv4 and IPv6 together; V(null) in summary mode.
          type: dict
          returned: always
          sample: {"established": 12, "syn_sent": 0, "syn_recv": 0, "fin_wait1": 0, "fin_wait2": 1, "time_wait": 3051,
                   "close": 0, "close_wait": 0, "last_ack": 0, "listen": 4, "closing": 0, "total": 3068}
          contains: &state_counts
            established:
              description: Sockets in ESTABLISHED.
              type: int
              returned: always
            syn_sent:
              description: Sockets in SYN_SENT.
              type: int
              returned: always
            syn_recv:
              description: Sockets in SYN_RECV, request sockets (NEW_SYN_RECV) included.
              type: int
              returned: always
            fin_wait1:
              description: Sockets in FIN_WAIT1.
              type: int
              returned: always
            fin_wait2:
              description: Sockets in FIN_WAIT2.
              type: int
              returned: always
            time_wait:
              description: Sockets in TIME_WAIT.
              type: int
              returned: always
            close:
              description: Sockets in CLOSE.
              type: int
              returned: always
            close_wait:
              description: Sockets in CLOSE_WAIT.
              type: int
              returned: always
            last_ack:
              description: Sockets in LAST_ACK.
              type: int
              returned: always
            listen:
              description: Listening sockets.
              type: int
              returned: always
            closing:
              description: Sockets in CLOSING.
              type: int
              returned: always
            total:
              description: All TCP sockets.
              type: int
              returned: always
        by_family:
          description:
            - The counts per address family; V(null) in summary mode. The family is the socket's own (an IPv6
              socket carrying IPv4-mapped traffic counts as V(ipv6), as in C(/proc/net/tcp6) and C(ss -6)).
          type: dict
          returned: always
          contains:
            ipv4:
              description: IPv4 sockets per state, the keys of RV(ansible_facts.tcp_state.counts).
              type: dict
              returned: always
              contains: *state_counts
            ipv6:
              description: IPv6 sockets per state, the keys of RV(ansible_facts.tcp_state.counts).
              type: dict
              returned: always
              contains: *state_counts
        time_wait:
          description: TIME_WAIT sockets broken down; V(null) in summary mode.
          type: dict
          returned: always
          contains: &time_wait_keys
            total:
              description: TIME_WAIT sockets.
              type: int
              returned: always
            outbound:
              description:
                - TIME_WAIT sockets whose local port lies in the ephemeral range (not reserved, not a listening
                  port), so this host opened the connection; V(null) when the range cannot be read.
              type: int
              returned: always
            inbound:
              description: The other TIME_WAIT sockets; V(null) when the range cannot be read.
              type: int
              returned: always
            top_destinations:
              description:
                - The port headroom per destination of outgoing connections, at most O(top), the highest
                  C(port_usage) first (then the most C(held), then the lower address, IPv4 before IPv6, then the
                  lower port). Every socket whose local
                  port lies in the ephemeral range (not reserved, not a listening port) counts toward its
                  destination, in every state that holds the port (TIME_WAIT or not), so a destination with no
                  TIME_WAIT can be listed. IPv4-mapped IPv6 addresses are shown as IPv4 and merged with the same
                  IPv4 destination.
              type: list
              elements: dict
              returned: always
              contains:
                address:
                  description: Remote address.
                  type: str
                  returned: always
                  sample: 10.0.0.5
                port:
                  description: Remote port; V(null) only for a line no kernel writes (read through O(proc_root)).
                  type: int
                  returned: always
                  sample: 5432
                count:
                  description: TIME_WAIT sockets toward it (outbound ones).
                  type: int
                  returned: always
                  sample: 2900
                held:
                  description:
                    - Sockets holding an ephemeral local port toward it, all states together (the sum of C(states)).
                  type: int
                  returned: always
                  sample: 3100
                states:
                  description:
                    - C(held) by state, non-zero states only, keyed V(established), V(syn_sent), V(fin_wait1),
                      V(fin_wait2), V(time_wait), V(close_wait), V(last_ack), V(closing).
                  type: dict
                  returned: always
                  sample: {"established": 200, "time_wait": 2900}
                time_wait_reusable:
                  description:
                    - TIME_WAIT toward it that connect() can take again now, those older than
                      RV(ansible_facts.tcp_state.ephemeral_ports.reuse.delay_ms) when C(reuse_effective); 0 otherwise.
                    - The age is read from the TIME_WAIT timer (60 s minus the time left). It assumes the connection
                      recorded timestamps, which needs the peer to send them too.
                  type: int
                  returned: always
                  sample: 2850
                reuse_effective:
                  description:
                    - Whether C(net.ipv4.tcp_tw_reuse) applies to this destination with C(net.ipv4.tcp_timestamps)
                      on, see RV(ansible_facts.tcp_state.ephemeral_ports.reuse.effective) (V(loopback) covers
                      127.0.0.0/8 and ::1).
                  type: bool
                  returned: always
                  sample: false
                port_usage:
                  description:
                    - The share of local ports connect() cannot take toward this destination, (C(held) -
                      C(time_wait_reusable)) / RV(ansible_facts.tcp_state.ephemeral_ports.usable), rounded to 4
                      decimals; 1.0 means none is left. V(null) when the range is unknown.
                  type: float
                  returned: always
                  sample: 0.1098
                likely_sources:
                  description:
                    - The processes holding live sockets toward this destination now, most sockets first, at most 5;
                      an inference, not an owner, since TIME_WAIT sockets belong to no process. Empty when no
                      process does; V(null) when the owners cannot be read
                      (RV(ansible_facts.tcp_state.time_wait.likely_sources_reason) says why).
                  type: list
                  elements: dict
                  returned: always
                  contains:
                    pid:
                      description: Process id.
                      type: int
                      returned: always
                    comm:
                      description:
                        - Process name, shown as in RV(ansible_facts.tcp_state.close_wait.top_processes); V(null) when
                          it could not be read.
                      type: str
                      returned: always
                      sample: php-fpm
                    count:
                      description: Live sockets toward this destination it holds.
                      type: int
                      returned: always
            likely_sources_reason:
              description:
                - Why C(top_destinations[].likely_sources) are V(null) (reading other processes' fds needs root or
                  CAP_SYS_PTRACE); V(null) when they could be searched.
              type: str
              returned: always
            top_local_ports:
              description: The local ports with the most TIME_WAIT sockets, most first, at most O(top).
              type: list
              elements: dict
              returned: always
              contains: &port_counts
                port:
                  description: Local port.
                  type: int
                  returned: always
                  sample: 8080
                count:
                  description: Sockets on it.
                  type: int
                  returned: always
                  sample: 12
        close_wait:
          description: CLOSE_WAIT sockets and the processes holding them; V(null) in summary mode.
          type: dict
          returned: always
          contains: &close_wait_keys
            total:
              description: CLOSE_WAIT sockets.
              type: int
              returned: always
            owners_available:
              description: Whether the owning processes could be searched (needs root or CAP_SYS_PTRACE).
              type: bool
              returned: always
            owners_reason:
              description: Why owners are not available; V(null) when they are.
              type: str
              returned: always
            top_processes:
              description: The processes holding the most CLOSE_WAIT sockets, most first, at most O(top); empty without owners.
              type: list
              elements: dict
              returned: always
              contains:
                pid:
                  description: Process id.
                  type: int
                  returned: always
                comm:
                  description:
                    - Process name, invalid UTF-8 shown as U+FFFD and control characters escaped; V(null) when it could not be read.
                  type: str
                  returned: always
                  sample: java
                count:
                  description: CLOSE_WAIT sockets it holds.
                  type: int
                  returned: always
                local_ports:
                  description: Their local ports, sorted, at most 20.
                  type: list
                  elements: int
                  returned: always
            processes_total:
              description: How many processes hold CLOSE_WAIT sockets; V(null) without owners.
              type: int
              returned: always
            unowned:
              description: CLOSE_WAIT sockets no process holds (orphaned); V(null) without owners.
              type: int
              returned: always
            top_local_ports:
              description: The local ports with the most CLOSE_WAIT sockets, most first, at most O(top).
              type: list
              elements: dict
              returned: always
              contains: *port_counts
        listen:
          description: Listening sockets; V(null) in summary mode.
          type: dict
          returned: always
          contains: &listen_keys
            total:
              description: Every listening socket.
              type: int
              returned: always
            sockets:
              description:
                - At most O(top) listeners, those with the fullest accept queues (C(queue) / C(backlog), then C(queue),
                  then the lowest port), listed by port then address.
              type: list
              elements: dict
              returned: always
              contains:
                address:
                  description: Local address.
                  type: str
                  returned: always
                  sample: 0.0.0.0
                port:
                  description: Local port.
                  type: int
                  returned: always
                  sample: 443
                family:
                  description: V(ipv4) or V(ipv6).
                  type: str
                  returned: always
                queue:
                  description: Current accept-queue depth.
                  type: int
                  returned: always
                backlog:
                  description: Accept-queue limit; V(null) with the V(proc) backend, which cannot see it.
                  type: int
                  returned: always
            ports:
              description:
                - Every listening port, sorted, not cut to O(top) (the tcp_tuning role keeps them out of the
                  ephemeral range).
              type: list
              elements: int
              returned: always
        ephemeral_ports:
          description: The local port range for outgoing connections; every value V(null) when it cannot be read.
          type: dict
          returned: always
          contains: &ephemeral_port_keys
            low:
              description: First port of C(net.ipv4.ip_local_port_range).
              type: int
              returned: always
              sample: 32768
            high:
              description: Last port of C(net.ipv4.ip_local_port_range).
              type: int
              returned: always
              sample: 60999
            size:
              description: C(high - low + 1).
              type: int
              returned: always
              sample: 28232
            reserved:
              description: Ports of C(net.ipv4.ip_local_reserved_ports), expanded, sorted, the lowest O(top).
              type: list
              elements: int
              returned: always
              sample: [40000, 40001]
            reserved_total:
              description: How many ports are reserved.
              type: int
              returned: always
            reserved_in_range:
              description: Reserved ports inside the range.
              type: int
              returned: always
            usable:
              description: C(size - reserved_in_range), the ports outgoing connections can use.
              type: int
              returned: always
              sample: 28230
            reuse:
              description:
                - Which TIME_WAIT ports connect() may take again for a new outgoing connection (both modes).
              type: dict
              returned: always
              contains:
                effective:
                  description:
                    - V(all) with C(net.ipv4.tcp_tw_reuse=1), V(loopback) with 2 (loopback destinations only), each
                      only while C(net.ipv4.tcp_timestamps) is not 0 (taken to mean the TIME_WAIT recorded
                      timestamps); V(none) otherwise, also when a value cannot be read.
                  type: str
                  returned: always
                  sample: loopback
                delay_ms:
                  description:
                    - How old a TIME_WAIT must be before it is reused, C(net.ipv4.tcp_tw_reuse_delay), 1000 on kernels
                      without that key.
                  type: int
                  returned: always
                  sample: 1000
        sysctl:
          description:
            - The live value of every key below, and of every plain (non-glob) key a sysctl file sets
              (RV(ansible_facts.tcp_state.sysctl_config.effective)), by dotted name; each live value is reported
              here once.
            - A value is an int when the kernel prints one integer, otherwise its text with runs of white space
              folded (V("32768 60999"); V("") for an empty list). V(null) when this kernel has no such key,
              and when the key is there but could not be read (a warning and an error entry then say why).
          type: dict
          returned: always
          sample: {"net.ipv4.tcp_tw_reuse": 2, "net.ipv4.tcp_tw_recycle": null, "net.ipv4.ip_local_port_range": "32768 60999"}
          contains:
            net.ipv4.tcp_tw_reuse:
              description: Reuse TIME_WAIT sockets for new outgoing connections (2 is loopback only).
              type: int
              returned: always
            net.ipv4.tcp_tw_reuse_delay:
              description: Milliseconds before a TIME_WAIT socket may be reused (Linux 6.14 and later).
              type: int
              returned: always
            net.ipv4.tcp_tw_recycle:
              description: Removed in Linux 4.12; V(null) on current kernels.
              type: int
              returned: always
            net.ipv4.tcp_timestamps:
              description: TCP timestamps (needed by tcp_tw_reuse and PAWS).
              type: int
              returned: always
            net.ipv4.tcp_fin_timeout:
              description: Seconds an orphaned connection stays in FIN_WAIT2.
              type: int
              returned: always
            net.ipv4.tcp_max_tw_buckets:
              description: Most TIME_WAIT sockets the kernel keeps; beyond it they are destroyed early.
              type: int
              returned: always
            net.ipv4.ip_local_port_range:
              description: The ephemeral port range as text, V("LOW HIGH").
              type: str
              returned: always
            net.ipv4.ip_local_reserved_ports:
              description: Reserved ports as text in the kernel's form (V("8080,9000-9002")), V("") when none.
              type: str
              returned: always
            net.ipv4.tcp_syncookies:
              description: SYN cookies.
              type: int
              returned: always
            net.core.somaxconn:
              description: Upper limit of a listen backlog.
              type: int
              returned: always
            net.ipv4.tcp_max_syn_backlog:
              description: Half-open connections kept per listener.
              type: int
              returned: always
            net.ipv4.tcp_keepalive_time:
              description: Seconds of idle before keepalive probes.
              type: int
              returned: always
            net.ipv4.tcp_keepalive_intvl:
              description: Seconds between keepalive probes.
              type: int
              returned: always
            net.ipv4.tcp_keepalive_probes:
              description: Unanswered probes before the connection is dropped.
              type: int
              returned: always
            net.ipv4.ip_forward:
              description: IPv4 forwarding (a router or NAT gateway).
              type: int
              returned: always
            net.netfilter.nf_conntrack_tcp_timeout_time_wait:
              description: Seconds conntrack keeps a TIME_WAIT entry; V(null) without nf_conntrack.
              type: int
              returned: always
            net.netfilter.nf_conntrack_max:
              description: Size of the conntrack table; V(null) without nf_conntrack.
              type: int
              returned: always
        counters:
          description:
            - Kernel TCP counters since boot, by kernel name (C(/proc/net/netstat) TcpExt, C(/proc/net/snmp) Tcp);
              V(null) when the kernel has no such counter or its value is not an integer.
          type: dict
          returned: always
          sample: {"TCPTimeWaitOverflow": 0, "PAWSPassive": 12}
          contains:
            TCPTimeWaitOverflow:
              description: TIME_WAIT sockets not created because C(tcp_max_tw_buckets) was reached.
              type: int
              returned: always
            TW:
              description:
                - Sockets that entered TIME_WAIT (counted as they enter it since Linux 4.1; older kernels counted
                  them as it ended), orphaned FIN_WAIT2 connections handed to a timewait socket included.
              type: int
              returned: always
            TWRecycled:
              description: TIME_WAIT sockets reused by an outgoing connect() (tcp_tw_reuse; tcp_tw_recycle on old kernels).
              type: int
              returned: always
            TWKilled:
              description: TIME_WAIT sockets killed early.
              type: int
              returned: always
            PAWSActive:
              description: Outgoing SYNs dropped by PAWS (timestamps going backwards).
              type: int
              returned: always
            PAWSPassive:
              description: Incoming SYNs dropped by PAWS (the NAT symptom of tcp_tw_recycle).
              type: int
              returned: always
            PAWSEstab:
              description: Segments of established connections dropped by PAWS.
              type: int
              returned: always
            ListenOverflows:
              description: Connections dropped because an accept queue was full.
              type: int
              returned: always
            ListenDrops:
              description: Connections dropped at a listener for any reason.
              type: int
              returned: always
            TCPAbortOnClose:
              description: Connections reset because the application closed with unread data.
              type: int
              returned: always
            TCPAbortOnTimeout:
              description: Connections reset after too many retransmissions.
              type: int
              returned: always
            SyncookiesSent:
              description: SYN cookies sent.
              type: int
              returned: always
            SyncookiesFailed:
              description: SYN cookies that did not validate.
              type: int
              returned: always
            CurrEstab:
              description: Connections in ESTABLISHED or CLOSE_WAIT now.
              type: int
              returned: always
            ActiveOpens:
              description: Outgoing connections opened.
              type: int
              returned: always
            PassiveOpens:
              description: Incoming connections accepted.
              type: int
              returned: always
            AttemptFails:
              description: Connection attempts that failed.
              type: int
              returned: always
            EstabResets:
              description: Established connections reset.
              type: int
              returned: always
            RetransSegs:
              description: Segments retransmitted.
              type: int
              returned: always
        boot_time:
          description:
            - When the host booted, epoch seconds (C(btime) of C(/proc/stat)); V(null) when unreadable (a warning
              says why). RV(ansible_facts.tcp_state.counters) count since then; a report run compares two runs'
              counters only within one boot.
          type: int
          returned: always
          sample: 1795000000
        rates:
          description:
            - V(null) unless O(sample_seconds) is above 0. Then the counters' growth between two reads
              O(sample_seconds) apart, per second.
          type: dict
          returned: always
          sample: {"seconds": 10.001, "per_second": {"outbound_connections": 212.4, "time_wait_entered": 212.3}}
          contains:
            seconds:
              description: The time measured between the two reads, in seconds, to the millisecond.
              type: float
              returned: always
            per_second:
              description:
                - Events per second, rounded to 3 decimals, each V(null) when a read lacks its counter or the
                  counter went down (never negative). C(round(rate * seconds)) is the exact number of events.
              type: dict
              returned: always
              contains:
                outbound_connections:
                  description: Outgoing connections opened (C(ActiveOpens)).
                  type: float
                  returned: always
                inbound_connections:
                  description: Incoming connections accepted (C(PassiveOpens)).
                  type: float
                  returned: always
                failed_connection_attempts:
                  description: Connection attempts that failed (C(AttemptFails)).
                  type: float
                  returned: always
                time_wait_entered:
                  description:
                    - Sockets that entered TIME_WAIT (C(TW) + C(TWKilled)). Since Linux 4.1 the kernel counts a socket
                      in one of them as it enters TIME_WAIT (C(TWKilled) when its timeout is 4 s or less), orphaned
                      FIN_WAIT2 connections handed to a timewait socket included; older kernels counted them as the
                      TIME_WAIT ended, 60 s later, which gives the same rate in a steady state.
                  type: float
                  returned: always
                time_wait_reused:
                  description: TIME_WAIT sockets reused by an outgoing connect() (C(TWRecycled)).
                  type: float
                  returned: always
                time_wait_overflow:
                  description: TIME_WAIT sockets not created because C(tcp_max_tw_buckets) was reached (C(TCPTimeWaitOverflow)).
                  type: float
                  returned: always
                listen_overflows:
                  description: Connections dropped because an accept queue was full (C(ListenOverflows)).
                  type: float
                  returned: always
                listen_drops:
                  description: Connections dropped at a listener for any reason (C(ListenDrops)).
                  type: float
                  returned: always
        sockstat:
          description: Counts from C(/proc/net/sockstat) and C(/proc/net/sockstat6); a value is V(null) when unreadable.
          type: dict
          returned: always
          sample: {"inuse": 10, "orphan": 0, "tw": 3051, "inuse6": 2, "host_wide": ["orphan"]}
          contains:
            inuse:
              description: TCP over IPv4 sockets in use in this network namespace.
              type: int
              returned: always
            tw:
              description: TIME_WAIT sockets of this network namespace, both families.
              type: int
              returned: always
            inuse6:
              description: TCP over IPv6 sockets in use in this network namespace; V(null) without IPv6.
              type: int
              returned: always
            orphan:
              description: Orphaned sockets of the whole host, even in a container (the kernel keeps one counter).
              type: int
              returned: always
            host_wide:
              description: The keys here that are host-wide, not the namespace's own.
              type: list
              elements: str
              returned: always
              sample: ["orphan"]
        netfilter:
          description: Conntrack and NAT presence, for NAT gateway detection.
          type: dict
          returned: always
          sample: {"conntrack_loaded": false, "conntrack_count": null, "nat_loaded": false}
          contains:
            conntrack_loaded:
              description: Whether C(net.netfilter.nf_conntrack_max) exists.
              type: bool
              returned: always
            conntrack_count:
              description: C(net.netfilter.nf_conntrack_count); V(null) without conntrack.
              type: int
              returned: always
            nat_loaded:
              description:
                - A NAT module is listed in C(/proc/modules) or an iptables C(nat) table is registered in this
                  namespace. V(false) means "not seen" (NAT built in and used only through nftables shows neither).
              type: bool
              returned: always
        namespaces:
          description:
            - With O(namespaces=all), the other network namespaces that have a process on the host (containers,
              pods), each read inside it (its own sockets, sysctls and port range). V(null) with O(namespaces=self).
            - Namespaces are told apart by the device and inode of C(/proc/PID/ns/net); the module's own namespace
              is the top level of RV(ansible_facts.tcp_state) and is not repeated here.
          type: dict
          returned: always
          sample:
            total: 2
            unread: 0
            counts: {"established": 6, "syn_sent": 0, "syn_recv": 0, "fin_wait1": 0, "fin_wait2": 0, "time_wait": 21010,
                     "close": 0, "close_wait": 0, "last_ack": 0, "listen": 2, "closing": 0, "total": 21018}
            reason: null
            top:
              - inode: 4026532281
                pids: [2211, 2270]
                pids_total: 2
                owner: {kind: container, id: 0123456789ab}
                counts: {"established": 4, "syn_sent": 0, "syn_recv": 0, "fin_wait1": 0, "fin_wait2": 0,
                         "time_wait": 21000, "close": 0, "close_wait": 0, "last_ack": 0, "listen": 1, "closing": 0,
                         "total": 21005}
            warnings: []
            warnings_total: 0
            errors: []
            errors_total: 0
          contains:
            total:
              description: Namespaces found besides the module's own (read or not); V(null) when none could be read.
              type: int
              returned: always
            unread:
              description:
                - Namespaces found that could not be read (the reason is in RV(ansible_facts.tcp_state.namespaces.errors)).
                - V(null) when RV(ansible_facts.tcp_state.namespaces.total) is.
              type: int
              returned: always
            counts:
              description:
                - Sockets per state summed over every namespace read, those listed in
                  RV(ansible_facts.tcp_state.namespaces.top) and the others alike (the same keys as
                  RV(ansible_facts.tcp_state.counts)). It leaves out the namespaces that could not be read
                  (RV(ansible_facts.tcp_state.namespaces.unread)), those whose processes all exited before they
                  were read, and, when RV(ansible_facts.tcp_state.namespaces.reason) says the walk stopped, those
                  it did not reach.
                - V(null) when RV(ansible_facts.tcp_state.namespaces.total) is.
              type: dict
              returned: always
            reason:
              description:
                - Why the namespaces were not read, or not all of them (not root; the module's own namespace
                  unreadable, by it or by a worker thread; no thread could be started); else V(null).
              type: str
              returned: always
            top:
              description:
                - The O(top) namespaces under the most pressure, in full. First ranks how near a namespace comes to a
                  finding of the audit's socket rules, the largest share of their warn thresholds (O(thresholds), else
                  the defaults) among the worst destination's C(port_usage) (default 0.5), C(close_wait.total) (50)
                  and C(counts.fin_wait2) (500); then the TIME_WAIT count, then all sockets; the others are only
                  counted, in RV(ansible_facts.tcp_state.namespaces.total) and RV(ansible_facts.tcp_state.namespaces.counts).
              type: list
              elements: dict
              returned: always
              contains:
                inode:
                  description: The namespace's inode number, as C(stat -L -c %i /proc/PID/ns/net) prints it.
                  type: int
                  returned: always
                pids:
                  description: The lowest process ids in the namespace, at most 5.
                  type: list
                  elements: int
                  returned: always
                pids_total:
                  description: How many processes are in the namespace.
                  type: int
                  returned: always
                owner:
                  description:
                    - Who the namespace belongs to, from the cgroup path of one of its processes, best effort; V(null) when
                      unknown (a namespace made with C(ip netns), for example).
                    - C(kind) V(pod) with the pod uid (kubepods cgroups), V(container) with the first 12 characters of the
                      container id (docker, podman, CRI-O, containerd scopes), V(unit) with a systemd C(*.service) name.
                  type: dict
                  returned: always
                  sample: {kind: pod, id: 6f1c2a47-9b3e-4c1d-8a2b-0e5f6d7c8b9a}
                  contains:
                    kind:
                      description: V(pod), V(container) or V(unit).
                      type: str
                      returned: always
                    id:
                      description: The pod uid, the short container id or the unit name.
                      type: str
                      returned: always
                counts:
                  description: The namespace's sockets per state, as RV(ansible_facts.tcp_state.counts).
                  type: dict
                  returned: always
                  contains: *state_counts
                time_wait:
                  description: The namespace's TIME_WAIT breakdown, as RV(ansible_facts.tcp_state.time_wait), against its own port range.
                  type: dict
                  returned: always
                  contains: *time_wait_keys
                close_wait:
                  description: The namespace's CLOSE_WAIT sockets and the processes holding them, as RV(ansible_facts.tcp_state.close_wait).
                  type: dict
                  returned: always
                  contains: *close_wait_keys
                listen:
                  description: The namespace's listening sockets, as RV(ansible_facts.tcp_state.listen).
                  type: dict
                  returned: always
                  contains: *listen_keys
                ephemeral_ports:
                  description: The namespace's own local port range, as RV(ansible_facts.tcp_state.ephemeral_ports).
                  type: dict
                  returned: always
                  contains: *ephemeral_port_keys
                sysctl:
                  description:
                    - The namespace's live value of each key the facts report (not the keys only the host's sysctl files
                      set), as RV(ansible_facts.tcp_state.sysctl). A new namespace starts with kernel defaults for its
                      C(net.ipv4) TCP keys; the host's sysctl files never reach it.
                    - Should the namespace's processes all exit between its ranking and its second visit, only the keys
                      its port range and reuse are worked out from, and C(close_wait.owners_reason) says so.
                  type: dict
                  returned: always
            warnings:
              description: What could not be read in the namespaces, each prefixed with C(namespace <owner>), at most 50 entries.
              type: list
              elements: str
              returned: always
            warnings_total:
              description: How many there were, listed or not.
              type: int
              returned: always
            errors:
              description: The namespaces' host data that was there but could not be used, prefixed the same way, at most 50.
              type: list
              elements: str
              returned: always
            errors_total:
              description: How many there were, listed or not.
              type: int
              returned: always
        sysctl_config:
          description:
            - The sysctl configuration files below O(config_root), read in the order C(sysctl --system) and
              systemd-sysctl apply them. Every C(*.conf) in C(/etc/sysctl.d), C(/run/sysctl.d),
              C(/usr/local/lib/sysctl.d), C(/usr/lib/sysctl.d) and C(/lib/sysctl.d), sorted by file name,
              the first directory holding a name hiding that name in the others, a link to C(/dev/null)
              masking the name; then C(/etc/sysctl.conf), counted once even when C(99-sysctl.conf) links to it.
            - Keys are dotted names (C(net/ipv4/tcp_tw_reuse) is read as C(net.ipv4.tcp_tw_reuse), a leading
              C(-) is dropped and kept as C(ignore_failure)); a glob key such as C(net.ipv4.conf.*.rp_filter)
              is kept as written. Values are text with runs of white space folded.
            - The live values of the keys set here are in RV(ansible_facts.tcp_state.sysctl).
          type: complex
          returned: always
          contains:
            files:
              description:
                - The files in the order they are applied; at most the first 64, and at most 2048 settings and
                  16384 characters of keys and values over all files.
              type: list
              elements: dict
              returned: always
              sample:
                - path: /etc/sysctl.conf
                  settings: {net.ipv4.tcp_tw_recycle: "1"}
                  lines: {net.ipv4.tcp_tw_recycle: 31}
                  ignore_failure: []
              contains:
                path:
                  description: Host path of the file.
                  type: str
                  returned: always
                settings:
                  description: Key to value, the last assignment of a key in the file winning.
                  type: dict
                  returned: always
                lines:
                  description: Key to the line number of that assignment.
                  type: dict
                  returned: always
                ignore_failure:
                  description:
                    - The keys whose assignment here starts with C(-), sorted. Such a line sets the key like any
                      other where the kernel has it; where it has none, the line is skipped without an error.
                  type: list
                  elements: str
                  returned: always
            effective:
              description:
                - Keyed by sysctl key, what applying every file leaves for that key, each entry holding the keys
                  below.
              type: dict
              returned: always
              sample: {net.ipv4.tcp_fin_timeout: {value: "30", path: /etc/sysctl.conf, line: 32}}
              contains:
                value:
                  description: The value the last assignment sets.
                  type: str
                  returned: always
                path:
                  description: The file of that assignment.
                  type: str
                  returned: always
                line:
                  description: Its line number.
                  type: int
                  returned: always
            files_total:
              description: How many files the order holds, listed or not.
              type: int
              returned: always
              sample: 2
            errors:
              description:
                - Files that could not be read (not a regular file, larger than 256 KiB, unreadable) and lines that
                  could not be parsed, each with its path; at most 20 entries. Each is also in
                  RV(ansible_facts.tcp_state.errors), prefixed with C(sysctl configuration).
              type: list
              elements: str
              returned: always
              sample: ["/etc/sysctl.d/60-app.conf line 3: no '=' in 'tcp_fin_timeout 30'"]
            errors_total:
              description: How many errors there were, listed or not.
              type: int
              returned: always
              sample: 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcpops.timewait.plugins.module_utils._payload_import import compile_each_file_once

compile_each_file_once()

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import (
    BACKENDS,
    MODES,
    NAMESPACE_SCOPES,
    TcpStateError,
    collect,
)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", choices=list(MODES), default="full"),
            top=dict(type="int", default=10),
            namespaces=dict(type="str", choices=list(NAMESPACE_SCOPES), default="self"),
            backend=dict(type="str", choices=list(BACKENDS), default="auto"),
            proc_root=dict(type="path", default="/proc"),
            config_root=dict(type="path", default="/"),
            sample_seconds=dict(type="int", default=0),
            thresholds=dict(type="dict", default=None),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    params = module.params
    try:
        tcp_state = collect(mode=params["mode"], backend=params["backend"],
                            top=params["top"], proc_root=params["proc_root"],
                            config_root=params["config_root"], namespaces=params["namespaces"],
                            sample_seconds=params["sample_seconds"], thresholds=params["thresholds"])
    except TcpStateError as exc:
        module.fail_json(msg=str(exc))
    for warning in tcp_state["warnings"]:
        module.warn(warning)
    omitted = tcp_state["warnings_total"] - len(tcp_state["warnings"])
    if omitted:
        module.warn("%d more warnings not listed (tcp_state.warnings_total)" % omitted)
    module.exit_json(changed=False, ansible_facts={"tcp_state": tcp_state})


if __name__ == "__main__":
    main()
