# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tcp_tuning role will write, skip, refuse and fix on one host. Reads only; changes nothing.

``build_plan`` takes the vetted tables of the role (profiles and limits, from the role's vars),
the role's variables and the host's tcp_state facts, looks at the live kernel through a
``proc_root`` seam and at the sysctl files through a ``root`` seam, and returns a plain dict
the role's tasks render, assert and apply. It runs four kinds of step, each a plain function of
what the one before returned: composing rows (``compose``), resolving them against the kernel
(``resolve``), the tables of refusal checks (``refusals``) and the bookkeeping of the originals
(``originals``). Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import namedtuple

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import originals as saved_originals
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import paths
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import refusals
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.compose import (
    compose_rows, kind_of, managed_kinds)
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.conflicts import (
    SysctlFiles, find_conflicts, fixes_for)
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.profile import choose_profile
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.resolve import listen_ports, resolve_rows

# The role's variables the plan reads, each ``tcp_tuning_<name>``, taken as the role passes them: their
# defaults live in the role's defaults/main.yml only (a unit test ties the three declarations together).
ROLE_VARIABLES = ("state", "profile", "overrides", "fix_conflicts", "sysctl_file", "state_file",
                  "auto_min_time_wait", "auto_ignore_ports", "discard_restore_file")
# The role's vetted tables (vars/main.yml), the facts it gathered, and the seams tests point elsewhere.
PlanInput = namedtuple("PlanInput", ROLE_VARIABLES + ("profiles", "limits", "tw_recycle_why", "facts",
                                                      "root", "proc_root"), defaults=("/", "/proc"))


def _host_file(root, path):
    return os.path.join(root, path.lstrip("/"))


def _read_originals(given):
    return saved_originals.read_originals(given.root, given.state_file, given.sysctl_file,
                                          managed_kinds(given.limits))


def _chosen_profile(given):
    if given.profile == "auto":
        return choose_profile(given.facts, given.auto_min_time_wait, given.auto_ignore_ports)
    return given.profile, "requested by tcp_tuning_profile"


def build_plan(given):
    """The plan for ``tcp_tuning_state: present``."""
    kernel = KernelSysctl(given.proc_root)
    originals = _read_originals(given)
    view = refusals.new_view(given, kernel, originals)
    plan = {"state": "present", "profile_requested": given.profile, "profile": None, "reason": None,
            "file": given.sysctl_file, "settings": [], "rendered": {}, "left_out": [], "conflicts": [],
            "fixes": [], "live_changes": [], "release": {}, "kinds": managed_kinds(given.limits),
            "kernel": kernel.release(), "restore_state": None, "restore_state_after": None,
            "restore_file_damaged": originals.damaged,
            "state_dir_missing": paths.directory_missing(given.root, given.state_file)}

    errors = refusals.every(refusals.VARIABLES, view)
    refused = refusals.first(refusals.HOST, view) or refusals.every(refusals.PROFILE, view)
    if refused:
        return dict(plan, errors=errors + refused)
    profile, reason = _chosen_profile(given)
    plan.update({"profile": profile, "reason": reason})

    rows, dropped = compose_rows(profile, given.profiles[profile].get("settings", []), given.overrides,
                                 given.limits)
    view = view._replace(profile=profile, rows=rows)
    errors += refusals.first(refusals.ROWS, view)
    if errors:
        return dict(plan, errors=errors)

    settings, skipped = resolve_rows(rows, kernel, given.limits, listen_ports(given.facts), given.tw_recycle_why)
    rendered = dict((setting["key"], setting["value"]) for setting in settings)
    view = view._replace(rendered=rendered)
    errors += refusals.every(refusals.VALUES, view)

    files = SysctlFiles(given.root, given.sysctl_file)
    conflicts = find_conflicts(
        files, rendered, lambda key, left, right: values.same_value(kind_of(given.limits, key), left, right),
        kernel.exists)
    conflicts = [dict(conflict, fixed=bool(given.fix_conflicts and conflict["fixable"])) for conflict in conflicts]
    fixes = fixes_for(files, conflicts) if given.fix_conflicts else []
    errors += refusals.every(refusals.BOOT, view._replace(conflicts=conflicts, fixes=fixes))

    released, kept, gone = saved_originals.give_back(originals.saved, rendered, kernel)
    before, after = saved_originals.restore_states(given.sysctl_file, originals.saved, settings, kernel, kept)
    kinds = plan["kinds"]
    plan.update({
        "settings": settings,
        "rendered": rendered,
        "left_out": dropped + skipped + gone,
        "conflicts": conflicts,
        "fixes": fixes,
        "live_changes": saved_originals.live_changes(
            kernel, kinds, [(setting["key"], str(setting["value"])) for setting in settings]),
        "release": released,
        "release_changes": saved_originals.live_changes(kernel, kinds, sorted(released.items())),
        "restore_state": None if errors else before,
        "restore_state_after": None if errors else after,
        "errors": errors,
    })
    return plan


def build_restore_plan(given):
    """The plan for ``tcp_tuning_state: absent``: every saved live value goes back, or none does."""
    kernel = KernelSysctl(given.proc_root)
    originals = _read_originals(given)
    errors = refusals.every(refusals.ABSENT, refusals.new_view(given, kernel, originals))
    restore, left_out = saved_originals.to_restore(originals.saved, kernel)
    if errors:
        restore = {}
    kinds = managed_kinds(given.limits)
    return {
        "state": "absent", "file": given.sysctl_file, "restore": restore, "left_out": left_out,
        "live_changes": saved_originals.live_changes(kernel, kinds, sorted(restore.items())), "errors": errors,
        "kinds": kinds, "file_exists": os.path.exists(_host_file(given.root, given.sysctl_file)),
        "state_exists": originals.exists, "restore_file_damaged": originals.damaged,
        "kernel": kernel.release(),
    }


def plan_for(given):
    """The plan for the state the role asks for (``tcp_tuning_state``)."""
    return build_plan(given) if given.state == "present" else build_restore_plan(given)
