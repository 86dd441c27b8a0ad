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

import os

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import paths
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import restore as restore_file
from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import (
    CONNTRACK_MAX, MAX_TW_BUCKETS, PORT_RANGE, RESERVED_PORTS, TIMESTAMPS, TW_RECYCLE, TW_REUSE)
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.profile import PROFILES, choose_profile
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.conflicts import (
    SysctlFiles, find_conflicts, fixes_for)

# Ephemeral ports that must stay free of reservations when the limits table names no min_free.
DEFAULT_MIN_FREE_PORTS = 16384


class PlanInput:
    """Everything the plan depends on, gathered in one place (the module's parameters)."""

    def __init__(self, profiles, limits, profile="auto", overrides=None, facts=None, fix_conflicts=False,
                 sysctl_file="/etc/sysctl.d/90-tcpops-timewait.conf",
                 state_file="/var/lib/tcpops-timewait/tcp_tuning.json", auto_min_time_wait=100,
                 auto_ignore_ports=(22,), tw_recycle_why="", root="/", proc_root="/proc",
                 discard_restore_file=False):
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
        self.discard_restore_file = discard_restore_file


def _kind(limits, key):
    return (limits.get(key) or {}).get("kind", "int")


def _host_file(root, path):
    return os.path.join(root, path.lstrip("/"))


def managed_kinds(limits):
    """Every key the role may ever write, with its kind: the vetted limits and the forced tcp_tw_recycle."""
    kinds = dict((key, _kind(limits, key)) for key in limits)
    kinds[TW_RECYCLE] = "int"
    return kinds


class RestoreState:
    """The restore file as read and judged: ``exists``, ``saved`` ({} when none), ``damaged``, ``errors``."""

    def __init__(self, given):
        self.exists, self.saved, self.damaged, self.errors = False, {}, False, []
        try:
            self.exists, self.saved = restore_file.read(given.root, given.state_file, given.sysctl_file,
                                                        managed_kinds(given.limits))
        except restore_file.RestoreFileError as exc:
            self.exists, self.damaged = True, True
            if not given.discard_restore_file:
                self.errors.append(
                    "the restore file %s %s. It holds the live values from before the role's first change and "
                    "nothing else does, so the role stops here and changes nothing. Repair it from a backup, or "
                    "set tcp_tuning_discard_restore_file: true to set it aside (kept as %s.discarded) and take "
                    "the current live values as the originals" % (given.state_file, exc, given.state_file))


def check_paths(given, state):
    """Path, fingerprint and writability errors for everything the role will write or remove."""
    errors = paths.check_sysctl_file(given.root, given.sysctl_file)
    errors += paths.check_state_file(given.root, given.state_file, given.sysctl_file)
    if errors:
        return errors
    removing = state == "absent"
    if not removing or os.path.lexists(_host_file(given.root, given.sysctl_file)):
        errors += paths.check_writable(given.root, given.sysctl_file, "tcp_tuning_sysctl_file", must_exist=True)
    if not removing or os.path.lexists(_host_file(given.root, given.state_file)):
        errors += paths.check_writable(given.root, given.state_file, "tcp_tuning_state_file")
    return errors


def check_auto_variables(given):
    errors = []
    if isinstance(given.auto_min_time_wait, bool) or not isinstance(given.auto_min_time_wait, int) \
            or given.auto_min_time_wait < 1:
        errors.append("tcp_tuning_auto_min_time_wait = %r must be 1 or more: at 0 or below every host would "
                      "count as opening many connections" % (given.auto_min_time_wait,))
    bad = [port for port in given.auto_ignore_ports or [] if not 1 <= port <= 65535]
    if bad:
        errors.append("tcp_tuning_auto_ignore_ports holds %s, not ports: use numbers from 1 to 65535"
                      % ", ".join(str(port) for port in bad))
    return errors


class _Planner:
    def __init__(self, given):
        self.given = given
        self.kernel = KernelSysctl(given.proc_root)
        self.errors = []
        self.settings = []
        self.left_out = []
        self.restore = RestoreState(given)
        self.saved = self.restore.saved

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
                    self.left_out.append({"key": key, "value": row.get("value"), "reason": "dropped by tcp_tuning_overrides"})
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
        if row.get("requires") == "conntrack" and not self.kernel.exists(CONNTRACK_MAX):
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
                self.left_out.append({"key": row["key"], "value": row.get("value"), "reason": reason})
                continue
            value = self.resolve(row, listen_ports, port_range)
            if value is None:
                self.left_out.append({"key": row["key"], "value": None,
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
        if str(rendered.get(TIMESTAMPS)) == "0":
            self.errors.append("net.ipv4.tcp_timestamps = 0: the role never turns timestamps off (tcp_tw_reuse and "
                               "PAWS need them, and RTT estimates lose precision). Remove it from "
                               "tcp_tuning_overrides")
        if str(reuse) in ("1", "2") and str(stamps) == "0":
            self.errors.append("net.ipv4.tcp_tw_reuse = %s with net.ipv4.tcp_timestamps = 0: reuse is only safe with "
                               "timestamps, the kernel silently ignores it without them. Keep tcp_timestamps = 1 "
                               "(drop it from tcp_tuning_overrides) or set tcp_tw_reuse to 0" % reuse)
        self.check_free_ephemeral_ports(rendered)
        if MAX_TW_BUCKETS in rendered:
            floor = self.floor(MAX_TW_BUCKETS)
            if floor is not None and values.parse_int(rendered[MAX_TW_BUCKETS]) < floor:
                self.errors.append("net.ipv4.tcp_max_tw_buckets = %s is below %d, the value before this role: the "
                                   "kernel destroys TIME_WAIT sockets early past it and its docs say never to lower "
                                   "it. Use %d or more" % (rendered[MAX_TW_BUCKETS], floor, floor))

    def check_free_ephemeral_ports(self, rendered):
        """Reservations must leave enough of the ephemeral range: connect() fails with EADDRNOTAVAIL past it."""
        if PORT_RANGE not in rendered and RESERVED_PORTS not in rendered:
            return
        live_range = self.kernel.read(PORT_RANGE)
        try:
            low, high = values.parse_port_range(rendered.get(PORT_RANGE, live_range or "32768 60999"))
            reserved = values.parse_port_list(rendered.get(RESERVED_PORTS, self.kernel.read(RESERVED_PORTS)))
        except ValueError:
            return
        span = high - low + 1
        free = span - len([port for port in reserved if low <= port <= high])
        minimum = min(span, (self.given.limits.get(RESERVED_PORTS) or {}).get("min_free", DEFAULT_MIN_FREE_PORTS))
        if free < minimum:
            shown = values.format_port_list(reserved)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            self.errors.append("net.ipv4.ip_local_reserved_ports = %s leaves %d of the %d ephemeral ports (%d-%d) "
                               "free, fewer than the vetted minimum %d: outbound connect() would fail with "
                               "EADDRNOTAVAIL. Reserve only the ports services listen on"
                               % (shown, free, span, low, high, minimum))

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

    def check_restore_state(self):
        """Never take the role's own tuned values for the originals."""
        if self.restore.exists or self.given.discard_restore_file:
            return
        if os.path.isfile(_host_file(self.given.root, self.given.sysctl_file)):
            self.errors.append(
                "%s (written by this role) exists but the restore file %s is missing: the live values are the "
                "role's now, and saving them as the originals would lose the real ones. Put the restore file back "
                "from a backup, or set tcp_tuning_discard_restore_file: true to take the current live values as "
                "the originals" % (self.given.sysctl_file, self.given.state_file))

    def release(self):
        """Saved keys the profile no longer sets: back to their originals, then out of the restore file."""
        rendered = self.values()
        released, kept = {}, {}
        for key, before in sorted(self.saved.items()):
            if key in rendered:
                continue
            if not self.kernel.exists(key):
                self.left_out.append({"key": key, "value": before,
                                      "reason": "no longer set by the profile and this kernel has no such key"})
            elif not self.kernel.writable(key):
                kept[key] = before
                self.left_out.append({"key": key, "value": before,
                                      "reason": "no longer set by the profile, not writable here: kept for absent"})
            else:
                released[key] = before
        return released, kept

    def restore_state(self, kept):
        """Before the change: every original (released ones included); after: without the released ones."""
        saved = dict(self.saved)
        for setting in self.settings:
            if setting["key"] not in saved:
                saved[setting["key"]] = self.kernel.read(setting["key"])
        rendered = self.values()
        final = dict((key, value) for key, value in saved.items() if key in rendered or key in kept)
        return (restore_file.content(self.given.sysctl_file, saved),
                restore_file.content(self.given.sysctl_file, final))


def build_plan(given):
    """The plan for ``tcp_tuning_state: present``."""
    planner = _Planner(given)
    plan = {"state": "present", "profile_requested": given.profile, "profile": None, "reason": None,
            "file": given.sysctl_file, "settings": [], "rendered": {}, "left_out": [], "conflicts": [],
            "fixes": [], "live_changes": [], "release": {}, "errors": planner.errors,
            "kernel": planner.kernel.release(), "restore_state": None, "restore_state_after": None,
            "restore_file_damaged": planner.restore.damaged,
            "state_dir_missing": paths.directory_missing(given.root, given.state_file)}
    planner.errors.extend(check_paths(given, "present"))
    planner.errors.extend(planner.restore.errors)
    planner.errors.extend(check_auto_variables(given))
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
    planner.check_restore_state()
    rendered = planner.values()
    files = SysctlFiles(given.root, given.sysctl_file)
    conflicts = find_conflicts(
        files, rendered,
        lambda key, left, right: values.same_value(_kind(given.limits, key), left, right),
        planner.kernel.exists)
    for conflict in conflicts:
        conflict["fixed"] = bool(given.fix_conflicts and conflict["fixable"])
    planner.check_boot_timestamps(conflicts)
    fixes = fixes_for(files, conflicts) if given.fix_conflicts else []
    for fix in fixes:
        planner.errors.extend(paths.check_writable(given.root, fix["path"], "tcp_tuning_fix_conflicts"))
    released, kept = planner.release()
    before, after = planner.restore_state(kept)
    plan.update({
        "settings": planner.settings,
        "rendered": rendered,
        "left_out": planner.left_out,
        "conflicts": conflicts,
        "fixes": fixes,
        "live_changes": planner.live_changes(),
        "release": released,
        "release_changes": _changes(planner.kernel, given.limits, released),
        "restore_state": None if planner.errors else before,
        "restore_state_after": None if planner.errors else after,
    })
    return plan


def _changes(kernel, limits, wanted):
    changes = []
    for key, value in sorted(wanted.items()):
        live = kernel.read(key)
        if not values.same_value(_kind(limits, key), live, value):
            changes.append({"key": key, "before": live, "after": value})
    return changes


def build_restore_plan(given):
    """The plan for ``tcp_tuning_state: absent``: every saved live value goes back, or none does."""
    kernel = KernelSysctl(given.proc_root)
    state = RestoreState(given)
    errors = check_paths(given, "absent") + state.errors
    restore, left_out = {}, []
    for key, before in sorted(state.saved.items()):
        if not kernel.exists(key):
            left_out.append({"key": key, "value": before, "reason": "this kernel has no %s" % key})
        elif not kernel.writable(key):
            errors.append("%s cannot be written here (read-only in this network namespace or not root): absent "
                          "restores every saved value or none, so nothing was changed. Run it where %s is "
                          "writable" % (key, key))
        else:
            restore[key] = before
    if state.saved and kernel.tree_read_only("net"):
        errors.append("/proc/sys/net is read-only here: the saved values cannot be restored on this host")
    if errors:
        restore = {}
    return {
        "state": "absent", "file": given.sysctl_file, "restore": restore, "left_out": left_out,
        "live_changes": _changes(kernel, given.limits, restore), "errors": errors,
        "file_exists": os.path.exists(_host_file(given.root, given.sysctl_file)),
        "state_exists": state.exists, "restore_file_damaged": state.damaged,
        "kernel": kernel.release(),
    }
