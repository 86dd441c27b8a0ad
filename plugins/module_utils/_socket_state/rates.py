# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-second rates of the kernel's since-boot TCP counters, from two reads some seconds apart.

The counters (``kernel.read_counters``) only ever grow until the next boot, so one read says
nothing about now: ``sample`` reads them a second time ``seconds`` after the first and divides
the difference by the time measured between the reads. Standard library only.

``time_wait_entered`` has no counter of its own in the kernel. It is the change in the TIME_WAIT
count (``/proc/net/sockstat`` ``tw``) plus the TIME_WAIT sockets that left it meanwhile and that
the kernel counts: expired (``TW``), ended early (``TWKilled``) and reused by connect()
(``TWRecycled``). A TIME_WAIT ended by a RST or reopened by a new SYN is counted nowhere, so the
value is a lower bound.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

MAX_SAMPLE_SECONDS = 60

# per_second key -> the counter (kernel name) it is the rate of
RATE_COUNTERS = (
    ("outbound_connections", "ActiveOpens"),
    ("inbound_connections", "PassiveOpens"),
    ("failed_connection_attempts", "AttemptFails"),
    ("time_wait_expired", "TW"),
    ("time_wait_reused", "TWRecycled"),
    ("time_wait_overflow", "TCPTimeWaitOverflow"),
    ("listen_overflows", "ListenOverflows"),
    ("listen_drops", "ListenDrops"),
)
TIME_WAIT_LEFT = ("TW", "TWKilled", "TWRecycled")


def check_seconds(seconds):
    """``seconds`` as an int from 0 to MAX_SAMPLE_SECONDS; ValueError saying what to fix otherwise."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_SAMPLE_SECONDS:
        raise ValueError("sample_seconds must be a whole number of seconds from 0 (no sample) to %d, got %r"
                         % (MAX_SAMPLE_SECONDS, seconds))
    return seconds


def _increase(first, second, name):
    """How much counter ``name`` grew; None when unknown or when it went down (counters restarted)."""
    before, after = first.get(name), second.get(name)
    if not isinstance(before, int) or not isinstance(after, int) or after < before:
        return None
    return after - before


def per_second(first, second, seconds, time_wait_before=None, time_wait_after=None):
    """The rates between two counter reads ``seconds`` apart (a value rounded to the millisecond).

    Each rate is rounded to 3 decimals after dividing by the rounded ``seconds``, so that
    ``round(rate * seconds)`` gives back the exact number of events. A rate is None when either read
    lacks its counter or the counter went down; never negative."""
    result = {}
    for key, name in RATE_COUNTERS:
        grown = _increase(first, second, name)
        result[key] = round(grown / seconds, 3) if grown is not None and seconds > 0 else None
    left = [_increase(first, second, name) for name in TIME_WAIT_LEFT]
    entered = None
    if seconds > 0 and None not in left and isinstance(time_wait_before, int) and isinstance(time_wait_after, int):
        entered = round(max(0, time_wait_after - time_wait_before + sum(left)) / seconds, 3)
    result["time_wait_entered"] = entered
    return result


def events(rates):
    """{counter name: events in the sample} back from ``rates`` (the dict ``sample`` returns)."""
    seconds = rates["seconds"]
    found = {}
    for key, name in RATE_COUNTERS:
        value = rates["per_second"].get(key)
        if value is not None:
            found[name] = int(round(value * seconds))
    return found


def sample(seconds, started, first, time_wait_before, read_again):
    """Wait until ``seconds`` after ``started`` (``time.monotonic()`` just before ``first`` was read),
    read the counters again with ``read_again()`` -> (counters, TIME_WAIT count) and return
    ``{seconds, per_second}`` with ``seconds`` the time measured between the two reads."""
    remaining = started + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    read_at = time.monotonic()
    second, time_wait_after = read_again()
    measured = round(read_at - started, 3)
    return {"seconds": measured,
            "per_second": per_second(first, second, measured, time_wait_before, time_wait_after)}
