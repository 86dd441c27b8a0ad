# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks' variables that hold one value for the whole run, checked across the play's hosts.

Some variables are read once per run, as the play's first host sees them (by the tasks that run once and by
the report task): a value set otherwise for some other hosts (a ``group_vars`` file of one group) would be
ignored without a word. One is the run's failure budget, which each host reads for itself: set otherwise
for some hosts, they would stop at different shares of failures. Others set a play keyword (``hosts``,
``serial``), which Ansible templates from the extra variables and the play's own before it reads any
host's: set as a host variable they have no effect. ``spread_problems`` names them all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.play_vars import (
    BOOL_FILTER_WORDS,
    BOOL_TRUE_WORDS,
    DEFAULT_REPORT_DIR,
)
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.plain_values import plain

UNSET = object()
ALWAYS = object()  # inputs that cannot be told: the value is templated for every host
LISTED_HOSTS = 5
_REPORT_WRITER = ("tcp_audit_report_dir", "tcp_audit_fail_on", "tcp_audit_report_name", "tcp_audit_textfile_dir")
_HISTORY_RUN = _REPORT_WRITER + ("tcp_audit_run_id", "tcp_audit_merge", "tcp_report_in_progress_keep_days")
# what each playbook reads once, as its tasks read it; merge runs on localhost alone
READ_ONCE = {
    "audit": _HISTORY_RUN,
    "report": _HISTORY_RUN + ("tcp_report_keep",),
    "remediate": _REPORT_WRITER + ("tcp_remediate_max_fail_percentage",),
}
# one value for the whole run, which each host reads for itself (remediate's batches stop by it)
READ_BY_EACH_HOST = frozenset(["tcp_remediate_max_fail_percentage"])
PLAY_KEYWORDS = {
    "audit": {"tcp_audit_hosts": "hosts"},
    "report": {"tcp_audit_hosts": "hosts"},
    "remediate": {"tcp_audit_hosts": "hosts", "tcp_remediate_serial": "serial"},
}
# what the playbooks' ``default()`` gives an unset variable (the report name is the playbook's own)
DEFAULTS = {"tcp_audit_report_dir": DEFAULT_REPORT_DIR, "tcp_audit_fail_on": "fail", "tcp_audit_merge": True,
            "tcp_report_keep": 30, "tcp_report_in_progress_keep_days": 7, "tcp_remediate_max_fail_percentage": 0}
# a variable looked up by a computed name: what it refers to cannot be told from the template
_LOOKUPS = frozenset(["lookup", "query", "q"])
_VARS_LOOKUPS = frozenset(["vars", "ansible.builtin.vars"])


class Untemplatable(object):
    """A value that could not be templated for a host: never equal to another."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "cannot be templated (%s)" % self.reason


def names(playbook):
    """The names ``spread_problems`` looks at for ``playbook``, before the inputs of their values."""
    return set(READ_ONCE.get(playbook, ())) | set(PLAY_KEYWORDS.get(playbook, {}))


def _templates_in(value):
    """The template strings in ``value``, in its mappings and lists too."""
    if isinstance(value, str):
        return [value] if "{{" in value or "{%" in value else []
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _templates_in(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _templates_in(item)]
    return []


def _looks_up_by_name(tree):
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in _LOOKUPS:
            first = call.args[0] if call.args else None
            if not isinstance(first, nodes.Const) or first.value in _VARS_LOOKUPS:
                return True
    return False


def _inputs(template, parser):
    """The variables ``template`` refers to, not the functions it calls (loop and local names too: they only
    add comparisons); ALWAYS when it cannot be parsed or looks a variable up by a computed name (``vars[...]``,
    the ``vars`` lookup)."""
    try:
        tree = parser.parse(template)
    except TemplateSyntaxError:
        return ALWAYS
    functions = set(id(call.node) for call in tree.find_all(nodes.Call))
    found = set(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load" and id(node) not in functions)
    if "vars" in found or _looks_up_by_name(tree):
        return ALWAYS
    return found


def inputs_by_name(first, wanted):
    """{name: the variables its value refers to, through the values of those in turn, or ALWAYS} for each name
    of ``wanted`` whose value, as ``first`` (the first host's variables) has it, holds a template. A host
    whose value and inputs are as the first host's sees the same value: it need not be templated."""
    parser = Environment()
    found = {}
    for name in wanted:
        pending = _templates_in(first.get(name))
        if not pending:
            continue
        seen = set()
        while pending and seen is not ALWAYS:
            refers = _inputs(pending.pop(), parser)
            if refers is ALWAYS:
                seen = ALWAYS
                continue
            for variable in refers - seen:
                seen.add(variable)
                pending.extend(_templates_in(first.get(variable)))
        found[name] = seen if seen is ALWAYS else frozenset(seen)
    return found


def wanted_names(first, playbook):
    """The names to keep of each host's variables for ``spread_problems``: ``names(playbook)`` and the inputs
    of the values read once, ``first`` being the first host's variables with the extra and play variables
    over them."""
    wanted = names(playbook)
    for refers in inputs_by_name(first, READ_ONCE.get(playbook, ())).values():
        if refers is not ALWAYS:
            wanted |= refers
    return wanted


def _as_read(name, value, playbook):
    """What the playbook makes of ``value``: its default when unset, the ``bool`` filter's reading, a number,
    a string; no textfile for an empty one."""
    if name == "tcp_audit_textfile_dir":
        return UNSET if value is UNSET or value is None or value == "" else value
    if value is UNSET:
        return playbook if name == "tcp_audit_report_name" else DEFAULTS.get(name, UNSET)
    if name == "tcp_audit_merge" and isinstance(value, (bool, int, str)) and str(value).lower() in BOOL_FILTER_WORDS:
        return str(value).lower() in BOOL_TRUE_WORDS
    if name in ("tcp_report_keep", "tcp_report_in_progress_keep_days") and not isinstance(value, bool):
        try:
            return int(str(value))
        except ValueError:
            return value
    if name in ("tcp_audit_report_name", "tcp_audit_run_id") and isinstance(value, (int, str)):
        return str(value)
    if name == "tcp_remediate_max_fail_percentage" and not isinstance(value, bool):
        try:
            return float(str(value))  # the playbook's float filter
        except ValueError:
            return value
    return value


def _shown(value):
    if value is UNSET:
        return "unset"
    return repr(value if isinstance(value, Untemplatable) else plain(value))


def _listed(pairs):
    """``host: value`` for the first LISTED_HOSTS of ``pairs``, and how many more there are."""
    shown = "; ".join("%s: %s" % (host, _shown(value)) for host, value in pairs[:LISTED_HOSTS])
    more = len(pairs) - LISTED_HOSTS
    return shown + ("; and %d more" % more if more > 0 else "")


def _same(values, first, name):
    one, other = values.get(name, UNSET), first.get(name, UNSET)
    return one is other or one == other


class _ReadOnce(object):
    """One variable read once: the hosts that see it otherwise than the first host, and whether any of them
    writes it otherwise (or only the inputs of the template written for all differ)."""

    def __init__(self, name, inputs):
        self.name = name
        self.inputs = inputs
        self.first_seen = UNSET
        self.differing = []
        self.written_otherwise = False
        self.differing_inputs = set()

    def needs_templating(self, values, first):
        if not _same(values, first, self.name):
            return True
        refers = self.inputs.get(self.name, frozenset())
        return refers is ALWAYS or not all(_same(values, first, variable) for variable in refers)

    def add(self, host, values, first, seen):
        self.differing.append((host, seen))
        if not _same(values, first, self.name):
            self.written_otherwise = True
        elif self.inputs.get(self.name) is not ALWAYS:
            self.differing_inputs.update(v for v in self.inputs[self.name] if not _same(values, first, v))

    def problem(self, first_host):
        if not self.differing:
            return None
        if self.written_otherwise or not self.differing_inputs:
            advice = "remove it where it differs and set it once (group all, or -e)"
        else:
            advice = ("it is templated from variables that differ between hosts (%s): give it one value for every "
                      "host (group all, or -e)" % ", ".join(sorted(self.differing_inputs)))
        others = "1 other host has" if len(self.differing) == 1 else "%d other hosts have" % len(self.differing)
        if self.name in READ_BY_EACH_HOST:
            return ("%s is one budget for the whole run, but each host reads it as it sees it (%s); %s another "
                    "value, with which %s would stop at another share of failed hosts (%s): %s"
                    % (self.name, _listed([(first_host, self.first_seen)]), others,
                       "it" if len(self.differing) == 1 else "they", _listed(self.differing), advice))
        return ("%s is read once for the whole run, as the play's first host sees it (%s); %s another value, "
                "which would be ignored (%s): %s"
                % (self.name, _listed([(first_host, self.first_seen)]), others, _listed(self.differing), advice))


def _read_once_problems(hosts_values, play_values, playbook, resolve, skip):
    """Host by host (``resolve`` may keep one host's variables at hand), each variable read once."""
    first_host = hosts_values[0][0]
    first = dict(hosts_values[0][1], **play_values)
    inputs = inputs_by_name(first, READ_ONCE.get(playbook, ()))
    checks = [_ReadOnce(name, inputs) for name in sorted(set(READ_ONCE.get(playbook, ())) - set(skip))]
    first_read = {}
    for host, written in hosts_values[1:]:
        values = dict(written, **play_values)
        for check in checks:
            if not check.needs_templating(values, first):
                continue
            if check.name not in first_read:
                check.first_seen = resolve(first_host, check.name)
                first_read[check.name] = _as_read(check.name, check.first_seen, playbook)
            seen = resolve(host, check.name)
            if _as_read(check.name, seen, playbook) != first_read[check.name]:
                check.add(host, values, first, seen)
    return [problem for problem in (check.problem(first_host) for check in checks) if problem]


def spread_problems(hosts_values, play_values, playbook, resolve, skip=()):
    """The variables of ``playbook`` set per host where the run reads one value, as lines naming the variable,
    the hosts and what to do; [] when none.

    ``hosts_values``: [(host, {name: value as written})] for the play's hosts, the first host first, with the
    names ``wanted_names`` gives, as the host has them (extra, inventory and vars-plugin variables, facts).
    ``play_values``: {name: value} of those the extra and play variables set: they override every host's,
    and the play keywords are templated from them alone. ``resolve(host, name)``: the value ``host`` sees
    once templated, UNSET when unset or omitted, an ``Untemplatable`` when templating fails; asked only where
    a host's value or its template's inputs differ from the first host's. ``skip``: names already refused
    as the first host sees them."""
    found = _read_once_problems(hosts_values, play_values, playbook, resolve, skip)
    for name, keyword in sorted(PLAY_KEYWORDS.get(playbook, {}).items()):
        written = [(host, values[name]) for host, values in hosts_values
                   if name in values and not (name in play_values and _same(values, play_values, name))]
        if written:
            found.append(
                "%s is set as a host variable (%s), where it has no effect: Ansible templates the play's %s from "
                "the extra variables and the play's own, before it reads any host's; pass it with -e (in AWX, "
                "the job template's extra variables or a survey)" % (name, _listed(written), keyword))
    return found
