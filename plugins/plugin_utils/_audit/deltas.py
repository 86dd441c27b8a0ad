# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run-to-run growth of each host's since-boot kernel counters: the host entry's ``counter_deltas``.

A report run with a previous run (the history's ``latest``) compares each host's ``counters`` with
the ones that run recorded for it: ``{interval_seconds, reboot, deltas, rates}`` (``rates``: the
per-second rates of ``rates.RATE_COUNTERS`` over the interval, the same as ``sample_seconds`` gives). ``reboot`` is true when the
host booted since (``boot_time`` moved, or its collection time lies before the new boot) or when any
counter went down (a reboot without a readable boot time, or a container's new network namespace);
then ``deltas`` and ``rates`` are null: a rate is never negative, and the rules judge the counters since boot, which
is since that restart. ``counter_deltas`` is null when there is nothing to compare with.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.rates import per_second

# /proc/stat btime is the wall clock minus the time since boot: NTP slewing moves it by a few
# seconds over days; a reboot moves it by at least the previous boot's uptime.
BOOT_TIME_SLACK = 30
# tcp_state.collected_at, YYYY-MM-DDTHH:MM:SSZ (parsed by hand: strptime cost most of a 10,000-host run)
COLLECTED_AT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")
EPOCH = datetime.datetime(1970, 1, 1)
# significant digits of the interval's rates: 5 events in a day is 5.787e-05/s, not 0.0
RATE_DIGITS = 4


def _epoch(collected_at):
    match = COLLECTED_AT.fullmatch(collected_at) if isinstance(collected_at, str) else None
    if match is None:
        return None
    try:
        moment = datetime.datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    return int((moment - EPOCH).total_seconds())


def _number(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rebooted(facts, previous_facts):
    """Whether the host booted between the two collections, as far as the boot times tell."""
    now, before = _number(facts.get("boot_time")), _number(previous_facts.get("boot_time"))
    if now is None or before is None:
        return False
    if abs(now - before) > BOOT_TIME_SLACK:
        return True
    previous_at = _epoch(previous_facts.get("collected_at"))
    return previous_at is not None and now > previous_at


def counter_deltas(facts, previous_facts):
    """``{interval_seconds, reboot, deltas, rates}`` of ``facts`` against ``previous_facts`` (two tcp_state
    dicts of one host), or None when either has no counters."""
    if not isinstance(facts, dict) or not isinstance(previous_facts, dict):
        return None
    counters, before = facts.get("counters"), previous_facts.get("counters")
    if not isinstance(counters, dict) or not isinstance(before, dict):
        return None
    now_at, before_at = _epoch(facts.get("collected_at")), _epoch(previous_facts.get("collected_at"))
    interval = now_at - before_at if now_at is not None and before_at is not None else None
    deltas = {}
    went_down = False
    for name in sorted(counters):
        value, old = _number(counters.get(name)), _number(before.get(name))
        if value is None or old is None:
            continue
        if value < old:
            went_down = True
        deltas[name] = value - old
    reboot = went_down or rebooted(facts, previous_facts)
    rates = per_second(before, counters, interval, RATE_DIGITS) if not reboot and interval and interval > 0 else None
    return {"interval_seconds": interval, "reboot": reboot, "deltas": None if reboot else deltas, "rates": rates}


def _judged(entry):
    return entry.get("status") not in ("error", "unreachable") and isinstance(entry.get("facts"), dict) \
        and isinstance(entry.get("thresholds"), dict)


def attach(hosts, previous_doc):
    """Give every host entry its ``counter_deltas`` against ``previous_doc`` (None: no previous run),
    and judge the counter rules again over that interval (the other findings cannot change)."""
    previous_hosts = (previous_doc or {}).get("hosts") or {}
    counter_rules = dict((registered.rule_id, registered) for registered in rules.RULES
                         if registered.rule_id in rules.COUNTER_RULE_IDS)
    for name, entry in hosts.items():
        before = previous_hosts.get(name)
        found = None
        if _judged(entry) and isinstance(before, dict):
            found = counter_deltas(entry["facts"], before.get("facts"))
        entry["counter_deltas"] = found
        if found is None:
            continue
        facts = dict(entry["facts"], **{rules.COUNTER_DELTAS: found})
        entry["findings"] = [
            counter_rules[f["id"]].evaluate(facts, entry.get("sysctl_config"), entry["thresholds"])
            if f.get("id") in counter_rules else f for f in entry.get("findings") or []]
        entry["status"] = rules.worst_severity(entry["findings"])
    return hosts
