# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet document: one entry per host (status, findings, facts), a summary, a comparison.

This is the data every report writer renders; ``tcp-audit.json`` is this document as is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from collections import Counter

import yaml

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.namespaces import owner_text
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import COUNT_KEYS

SCHEMA_VERSION = 1
# worst first: a host the audit could not see is the one to look at before anything else
STATUS_RANK = {"unreachable": 4, "error": 3, "fail": 2, "warn": 1, "pass": 0}
FAIL_ON_STATUSES = {
    "fail": ("fail", "error", "unreachable"),
    "warn": ("warn", "fail", "error", "unreachable"),
    "never": (),
}
# tcp_remediate_outcome.status, in the order the summary counts them
REMEDIATION_STATUSES = ("applied", "checked", "failed", "unreachable", "not_attempted")
REMEDIATION_NOT_DONE = ("failed", "unreachable", "not_attempted")
# hot_destinations: how many destinations the fleet document lists, and how many hosts each names
HOT_DESTINATIONS_LIMIT = 20
HOT_DESTINATION_WORST_HOSTS = 5
# fixed_by of a namespace's finding that the tcp_tuning role would fix on a host: the role tunes the host's
# own namespace, and a host's sysctl files never reach a container's or pod's (they start at kernel defaults)
CONTAINER_FIXER = "container"
CONTAINER_REMEDIATION = ("The tcp_tuning role tunes the host's own network namespace only, never this one: set the "
                         "sysctls in the container's or pod's own settings (podman or docker run --sysctl, "
                         "Kubernetes securityContext.sysctls), or fix its client. What the role does on a host: ")


# Lines that say nothing about the cause: a traceback's header, ssh's closing notice.
_NOISE_LINE = re.compile(r"^(Traceback \(most recent call last\):|Shared connection to \S+ closed\.?)$")
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")
# ansible-core puts "Task failed: " before some messages; it says nothing the status does not.
_ANSIBLE_PREFIX = re.compile(r"^(?:(?:Task|Action) failed: )+")
# Its "cannot create a temporary directory" text (how a stopped container or a broken shell shows)
# is five sentences of advice; the exit code and the connection's stderr at its end are the facts.
_TMPDIR_FAILURE = re.compile(r"^(Failed to create temporary directory)\..*?(exited with result -?[0-9]+)?"
                             r"(?:, stderr output: (.*))?$", re.S)
REASON_LIMIT = 300


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _shorten(line, limit=REASON_LIMIT):
    return line if len(line) <= limit else line[:limit - 3].rstrip() + "..."


def meaningful_line(value):
    """The line of a module's output or message that says what went wrong, or None.

    Control characters and terminal escapes are dropped and blanks collapsed; of a Python
    traceback it is the exception (the last line that is not indented), otherwise the first
    line that is not noise.
    """
    raw_lines = _text(value).splitlines()
    if any(line.strip() == "Traceback (most recent call last):" for line in raw_lines):
        raw_lines = [line for line in raw_lines if line[:1] not in (" ", "\t")][::-1]
    for line in raw_lines:
        line = " ".join(_CONTROL.sub(" ", line).split())
        if line and not _NOISE_LINE.match(line):
            return _shorten(line)
    return None


def failure_reason(result):
    """One line for a failed or unreachable task result: its real cause first, Ansible's message after.

    The cause usually sits in ``module_stderr`` (an interpreter that does not start, a traceback)
    or in the connection's stderr quoted inside ``msg``; Ansible's own ``msg`` ("Module result
    deserialization failed ...", or just the gist of its "Failed to create temporary directory"
    advice) and the exit code follow in parentheses.
    """
    if not isinstance(result, dict):
        return "no reason given"
    message = _ANSIBLE_PREFIX.sub("", _text(result.get("msg")).strip())
    tmpdir_failure = _TMPDIR_FAILURE.match(message)
    if tmpdir_failure:
        headline = ", ".join(part for part in tmpdir_failure.group(1, 2) if part)
        quoted_stderr = meaningful_line(tmpdir_failure.group(3))
    else:
        headline, quoted_stderr = meaningful_line(message), None
    cause = meaningful_line(result.get("module_stderr")) or meaningful_line(result.get("stderr")) or quoted_stderr
    context = [part for part in (headline,) if part and part != cause]
    rc = result.get("rc")
    if isinstance(rc, int) and not isinstance(rc, bool) and rc != 0:
        context.append("exit code %d" % rc)
    if cause and context:
        return _shorten("%s (%s)" % (cause, "; ".join(context)))
    return cause or "; ".join(context) or "no reason given"


def error_entry(reason, facts=None, sysctl_config=None):
    """The entry of a host that could not be judged, with the reason (cut to REASON_LIMIT)."""
    return {"status": "error", "reason": _shorten(reason), "findings": [], "facts": facts,
            "sysctl_config": sysctl_config}


def host_entry(facts_result, threshold_overrides=None):
    """One host's entry from its registered ``tcp_state_facts`` result (the only call that touched the host).

    The sysctl files come inside the facts (``tcp_state.sysctl_config``); the entry carries them
    as its own ``sysctl_config`` and ``facts`` holds the rest of ``tcp_state``.
    """
    if not facts_result:
        return error_entry("tcp_state_facts did not run on this host")
    if facts_result.get("unreachable"):
        return dict(error_entry(failure_reason(facts_result)), status="unreachable")
    if facts_result.get("failed"):
        return error_entry("tcp_state_facts failed: %s" % failure_reason(facts_result))
    facts = (facts_result.get("ansible_facts") or {}).get("tcp_state")
    if not isinstance(facts, dict):
        return error_entry("tcp_state_facts returned no tcp_state fact")
    facts = dict(facts)
    sysctl_config = facts.pop("sysctl_config", None)
    notes = []
    if not isinstance(sysctl_config, dict):
        sysctl_config = None
        notes.append("tcp_state_facts returned no sysctl_config (the rules on the sysctl files are skipped)")
    try:
        thresholds = rules.merge_thresholds(threshold_overrides)
    except rules.ThresholdError as exc:
        return error_entry("tcp_audit_thresholds: %s" % exc, facts, sysctl_config)
    try:
        findings = rules.evaluate(facts, sysctl_config, thresholds) + namespace_findings(facts, thresholds)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError, ArithmeticError) as exc:
        # facts of a shape this collection never writes: this host is an error, the fleet's report goes on
        return {"status": "error", "reason": _shorten("the tcp_state fact is malformed, the rules cannot read it "
                                                      "(%s: %s)" % (type(exc).__name__, exc)),
                "findings": [], "facts": None, "sysctl_config": None, "thresholds": thresholds}
    return {"status": rules.worst_severity(findings), "reason": "; ".join(notes) or None, "findings": findings,
            "facts": facts, "sysctl_config": sysctl_config, "thresholds": thresholds}


def namespace_entries(facts):
    """The entries of ``tcp_state.namespaces.top`` that are dicts (none when the facts hold no list)."""
    namespaces = facts.get("namespaces") if isinstance(facts, dict) else None
    listed = namespaces.get("top") if isinstance(namespaces, dict) else None
    return [entry for entry in listed if isinstance(entry, dict)] if isinstance(listed, list) else []


def named_namespaces(facts):
    """(entry, name) of each entry of ``tcp_state.namespaces.top``: its owner_text, with its inode added
    where two namespaces would read the same (a pod whose process made a network namespace of its own),
    so that findings, test cases and comparisons tell them apart. An owner of an odd shape (a kept run
    read back for the trends is not checked like fresh facts) is named by the inode."""
    entries = namespace_entries(facts)
    names = [owner_text(entry) if entry.get("owner") is None or isinstance(entry.get("owner"), dict)
             else "inode %s" % entry.get("inode") for entry in entries]
    seen = Counter(names)
    return [(entry, "%s (inode %s)" % (name, entry.get("inode")) if seen[name] > 1 else name)
            for entry, name in zip(entries, names)]


def namespace_findings(facts, thresholds):
    """The non-pass findings of the rules run on each namespace of ``tcp_state.namespaces.top`` as its own
    facts (no sysctl files, no counters: the rules that need them are skipped), each with ``namespace``
    ({inode, owner_text}) and its message prefixed with ``namespace <owner_text>: ``. A finding the
    tcp_tuning role would fix on a host is ``fixed_by: container`` here: remediating the host leaves it."""
    found = []
    for entry, named in named_namespaces(facts):
        for finding in rules.evaluate(entry, None, thresholds):
            if finding["severity"] == "pass":
                continue
            finding["namespace"] = {"inode": entry.get("inode"), "owner_text": named}
            finding["message"] = "namespace %s: %s" % (named, finding["message"])
            if finding["fixed_by"] == "tunable":
                finding["fixed_by"] = CONTAINER_FIXER
                finding["remediation"] = CONTAINER_REMEDIATION + finding["remediation"]
            found.append(finding)
    return found


def finding_name(finding):
    """How a finding is told apart from the others of its host: its rule id, followed by
    `` (<owner_text>)`` for one found in a container's or pod's namespace."""
    namespace = finding.get("namespace")
    where = namespace.get("owner_text") if isinstance(namespace, dict) else None
    return "%s (%s)" % (finding["id"], where) if isinstance(where, str) else finding["id"]


def rule_ids(found):
    """The rule ids of ``found``, each once, in order: a rule firing in the host's namespace and in its
    pods' is one rule."""
    return list(dict.fromkeys(finding["id"] for finding in found))


def worst_by_rule(findings):
    """{rule id: its worst severity on the host} over the host's own namespace and its containers' and pods'."""
    worst = {}
    for finding in findings:
        before = worst.get(finding["id"])
        if before is None or rules.SEVERITY_RANK[finding["severity"]] > rules.SEVERITY_RANK[before]:
            worst[finding["id"]] = finding["severity"]
    return worst


def parse_thresholds(text):
    """Threshold overrides given as a JSON or YAML string (an AWX survey cannot carry a dict), checked
    like inventory overrides; raises rules.ThresholdError saying what to fix."""
    try:
        overrides = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise rules.ThresholdError("a string that is not valid JSON or YAML: %s" % " ".join(str(exc).split()))
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise rules.ThresholdError("must be a mapping of threshold names to numbers (JSON or YAML), got %s"
                                   % type(overrides).__name__)
    rules.merge_thresholds(overrides)
    return overrides


def problems(entry):
    """The findings that are not ``pass``."""
    return [f for f in entry.get("findings") or [] if f["severity"] != "pass"]


def is_fixable_by_tunable(entry):
    return any(f["fixed_by"] == "tunable" for f in problems(entry))


def host_outcome(entry):
    """What tcp_audit_report returns of one host (``hosts.<name>``) for the playbook to act on: its status
    and reason, the rule ids of its problems, whether the tcp_tuning role fixes one of them, and the rule
    ids a program (``application``) or a container's or pod's own settings (``container``) must fix."""
    found = problems(entry)
    return {
        "status": entry["status"],
        "reason": entry.get("reason"),
        "problems": rule_ids(found),
        "fixable_by_tuning": is_fixable_by_tunable(entry),
        "application_problems": rule_ids(f for f in found if f["fixed_by"] == "application"),
        "container_problems": rule_ids(f for f in found if f["fixed_by"] == CONTAINER_FIXER),
    }


def sorted_host_names(hosts):
    """Worst status first, then most failing findings, then name."""
    def key(name):
        entry = hosts[name]
        found = problems(entry)
        return (-STATUS_RANK[entry["status"]], -sum(1 for f in found if f["severity"] == "fail"),
                -len(found), name)
    return sorted(hosts, key=key)


def summarise(hosts):
    by_status = dict((status, 0) for status in STATUS_RANK)
    by_rule = dict((rule_id, {"warn": 0, "fail": 0}) for rule_id in rules.RULE_IDS)
    for entry in hosts.values():
        by_status[entry["status"]] += 1
        for rule_id, severity in worst_by_rule(problems(entry)).items():
            by_rule.setdefault(rule_id, {"warn": 0, "fail": 0})[severity] += 1
    ordered = sorted_host_names(hosts)
    worst = ordered and hosts[ordered[0]]["status"] or "pass"
    return {"hosts": len(hosts), "by_status": by_status, "by_rule": by_rule, "worst_status": worst,
            "hosts_worst_first": ordered}


def compare(hosts, previous_doc, label="previous run"):
    """New / resolved / persisting non-pass findings per host against an earlier fleet document."""
    previous_hosts = (previous_doc or {}).get("hosts") or {}
    per_host = {}
    totals = {"new": 0, "resolved": 0, "persisting": 0}
    for name in sorted(set(hosts) | set(previous_hosts)):
        now = hosts.get(name)
        before = previous_hosts.get(name)
        if now is None:
            per_host[name] = {"comparable": False, "note": "not in this run", "new": [], "resolved": [],
                              "persisting": []}
            continue
        if now["status"] in ("unreachable", "error"):
            per_host[name] = {"comparable": False, "note": "host %s in this run" % now["status"], "new": [],
                              "resolved": [], "persisting": []}
            continue
        if before is None or before.get("status") in ("unreachable", "error"):
            note = "not in the %s" % label if before is None else "host %s in the %s" % (before["status"], label)
            before_names = set()
        else:
            note = None
            before_names = set(finding_name(f) for f in problems(before))
        now_names = set(finding_name(f) for f in problems(now))
        entry = {
            "comparable": True,
            "note": note,
            "new": sorted(now_names - before_names),
            "resolved": sorted(before_names - now_names),
            "persisting": sorted(now_names & before_names),
            "status_before": before.get("status") if before else None,
        }
        for kind in totals:
            totals[kind] += len(entry[kind])
        per_host[name] = entry
    return {"against": label, "previous_generated_at": (previous_doc or {}).get("generated_at"),
            "totals": totals, "hosts": per_host}


def is_number(value):
    """An int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value):
    """An int or float, not a bool, neither NaN nor infinite."""
    return is_number(value) and math.isfinite(value)


# a larger count read back from facts is forged or corrupt, and printed in full it would break the tables
COUNT_MAX = rules.SOCKET_COUNT_MAX


# a socket count as a writer may print it: the bound the rules judge counts by
is_count = rules.is_socket_count


def add_count(total, value):
    """``total + value`` when ``value`` is a count, else ``total``: sums of counts read back from facts stay
    finite and printable (10,000 hosts of COUNT_MAX sockets each still sum to a 14-digit number)."""
    return total + value if is_count(value) else total


def finite_only(value, depth=0):
    """``value`` (facts as a module returned them: JSON, which Python decodes with NaN and Infinity) with
    every float that is NaN or infinite made None, for a writer that must not print one; containers are
    copied only where something was changed. Deeper than 64 levels (no fact of this collection is) the
    rest is dropped."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, (dict, list)):
        return value
    if depth > 64:
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    cleaned = None
    for key, item in items:
        fixed = finite_only(item, depth + 1)
        if fixed is not item:
            if cleaned is None:
                cleaned = dict(value) if isinstance(value, dict) else list(value)
            cleaned[key] = fixed
    return value if cleaned is None else cleaned


def _top_destinations(facts):
    time_wait = facts.get("time_wait")
    return time_wait.get("top_destinations") if isinstance(time_wait, dict) else None


def _highest_usage(destinations):
    usages = [d["port_usage"] for d in destinations if isinstance(d, dict) and is_finite_number(d.get("port_usage"))
              ] if isinstance(destinations, list) else []
    return max(usages) if usages else None


def worst_port_usage(facts):
    """``(usage, where)``: the highest ``port_usage`` toward any destination in the host's own network namespace
    and its containers' and pods' (``tcp_state.namespaces.top``); ``where`` is None for the host's own, the
    namespace's owner_text otherwise. ``(None, None)`` without any."""
    if not isinstance(facts, dict):
        return None, None
    worst = (_highest_usage(_top_destinations(facts)), None)
    for namespace, named in named_namespaces(facts):
        usage = _highest_usage(_top_destinations(namespace))
        if usage is not None and (worst[0] is None or usage > worst[0]):
            worst = (usage, named)
    return worst


def _at_risk(destinations, warn):
    """{(address, port): (port_usage, sockets)} of one namespace's ``top_destinations`` at or above ``warn``.

    Sockets are those holding a local port toward the destination (``held``), or its TIME_WAIT
    (``count``) in facts that do not say ``held``.
    """
    at_risk = {}
    for destination in destinations if isinstance(destinations, list) else ():
        if not isinstance(destination, dict) or not is_finite_number(destination.get("port_usage")):
            continue
        if not destination["port_usage"] >= warn:
            continue
        key = (destination.get("address"), destination.get("port"))
        if not all(isinstance(part, (str, int)) for part in key):
            continue
        sockets = destination.get("held") if is_finite_number(destination.get("held")) else destination.get("count")
        found = (destination["port_usage"], sockets if is_finite_number(sockets) else 0)
        at_risk[key] = max(at_risk.get(key, found), found)
    return at_risk


def _destinations_at_risk(entry):
    """{(address, port): (port_usage, sockets, namespaces)} of one host's destinations at or above its
    port_usage_warn, in its own namespace and in the containers' and pods' (``tcp_state.namespaces.top``):
    the worst usage among them, the sockets of all of them, and in how many of the containers' and pods'
    namespaces it is at risk."""
    warn = (entry.get("thresholds") or {}).get("port_usage_warn")
    facts = entry.get("facts")
    if not is_number(warn) or not isinstance(facts, dict):
        return {}
    found = dict((key, (usage, sockets, 0)) for key, (usage, sockets) in
                 _at_risk(_top_destinations(facts), warn).items())
    for namespace in namespace_entries(facts):
        for key, (usage, sockets) in _at_risk(_top_destinations(namespace), warn).items():
            before = found.get(key, (usage, 0, 0))
            found[key] = (max(before[0], usage), before[1] + sockets, before[2] + 1)
    return found


def hot_destinations(hosts, limit=HOT_DESTINATIONS_LIMIT, worst_hosts=HOT_DESTINATION_WORST_HOSTS):
    """The destinations that put hosts at risk of local port exhaustion, the fleet's view: ``(list, total)``.

    A destination counts on a host when its ``port_usage`` there reaches the host's
    ``port_usage_warn``, in the host's own network namespace or in one of its containers' and pods'
    (``tcp_state.namespaces.top``, with ``namespaces: all``). Each entry: address, port,
    hosts_affected, namespaces_affected (in how many of those hosts' container and pod namespaces it
    counts; 0 when only in the hosts' own), sockets_total (summed over all of them), worst_port_usage,
    worst_hosts (the ``worst_hosts`` names with the highest usage, in any of their namespaces). Most
    hosts affected first, then the worst usage; at most ``limit`` entries, ``total`` counts them all.
    """
    found = {}
    for name, entry in hosts.items():
        for key, (usage, sockets, namespaces) in _destinations_at_risk(entry).items():
            found.setdefault(key, []).append((usage, sockets, namespaces, name))
    entries = []
    for (address, port), per_host in found.items():
        per_host.sort(key=lambda item: (-item[0], item[3]))
        entries.append({"address": address, "port": port, "hosts_affected": len(per_host),
                        "namespaces_affected": sum(namespaces for _u, _s, namespaces, _n in per_host),
                        "sockets_total": sum(sockets for _u, sockets, _ns, _n in per_host),
                        "worst_port_usage": per_host[0][0],
                        "worst_hosts": [name for _u, _s, _ns, name in per_host[:worst_hosts]]})
    entries.sort(key=lambda e: (-e["hosts_affected"], -e["worst_port_usage"], -e["sockets_total"],
                                str(e["address"]), str(e["port"])))
    return entries[:limit], len(entries)


def build_document(hosts, generated_at, previous_doc=None, compare_label="previous run"):
    hot, hot_total = hot_destinations(hosts)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at,
        "summary": summarise(hosts),
        "rules": list(rules.RULE_IDS),
        "hosts": hosts,
        "hot_destinations": hot,
        "hot_destinations_total": hot_total,
    }
    if previous_doc is not None:
        doc["comparison"] = compare(hosts, previous_doc, compare_label)
    return doc


def fail_on_reached(doc, fail_on):
    if fail_on not in FAIL_ON_STATUSES:
        raise ValueError("tcp_audit_fail_on must be one of fail, warn, never; got %r" % (fail_on,))
    return any(entry["status"] in FAIL_ON_STATUSES[fail_on] for entry in doc["hosts"].values())


def state_counts(entry):
    """{state: sockets} of the host's own namespace; a value that is not a count (``is_count``: a bool, a
    string, NaN, anything a writer would print as it is) is None."""
    facts = entry.get("facts")
    counts = facts.get("counts") if isinstance(facts, dict) else None
    counts = counts if isinstance(counts, dict) else {}
    return dict((state, counts.get(state) if is_count(counts.get(state)) else None) for state in COUNT_KEYS)


def _whole_count(value):
    """A count of namespaces: a whole number (not a float, not a bool) from 0 to the socket count bound."""
    return isinstance(value, int) and is_count(value)


def namespace_state_counts(entry):
    """(``{state: sockets}`` summed over the host's other network namespaces, how many namespaces that sum
    covers, how many are listed in full, how many the host has); (None, 0, 0, 0) without any.
    The sum is ``tcp_state.namespaces.counts``, over every namespace read (``namespaces: all``). Facts
    without it, gathered by an older version of the module (a fact cache, a kept run read back for the
    trends), give the sum over those listed in full (``tcp_state.namespaces.top``). A value that is not a
    count (``is_count``) is left out."""
    facts = entry.get("facts")
    found = namespace_entries(facts)
    namespaces = facts.get("namespaces") if isinstance(facts, dict) else None
    namespaces = namespaces if isinstance(namespaces, dict) else {}
    total, unread, summed = namespaces.get("total"), namespaces.get("unread"), namespaces.get("counts")
    if (isinstance(summed, dict) and is_count(summed.get("total")) and _whole_count(total)
            and _whole_count(unread) and total - unread >= max(len(found), 1)):
        counts = dict((state, add_count(0, summed.get(state))) for state in COUNT_KEYS)
        return counts, total - unread, len(found), total
    if not found:
        return None, 0, 0, 0
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for namespace in found:
        own = namespace.get("counts")
        if isinstance(own, dict):
            for state in COUNT_KEYS:
                counts[state] = add_count(counts[state], own.get(state))
    return counts, len(found), len(found), total if is_count(total) and total >= len(found) else len(found)


def _owner_notes(doc):
    """One line per host whose CLOSE_WAIT owners could not be named, with the reason."""
    notes = []
    for name in doc["summary"]["hosts_worst_first"]:
        close_wait = (doc["hosts"][name].get("facts") or {}).get("close_wait") or {}
        if close_wait and not close_wait.get("owners_available"):
            notes.append("%s: CLOSE_WAIT owners not available: %s (run as root, become: true, to name them)"
                         % (name, close_wait.get("owners_reason") or "unknown reason"))
    return notes


def counted(count, noun):
    """``count`` and ``noun``, plural unless one: 1 host, 40 hosts."""
    return "%d %s%s" % (count, noun, "" if count == 1 else "s")


def summary_table(doc):
    """Plain-text table, worst hosts first, for the end of the run."""
    rows = [("HOST", "STATUS", "FAIL", "WARN", "TIME_WAIT", "CLOSE_WAIT", "FINDINGS")]
    in_namespaces = False
    for name in doc["summary"]["hosts_worst_first"]:
        entry = doc["hosts"][name]
        found = problems(entry)
        counts = state_counts(entry)
        elsewhere = namespace_state_counts(entry)[0] or {}
        in_namespaces = in_namespaces or any(elsewhere.get(state) for state in ("time_wait", "close_wait"))
        detail = ", ".join(rule_ids(found)) or (entry.get("reason") or "")
        rows.append((name, entry["status"], str(sum(1 for f in found if f["severity"] == "fail")),
                     str(sum(1 for f in found if f["severity"] == "warn")),
                     _with_namespaces(counts["time_wait"], elsewhere.get("time_wait")),
                     _with_namespaces(counts["close_wait"], elsewhere.get("close_wait")), detail[:100]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    if in_namespaces:
        lines.append("+N netns: sockets in the host's containers and pods (tcp_audit_namespaces: all), "
                     "beside the host's own")
    status = doc["summary"]["by_status"]
    lines.append("%s: %s" % (counted(doc["summary"]["hosts"], "host"), ", ".join(
        "%d %s" % (status[s], s) for s in ("fail", "warn", "pass", "error", "unreachable") if status[s])))
    lines.extend(_owner_notes(doc))
    comparison = doc.get("comparison")
    if comparison:
        lines.append("compared with the %s: %d new, %d resolved, %d persisting" % (
            comparison["against"], comparison["totals"]["new"], comparison["totals"]["resolved"],
            comparison["totals"]["persisting"]))
        for name in sorted(comparison["hosts"]):
            change = comparison["hosts"][name]
            if not change["comparable"]:
                lines.append("  %s: %s" % (name, change["note"]))
                continue
            lines.append("  %s: %s" % (name, change_text(change)))
    lines.extend(remediation_lines(doc))
    return [line.rstrip() for line in lines]


def change_text(change):
    """One comparable host's change; a host with nothing to compare with says so, not "before or after"."""
    parts = ["%s %s" % (kind, ",".join(change[kind])) for kind in ("new", "resolved", "persisting") if change[kind]]
    if change["note"]:
        return "%s (%s)" % ("; ".join(parts) or "no findings now", change["note"])
    return "; ".join(parts) or "no findings before or after"


def remediation_lines(doc):
    """Counts of the remediation outcomes, then one line per host the role did not finish on."""
    outcomes = dict((name, entry["remediation_outcome"]) for name, entry in doc["hosts"].items()
                    if entry.get("remediation_outcome"))
    if not outcomes:
        return []
    counts = {}
    for outcome in outcomes.values():
        counts[outcome.get("status")] = counts.get(outcome.get("status"), 0) + 1
    lines = ["remediation: %s" % ", ".join(
        "%d %s" % (counts[status], status) for status in REMEDIATION_STATUSES if counts.get(status))]
    for name in sorted(outcomes):
        outcome = outcomes[name]
        if outcome.get("status") in REMEDIATION_NOT_DONE:
            task = " in task '%s'" % outcome["task"] if outcome.get("task") else ""
            lines.append("  %s: %s%s: %s" % (name, outcome["status"], task, outcome.get("reason") or "no reason given"))
    return lines


def _or_dash(value):
    return "-" if value is None else str(value)


def _with_namespaces(own, elsewhere):
    """A count of the host's own namespace, then ``+N netns`` when its containers and pods hold more."""
    if not elsewhere:
        return _or_dash(own)
    return "%s +%s netns" % (_or_dash(own), int(elsewhere) if elsewhere == int(elsewhere) else elsewhere)
