# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tcp_tuning role will write, skip, refuse and fix on one host. Reads only; changes nothing.

``build_plan`` takes the vetted tables of the role (profiles and limits, from the role's vars),
the operator's choices and the host's tcp_state facts, looks at the live kernel through a
``proc_root`` seam and at the sysctl files through a ``root`` seam, and returns a plain dict
the role's tasks render, assert and apply. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.tcpops.timewait.plugins.module_utils import _tuning_values as values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning_kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning_profile import PROFILES, choose_profile
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning_sysctl_files import (
    SysctlFiles, find_conflicts, fixes_for)

TW_RECYCLE = "net.ipv4.tcp_tw_recycle"
TW_REUSE = "net.ipv4.tcp_tw_reuse"
TIMESTAMPS = "net.ipv4.tcp_timestamps"
PORT_RANGE = "net.ipv4.ip_local_port_range"
RESERVED = "net.ipv4.ip_local_reserved_ports"
MAX_TW_BUCKETS = "net.ipv4.tcp_max_tw_buckets"
CONNTRACK_PROBE = "net.netfilter.nf_conntrack_max"
STATE_ROLE = "tcpops.timewait.tcp_tuning"


class PlanInput:
    """Everything the plan depends on, gathered in one place (the module's parameters)."""

    def __init__(self, profiles, limits, profile="auto", overrides=None, facts=None, fix_conflicts=False,
                 sysctl_file="/etc/sysctl.d/90-tcpops-timewait.conf",
                 state_file="/var/lib/tcpops-timewait/tcp_tuning.json", auto_min_time_wait=100,
                 auto_ignore_ports=(22,), tw_recycle_why="", root="/", proc_root="/proc"):
        self.profiles = profiles
        self.limits = limits
        self.profile = profile
        self.overrides = overrides or {}
        self.facts = facts
        self.fix_conflicts = fix_conflicts
        self.sysctl_file = sysctl_file
        self.state_file = state_file
        self.auto_min_time_wait = auto_min_time_wait
        self.auto_ignore_ports = auto_ignore_ports
        self.tw_recycle_why = tw_recycle_why
        self.root = root
        self.proc_root = proc_root


def _kind(limits, key):
    return (limits.get(key) or {}).get("kind", "int")


def _host_file(root, path):
    return os.path.join(root, path.lstrip("/"))


def read_restore_state(root, state_file):
    """The live values saved before the role first changed them: ``{key: value}`` ({} when none)."""
    try:
        with open(_host_file(root, state_file)) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return {}
    saved = data.get("saved") if isinstance(data, dict) else None
    return dict(saved) if isinstance(saved, dict) else {}


class _Planner:
    def __init__(self, given):
        self.given = given
        self.kernel = KernelSysctl(given.proc_root)
        self.errors = []
        self.settings = []
        self.skipped = []
        self.saved = read_restore_state(given.root, given.state_file)

    # -- profile --------------------------------------------------------------------------------------
    def pick_profile(self):
        requested = self.given.profile
        if requested == "auto":
            return choose_profile(self.given.facts, self.given.auto_min_time_wait, self.given.auto_ignore_ports)
        if requested not in PROFILES or requested not in self.given.profiles:
            self.errors.append("tcp_tuning_profile = %r is not a profile: use auto, %s"
                               % (requested, ", ".join(PROFILES)))
            return None, None
        return requested, "requested by tcp_tuning_profile"

    # -- the host itself ------------------------------------------------------------------------------
    def check_host(self):
        if not self.kernel.exists(TIMESTAMPS):
            self.errors.append("%s has no net.ipv4 TCP sysctls: this is not a Linux host with /proc mounted, "
                               "run the role only on Linux hosts" % os.path.join(self.given.proc_root, "sys"))
            return False
        if self.kernel.tree_read_only("net") or not self.kernel.writable(TIMESTAMPS):
            self.errors.append("/proc/sys/net is read-only here (an unprivileged container, or not root): the "
                               "role cannot change TCP sysctls on this host. Run it with become: true on the "
                               "host or in a privileged container, or leave this host out; nothing was changed")
            return False
        return True

    # -- the values -------------------------------------------------------------------------------------
    def check_overrides(self):
        for key in sorted(self.given.overrides):
            if key == TW_RECYCLE:
                self.errors.append("tcp_tuning_overrides sets %s: the role never sets it (removed in Linux 4.12, it "
                                   "drops SYNs from clients behind NAT; where the kernel still has it the role forces "
                                   "0). Remove it from tcp_tuning_overrides" % key)
            elif key not in self.given.limits:
                self.errors.append("tcp_tuning_overrides sets %s, which is not a key this role vets: use one of %s"
                                   % (key, ", ".join(sorted(self.given.limits))))

    def wanted_rows(self, profile):
        """The profile's rows with the overrides laid over them, in the table's order."""
        rows = []
        seen = set()
        for row in self.given.profiles[profile].get("settings", []):
            row = dict(row)
            key = row["key"]
            seen.add(key)
            if key in self.given.overrides:
                override = self.given.overrides[key]
                if override is None:
                    self.skipped.append({"key": key, "value": row.get("value"), "reason": "dropped by tcp_tuning_overrides"})
                    continue
                row.update({"value": override, "why": "set by tcp_tuning_overrides (vetted %s: %s)"
                            % (profile, row.get("why", "")), "at_least": False, "override": True})
            rows.append(row)
        for key in sorted(self.given.overrides):
            if key in seen or key == TW_RECYCLE or key not in self.given.limits or self.given.overrides[key] is None:
                continue
            rows.append({"key": key, "value": self.given.overrides[key], "override": True,
                         "why": "set by tcp_tuning_overrides (not part of the %s profile)" % profile})
        return rows

    def skip_reason(self, row):
        key = row["key"]
        if row.get("requires") == "conntrack" and not self.kernel.exists(CONNTRACK_PROBE):
            return "nf_conntrack is not loaded: no conntrack table to tune"
        if not self.kernel.exists(key):
            return "this kernel has no %s" % key
        if not self.kernel.writable(key):
            return "not writable here (read-only in this network namespace)"
        return None

    def floor(self, key):
        """The lowest value the role may set for a never-lower key: the value before the role touched it."""
        before = self.saved.get(key, self.kernel.read(key))
        try:
            return values.parse_int(before)
        except ValueError:
            return None

    def resolve(self, row, listen_ports, port_range):
        key = row["key"]
        kind = _kind(self.given.limits, key)
        live = self.kernel.read(key)
        value = row.get("value")
        if row.get("reserve_listening"):
            extra = values.parse_port_list(value) if row.get("override") else []
            low, high = port_range
            inside = [port for port in listen_ports if low <= port <= high]
            ports = set(values.parse_port_list(live)) | set(extra) | set(inside)
            return values.format_port_list(ports) if ports else None
        if row.get("at_least"):
            number = values.parse_int(value)
            try:
                number = max(number, values.parse_int(live))
            except ValueError:
                pass
            return number
        return values.parse_int(value) if kind == "int" else values.canonical(kind, value)

    def render(self, profile):
        rows = self.wanted_rows(profile)
        for row in rows:
            for message in values.validate(row["key"], row.get("value"), self.given.limits.get(row["key"], {})):
                self.errors.append("%s (tcp_tuning_profile %s%s)"
                                   % (message, profile, ", from tcp_tuning_overrides" if row.get("override") else ""))
        if self.errors:
            return
        listen_ports = self.listen_ports(rows)
        port_range = self.effective_port_range(rows)
        if self.kernel.exists(TW_RECYCLE):
            rows.insert(0, {"key": TW_RECYCLE, "value": 0, "why": self.given.tw_recycle_why})
        for row in rows:
            reason = self.skip_reason(row)
            if reason:
                self.skipped.append({"key": row["key"], "value": row.get("value"), "reason": reason})
                continue
            value = self.resolve(row, listen_ports, port_range)
            if value is None:
                self.skipped.append({"key": row["key"], "value": None,
                                     "reason": "no listening port inside %d-%d and nothing reserved" % port_range})
                continue
            self.settings.append({"key": row["key"], "value": value, "why": row.get("why", "")})

    def listen_ports(self, rows):
        if not any(row.get("reserve_listening") for row in rows):
            return []
        listen = (self.given.facts or {}).get("listen")
        if not listen or listen.get("ports") is None:
            self.errors.append("the listening ports of this host are unknown (tcp_state facts missing or gathered "
                               "in summary mode), so widening ip_local_port_range could take a service's port: "
                               "gather tcpops.timewait.tcp_state_facts in full mode before the role")
            return []
        return [int(port) for port in listen["ports"]]

    def effective_port_range(self, rows):
        for row in rows:
            if row["key"] == PORT_RANGE:
                return values.parse_port_range(row["value"])
        live = self.kernel.read(PORT_RANGE)
        return values.parse_port_range(live) if live else (32768, 60999)

    # -- combinations -----------------------------------------------------------------------------------
    def check_combinations(self):
        rendered = self.values()
        reuse = rendered.get(TW_REUSE, self.kernel.read(TW_REUSE))
        stamps = rendered.get(TIMESTAMPS, self.kernel.read(TIMESTAMPS))
        if TW_REUSE in rendered:
            accepted = self.kernel.tw_reuse_values()
            if values.parse_int(rendered[TW_REUSE]) not in accepted:
                self.errors.append("net.ipv4.tcp_tw_reuse = %s: this kernel accepts only %s (value 2, loopback only, "
                                   "needs a newer kernel): use 1 for hosts that open many connections, or 0"
                                   % (rendered[TW_REUSE], " or ".join(str(v) for v in accepted)))
        if str(reuse) == "1" and str(stamps) == "0":
            self.errors.append("net.ipv4.tcp_tw_reuse = 1 with net.ipv4.tcp_timestamps = 0: reuse is only safe with "
                               "timestamps, the kernel silently ignores it without them. Keep tcp_timestamps = 1 "
                               "(drop it from tcp_tuning_overrides) or set tcp_tw_reuse to 0")
        if MAX_TW_BUCKETS in rendered:
            floor = self.floor(MAX_TW_BUCKETS)
            if floor is not None and values.parse_int(rendered[MAX_TW_BUCKETS]) < floor:
                self.errors.append("net.ipv4.tcp_max_tw_buckets = %s is below %d, the value before this role: the "
                                   "kernel destroys TIME_WAIT sockets early past it and its docs say never to lower "
                                   "it. Use %d or more" % (rendered[MAX_TW_BUCKETS], floor, floor))

    def check_boot_timestamps(self, conflicts):
        """tw_reuse = 1 from the role while a later file turns timestamps off at boot, and nothing fixes it."""
        if str(self.values().get(TW_REUSE)) != "1":
            return
        for conflict in conflicts:
            if conflict["key"] == TIMESTAMPS and str(conflict["value"]) == "0" and not conflict["fixed"]:
                self.errors.append("%s:%d sets net.ipv4.tcp_timestamps = 0 after %s: after a reboot tcp_tw_reuse = 1 "
                                   "would run without timestamps. %s"
                                   % (conflict["path"], conflict["line"], self.given.sysctl_file,
                                      "Set tcp_tuning_fix_conflicts: true or remove that line" if conflict["fixable"]
                                      else "Mask that package file with an empty /etc/sysctl.d/%s"
                                      % os.path.basename(conflict["path"])))

    def values(self):
        return dict((setting["key"], setting["value"]) for setting in self.settings)

    def live_changes(self):
        changes = []
        for setting in self.settings:
            live = self.kernel.read(setting["key"])
            kind = _kind(self.given.limits, setting["key"])
            if not values.same_value(kind, live, setting["value"]):
                changes.append({"key": setting["key"], "before": live, "after": str(setting["value"])})
        return changes

    def restore_state(self):
        saved = dict(self.saved)
        for setting in self.settings:
            if setting["key"] not in saved:
                saved[setting["key"]] = self.kernel.read(setting["key"])
        return {"role": STATE_ROLE, "file": self.given.sysctl_file, "saved": dict(sorted(saved.items()))}


def build_plan(given):
    """The plan for ``tcp_tuning_state: present``."""
    planner = _Planner(given)
    plan = {"state": "present", "profile_requested": given.profile, "profile": None, "reason": None,
            "file": given.sysctl_file, "settings": [], "rendered": {}, "skipped": [], "conflicts": [],
            "fixes": [], "live_changes": [], "errors": planner.errors,
            "kernel": planner.kernel.release(), "restore_state": None}
    planner.check_overrides()
    if not planner.check_host():
        return plan
    profile, reason = planner.pick_profile()
    plan.update({"profile": profile, "reason": reason})
    if profile is None:
        return plan
    planner.render(profile)
    if planner.errors:
        return plan
    planner.check_combinations()
    rendered = planner.values()
    files = SysctlFiles(given.root, given.sysctl_file)
    conflicts = find_conflicts(
        files, rendered,
        lambda key, left, right: values.same_value(_kind(given.limits, key), left, right),
        planner.kernel.exists)
    for conflict in conflicts:
        conflict["fixed"] = bool(given.fix_conflicts and conflict["fixable"])
    planner.check_boot_timestamps(conflicts)
    plan.update({
        "settings": planner.settings,
        "rendered": rendered,
        "skipped": planner.skipped,
        "conflicts": conflicts,
        "fixes": fixes_for(files, conflicts) if given.fix_conflicts else [],
        "live_changes": planner.live_changes(),
        "restore_state": planner.restore_state(),
    })
    return plan


def build_restore_plan(given):
    """The plan for ``tcp_tuning_state: absent``: which saved live values go back."""
    kernel = KernelSysctl(given.proc_root)
    saved = read_restore_state(given.root, given.state_file)
    restore, skipped, changes = {}, [], []
    for key, before in sorted(saved.items()):
        if before is None or not kernel.exists(key):
            skipped.append({"key": key, "value": before, "reason": "this kernel has no %s" % key})
        elif not kernel.writable(key):
            skipped.append({"key": key, "value": before, "reason": "not writable here"})
        else:
            restore[key] = before
            live = kernel.read(key)
            if not values.same_value(_kind(given.limits, key), live, before):
                changes.append({"key": key, "before": live, "after": before})
    errors = []
    if saved and kernel.tree_read_only("net"):
        errors.append("/proc/sys/net is read-only here: the saved values cannot be restored on this host")
    return {
        "state": "absent", "file": given.sysctl_file, "restore": restore, "skipped": skipped,
        "live_changes": changes, "errors": errors,
        "file_exists": os.path.exists(_host_file(given.root, given.sysctl_file)),
        "state_exists": os.path.exists(_host_file(given.root, given.state_file)),
        "kernel": kernel.release(),
    }
