# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judgements on combinations of sysctl values, shared by the audit and the tcp_tuning planner.

Pure functions of values as the facts, the files or the role hold them (int or text); standard
library only, nothing read from the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def sysctl_int(value):
    """The integer a sysctl value holds (an int, or text such as ``" 1\n"``), None when it holds none."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def reuse_without_timestamps(tw_reuse, timestamps):
    """Whether ``tcp_tw_reuse`` is on (1 everywhere, 2 loopback only) while ``tcp_timestamps`` is 0.

    tw_reuse takes a TIME_WAIT port only from a connection that recorded timestamps, so without
    them it does nothing, and PAWS protection is off as well. A value that is missing or not a
    number is not judged (False).
    """
    return sysctl_int(tw_reuse) in (1, 2) and sysctl_int(timestamps) == 0
