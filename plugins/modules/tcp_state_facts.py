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
  - Sets one fact, C(ansible_facts.tcp_state); its full contract is C(docs/tcp_state_facts.md)
    in the collection.
  - Lists sockets through netlink C(SOCK_DIAG_BY_FAMILY) (what C(ss) uses) and falls back to
    C(/proc/net/tcp) and C(/proc/net/tcp6) when netlink is not allowed, with a warning.
  - Aggregates while reading, so memory does not grow with the number of sockets.
  - Reads host data defensively, since any local user can name a process or may drop a file in
    C(/etc/sysctl.d). Only regular files are read (a FIFO, a device such as a link to C(/dev/zero),
    a socket or a directory is refused by name), every read is capped (a sysctl file over 256 KiB is
    reported, not read), invalid UTF-8 is replaced. A file, line or process that cannot be used is a
    warning and an entry of RV(ansible_facts.tcp_state.errors) naming it; the rest is still returned.
  - Every list is bounded (by O(top) for the socket lists) with its full count beside it, so one
    host's result stays small; C(docs/tcp_state_facts.md) states the bounds.
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

- name: Insist on netlink and keep the five biggest entries per list
  tcpops.timewait.tcp_state_facts:
    backend: netlink
    top: 5
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: complex
  contains:
    tcp_state:
      description:
        - TCP state of the host's network namespace. Every key is always present; a value that
          could not be read is V(null) and the reason is in RV(ansible_facts.tcp_state.warnings).
        - See C(docs/tcp_state_facts.md) for every nested key.
      returned: always
      type: complex
      contains:
        kernel:
          description: Kernel release.
          type: str
          returned: always
          sample: 6.1.0-18-amd64
        mode:
          description: V(full) or V(summary).
          type: str
          returned: always
          sample: full
        collected_at:
          description: When the facts were collected, UTC, so that cached facts show their age.
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
          description: Everything that was unavailable, and why; at most 50 entries.
          type: list
          elements: str
          returned: always
          sample: []
        warnings_total:
          description: How many warnings there were, listed or not.
          type: int
          returned: always
          sample: 0
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
            - Sockets per state (V(established), V(syn_sent), V(syn_recv), V(fin_wait1), V(fin_wait2),
              V(time_wait), V(close), V(close_wait), V(last_ack), V(listen), V(closing)) and V(total),
              IPv4 and IPv6 together. V(null) in summary mode.
          type: dict
          returned: always
          sample: {"established": 12, "time_wait": 3051, "listen": 4, "total": 3067}
        by_family:
          description: V(ipv4) and V(ipv6), each with the keys of RV(ansible_facts.tcp_state.counts).
          type: dict
          returned: always
        time_wait:
          description:
            - V(total), V(outbound), V(inbound), V(top_destinations) (V(address), V(port), V(count),
              V(port_usage) = count / usable ephemeral ports) and V(top_local_ports) (V(port), V(count)).
          type: dict
          returned: always
        close_wait:
          description:
            - V(total), V(owners_available), V(owners_reason), V(top_processes) (V(pid), V(comm),
              V(count), V(local_ports)), V(processes_total), V(unowned), V(top_local_ports).
          type: dict
          returned: always
        listen:
          description:
            - V(total), V(sockets) (V(address), V(port), V(family), V(queue), V(backlog)), V(ports).
            - V(sockets) holds at most O(top) entries, the fullest accept queues; V(ports) lists every listening port.
          type: dict
          returned: always
        ephemeral_ports:
          description:
            - V(low), V(high), V(size), V(reserved) (at most O(top) entries), V(reserved_total), V(reserved_in_range), V(usable).
          type: dict
          returned: always
          sample: {"low": 32768, "high": 60999, "size": 28232, "reserved": [], "reserved_total": 0, "reserved_in_range": 0,
                   "usable": 28232}
        sysctl:
          description: Live value of each TCP sysctl of interest by dotted name; V(null) when this kernel has no such key.
          type: dict
          returned: always
          sample: {"net.ipv4.tcp_tw_reuse": 2, "net.ipv4.tcp_tw_recycle": null}
        counters:
          description: Kernel TCP counters (C(/proc/net/netstat) TcpExt, C(/proc/net/snmp) Tcp) by kernel name.
          type: dict
          returned: always
          sample: {"TCPTimeWaitOverflow": 0, "PAWSPassive": null}
        sockstat:
          description:
            - V(inuse) and V(tw) (TCP over IPv4) and V(inuse6) (TCP over IPv6) of this network namespace.
            - V(orphan) is host-wide, even in a container, because the kernel keeps one orphan counter
              for all namespaces; V(host_wide) lists the keys that are host-wide.
          type: dict
          returned: always
          sample: {"inuse": 10, "orphan": 0, "tw": 3051, "inuse6": 2, "host_wide": ["orphan"]}
        netfilter:
          description: V(conntrack_loaded), V(conntrack_count), V(nat_loaded).
          type: dict
          returned: always
          sample: {"conntrack_loaded": false, "conntrack_count": null, "nat_loaded": false}
        sysctl_config:
          description:
            - The sysctl configuration files below O(config_root), read in the order C(sysctl --system) and
              systemd-sysctl apply them. Every C(*.conf) in C(/etc/sysctl.d), C(/run/sysctl.d),
              C(/usr/local/lib/sysctl.d), C(/usr/lib/sysctl.d) and C(/lib/sysctl.d), sorted by file name,
              the first directory holding a name hiding that name in the others, a link to C(/dev/null)
              masking the name; then C(/etc/sysctl.conf), counted once even when C(99-sysctl.conf) links to it.
            - Keys are dotted names (C(net/ipv4/tcp_tw_reuse) is read as C(net.ipv4.tcp_tw_reuse), a leading
              C(-) is dropped); a glob key such as C(net.ipv4.conf.*.rp_filter) is kept as written.
          type: complex
          returned: always
          contains:
            files:
              description:
                - The files in the order they are applied, each with C(path) (host path), C(settings)
                  (key to value, white space folded, the last assignment in the file winning) and
                  C(lines) (key to the line number of that assignment).
                - At most the first 64 files; at most 2048 settings and 16384 characters of keys and values over all files.
              type: list
              elements: dict
              returned: always
              sample:
                - path: /etc/sysctl.conf
                  settings: {net.ipv4.tcp_tw_recycle: "1"}
                  lines: {net.ipv4.tcp_tw_recycle: 31}
            effective:
              description: For each key, the C(value) that applying every file leaves, and the C(path) and C(line) that set it.
              type: dict
              returned: always
              sample: {net.ipv4.tcp_fin_timeout: {value: "30", path: /etc/sysctl.conf, line: 32}}
            live:
              description:
                - For each key of RV(ansible_facts.tcp_state.sysctl_config.effective), its live value from
                  C(<proc_root>/sys) with white space folded; V(null) when this kernel has no such key, and for glob keys.
              type: dict
              returned: always
              sample: {net.ipv4.tcp_fin_timeout: "60", net.ipv4.tcp_tw_recycle: null}
            files_total:
              description: How many files the order holds, listed or not.
              type: int
              returned: always
              sample: 2
            errors:
              description:
                - Files that could not be read (not a regular file, larger than 256 KiB, unreadable) and lines that
                  could not be parsed, each with its path; at most 20 entries.
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
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import (
    BACKENDS,
    MODES,
    TcpStateError,
    collect,
)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", choices=list(MODES), default="full"),
            top=dict(type="int", default=10),
            backend=dict(type="str", choices=list(BACKENDS), default="auto"),
            proc_root=dict(type="path", default="/proc"),
            config_root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    params = module.params
    try:
        tcp_state = collect(mode=params["mode"], backend=params["backend"],
                            top=params["top"], proc_root=params["proc_root"],
                            config_root=params["config_root"])
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
