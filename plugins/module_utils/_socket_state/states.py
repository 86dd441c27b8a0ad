# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's TCP state numbers (include/net/tcp_states.h), one home for both socket backends and
the facts built from them. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TCP_TIME_WAIT = 6
TCP_CLOSE_WAIT = 8
TCP_LISTEN = 10
# the name of each state number (12, NEW_SYN_RECV, is reported as syn_recv)
STATE_NAMES = (None, "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
               "close", "close_wait", "last_ack", "listen", "closing", "syn_recv")
# the states of every counts dict (the host's, each namespace's, their sum), each once (12, NEW_SYN_RECV,
# counts as syn_recv); the dicts add "total"
COUNT_KEYS = STATE_NAMES[1:12]
# the states other than TIME_WAIT in which a socket holds its local port toward its destination:
# established, syn_sent, fin_wait1, fin_wait2, close_wait, last_ack, closing
LIVE_HOLDING_STATES = (1, 2, 4, 5, 8, 9, 11)
# every state in which a socket holds its local port toward its destination
HOLDING_STATES = tuple(sorted(LIVE_HOLDING_STATES + (TCP_TIME_WAIT,)))
