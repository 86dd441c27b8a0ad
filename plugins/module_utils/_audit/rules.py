# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit rules: turn one host's ``tcp_state`` facts (and its sysctl config files) into findings.

The rules form a registry: each is a small check function ``(facts, sysctl_config, thresholds) ->
Verdict``, registered with ``@rule(...)`` together with its metadata, declared once beside it: id,
title, when it fails and when it warns, the thresholds it reads, who fixes it and the fix text.
``evaluate()`` runs the registry in order; ``RULE_IDS`` and docs/audit.md follow it.

A finding is a dict: ``id``, ``severity`` (pass/warn/fail), ``message`` (one line), ``evidence`` (the
numbers), ``remediation`` (what to do), ``fixed_by`` (``tunable``: the tcp_tuning role fixes it;
``application``: someone has to fix a program; the fleet report makes a container's or pod's
``tunable`` finding ``container``), ``skipped`` (True when the data the rule needs was
not available; such a finding is ``pass`` and its message says why).

The kernel counters count since boot, so one event would keep a counter rule firing until the next
reboot. The counter rules (``listen_overflow``, ``time_wait_overflow``) therefore judge the events of
an interval when ``evaluate`` gets ``counter_deltas`` (the report's deltas against the previous run,
or the monitoring check's sample), the counters since boot otherwise, and say which.
"""

from __future__ import absolute_import, division, print_function

from collections import namedtuple

from ansible_collections.tcpops.timewait.plugins.module_utils._audit.thresholds import DEFAULT_THRESHOLDS
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import (
    FIN_TIMEOUT, MAX_SYN_BACKLOG, MAX_TW_BUCKETS, SOMAXCONN, TIMESTAMPS, TW_RECYCLE, TW_REUSE)
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.policy import reuse_without_timestamps, sysctl_int

__metaclass__ = type

SEVERITIES = ("pass", "warn", "fail")
SEVERITY_RANK = {"pass": 0, "warn": 1, "fail": 2}
FIXERS = ("tunable", "application")


# config_drift looks at networking keys only: fs.*/kernel.* keys are not this audit's business, and in a
# container they show the host's values anyway.
DRIFT_KEY_PREFIXES = ("net.",)

# The per-line flag of a sysctl file setting that began with '-' (sysctl.d(5): a failure to set it is
# ignored). Read only through ignores_failure().
IGNORE_FAILURE = "ignore_failure"

# The key under which ``evaluate`` hands the counter rules their interval (see counted_events).
COUNTER_DELTAS = "counter_deltas"


class ThresholdError(ValueError):
    """A threshold override that cannot be used."""


def merge_thresholds(overrides):
    """Defaults updated with ``overrides``; unknown names and non-numbers are refused."""
    merged = dict(DEFAULT_THRESHOLDS)
    if not overrides:
        return merged
    if not isinstance(overrides, dict):
        raise ThresholdError("tcp_audit_thresholds must be a dict, got %s" % type(overrides).__name__)
    for name, value in overrides.items():
        if name not in DEFAULT_THRESHOLDS:
            raise ThresholdError(
                "unknown threshold %r (known: %s)" % (name, ", ".join(sorted(DEFAULT_THRESHOLDS)))
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ThresholdError("threshold %s must be a number, got %r" % (name, value))
        if value < 0:
            raise ThresholdError("threshold %s must not be negative, got %r" % (name, value))
        merged[name] = value
    for low, high in (("port_usage_warn", "port_usage_fail"), ("close_wait_warn", "close_wait_fail"),
                      ("fin_wait2_warn", "fin_wait2_fail"), ("listen_drops_warn", "listen_drops_fail")):
        if merged[low] > merged[high]:
            raise ThresholdError("threshold %s (%s) is above %s (%s)" % (low, merged[low], high, merged[high]))
    return merged


# --- the registry ------------------------------------------------------------------------------

Verdict = namedtuple("Verdict", ("severity", "message", "evidence", "skipped"))


def verdict(severity, message, evidence):
    return Verdict(severity, message, evidence, False)


def not_evaluated(reason):
    """The verdict of a rule whose data is missing: a pass that says why and is marked skipped."""
    return Verdict("pass", "not evaluated: %s" % reason, {}, True)


class Rule(namedtuple("Rule", ("rule_id", "title", "fail_when", "warn_when", "thresholds", "fixed_by", "fix",
                               "check"))):
    """One registered rule: its check and its metadata."""

    __slots__ = ()

    def evaluate(self, facts, sysctl_config, thresholds):
        found = self.check(facts, sysctl_config, thresholds)
        return {
            "id": self.rule_id,
            "severity": found.severity,
            "message": found.message,
            "evidence": found.evidence,
            "remediation": self.fix,
            "fixed_by": self.fixed_by,
            "skipped": found.skipped,
        }


REGISTRY = []


def rule(rule_id, title, fixed_by, fix, fail_when, warn_when="—", thresholds=()):
    """Register the decorated check under ``rule_id``; the metadata is checked once, at import."""

    def register(check):
        if fixed_by not in FIXERS:
            raise ValueError("rule %s: fixed_by must be one of %s" % (rule_id, ", ".join(FIXERS)))
        if any(known.rule_id == rule_id for known in REGISTRY):
            raise ValueError("rule %s is registered twice" % rule_id)
        unknown = [name for name in thresholds if name not in DEFAULT_THRESHOLDS]
        if unknown:
            raise ValueError("rule %s reads unknown thresholds %s" % (rule_id, ", ".join(unknown)))
        REGISTRY.append(Rule(rule_id, title, fail_when, warn_when, tuple(thresholds), fixed_by, fix, check))
        return check

    return register


# --- what the checks read ----------------------------------------------------------------------

def _by_thresholds(value, warn, fail):
    if value >= fail:
        return "fail"
    if value >= warn:
        return "warn"
    return "pass"


# More sockets than any host can hold (each takes kernel memory: 2**32 of them would need terabytes).
SOCKET_COUNT_MAX = 2 ** 32


def is_socket_count(value):
    """A number from 0 to SOCKET_COUNT_MAX, not a bool (nor NaN)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= SOCKET_COUNT_MAX


def socket_count(value, what):
    """``value`` when it is a socket count a message may quote (``is_socket_count``); ValueError naming
    ``what`` otherwise: facts holding it are forged or broken, and the caller makes that host an error
    instead of quoting a 309-digit number."""
    if not is_socket_count(value):
        raise ValueError("%s is not a socket count (a number from 0 to %d)" % (what, SOCKET_COUNT_MAX))
    return value


def _sysctl(facts, key):
    """Live value of ``key`` (None where the kernel lacks it): ``tcp_state.sysctl`` holds every key the
    facts report and every plain key a sysctl file sets."""
    return (facts.get("sysctl") or {}).get(key)


def _counter(facts, name):
    return (facts.get("counters") or {}).get(name)


def _seconds_text(seconds):
    return ("%.3f" % seconds).rstrip("0").rstrip(".")


def counted_events(facts, names):
    """The events of the counters ``names`` to judge, and how they were counted.

    Returns ({name: events or None}, {counted, interval_seconds, text}): ``counted`` is
    ``last_interval`` (the deltas of ``counter_deltas``), ``since_restart`` (``counter_deltas`` says the
    counters restarted after the previous run: a reboot, or a new network namespace; since boot is
    then since that restart) or ``since_boot`` (no usable deltas). ``text`` says it in a message.
    """
    since_boot = dict((name, _counter(facts, name)) for name in names)
    deltas = facts.get(COUNTER_DELTAS)
    if isinstance(deltas, dict):
        interval = deltas.get("interval_seconds")
        if not isinstance(interval, (int, float)) or isinstance(interval, bool) or interval <= 0:
            interval = None
        if deltas.get("reboot"):
            return since_boot, {"counted": "since_restart", "interval_seconds": interval,
                                "text": "since boot (the counters restarted after the previous run, by a reboot or "
                                        "a new network namespace: since boot is since that restart)"}
        found = deltas.get("deltas") or {}
        events = dict((name, found.get(name) if since_boot[name] is not None else None) for name in names)
        if all(isinstance(events[name], int) and events[name] >= 0 for name in names if since_boot[name] is not None):
            text = "in the last %s s" % _seconds_text(interval) if interval else "since the previous run"
            return events, {"counted": "last_interval", "interval_seconds": interval, "text": text}
    return since_boot, {"counted": "since_boot", "interval_seconds": None, "text": "since boot"}


def _rate_text(events, how, form=" (%s/s)"):
    if how["counted"] != "last_interval" or not how["interval_seconds"]:
        return ""
    rate = events / float(how["interval_seconds"])
    return form % (("%.3g" % rate) if rate < 1 else _seconds_text(round(rate, 1)))


def ignores_failure(entry, key):
    """Whether the line of the file ``entry`` that sets ``key`` began with '-' (failure ignored): the
    facts list such keys in ``files[].ignore_failure``; anything else there counts as no flag."""
    flags = entry.get(IGNORE_FAILURE)
    return isinstance(flags, (list, tuple)) and key in flags


def _file_settings(sysctl_config, key):
    """Every line of the sysctl config files that sets ``key``: [{path, line, value}] in apply order,
    and the part of them that began with '-'."""
    found = []
    failure_ignored = []
    for entry in (sysctl_config or {}).get("files") or []:
        settings = entry.get("settings") or {}
        if key in settings:
            line = {"path": entry.get("path"), "line": (entry.get("lines") or {}).get(key), "value": settings[key]}
            found.append(line)
            if ignores_failure(entry, key):
                failure_ignored.append(line)
    return found, failure_ignored


def normalise_value(value):
    """Sysctl values compare as whitespace-separated words (port ranges hold a tab)."""
    if value is None:
        return None
    return " ".join(str(value).split())


# --- the rules, in report order ----------------------------------------------------------------

@rule("time_wait_port_exhaustion", "sockets toward one destination hold the ephemeral ports",
      fixed_by="tunable", thresholds=("port_usage_warn", "port_usage_fail"),
      fail_when="the worst destination's `port_usage` (sockets holding an ephemeral port toward that address:port, "
                "all states, less the TIME_WAIT that `tcp_tw_reuse` lets connect() take / usable ephemeral ports) "
                "≥ `port_usage_fail`",
      warn_when="≥ `port_usage_warn` (past half the range every connect() toward it rescans the range)",
      fix="Let the tcp_tuning role widen net.ipv4.ip_local_port_range (client/proxy profile, listening ports "
          "reserved) and enable net.ipv4.tcp_tw_reuse=1 with tcp_timestamps=1; the lasting cure is in the "
          "application: reuse connections (keep-alive, pooling) toward that destination, starting with the "
          "likely sources named in the evidence.")
def time_wait_port_exhaustion(facts, sysctl_config, th):
    """Judged on ``port_usage`` of each ``time_wait.top_destinations`` entry. Facts from before the
    all-state headroom (no ``held``) count their TIME_WAIT alone, as they were collected."""
    time_wait = facts.get("time_wait")
    ports = facts.get("ephemeral_ports") or {}
    if not time_wait or time_wait.get("top_destinations") is None:
        return not_evaluated("no per-destination socket data (summary mode or socket dump failed)")
    destinations = time_wait["top_destinations"]
    usable = ports.get("usable")
    if not destinations:
        return verdict("pass", "no outbound sockets", {"usable_ports": usable, "destinations": []})
    worst = max(destinations, key=lambda d: d.get("port_usage") or 0.0)
    usage = worst.get("port_usage") or 0.0
    severity = _by_thresholds(usage, th["port_usage_warn"], th["port_usage_fail"])
    at_risk = [d for d in destinations if (d.get("port_usage") or 0.0) >= th["port_usage_warn"]]
    held = socket_count(worst.get("held", worst.get("count", 0)), "time_wait.top_destinations[].held")
    reusable = socket_count(worst.get("time_wait_reusable") or 0, "time_wait.top_destinations[].time_wait_reusable")
    message = "%d sockets toward %s:%s (%s) hold %.0f%% of %s usable local ports" % (
        held, worst.get("address"), worst.get("port"), _state_breakdown(worst), usage * 100, usable)
    relief = None
    if reusable and usable:
        without = round(float(held) / usable, 4)
        relief = {"time_wait_reusable": reusable, "port_usage_without_reuse": without,
                  "severity_without_reuse": _by_thresholds(without, th["port_usage_warn"], th["port_usage_fail"])}
        message += " once tcp_tw_reuse frees %d TIME_WAIT older than %s ms" % (
            reusable, (ports.get("reuse") or {}).get("delay_ms"))
        if relief["severity_without_reuse"] != severity:
            message += " (%s without reuse: %.0f%%)" % (relief["severity_without_reuse"], without * 100)
    sources = worst.get("likely_sources")
    if severity != "pass" and sources:
        message += "; likely source (processes with live sockets toward it): %s" % ", ".join(
            "%s (pid %s, %s sockets)" % (s.get("comm"), s.get("pid"), s.get("count")) for s in sources[:3])
    evidence = {
        "usable_ports": usable,
        "port_range": [ports.get("low"), ports.get("high")],
        "reuse": ports.get("reuse"),
        "worst_destination": worst,
        "relieved_by_reuse": relief,
        "destinations_at_risk": at_risk,
        "likely_sources_reason": time_wait.get("likely_sources_reason"),
        "warn_at": th["port_usage_warn"],
        "fail_at": th["port_usage_fail"],
    }
    return verdict(severity, message, evidence)


def _state_breakdown(destination):
    """"2900 TIME_WAIT, 200 ESTABLISHED": the states holding its ports, most first."""
    states = destination.get("states")
    if not isinstance(states, dict):
        states = {"time_wait": destination.get("count", 0)}
    ranked = sorted(states.items(), key=lambda item: (-(item[1] or 0), item[0]))
    return ", ".join("%s %s" % (count, name.upper()) for name, count in ranked) or "none"


@rule("time_wait_overflow", "the kernel destroys TIME_WAIT sockets early",
      fixed_by="tunable", thresholds=("tw_buckets_usage_warn",),
      fail_when="`TCPTimeWaitOverflow` rose in the interval since the previous report run (per network namespace; "
                "without a previous run, or after a reboot, `TCPTimeWaitOverflow` > 0 since boot)",
      warn_when="TIME_WAIT / `tcp_max_tw_buckets` ≥ `tw_buckets_usage_warn`",
      fix="Raise net.ipv4.tcp_max_tw_buckets back to at least the kernel default (the tcp_tuning role never "
          "renders a lower value) and find the peers that cause the TIME_WAIT churn.")
def time_wait_overflow(facts, sysctl_config, th):
    events, how = counted_events(facts, ("TCPTimeWaitOverflow",))
    overflow = events["TCPTimeWaitOverflow"]
    buckets = _sysctl(facts, MAX_TW_BUCKETS)
    tw_total = (facts.get("time_wait") or {}).get("total")
    if tw_total is None:
        tw_total = (facts.get("sockstat") or {}).get("tw")
    if tw_total is not None:
        tw_total = socket_count(tw_total, "time_wait.total")
    if overflow is None and (buckets is None or tw_total is None):
        return not_evaluated("neither TCPTimeWaitOverflow nor TIME_WAIT count with tcp_max_tw_buckets")
    usage = None
    if isinstance(buckets, int) and buckets > 0 and tw_total is not None:
        usage = round(float(tw_total) / buckets, 4)
    evidence = {"TCPTimeWaitOverflow": _counter(facts, "TCPTimeWaitOverflow"), "time_wait": tw_total,
                "tcp_max_tw_buckets": buckets, "usage": usage, "warn_at": th["tw_buckets_usage_warn"],
                "counted": how["counted"], "interval_seconds": how["interval_seconds"], "events": overflow}
    if overflow:
        return verdict("fail", "kernel destroyed TIME_WAIT sockets early %d times %s (TCPTimeWaitOverflow%s)"
                       % (overflow, how["text"], _rate_text(overflow, how, ", %s/s")), evidence)
    if usage is not None and usage >= th["tw_buckets_usage_warn"]:
        return verdict("warn", "%s TIME_WAIT sockets fill %.0f%% of tcp_max_tw_buckets=%s" % (
            tw_total, usage * 100, buckets), evidence)
    return verdict("pass", "no TIME_WAIT bucket overflow %s" % how["text"], evidence)


@rule("max_tw_buckets_lowered", "tcp_max_tw_buckets set below a sane floor",
      fixed_by="tunable", thresholds=("max_tw_buckets_min",),
      fail_when="a sysctl file sets `tcp_max_tw_buckets` below `max_tw_buckets_min`",
      warn_when="the live value is below it (no file sets it: a runtime change or a small host's memory-sized "
                "default)",
      fix="Remove the line that lowers net.ipv4.tcp_max_tw_buckets (the kernel docs say it must not be lowered "
          "artificially) and let the tcp_tuning role restore a value no lower than the kernel default.")
def max_tw_buckets_lowered(facts, sysctl_config, th):
    live = _sysctl(facts, MAX_TW_BUCKETS)
    minimum = th["max_tw_buckets_min"]
    configured = [s for s in _file_settings(sysctl_config, MAX_TW_BUCKETS)[0] if sysctl_int(s["value"]) is not None]
    lowered_in_files = [s for s in configured if sysctl_int(s["value"]) < minimum]
    if live is None and not configured:
        return not_evaluated("tcp_max_tw_buckets unavailable")
    evidence = {"tcp_max_tw_buckets": live, "minimum": minimum, "configured": configured}
    if lowered_in_files:
        where = lowered_in_files[-1]
        return verdict("fail", "%s:%s sets tcp_max_tw_buckets=%s, below %d" % (
            where["path"], where["line"], where["value"], minimum), evidence)
    if isinstance(live, int) and live < minimum:
        return verdict("warn", "tcp_max_tw_buckets=%d is below %d (a runtime change or a small host's "
                       "memory-sized default)" % (live, minimum), evidence)
    return verdict("pass", "tcp_max_tw_buckets=%s" % live, evidence)


@rule("close_wait_leak", "a program does not close the sockets its peers closed",
      fixed_by="application", thresholds=("close_wait_warn", "close_wait_fail"),
      fail_when="CLOSE_WAIT sockets ≥ `close_wait_fail`",
      warn_when="≥ `close_wait_warn`",
      fix="Application bug: the owning process never calls close() on sockets its peer has closed. Fix the "
          "program (close on EOF/errors, timeouts on idle connections); no sysctl fixes this.")
def close_wait_leak(facts, sysctl_config, th):
    close_wait = facts.get("close_wait")
    if not close_wait or close_wait.get("total") is None:
        return not_evaluated("no CLOSE_WAIT data (summary mode or socket dump failed)")
    total = socket_count(close_wait["total"], "close_wait.total")
    owners = close_wait.get("top_processes") or []
    severity = _by_thresholds(total, th["close_wait_warn"], th["close_wait_fail"])
    evidence = {
        "close_wait": total,
        "owners": owners,
        "owners_available": close_wait.get("owners_available"),
        "owners_reason": close_wait.get("owners_reason"),
        "unowned": close_wait.get("unowned"),
        "top_local_ports": close_wait.get("top_local_ports") or [],
        "warn_at": th["close_wait_warn"],
        "fail_at": th["close_wait_fail"],
    }
    if severity == "pass":
        return verdict("pass", "%d CLOSE_WAIT sockets" % total, evidence)
    if owners:
        named = ", ".join("%s (pid %s, %s sockets)" % (o.get("comm"), o.get("pid"), o.get("count"))
                          for o in owners[:3])
        return verdict(severity, "%d CLOSE_WAIT sockets held by %s" % (total, named), evidence)
    return verdict(severity, "%d CLOSE_WAIT sockets, owners unknown: %s" % (
        total, close_wait.get("owners_reason") or "no process holds them"), evidence)


@rule("fin_wait2_buildup", "peers do not close their side",
      fixed_by="application", thresholds=("fin_wait2_warn", "fin_wait2_fail"),
      fail_when="FIN_WAIT2 sockets ≥ `fin_wait2_fail`",
      warn_when="≥ `fin_wait2_warn`",
      fix="The peers do not close their side. Fix the peer application (or its idle timeout); "
          "net.ipv4.tcp_fin_timeout only bounds orphaned FIN_WAIT2 sockets and does not shorten TIME_WAIT.")
def fin_wait2_buildup(facts, sysctl_config, th):
    counts = facts.get("counts")
    if not counts or counts.get("fin_wait2") is None:
        return not_evaluated("no per-state counts (summary mode or socket dump failed)")
    value = socket_count(counts["fin_wait2"], "counts.fin_wait2")
    evidence = {"fin_wait2": value, "tcp_fin_timeout": _sysctl(facts, FIN_TIMEOUT),
                "warn_at": th["fin_wait2_warn"], "fail_at": th["fin_wait2_fail"]}
    return verdict(_by_thresholds(value, th["fin_wait2_warn"], th["fin_wait2_fail"]),
                   "%d FIN_WAIT2 sockets" % value, evidence)


@rule("listen_overflow", "accept queues overflow",
      fixed_by="tunable", thresholds=("listen_drops_warn", "listen_drops_fail"),
      fail_when="max(`ListenOverflows`, `ListenDrops`) events in the interval since the previous report run "
                "≥ `listen_drops_fail` (without a previous run, or after a reboot, the counters since boot)",
      warn_when="≥ `listen_drops_warn`",
      fix="Accept queues overflowed: let the tcp_tuning role raise net.core.somaxconn and "
          "net.ipv4.tcp_max_syn_backlog (server/proxy profile), and check that the service passes a large "
          "enough backlog to listen() and accepts fast enough.")
def listen_overflow(facts, sysctl_config, th):
    events, how = counted_events(facts, ("ListenOverflows", "ListenDrops"))
    overflows, drops = events["ListenOverflows"], events["ListenDrops"]
    if overflows is None and drops is None:
        return not_evaluated("ListenOverflows/ListenDrops counters unavailable")
    worst = max(overflows or 0, drops or 0)
    full = [s for s in ((facts.get("listen") or {}).get("sockets") or [])
            if s.get("backlog") and s.get("queue", 0) >= s.get("backlog")]
    evidence = {"ListenOverflows": _counter(facts, "ListenOverflows"), "ListenDrops": _counter(facts, "ListenDrops"),
                "counted": how["counted"], "interval_seconds": how["interval_seconds"],
                "events": {"ListenOverflows": overflows, "ListenDrops": drops},
                "somaxconn": _sysctl(facts, SOMAXCONN),
                "tcp_max_syn_backlog": _sysctl(facts, MAX_SYN_BACKLOG),
                "full_accept_queues": full,
                "warn_at": th["listen_drops_warn"], "fail_at": th["listen_drops_fail"]}
    severity = _by_thresholds(worst, th["listen_drops_warn"], th["listen_drops_fail"])
    if severity == "pass":
        return verdict("pass", "no listen queue overflows %s" % how["text"], evidence)
    return verdict(severity, "listen queues overflowed %s: ListenOverflows=%s ListenDrops=%s%s"
                   % (how["text"], overflows, drops, _rate_text(worst, how)), evidence)


@rule("tw_recycle_enabled", "tcp_tw_recycle is live and drops SYNs from clients behind NAT",
      fixed_by="tunable",
      fail_when="live `tcp_tw_recycle` ≠ 0 (kernels < 4.12)",
      fix="Set net.ipv4.tcp_tw_recycle=0 now (the tcp_tuning role forces 0 where the key exists): it drops "
          "SYNs from clients behind NAT and was removed in Linux 4.12.")
def tw_recycle_enabled(facts, sysctl_config, th):
    live = _sysctl(facts, TW_RECYCLE)
    evidence = {"tcp_tw_recycle": live, "kernel": facts.get("kernel"),
                "PAWSPassive": _counter(facts, "PAWSPassive"), "PAWSActive": _counter(facts, "PAWSActive")}
    if live is None:
        return verdict("pass", "kernel has no tcp_tw_recycle (removed in 4.12)", evidence)
    if sysctl_int(live):
        return verdict("fail", "tcp_tw_recycle=%s is live: SYNs from clients behind NAT get dropped "
                       "(PAWSPassive=%s)" % (live, evidence["PAWSPassive"]), evidence)
    return verdict("pass", "tcp_tw_recycle=0", evidence)


@rule("tw_recycle_configured", "a sysctl file sets tcp_tw_recycle",
      fixed_by="tunable",
      fail_when="a sysctl file sets `tcp_tw_recycle` to a non-zero value (a line starting with `-` only where "
                "the kernel has the key)",
      warn_when="a file sets it to 0, or a line starting with `-` sets it on a kernel without the key (dead "
                "config)",
      fix="Remove every net.ipv4.tcp_tw_recycle line from the sysctl files (the tcp_tuning role does it with "
          "tcp_tuning_fix_conflicts: true, keeping a backup); on kernels >= 4.12 the line makes "
          "'sysctl --system' report an error.")
def tw_recycle_configured(facts, sysctl_config, th):
    """A line that sets tcp_tw_recycle is judged by what it does at boot on this host.

    A plain line that enables it fails: on a kernel that has the key it turns recycling on, on a
    4.12+ kernel it is an error of ``sysctl -p`` (and of ``sysctl --system`` where procps reports
    unknown keys). A line starting with ``-`` asks sysctl.d(5) to ignore a failure to set it: on a
    kernel without the key it sets nothing and reports nothing, so it is dead config (a warn that
    names it, to be removed before the file reaches an older kernel), while on a kernel with the
    key the write succeeds and turns recycling on just the same (a fail). A line setting 0 is a warn.
    """
    if not sysctl_config or sysctl_config.get("files") is None:
        return not_evaluated("sysctl config files were not read")
    lines, failure_ignored = _file_settings(sysctl_config, TW_RECYCLE)
    kernel_has_it = _sysctl(facts, TW_RECYCLE) is not None
    evidence = {"lines": lines, "kernel_has_key": kernel_has_it, "failure_ignored": failure_ignored}
    if not lines:
        return verdict("pass", "no sysctl file sets tcp_tw_recycle", evidence)
    dead = [] if kernel_has_it else [line for line in lines if line in failure_ignored]
    applied = [line for line in lines if line not in dead]
    enabling = [line for line in applied if sysctl_int(line["value"]) != 0]
    if not applied:
        where = dead[-1]
        return verdict("warn", "%s:%s sets -%s = %s: dead config, this kernel has no such key and the leading '-' "
                       "makes sysctl ignore the line; remove it" % (where["path"], where["line"], TW_RECYCLE,
                                                                    where["value"]), evidence)
    where = (enabling or applied)[-1]
    message = "%s:%s sets tcp_tw_recycle=%s" % (where["path"], where["line"], where["value"])
    if not kernel_has_it:
        message += " (this kernel has no such key: sysctl --system reports an error)"
    return verdict("fail" if enabling else "warn", message, evidence)


@rule("tw_reuse_without_timestamps", "tcp_tw_reuse on while tcp_timestamps is off",
      fixed_by="tunable",
      fail_when="`tcp_tw_reuse=1` with `tcp_timestamps=0`",
      warn_when="`tcp_tw_reuse=2` (the default, loopback) with `tcp_timestamps=0`",
      fix="Set net.ipv4.tcp_timestamps=1 (the tcp_tuning role keeps it on): with timestamps off, tcp_tw_reuse "
          "does nothing and PAWS protection is gone. Fix the hardening baseline that turned it off.")
def tw_reuse_without_timestamps(facts, sysctl_config, th):
    reuse = sysctl_int(_sysctl(facts, TW_REUSE))
    timestamps = sysctl_int(_sysctl(facts, TIMESTAMPS))
    evidence = {"tcp_tw_reuse": reuse, "tcp_timestamps": timestamps}
    if reuse is None or timestamps is None:
        return not_evaluated("tcp_tw_reuse or tcp_timestamps unavailable")
    if reuse_without_timestamps(reuse, timestamps):
        scope = "enabled" if reuse == 1 else "loopback-only (default)"
        return verdict("fail" if reuse == 1 else "warn", "tcp_tw_reuse=%d (%s) with tcp_timestamps=0: reuse is "
                       "inert and PAWS is off" % (reuse, scope), evidence)
    return verdict("pass", "tcp_tw_reuse=%d, tcp_timestamps=%d" % (reuse, timestamps), evidence)


@rule("config_drift", "live values differ from what the sysctl files apply at boot",
      fixed_by="tunable",
      fail_when="—",
      warn_when="a `net.*` key's live value differs from the value the sysctl files would apply (compared word "
                "by word, so tabs in port ranges do not count)",
      fix="The live values differ from what the sysctl files would apply at boot: someone ran sysctl -w, or a "
          "file was edited and not applied. Decide which is right, then make the files say it (the tcp_tuning "
          "role writes one file and applies it) so a reboot does not change behaviour.")
def config_drift(facts, sysctl_config, th):
    if not sysctl_config or sysctl_config.get("effective") is None:
        return not_evaluated("sysctl config files were not read")
    live_values = facts.get("sysctl") or {}
    drifted = []
    checked = [key for key in sorted(sysctl_config["effective"]) if key.startswith(DRIFT_KEY_PREFIXES)]
    for key in checked:
        wanted = sysctl_config["effective"][key]
        live = live_values.get(key)
        if live is None or "*" in key:
            continue  # absent on this kernel (or a glob): other rules report those
        if normalise_value(live) != normalise_value(wanted.get("value")):
            drifted.append({"key": key, "live": normalise_value(live), "configured": wanted.get("value"),
                            "path": wanted.get("path"), "line": wanted.get("line")})
    evidence = {"drifted": drifted, "checked": len(checked)}
    if not drifted:
        return verdict("pass", "live values match the sysctl files", evidence)
    first = drifted[0]
    return verdict("warn", "%d key(s) differ from the sysctl files, e.g. %s live %s, %s:%s says %s" % (
        len(drifted), first["key"], first["live"], first["path"], first["line"], first["configured"]), evidence)


# --- running the registry ----------------------------------------------------------------------

RULES = tuple(REGISTRY)
RULE_IDS = tuple(registered.rule_id for registered in RULES)
# the rules that read COUNTER_DELTAS: the only ones an interval can change
COUNTER_RULE_IDS = ("time_wait_overflow", "listen_overflow")


def worst_severity(findings):
    worst = "pass"
    for finding in findings:
        if SEVERITY_RANK[finding["severity"]] > SEVERITY_RANK[worst]:
            worst = finding["severity"]
    return worst


def evaluate(facts, sysctl_config=None, thresholds=None, counter_deltas=None):
    """All findings for one host, in registry order. ``thresholds`` are the merged thresholds;
    ``counter_deltas`` ({interval_seconds, reboot, deltas}) the interval the counter rules judge."""
    th = thresholds if thresholds is not None else dict(DEFAULT_THRESHOLDS)
    facts = facts or {}
    if counter_deltas is not None:
        facts = dict(facts, **{COUNTER_DELTAS: counter_deltas})
    return [registered.evaluate(facts, sysctl_config, th) for registered in RULES]
