# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-second rates of the kernel's since-boot TCP counters, from two reads some seconds apart.

The counters (``kernel.read_counters``) only ever grow until the next boot, so one read says
nothing about now: ``sample`` reads them a second time ``seconds`` after the first and divides
the difference by the time measured between the reads. Standard library only.

``time_wait_entered`` is ``TW`` + ``TWKilled``: since Linux 4.1 the kernel counts a socket in one of
them when it enters TIME_WAIT (``TWKilled`` when its timeout is 4 s or less), and also when an
orphaned FIN_WAIT2 connection is handed to a timewait socket. Older kernels counted them when the
TIME_WAIT ended, 60 s later: in a steady state the rate is the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

MAX_SAMPLE_SECONDS = 60

# per_second key -> the counters (kernel names) whose summed growth it is
RATE_COUNTERS = (
    ("outbound_connections", ("ActiveOpens",)),
    ("inbound_connections", ("PassiveOpens",)),
    ("failed_connection_attempts", ("AttemptFails",)),
    ("time_wait_entered", ("TW", "TWKilled")),
    ("time_wait_reused", ("TWRecycled",)),
    ("time_wait_overflow", ("TCPTimeWaitOverflow",)),
    ("listen_overflows", ("ListenOverflows",)),
    ("listen_drops", ("ListenDrops",)),
)


def check_seconds(seconds):
    """``seconds`` as an int from 0 to MAX_SAMPLE_SECONDS; ValueError saying what to fix otherwise."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_SAMPLE_SECONDS:
        raise ValueError("sample_seconds must be a whole number of seconds from 0 (no sample) to %d, got %r"
                         % (MAX_SAMPLE_SECONDS, seconds))
    return seconds


def _counter(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _increase(first, second, names):
    """How much the counters ``names`` grew together; None when one is unknown or went down (restarted)."""
    total = 0
    for name in names:
        before, after = first.get(name), second.get(name)
        if not _counter(before) or not _counter(after) or after < before:
            return None
        total += after - before
    return total


def per_second(first, second, seconds, significant=None):
    """The rates between two counter reads ``seconds`` apart (a value rounded to the millisecond).

    Each rate is rounded to 3 decimals after dividing by the rounded ``seconds``, so that
    ``round(rate * seconds)`` gives back the exact number of events (for a sample of at most
    MAX_SAMPLE_SECONDS); with ``significant``, to that many significant digits instead, so that a
    few events over hours (report runs a day apart) do not round to 0. A rate is None when either
    read lacks one of its counters or one went down; never negative."""
    result = {}
    for key, names in RATE_COUNTERS:
        grown = _increase(first, second, names)
        if grown is None or not seconds > 0:
            result[key] = None
        elif significant:
            result[key] = float("%.*g" % (significant, grown / seconds))
        else:
            result[key] = round(grown / seconds, 3)
    return result


def events(rates):
    """{counter name: events in the sample} back from ``rates`` (the dict ``sample`` returns), for the
    rates of one counter each."""
    seconds = rates["seconds"]
    found = {}
    for key, names in RATE_COUNTERS:
        value = rates["per_second"].get(key)
        if value is not None and len(names) == 1:
            found[names[0]] = int(round(value * seconds))
    return found


def sample(seconds, started, first, read_again):
    """Wait until ``seconds`` after ``started`` (``time.monotonic()`` just before ``first`` was read),
    read the counters again with ``read_again()`` and return ``{seconds, per_second}`` with
    ``seconds`` the time measured between the two reads."""
    remaining = started + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    read_at = time.monotonic()
    second = read_again()
    measured = round(read_at - started, 3)
    return {"seconds": measured, "per_second": per_second(first, second, measured)}
