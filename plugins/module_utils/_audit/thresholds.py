# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit rules' default thresholds (``tcp_audit_thresholds`` overrides them per key).

Apart from the rules so that the facts engine can rank network namespaces by how near they come to a
finding without loading the rules. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DEFAULT_THRESHOLDS = {
    # time_wait_port_exhaustion: ports connect() cannot take toward one destination / usable local ports
    "port_usage_warn": 0.5,
    "port_usage_fail": 0.8,
    # time_wait_overflow: TIME_WAIT sockets / tcp_max_tw_buckets
    "tw_buckets_usage_warn": 0.8,
    # max_tw_buckets_lowered: below this a tcp_max_tw_buckets value counts as lowered
    "max_tw_buckets_min": 16384,
    # close_wait_leak: CLOSE_WAIT sockets on the host
    "close_wait_warn": 50,
    "close_wait_fail": 500,
    # fin_wait2_buildup: FIN_WAIT2 sockets on the host
    "fin_wait2_warn": 500,
    "fin_wait2_fail": 5000,
    # listen_overflow: ListenOverflows / ListenDrops events in the interval (since boot without one)
    "listen_drops_warn": 1,
    "listen_drops_fail": 1000,
}
