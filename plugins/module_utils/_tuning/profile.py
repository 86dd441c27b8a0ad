# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Profile ``auto``: pick server, client, proxy or nat_gateway from the host's own tcp_state facts.

The evidence, in order:
1. ``ip_forward = 1`` and a NAT module loaded: the host forwards and masquerades for others
   -> ``nat_gateway``.
2. TIME_WAIT sits on the side that closed first. Outbound TIME_WAIT (local port inside the
   ephemeral range) at or above ``min_time_wait`` means the host opens many connections:
   with service listeners as well it is a ``proxy``, without them a ``client``.
3. Anything else -> ``server``: inbound TIME_WAIT, listeners, or no pressure at all. Server is
   also the profile that changes least (no port range widening, no tw_reuse), the safe choice
   when the evidence is thin.
Service listeners are listening sockets outside loopback whose port is not in ``ignore_ports``
(ssh by default: every host runs it, it says nothing about the host's role).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import IP_FORWARD

PROFILES = ("server", "client", "proxy", "nat_gateway")


def _loopback(address):
    return address.startswith("127.") or address == "::1"


def service_listen_ports(facts, ignore_ports):
    listen = facts.get("listen") or {}
    ports = set()
    for sock in listen.get("sockets") or []:
        if not _loopback(str(sock.get("address", ""))) and sock.get("port") not in ignore_ports:
            ports.add(sock.get("port"))
    return sorted(ports)


def choose_profile(facts, min_time_wait=100, ignore_ports=(22,)):
    """Return ``(profile, reason)`` for the facts ``ansible_facts.tcp_state`` of one host."""
    facts = facts or {}
    sysctl = facts.get("sysctl") or {}
    netfilter = facts.get("netfilter") or {}
    forwarding = sysctl.get(IP_FORWARD) == 1
    if forwarding and netfilter.get("nat_loaded"):
        return "nat_gateway", "net.ipv4.ip_forward = 1 and a NAT module is loaded: the host forwards and masquerades"
    note = " (ip_forward = 1 but no NAT module loaded: not treated as a NAT gateway)" if forwarding else ""
    time_wait = facts.get("time_wait")
    if not time_wait:
        return "server", ("no per-socket facts (summary mode or no socket dump): server, the profile that "
                          "changes least" + note)
    outbound = int(time_wait.get("outbound") or 0)
    inbound = int(time_wait.get("inbound") or 0)
    listeners = service_listen_ports(facts, set(ignore_ports))
    counts = "%d outbound and %d inbound TIME_WAIT" % (outbound, inbound)
    if outbound >= min_time_wait:
        if listeners:
            return "proxy", ("%s (outbound >= %d) and service listeners on ports %s: the host both accepts and "
                             "opens many connections%s" % (counts, min_time_wait, _ports(listeners), note))
        return "client", ("%s (outbound >= %d) and no service listener: the host opens many outbound "
                          "connections%s" % (counts, min_time_wait, note))
    if inbound >= min_time_wait:
        why = "inbound TIME_WAIT dominates: the host closes connections it accepted"
    elif listeners:
        why = "no outbound TIME_WAIT pressure and service listeners on ports %s" % _ports(listeners)
    else:
        why = "no TIME_WAIT pressure and no service listener: server, the profile that changes least"
    return "server", "%s (threshold %d): %s%s" % (counts, min_time_wait, why, note)


def _ports(ports):
    shown = ", ".join(str(port) for port in ports[:10])
    return shown + (", ..." if len(ports) > 10 else "")
