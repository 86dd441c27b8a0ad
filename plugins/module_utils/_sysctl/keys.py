# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysctl keys the collection knows by name: one set for the facts, the role and the audit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TW_RECYCLE = "net.ipv4.tcp_tw_recycle"
TW_REUSE = "net.ipv4.tcp_tw_reuse"
TW_REUSE_DELAY = "net.ipv4.tcp_tw_reuse_delay"
TIMESTAMPS = "net.ipv4.tcp_timestamps"
FIN_TIMEOUT = "net.ipv4.tcp_fin_timeout"
MAX_TW_BUCKETS = "net.ipv4.tcp_max_tw_buckets"
PORT_RANGE = "net.ipv4.ip_local_port_range"
RESERVED_PORTS = "net.ipv4.ip_local_reserved_ports"
SYNCOOKIES = "net.ipv4.tcp_syncookies"
SOMAXCONN = "net.core.somaxconn"
MAX_SYN_BACKLOG = "net.ipv4.tcp_max_syn_backlog"
KEEPALIVE_TIME = "net.ipv4.tcp_keepalive_time"
KEEPALIVE_INTVL = "net.ipv4.tcp_keepalive_intvl"
KEEPALIVE_PROBES = "net.ipv4.tcp_keepalive_probes"
IP_FORWARD = "net.ipv4.ip_forward"
CONNTRACK_TIME_WAIT = "net.netfilter.nf_conntrack_tcp_timeout_time_wait"
CONNTRACK_MAX = "net.netfilter.nf_conntrack_max"
CONNTRACK_COUNT = "net.netfilter.nf_conntrack_count"

# What tcp_state.sysctl reports on every host, in this order.
FACT_KEYS = (
    TW_REUSE, TW_REUSE_DELAY, TW_RECYCLE, TIMESTAMPS, FIN_TIMEOUT, MAX_TW_BUCKETS, PORT_RANGE,
    RESERVED_PORTS, SYNCOOKIES, SOMAXCONN, MAX_SYN_BACKLOG, KEEPALIVE_TIME, KEEPALIVE_INTVL,
    KEEPALIVE_PROBES, IP_FORWARD, CONNTRACK_TIME_WAIT, CONNTRACK_MAX,
)
# Removed in Linux 4.12: never rendered, flagged wherever it appears.
OBSOLETE_KEYS = (TW_RECYCLE,)
