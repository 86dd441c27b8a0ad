# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit rules: turn one host's ``tcp_state`` facts (and its sysctl config files) into findings.

Every rule is a function ``(facts, sysctl_config, thresholds) -> finding``. A finding is a dict:
``id``, ``severity`` (pass/warn/fail), ``message`` (one line), ``evidence`` (the numbers),
``remediation`` (what to do), ``fixed_by`` (``tunable``: the tcp_tuning role fixes it;
``application``: someone has to fix a program), ``skipped`` (True when the data the rule needs
was not available; such a finding is ``pass`` and its message says why).
"""

from __future__ import absolute_import, division, print_function
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import MAX_TW_BUCKETS, TIMESTAMPS, TW_RECYCLE, TW_REUSE

__metaclass__ = type

SEVERITIES = ("pass", "warn", "fail")
SEVERITY_RANK = {"pass": 0, "warn": 1, "fail": 2}

DEFAULT_THRESHOLDS = {
    # time_wait_port_exhaustion: outbound TIME_WAIT toward one destination / usable local ports
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
    # listen_overflow: ListenOverflows + ListenDrops since boot (per network namespace)
    "listen_drops_warn": 1,
    "listen_drops_fail": 1000,
}

# config_drift looks at networking keys only: fs.*/kernel.* keys are not this audit's business, and in a
# container they show the host's values anyway.
DRIFT_KEY_PREFIXES = ("net.",)


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


def _finding(rule_id, severity, message, evidence, remediation, fixed_by, skipped=False):
    return {
        "id": rule_id,
        "severity": severity,
        "message": message,
        "evidence": evidence,
        "remediation": remediation,
        "fixed_by": fixed_by,
        "skipped": skipped,
    }


def _skipped(rule_id, reason, remediation, fixed_by):
    return _finding(rule_id, "pass", "not evaluated: %s" % reason, {}, remediation, fixed_by, skipped=True)


def _by_thresholds(value, warn, fail):
    if value >= fail:
        return "fail"
    if value >= warn:
        return "warn"
    return "pass"


def _sysctl(facts, key):
    return (facts.get("sysctl") or {}).get(key)


def _counter(facts, name):
    return (facts.get("counters") or {}).get(name)


def _file_settings(sysctl_config, key):
    """Every line of the sysctl config files that sets ``key``: [{path, line, value}] in apply order."""
    found = []
    for entry in (sysctl_config or {}).get("files") or []:
        settings = entry.get("settings") or {}
        if key in settings:
            found.append({"path": entry.get("path"), "line": (entry.get("lines") or {}).get(key),
                          "value": settings[key]})
    return found


# --- rules -------------------------------------------------------------------------------------

PORT_EXHAUSTION_FIX = (
    "Let the tcp_tuning role widen net.ipv4.ip_local_port_range (client/proxy profile, listening ports "
    "reserved) and enable net.ipv4.tcp_tw_reuse=1; the lasting cure is in the application: reuse "
    "connections (keep-alive, pooling) toward that destination."
)


def rule_time_wait_port_exhaustion(facts, sysctl_config, th):
    rule_id = "time_wait_port_exhaustion"
    time_wait = facts.get("time_wait")
    ports = facts.get("ephemeral_ports") or {}
    if not time_wait or time_wait.get("top_destinations") is None:
        return _skipped(rule_id, "no per-destination TIME_WAIT data (summary mode or socket dump failed)",
                        PORT_EXHAUSTION_FIX, "tunable")
    destinations = time_wait["top_destinations"]
    usable = ports.get("usable")
    if not destinations:
        return _finding(rule_id, "pass", "no outbound TIME_WAIT sockets",
                        {"usable_ports": usable, "destinations": []}, PORT_EXHAUSTION_FIX, "tunable")
    worst = max(destinations, key=lambda d: d.get("port_usage") or 0.0)
    usage = worst.get("port_usage") or 0.0
    severity = _by_thresholds(usage, th["port_usage_warn"], th["port_usage_fail"])
    at_risk = [d for d in destinations if (d.get("port_usage") or 0.0) >= th["port_usage_warn"]]
    message = "%d TIME_WAIT toward %s:%s use %.0f%% of %s usable local ports" % (
        worst.get("count", 0), worst.get("address"), worst.get("port"), usage * 100, usable)
    evidence = {
        "usable_ports": usable,
        "port_range": [ports.get("low"), ports.get("high")],
        "worst_destination": worst,
        "destinations_at_risk": at_risk,
        "warn_at": th["port_usage_warn"],
        "fail_at": th["port_usage_fail"],
    }
    return _finding(rule_id, severity, message, evidence, PORT_EXHAUSTION_FIX, "tunable")


TW_OVERFLOW_FIX = (
    "Raise net.ipv4.tcp_max_tw_buckets back to at least the kernel default (the tcp_tuning role never "
    "renders a lower value) and find the peers that cause the TIME_WAIT churn."
)


def rule_time_wait_overflow(facts, sysctl_config, th):
    rule_id = "time_wait_overflow"
    overflow = _counter(facts, "TCPTimeWaitOverflow")
    buckets = _sysctl(facts, MAX_TW_BUCKETS)
    time_wait = facts.get("time_wait") or {}
    tw_total = time_wait.get("total")
    if tw_total is None:
        tw_total = (facts.get("sockstat") or {}).get("tw")
    if overflow is None and (buckets is None or tw_total is None):
        return _skipped(rule_id, "neither TCPTimeWaitOverflow nor TIME_WAIT count with tcp_max_tw_buckets",
                        TW_OVERFLOW_FIX, "tunable")
    usage = None
    if isinstance(buckets, int) and buckets > 0 and tw_total is not None:
        usage = round(float(tw_total) / buckets, 4)
    evidence = {"TCPTimeWaitOverflow": overflow, "time_wait": tw_total, "tcp_max_tw_buckets": buckets,
                "usage": usage, "warn_at": th["tw_buckets_usage_warn"]}
    if overflow:
        return _finding(rule_id, "fail",
                        "kernel destroyed TIME_WAIT sockets early %d times (TCPTimeWaitOverflow)" % overflow,
                        evidence, TW_OVERFLOW_FIX, "tunable")
    if usage is not None and usage >= th["tw_buckets_usage_warn"]:
        return _finding(rule_id, "warn", "%s TIME_WAIT sockets fill %.0f%% of tcp_max_tw_buckets=%s" % (
            tw_total, usage * 100, buckets), evidence, TW_OVERFLOW_FIX, "tunable")
    return _finding(rule_id, "pass", "no TIME_WAIT bucket overflow", evidence, TW_OVERFLOW_FIX, "tunable")


MAX_TW_FIX = (
    "Remove the line that lowers net.ipv4.tcp_max_tw_buckets (the kernel docs say it must not be lowered "
    "artificially) and let the tcp_tuning role restore a value no lower than the kernel default."
)


def rule_max_tw_buckets_lowered(facts, sysctl_config, th):
    rule_id = "max_tw_buckets_lowered"
    live = _sysctl(facts, MAX_TW_BUCKETS)
    minimum = th["max_tw_buckets_min"]
    configured = [s for s in _file_settings(sysctl_config, MAX_TW_BUCKETS) if _as_int(s["value"]) is not None]
    lowered_in_files = [s for s in configured if _as_int(s["value"]) < minimum]
    if live is None and not configured:
        return _skipped(rule_id, "tcp_max_tw_buckets unavailable", MAX_TW_FIX, "tunable")
    evidence = {"tcp_max_tw_buckets": live, "minimum": minimum, "configured": configured}
    if lowered_in_files:
        where = lowered_in_files[-1]
        return _finding(rule_id, "fail", "%s:%s sets tcp_max_tw_buckets=%s, below %d" % (
            where["path"], where["line"], where["value"], minimum), evidence, MAX_TW_FIX, "tunable")
    if isinstance(live, int) and live < minimum:
        return _finding(rule_id, "warn", "tcp_max_tw_buckets=%d is below %d (a runtime change or a "
                        "small host's memory-sized default)" % (live, minimum), evidence, MAX_TW_FIX, "tunable")
    return _finding(rule_id, "pass", "tcp_max_tw_buckets=%s" % live, evidence, MAX_TW_FIX, "tunable")


CLOSE_WAIT_FIX = (
    "Application bug: the owning process never calls close() on sockets its peer has closed. Fix the "
    "program (close on EOF/errors, timeouts on idle connections); no sysctl fixes this."
)


def rule_close_wait_leak(facts, sysctl_config, th):
    rule_id = "close_wait_leak"
    close_wait = facts.get("close_wait")
    if not close_wait or close_wait.get("total") is None:
        return _skipped(rule_id, "no CLOSE_WAIT data (summary mode or socket dump failed)", CLOSE_WAIT_FIX,
                        "application")
    total = close_wait["total"]
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
        return _finding(rule_id, "pass", "%d CLOSE_WAIT sockets" % total, evidence, CLOSE_WAIT_FIX,
                        "application")
    if owners:
        named = ", ".join("%s (pid %s, %s sockets)" % (o.get("comm"), o.get("pid"), o.get("count"))
                          for o in owners[:3])
        message = "%d CLOSE_WAIT sockets held by %s" % (total, named)
    else:
        message = "%d CLOSE_WAIT sockets, owners unknown: %s" % (
            total, close_wait.get("owners_reason") or "no process holds them")
    return _finding(rule_id, severity, message, evidence, CLOSE_WAIT_FIX, "application")


FIN_WAIT2_FIX = (
    "The peers do not close their side. Fix the peer application (or its idle timeout); "
    "net.ipv4.tcp_fin_timeout only bounds orphaned FIN_WAIT2 sockets and does not shorten TIME_WAIT."
)


def rule_fin_wait2_buildup(facts, sysctl_config, th):
    rule_id = "fin_wait2_buildup"
    counts = facts.get("counts")
    if not counts or counts.get("fin_wait2") is None:
        return _skipped(rule_id, "no per-state counts (summary mode or socket dump failed)", FIN_WAIT2_FIX,
                        "application")
    value = counts["fin_wait2"]
    severity = _by_thresholds(value, th["fin_wait2_warn"], th["fin_wait2_fail"])
    evidence = {"fin_wait2": value, "tcp_fin_timeout": _sysctl(facts, "net.ipv4.tcp_fin_timeout"),
                "warn_at": th["fin_wait2_warn"], "fail_at": th["fin_wait2_fail"]}
    return _finding(rule_id, severity, "%d FIN_WAIT2 sockets" % value, evidence, FIN_WAIT2_FIX, "application")


LISTEN_FIX = (
    "Accept queues overflowed: let the tcp_tuning role raise net.core.somaxconn and "
    "net.ipv4.tcp_max_syn_backlog (server/proxy profile), and check that the service passes a large "
    "enough backlog to listen() and accepts fast enough."
)


def rule_listen_overflow(facts, sysctl_config, th):
    rule_id = "listen_overflow"
    overflows = _counter(facts, "ListenOverflows")
    drops = _counter(facts, "ListenDrops")
    if overflows is None and drops is None:
        return _skipped(rule_id, "ListenOverflows/ListenDrops counters unavailable", LISTEN_FIX, "tunable")
    worst = max(overflows or 0, drops or 0)
    full = [s for s in ((facts.get("listen") or {}).get("sockets") or [])
            if s.get("backlog") and s.get("queue", 0) >= s.get("backlog")]
    evidence = {"ListenOverflows": overflows, "ListenDrops": drops,
                "somaxconn": _sysctl(facts, "net.core.somaxconn"),
                "tcp_max_syn_backlog": _sysctl(facts, "net.ipv4.tcp_max_syn_backlog"),
                "full_accept_queues": full,
                "warn_at": th["listen_drops_warn"], "fail_at": th["listen_drops_fail"]}
    severity = _by_thresholds(worst, th["listen_drops_warn"], th["listen_drops_fail"])
    if severity == "pass":
        return _finding(rule_id, "pass", "no listen queue overflows", evidence, LISTEN_FIX, "tunable")
    return _finding(rule_id, severity, "listen queues overflowed: ListenOverflows=%s ListenDrops=%s" % (
        overflows, drops), evidence, LISTEN_FIX, "tunable")


TW_RECYCLE_FIX = (
    "Set net.ipv4.tcp_tw_recycle=0 now (the tcp_tuning role forces 0 where the key exists): it drops "
    "SYNs from clients behind NAT and was removed in Linux 4.12."
)


def rule_tw_recycle_enabled(facts, sysctl_config, th):
    rule_id = "tw_recycle_enabled"
    live = _sysctl(facts, TW_RECYCLE)
    evidence = {"tcp_tw_recycle": live, "kernel": facts.get("kernel"),
                "PAWSPassive": _counter(facts, "PAWSPassive"), "PAWSActive": _counter(facts, "PAWSActive")}
    if live is None:
        return _finding(rule_id, "pass", "kernel has no tcp_tw_recycle (removed in 4.12)", evidence,
                        TW_RECYCLE_FIX, "tunable")
    if _as_int(live):
        return _finding(rule_id, "fail", "tcp_tw_recycle=%s is live: SYNs from clients behind NAT get dropped "
                        "(PAWSPassive=%s)" % (live, evidence["PAWSPassive"]), evidence, TW_RECYCLE_FIX,
                        "tunable")
    return _finding(rule_id, "pass", "tcp_tw_recycle=0", evidence, TW_RECYCLE_FIX, "tunable")


TW_RECYCLE_FILE_FIX = (
    "Remove every net.ipv4.tcp_tw_recycle line from the sysctl files (the tcp_tuning role does it with "
    "tcp_tuning_fix_conflicts: true, keeping a backup); on kernels >= 4.12 the line makes "
    "'sysctl --system' report an error."
)


def rule_tw_recycle_configured(facts, sysctl_config, th):
    rule_id = "tw_recycle_configured"
    if not sysctl_config or sysctl_config.get("files") is None:
        return _skipped(rule_id, "sysctl config files were not read", TW_RECYCLE_FILE_FIX, "tunable")
    lines = _file_settings(sysctl_config, TW_RECYCLE)
    kernel_has_it = _sysctl(facts, TW_RECYCLE) is not None
    evidence = {"lines": lines, "kernel_has_key": kernel_has_it}
    if not lines:
        return _finding(rule_id, "pass", "no sysctl file sets tcp_tw_recycle", evidence, TW_RECYCLE_FILE_FIX,
                        "tunable")
    enabling = [line for line in lines if _as_int(line["value"]) != 0]
    where = (enabling or lines)[-1]
    severity = "fail" if enabling else "warn"
    message = "%s:%s sets tcp_tw_recycle=%s" % (where["path"], where["line"], where["value"])
    if not kernel_has_it:
        message += " (this kernel has no such key: sysctl --system reports an error)"
    return _finding(rule_id, severity, message, evidence, TW_RECYCLE_FILE_FIX, "tunable")


TW_REUSE_FIX = (
    "Set net.ipv4.tcp_timestamps=1 (the tcp_tuning role keeps it on): with timestamps off, tcp_tw_reuse "
    "does nothing and PAWS protection is gone. Fix the hardening baseline that turned it off."
)


def rule_tw_reuse_without_timestamps(facts, sysctl_config, th):
    rule_id = "tw_reuse_without_timestamps"
    reuse = _as_int(_sysctl(facts, TW_REUSE))
    timestamps = _as_int(_sysctl(facts, TIMESTAMPS))
    evidence = {"tcp_tw_reuse": reuse, "tcp_timestamps": timestamps}
    if reuse is None or timestamps is None:
        return _skipped(rule_id, "tcp_tw_reuse or tcp_timestamps unavailable", TW_REUSE_FIX, "tunable")
    if reuse and timestamps == 0:
        severity = "fail" if reuse == 1 else "warn"
        scope = "enabled" if reuse == 1 else "loopback-only (default)"
        return _finding(rule_id, severity, "tcp_tw_reuse=%d (%s) with tcp_timestamps=0: reuse is inert and "
                        "PAWS is off" % (reuse, scope), evidence, TW_REUSE_FIX, "tunable")
    return _finding(rule_id, "pass", "tcp_tw_reuse=%d, tcp_timestamps=%d" % (reuse, timestamps), evidence,
                    TW_REUSE_FIX, "tunable")


DRIFT_FIX = (
    "The live values differ from what the sysctl files would apply at boot: someone ran sysctl -w, or a "
    "file was edited and not applied. Decide which is right, then make the files say it (the tcp_tuning "
    "role writes one file and applies it) so a reboot does not change behaviour."
)


def rule_config_drift(facts, sysctl_config, th):
    rule_id = "config_drift"
    if not sysctl_config or sysctl_config.get("effective") is None:
        return _skipped(rule_id, "sysctl config files were not read", DRIFT_FIX, "tunable")
    live_values = dict(sysctl_config.get("live") or {})
    for key, value in (facts.get("sysctl") or {}).items():
        live_values.setdefault(key, value)
    drifted = []
    checked = [key for key in sorted(sysctl_config["effective"]) if key.startswith(DRIFT_KEY_PREFIXES)]
    for key in checked:
        wanted = sysctl_config["effective"][key]
        live = live_values.get(key)
        if live is None or "*" in key:
            continue  # absent on this kernel (or a glob): other rules report those
        if normalise_value(live) != normalise_value(wanted.get("value")):
            drifted.append({"key": key, "live": live, "configured": wanted.get("value"),
                            "path": wanted.get("path"), "line": wanted.get("line")})
    evidence = {"drifted": drifted, "checked": len(checked)}
    if not drifted:
        return _finding(rule_id, "pass", "live values match the sysctl files", evidence, DRIFT_FIX, "tunable")
    first = drifted[0]
    message = "%d key(s) differ from the sysctl files, e.g. %s live %s, %s:%s says %s" % (
        len(drifted), first["key"], first["live"], first["path"], first["line"], first["configured"])
    return _finding(rule_id, "warn", message, evidence, DRIFT_FIX, "tunable")


RULES = (
    rule_time_wait_port_exhaustion,
    rule_time_wait_overflow,
    rule_max_tw_buckets_lowered,
    rule_close_wait_leak,
    rule_fin_wait2_buildup,
    rule_listen_overflow,
    rule_tw_recycle_enabled,
    rule_tw_recycle_configured,
    rule_tw_reuse_without_timestamps,
    rule_config_drift,
)

RULE_IDS = tuple(rule.__name__[len("rule_"):] for rule in RULES)


def normalise_value(value):
    """Sysctl values compare as whitespace-separated words (port ranges hold a tab)."""
    if value is None:
        return None
    return " ".join(str(value).split())


def _as_int(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def worst_severity(findings):
    worst = "pass"
    for finding in findings:
        if SEVERITY_RANK[finding["severity"]] > SEVERITY_RANK[worst]:
            worst = finding["severity"]
    return worst


def evaluate(facts, sysctl_config=None, thresholds=None):
    """All findings for one host, in rule order. ``thresholds`` are the merged thresholds."""
    th = thresholds if thresholds is not None else dict(DEFAULT_THRESHOLDS)
    return [rule(facts or {}, sysctl_config, th) for rule in RULES]
