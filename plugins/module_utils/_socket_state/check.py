# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts engine's command line as a monitoring check: ``collect --check nagios|npd``.

Collects the facts like the command line does, judges them with the audit's rule table
(``_audit/rules.py``, the same thresholds, ``--thresholds`` overriding them as
``tcp_audit_thresholds`` does) and prints one line with the exit code the caller expects:

- ``nagios`` (Nagios, Icinga, Naemon, Sensu, ...): ``TCP OK|WARNING|CRITICAL|UNKNOWN - ...`` with
  performance data after ``|``; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the facts could not be
  collected, or the arguments are wrong).
- ``npd`` (node-problem-detector custom plugin monitor): one short line; exit 0 OK, 1 a problem
  (a finding at ``--problem-at`` or worse, ``fail`` by default), 2 unknown.

With ``--sample-seconds N`` the counter rules judge the events of those N seconds instead of the
counters since boot. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as engine
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import rates

FORMATS = ("nagios", "npd")
NAGIOS_CODES = {"pass": 0, "warn": 1, "fail": 2, "unknown": 3}
NAGIOS_WORDS = {"pass": "OK", "warn": "WARNING", "fail": "CRITICAL", "unknown": "UNKNOWN"}
NPD_OK, NPD_PROBLEM, NPD_UNKNOWN = 0, 1, 2
PROBLEM_LEVELS = ("warn", "fail")
MESSAGE_LIMIT = 160
NPD_LIMIT = 80  # node-problem-detector's default max_output_length
USAGE = ("usage: _tcp_state --check nagios|npd [--thresholds JSON] [--problem-at warn|fail] [--sample-seconds N]"
         " [--mode full|summary] [--backend auto|netlink|proc] [--top N] [--proc-root DIR] [--config-root DIR]")


class CheckArgumentError(ValueError):
    """The check's own arguments cannot be used."""


def _split_arguments(argv):
    """(check options, the arguments left for the facts engine)."""
    options = {"check": None, "thresholds": None, "problem_at": "fail"}
    names = {"--check": "check", "--thresholds": "thresholds", "--problem-at": "problem_at"}
    rest = []
    items = list(argv)
    while items:
        flag = items.pop(0)
        name = flag.split("=", 1)[0]
        if name not in names:
            rest.append(flag)
            continue
        if "=" in flag:
            value = flag.split("=", 1)[1]
        elif items:
            value = items.pop(0)
        else:
            raise CheckArgumentError("%s needs a value" % name)
        options[names[name]] = value
    if options["check"] not in FORMATS:
        raise CheckArgumentError("--check must be one of %s, got %r" % (", ".join(FORMATS), options["check"]))
    if options["problem_at"] not in PROBLEM_LEVELS:
        raise CheckArgumentError("--problem-at must be warn or fail, got %r" % options["problem_at"])
    return options, rest


def parse_thresholds(text):
    """The merged thresholds from ``--thresholds`` (a JSON object of threshold names to numbers)."""
    overrides = None
    if text:
        try:
            overrides = json.loads(text)
        except ValueError as exc:
            raise CheckArgumentError("--thresholds is not valid JSON: %s" % exc)
        if not isinstance(overrides, dict):
            raise CheckArgumentError("--thresholds must be a JSON object of threshold names to numbers")
    try:
        return rules.merge_thresholds(overrides)
    except rules.ThresholdError as exc:
        raise CheckArgumentError("--thresholds: %s" % exc)


def sampled_deltas(facts):
    """The counter events of a ``--sample-seconds`` sample in the shape of the report's ``counter_deltas``."""
    sampled = facts.get("rates")
    if not sampled:
        return None
    return {"interval_seconds": sampled["seconds"], "reboot": False, "deltas": rates.events(sampled)}


def judge(facts, thresholds):
    """The findings for ``facts`` (a tcp_state dict), as the audit finds them."""
    facts = dict(facts)
    sysctl_config = facts.pop("sysctl_config", None)
    return rules.evaluate(facts, sysctl_config, thresholds, sampled_deltas(facts))


def _perf(label, value, warn="", crit="", low="", high="", unit=""):
    if value is None:
        return None
    return ("%s=%s%s;%s;%s;%s;%s" % (label, value, unit, warn, crit, low, high)).rstrip(";")


def perfdata(facts, thresholds):
    """A few key numbers as Nagios performance data (a number that is unknown is left out)."""
    counts = facts.get("counts") or {}
    time_wait = counts.get("time_wait")
    if time_wait is None:
        time_wait = (facts.get("sockstat") or {}).get("tw")
    destinations = (facts.get("time_wait") or {}).get("top_destinations")
    usages = [d.get("port_usage") for d in destinations or [] if isinstance(d.get("port_usage"), (int, float))]
    counters = facts.get("counters") or {}
    per_second = (facts.get("rates") or {}).get("per_second") or {}
    items = [
        _perf("time_wait", time_wait, low=0),
        _perf("close_wait", counts.get("close_wait"), thresholds["close_wait_warn"], thresholds["close_wait_fail"], 0),
        _perf("fin_wait2", counts.get("fin_wait2"), thresholds["fin_wait2_warn"], thresholds["fin_wait2_fail"], 0),
        _perf("port_usage", (max(usages) if usages else 0) if destinations is not None else None,
              thresholds["port_usage_warn"], thresholds["port_usage_fail"], 0, 1),
        _perf("listen_overflows", counters.get("ListenOverflows"), unit="c"),
        _perf("listen_drops", counters.get("ListenDrops"), unit="c"),
        _perf("time_wait_overflow", counters.get("TCPTimeWaitOverflow"), unit="c"),
        _perf("outbound_per_second", per_second.get("outbound_connections"), low=0),
        _perf("time_wait_entered_per_second", per_second.get("time_wait_entered"), low=0),
    ]
    return " ".join(item for item in items if item)


def _cut(text, limit):
    text = " ".join(text.replace("|", "/").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def nagios_line(findings, facts, thresholds):
    worst = rules.worst_severity(findings)
    problems = sorted((f for f in findings if f["severity"] != "pass"),
                      key=lambda f: -rules.SEVERITY_RANK[f["severity"]])
    if problems:
        tally = ", ".join("%d %s" % (n, s) for s, n in (
            ("fail", sum(1 for f in problems if f["severity"] == "fail")),
            ("warn", sum(1 for f in problems if f["severity"] == "warn"))) if n)
        text = "%s: %s" % (tally, "; ".join("%s: %s" % (f["id"], _cut(f["message"], MESSAGE_LIMIT)) for f in problems))
    else:
        skipped = sum(1 for f in findings if f.get("skipped"))
        text = "%d rules pass" % (len(findings) - skipped) + (", %d not evaluated" % skipped if skipped else "")
    return "TCP %s - %s | %s" % (NAGIOS_WORDS[worst], text, perfdata(facts, thresholds)), NAGIOS_CODES[worst]


def npd_line(findings, problem_at):
    level = rules.SEVERITY_RANK[problem_at]
    problems = [f for f in findings if rules.SEVERITY_RANK[f["severity"]] >= level]
    if not problems:
        return "TCP OK", NPD_OK
    worst = rules.worst_severity(problems)
    return _cut("TCP %s: %s" % (worst, ", ".join(f["id"] for f in problems)), NPD_LIMIT), NPD_PROBLEM


def unknown(fmt, reason):
    if fmt == "npd":
        return _cut("TCP unknown: %s" % reason, NPD_LIMIT), NPD_UNKNOWN
    return "TCP UNKNOWN - %s" % _cut(reason, 400), NAGIOS_CODES["unknown"]


def _requested_format(argv):
    """The format asked for, read before anything else so that even bad arguments get its exit code."""
    for index, item in enumerate(argv):
        if item == "--check" and argv[index + 1:index + 2] == ["npd"] or item == "--check=npd":
            return "npd"
    return "nagios"


def run(argv):
    """(the line to print, the exit code) of a check with the command line ``argv``."""
    fmt = _requested_format(argv)
    try:
        options, rest = _split_arguments(argv)
        thresholds = parse_thresholds(options["thresholds"])
    except CheckArgumentError as exc:
        return unknown(fmt, "%s (%s)" % (exc, USAGE))
    engine_options, refusal = engine._parse_arguments(rest)
    if refusal is not None:
        return unknown(fmt, refusal[1])
    try:
        facts = engine.collect(**engine_options)
        findings = judge(facts, thresholds)
    except engine.TcpStateError as exc:
        return unknown(fmt, "facts not collected: %s" % exc)
    except Exception as exc:  # a monitoring plugin that crashes must say UNKNOWN, not exit 1 (WARNING)
        return unknown(fmt, "check failed: %s: %s" % (type(exc).__name__, exc))
    if fmt == "npd":
        return npd_line(findings, options["problem_at"])
    return nagios_line(findings, facts, thresholds)


def main(argv=None):
    line, code = run(list(sys.argv[1:] if argv is None else argv))
    sys.stdout.write(line + "\n")
    return code
