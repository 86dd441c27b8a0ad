# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks' variables that hold one value for the whole run, checked across the play's hosts.

Some variables are read once per run, as the play's first host sees them (by the tasks that run once and by
the report task): a value set otherwise for some other hosts (a ``group_vars`` file of one group) would be
ignored without a word. Others set a play keyword (``hosts``, ``serial``), which Ansible templates from the
extra variables and the play's own before it reads any host's: set as a host variable they have no effect.
``spread_problems`` names both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from jinja2 import Environment, meta
from jinja2.exceptions import TemplateError

UNSET = object()
LISTED_HOSTS = 5
_REPORT_WRITER = ("tcp_audit_report_dir", "tcp_audit_fail_on", "tcp_audit_report_name", "tcp_audit_textfile_dir")
_HISTORY_RUN = _REPORT_WRITER + ("tcp_audit_run_id", "tcp_audit_merge", "tcp_report_in_progress_keep_days")
# what each playbook reads once, as its tasks read it; merge runs on localhost alone
READ_ONCE = {
    "audit": _HISTORY_RUN,
    "report": _HISTORY_RUN + ("tcp_report_keep",),
    "remediate": _REPORT_WRITER,
}
PLAY_KEYWORDS = {
    "audit": {"tcp_audit_hosts": "hosts"},
    "report": {"tcp_audit_hosts": "hosts"},
    "remediate": {"tcp_audit_hosts": "hosts", "tcp_remediate_serial": "serial"},
}
# what the playbooks' ``default()`` gives an unset variable (the report name is the playbook's own)
DEFAULTS = {"tcp_audit_report_dir": "reports", "tcp_audit_fail_on": "fail", "tcp_audit_merge": True,
            "tcp_report_keep": 30, "tcp_report_in_progress_keep_days": 7}
_TRUE_WORDS = frozenset(["yes", "on", "true", "1"])
_FALSE_WORDS = frozenset(["no", "off", "false", "0"])
ALWAYS = None  # a value whose inputs cannot be told: templated for every host


class Untemplatable(object):
    """A value that could not be templated for a host: never equal to another."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "cannot be templated (%s)" % self.reason


def names(playbook):
    """The names ``spread_problems`` looks at for ``playbook``."""
    return set(READ_ONCE.get(playbook, ())) | set(PLAY_KEYWORDS.get(playbook, {}))


def _is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _inputs(value, parser):
    """The variables a template refers to; ALWAYS when it cannot be parsed."""
    try:
        return meta.find_undeclared_variables(parser.parse(value))
    except TemplateError:
        return ALWAYS


def inputs_by_name(first, wanted):
    """{name: the variables its value refers to, through the values of those in turn, as ``first`` (the first
    host's variables) writes them, or ALWAYS} for each name of ``wanted`` whose value is a template. A host
    whose value and inputs are written as the first host's sees the same value: it need not be templated."""
    parser = Environment()
    found = {}
    for name in wanted:
        if not _is_template(first.get(name)):
            continue
        seen, pending = set(), [first[name]]
        while pending:
            refers = _inputs(pending.pop(), parser)
            if refers is ALWAYS:
                seen = ALWAYS
                break
            for variable in refers - seen:
                seen.add(variable)
                if _is_template(first.get(variable)):
                    pending.append(first[variable])
        found[name] = seen if seen is ALWAYS else frozenset(seen)
    return found


def _as_read(name, value, playbook):
    """What the playbook makes of ``value``: its default when unset, the ``bool`` filter's reading, a number,
    a string; no textfile for an empty one."""
    if name == "tcp_audit_textfile_dir":
        return UNSET if value is UNSET or value is None or value == "" else value
    if value is UNSET:
        return playbook if name == "tcp_audit_report_name" else DEFAULTS.get(name, UNSET)
    if name == "tcp_audit_merge":
        word = str(value).lower()
        if isinstance(value, (bool, int, str)) and word in _TRUE_WORDS | _FALSE_WORDS:
            return word in _TRUE_WORDS
    if name in ("tcp_report_keep", "tcp_report_in_progress_keep_days") and not isinstance(value, bool):
        try:
            return int(str(value))
        except ValueError:
            return value
    if name in ("tcp_audit_report_name", "tcp_audit_run_id") and isinstance(value, (int, str)):
        return str(value)
    return value


def _listed(pairs):
    """``host: value`` for the first LISTED_HOSTS of ``pairs``, and how many more there are."""
    shown = "; ".join("%s: %s" % (host, "unset" if value is UNSET else repr(value))
                      for host, value in pairs[:LISTED_HOSTS])
    more = len(pairs) - LISTED_HOSTS
    return shown + ("; and %d more" % more if more > 0 else "")


def _written_alike(values, first, name, inputs):
    if values.get(name, UNSET) != first.get(name, UNSET):
        return False
    if name not in inputs:
        return True
    return inputs[name] is not ALWAYS and all(values.get(v, UNSET) == first.get(v, UNSET) for v in inputs[name])


def _read_once_problem(name, hosts_values, playbook, resolve, inputs):
    first_host, first = hosts_values[0]
    expected = []  # the first host's value, asked for at most once
    differing = []
    for host, values in hosts_values[1:]:
        if _written_alike(values, first, name, inputs):
            continue
        if not expected:
            expected.append(resolve(first_host, name))
        seen = resolve(host, name)
        if _as_read(name, seen, playbook) != _as_read(name, expected[0], playbook):
            differing.append((host, seen))
    if not differing:
        return None
    return ("%s is read once for the whole run, as the play's first host sees it (%s); %s another value, which "
            "would be ignored (%s): remove it where it differs and set it once (group all, or -e)"
            % (name, _listed([(first_host, expected[0])]),
               "1 other host has" if len(differing) == 1 else "%d other hosts have" % len(differing),
               _listed(differing)))


def spread_problems(hosts_values, play_values, playbook, resolve, skip=()):
    """The variables of ``playbook`` set per host where the run reads one value, as lines naming the variable,
    the hosts and what to do; [] when none.

    ``hosts_values``: [(host, {name: value as written})] for the play's hosts, the first host first, with the
    names ``names(playbook)`` gives and the variables their values refer to (``inputs_by_name``), as the host
    has them (extra, inventory and vars-plugin variables, facts). ``play_values``: {name: value} of those
    the extra and play variables set, which the play keywords are templated from and which override every
    host's. ``resolve(host, name)``: the value ``host`` sees once templated, UNSET when unset or omitted, an
    ``Untemplatable`` when templating fails; asked only where a host's value or its inputs are written
    otherwise than the first host's. ``skip``: names already refused as the first host sees them."""
    found = []
    first = hosts_values[0][1]
    inputs = inputs_by_name(first, READ_ONCE.get(playbook, ()))
    for name in sorted(set(READ_ONCE.get(playbook, ())) - set(play_values) - set(skip)):
        problem = _read_once_problem(name, hosts_values, playbook, resolve, inputs)
        if problem:
            found.append(problem)
    for name, keyword in sorted(PLAY_KEYWORDS.get(playbook, {}).items()):
        written = [(host, values[name]) for host, values in hosts_values
                   if name in values and (name not in play_values or values[name] != play_values[name])]
        if written:
            found.append(
                "%s is set as a host variable (%s), where it has no effect: Ansible templates the play's %s from "
                "the extra variables and the play's own, before it reads any host's; pass it with -e (in AWX, "
                "the job template's extra variables or a survey)" % (name, _listed(written), keyword))
    return found
