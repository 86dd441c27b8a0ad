# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks' own variables, checked on the controller before any host is contacted.

A mistyped value would otherwise be found by each host's module call (every host an ``error``, and the
run's reports still published over the last good ones), by the report task after the whole fleet was
gathered, or not at all (``tcp_audit_merge: ture`` read as false writes a slice and no report). A
misspelled name (``tcp_audit_namespace``) would simply have no effect. ``problems`` names them all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import os
import re
from collections.abc import Mapping

from ansible.module_utils.common.validation import check_type_dict, check_type_int, check_type_path
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.profile import PROFILES
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import free_space
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files

PLAYBOOKS = ("audit", "report", "remediate", "merge")
PREFIX = re.compile(r"^tcp_(?:audit|report|remediate)_")
# what the playbooks register or set themselves: present in a later play of the same run
SET_BY_PLAYBOOKS = frozenset([
    "tcp_audit_gathered", "tcp_audit_result", "tcp_report_result", "tcp_audit_summary_of",
    "tcp_remediate_before", "tcp_remediate_outcome", "tcp_remediate_gathered_after", "tcp_remediate_after",
])
DEFAULT_REPORT_DIR = "reports"
REMEDIATE_REPORT_SUFFIXES = ("-before", "-after")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


def _whole_number(minimum):
    def check(value):
        if isinstance(value, bool):
            return "must be a whole number of %d or more, got %r" % (minimum, value)
        try:
            number = check_type_int(value)
        except TypeError:
            return "must be a whole number of %d or more, got %r" % (minimum, value)
        if number < minimum:
            return "must be a whole number of %d or more, got %d" % (minimum, number)
        return None
    return check


def _one_of(*choices):
    def check(value):
        if value in choices:
            return None
        return "must be one of %s, got %r" % (", ".join(choices), value)
    return check


def _boolean(value):
    """What a ``type: bool`` argument takes (the role's ``tcp_tuning_fix_conflicts``)."""
    try:
        boolean(value, strict=True)
    except TypeError:
        return "must be true or false, got %r" % (value,)
    return None


# what the ``bool`` filter the playbooks apply knows; it reads anything else as false
BOOL_TRUE_WORDS = frozenset(["yes", "on", "true", "1"])
BOOL_FILTER_WORDS = BOOL_TRUE_WORDS | frozenset(["no", "off", "false", "0"])


def _bool_filter(value):
    """What ``| bool`` reads as true or false on purpose (``tcp_audit_merge``, ``tcp_audit_history``)."""
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return None
    if isinstance(value, str) and value.lower() in BOOL_FILTER_WORDS:
        return None
    return "must be true or false (yes, no, on, off, 1 or 0), got %r" % (value,)


def _text(value):
    if isinstance(value, str) and value.strip():
        return None
    return "must be a non-empty string, got %r" % (value,)


def _host_pattern(value):
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return None
    return _text(value)


def _report_name(value):
    if not isinstance(value, (bool, dict, list)) and files.REPORT_NAME_PATTERN.match(str(value)):
        return None
    return "must be %s, got %r" % (files.NAME_RULE, value)


def _run_id(value):
    if value is None or value == "":
        return None  # as when unset: a new id (merge needs one, see problems)
    try:
        files.check_run_id(value if isinstance(value, str) else str(value))
    except files.ReportDirError as exc:
        return str(exc)
    return None


def _thresholds(value):
    try:
        if isinstance(value, str):
            fleet.parse_thresholds(value)
        elif isinstance(value, Mapping):
            rules.merge_thresholds(dict(value))
        elif value:
            return "must be a mapping of threshold names to numbers, or such a mapping as a JSON or YAML string"
    except rules.ThresholdError as exc:
        return str(exc)
    return None


def _textfile_dir(value):
    if value is None or value == "":
        return None  # as when unset: no textfile
    if not isinstance(value, str):
        return "must be the path of node_exporter's textfile directory, got %r" % (value,)
    path = os.path.abspath(check_type_path(value))
    if not os.path.isdir(path):
        return "%s is not a directory" % path
    why = free_space.unwritable(path)
    return "%s cannot be written to: it is %s" % (path, why) if why else None


def _percentage(value):
    if not isinstance(value, bool) and _NUMBER.fullmatch(str(value)) and float(value) <= 100:
        return None
    return "must be a number from 0 to 100, got %r" % (value,)


def _serial_step(value):
    """What Ansible makes a batch size of (``pct_to_int``): an int, or text int() reads, with a ``%`` after it."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if not isinstance(value, str):
        return False
    try:
        int(value[:-1] if value.endswith("%") else value)
    except ValueError:
        return False
    return True


def _serial(value):
    steps = value if isinstance(value, list) and value else [value]
    if all(_serial_step(step) for step in steps):
        return None
    return ("must be a batch size (a whole number), a percentage such as '25%%', or a list of those, got %r"
            % (value,))


def _profile(value):
    return _one_of("auto", *PROFILES)(value)


def _overrides(value):
    """What the role's ``type: dict`` takes: a mapping, or a JSON or ``key=value`` string."""
    if value is None or isinstance(value, Mapping):
        return None
    try:
        check_type_dict(value)
    except TypeError:
        return "must be a mapping, or a JSON or key=value string, got %r" % (value,)
    return None


INPUTS = {
    "tcp_audit_report_dir": _text,
    "tcp_audit_fail_on": _one_of("fail", "warn", "never"),
    "tcp_audit_thresholds": _thresholds,
    "tcp_audit_run_id": _run_id,
    "tcp_audit_merge": _bool_filter,
    "tcp_audit_history": _bool_filter,
    "tcp_audit_hosts": _host_pattern,
    "tcp_audit_namespaces": _one_of("self", "all"),
    "tcp_audit_top": _whole_number(0),
    "tcp_audit_report_name": _report_name,
    "tcp_audit_textfile_dir": _textfile_dir,
    "tcp_report_keep": _whole_number(1),
    "tcp_report_in_progress_keep_days": _whole_number(1),
    "tcp_remediate_serial": _serial,
    "tcp_remediate_max_fail_percentage": _percentage,
    "tcp_remediate_profile": _profile,
    "tcp_remediate_fix_conflicts": _boolean,
    "tcp_remediate_overrides": _overrides,
}


def names_to_check(names):
    """The names among ``names`` (a host's variables) that are the playbooks' inputs, or look like them."""
    return sorted(name for name in names if PREFIX.match(name) and name not in SET_BY_PLAYBOOKS)


def _unknown(name):
    close = difflib.get_close_matches(name, sorted(INPUTS), n=1, cutoff=0.8)
    hint = " (did you mean %s?)" % close[0] if close else ""
    return "%s is not a variable of the tcpops.timewait playbooks%s; it would have no effect" % (name, hint)


def unknown_names(names):
    """A problem for each name among ``names`` (a host's variables) that looks like the playbooks' inputs
    and is none of them: a misspelled name, which would have no effect."""
    return [_unknown(name) for name in names_to_check(names) if name not in INPUTS]


def _nearest_existing(path):
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def _is_set(values, name, check):
    """Whether ``name`` is set to a value its check takes (its default is used otherwise)."""
    return name in values and values[name] not in (None, "") and check(values[name]) is None


def _destinations(values, playbook):
    """(problems, the directories the reports go to): whether the reports can be written where they would go,
    found after the whole fleet was gathered, a run would end with nothing. A value already refused is left to
    its own message."""
    if "tcp_audit_report_dir" in values and _text(values["tcp_audit_report_dir"]):
        return [], []
    base = os.path.abspath(check_type_path(values.get("tcp_audit_report_dir") or DEFAULT_REPORT_DIR))
    history_value = values.get("tcp_audit_history", True)
    if _bool_filter(history_value):
        return [], []
    history = playbook == "report" or (playbook == "merge" and boolean(history_value))
    if playbook == "remediate":
        fixed = [os.path.join(base, "remediate" + suffix) for suffix in REMEDIATE_REPORT_SUFFIXES]
    else:
        fixed = [] if history else [base]
    try:
        files.check_directory(base)
        if history:
            files.check_history_base(base)
        for dest in fixed:
            files.check_fixed_dest(dest)
    except files.ReportDirError as exc:
        return ["tcp_audit_report_dir: %s" % exc], []
    found = []
    for dest in fixed or [base]:
        existing = _nearest_existing(dest)
        why = free_space.unwritable(existing)
        if why:
            found.append("tcp_audit_report_dir: %s cannot be written to (%s is %s)" % (dest, existing, why))
    return found, fixed or [base]


def room_problems(values, playbook, host_count, refused=()):
    """(problems, warnings): whether the file systems of the report directory and of the textfile directory
    have room for what the run writes for ``host_count`` hosts. Nothing for a directory refused already
    (``refused``: names whose value was refused or could not be templated)."""
    found, dests = ([], []) if "tcp_audit_report_dir" in refused else _destinations(values, playbook)
    if found or not dests:
        return [], []
    slice_only = _writes_slice(values, playbook)
    # the merge runs on localhost: the hosts of the run are known only from its slices
    count = None if playbook == "merge" else host_count
    found, warnings = free_space.problems("tcp_audit_report_dir", dests[0], _nearest_existing(dests[0]),
                                          free_space.SLICE if slice_only else free_space.REPORTS, count, len(dests))
    textfile = values.get("tcp_audit_textfile_dir")
    if textfile and "tcp_audit_textfile_dir" not in refused and not slice_only:
        path = os.path.abspath(check_type_path(textfile))
        textfile_found, _no_warnings = free_space.problems("tcp_audit_textfile_dir", path, path, free_space.TEXTFILE,
                                                           count, len(dests))
        found.extend(textfile_found)
    return found, warnings


def _report_name_problems(values, playbook):
    if playbook != "remediate" or not _is_set(values, "tcp_audit_report_name", _report_name):
        return []
    name = str(values["tcp_audit_report_name"])
    longest = max(REMEDIATE_REPORT_SUFFIXES, key=len)
    if _report_name(name + longest) is None:
        return []
    return ["tcp_audit_report_name must be at most %d characters for remediate, which adds %s, got %d"
            % (64 - len(longest), " and ".join(REMEDIATE_REPORT_SUFFIXES), len(name))]


def _writes_slice(values, playbook):
    """A slice (tcp_audit_merge false) writes no report and no textfile: the merge does."""
    merge = values.get("tcp_audit_merge", True)
    return playbook in ("audit", "report") and _bool_filter(merge) is None and not boolean(merge)


def problems(values, playbook):
    """Every problem with ``values`` ({name: templated value} of the names ``names_to_check`` kept) for the
    playbook ``playbook`` (one of PLAYBOOKS), as lines naming the variable and what to fix; [] when none."""
    found = []
    for name in sorted(values):
        check = INPUTS.get(name)
        if check is None:
            found.append(_unknown(name))
            continue
        if name == "tcp_audit_textfile_dir" and _writes_slice(values, playbook):
            continue
        problem = check(values[name])
        if problem:
            found.append("%s %s" % (name, problem) if problem.startswith("must") else "%s: %s" % (name, problem))
    run_id = values.get("tcp_audit_run_id")
    if playbook == "merge" and (run_id is None or run_id == ""):
        found.append("tcpops.timewait.merge needs tcp_audit_run_id, the run id the slices wrote with (in an AWX "
                     "workflow it comes from the artifacts of the sliced node; otherwise pass -e tcp_audit_run_id=...)")
    return found + _report_name_problems(values, playbook) + _destinations(values, playbook)[0]
