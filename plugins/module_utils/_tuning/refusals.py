# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tcp_tuning role refuses, as tables of small checks.

Each check takes one ``PlanView`` (the plan so far, immutable) and returns its messages, an empty
list when it passes; each message says what to change. The plan runs the tables in order, each
once the view holds what its checks read: ``VARIABLES`` (the variables and the files the role
would write), ``HOST`` (the kernel itself), ``PROFILE``, ``ROWS`` (the composed rows),
``VALUES`` (the resolved values against each other and the host), ``BOOT`` (the other sysctl
files), and ``ABSENT`` for ``tcp_tuning_state: absent``. docs/trust.md lists every message.
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import namedtuple

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.keys import (
    MAX_TW_BUCKETS, PORT_RANGE, RESERVED_PORTS, TIMESTAMPS, TW_RECYCLE, TW_REUSE)
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import paths
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.profile import PROFILES
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.resolve import (
    KERNEL_DEFAULT_PORT_RANGE, listen_ports, needs_listen_ports)

# Ephemeral ports that must stay free of reservations when the limits table names no min_free.
DEFAULT_MIN_FREE_PORTS = 16384

# given: PlanInput; kernel: KernelSysctl; originals: the restore file read (originals.Originals);
# profile, rows: the composed rows; rendered: {key: value} resolved; conflicts, fixes: other files.
PlanView = namedtuple("PlanView", "given kernel originals profile rows rendered conflicts fixes")


def new_view(given, kernel, originals):
    return PlanView(given, kernel, originals, None, [], {}, [], [])


def every(table, view):
    """The messages of every check of ``table``."""
    messages = []
    for check in table:
        messages.extend(check(view))
    return messages


def first(table, view):
    """The messages of the first check of ``table`` that refuses (the later ones need it to pass)."""
    for check in table:
        messages = check(view)
        if messages:
            return messages
    return []


def _host_file(given, path):
    return os.path.join(given.root, path.lstrip("/"))


# -- VARIABLES --------------------------------------------------------------------------------------
def _path_errors(given, removing):
    """Path, fingerprint and writability of everything the role will write or remove."""
    errors = paths.check_sysctl_file(given.root, given.sysctl_file)
    errors += paths.check_state_file(given.root, given.state_file, given.sysctl_file)
    if errors:
        return errors
    if not removing or os.path.lexists(_host_file(given, given.sysctl_file)):
        errors += paths.check_writable(given.root, given.sysctl_file, "tcp_tuning_sysctl_file", must_exist=True)
    if not removing or os.path.lexists(_host_file(given, given.state_file)):
        errors += paths.check_writable(given.root, given.state_file, "tcp_tuning_state_file")
    return errors


def paths_are_writable(view):
    """Path, fingerprint and writability of everything ``present`` will write."""
    return _path_errors(view.given, removing=False)


def paths_are_removable(view):
    """The same for ``absent``, which writes only where the files exist."""
    return _path_errors(view.given, removing=True)


def restore_file_is_sound(view):
    given, originals = view.given, view.originals
    if not originals.damaged or given.discard_restore_file:
        return []
    return ["the restore file %s %s. It holds the live values from before the role's first change and nothing "
            "else does, so the role stops here and changes nothing. Repair it from a backup, or set "
            "tcp_tuning_discard_restore_file: true to set it aside (kept as %s.discarded) and take the current "
            "live values as the originals" % (given.state_file, originals.problem, given.state_file)]


def auto_threshold_is_positive(view):
    threshold = view.given.auto_min_time_wait
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        return ["tcp_tuning_auto_min_time_wait = %r must be 1 or more: at 0 or below every host would count as "
                "opening many connections" % (threshold,)]
    return []


def auto_ignore_ports_are_ports(view):
    bad = [port for port in view.given.auto_ignore_ports or [] if not 1 <= port <= 65535]
    if bad:
        return ["tcp_tuning_auto_ignore_ports holds %s, not ports: use numbers from 1 to 65535"
                % ", ".join(str(port) for port in bad)]
    return []


def overrides_name_vetted_keys(view):
    errors = []
    for key in sorted(view.given.overrides):
        if key == TW_RECYCLE:
            errors.append("tcp_tuning_overrides sets %s: the role never sets it (removed in Linux 4.12, it drops SYNs "
                          "from clients behind NAT; where the kernel still has it the role forces 0). Remove it "
                          "from tcp_tuning_overrides" % key)
        elif key not in view.given.limits:
            errors.append("tcp_tuning_overrides sets %s, which is not a key this role vets: use one of %s"
                          % (key, ", ".join(sorted(view.given.limits))))
    return errors


VARIABLES = (paths_are_writable, restore_file_is_sound, auto_threshold_is_positive, auto_ignore_ports_are_ports,
             overrides_name_vetted_keys)


# -- HOST (first refusal only) ----------------------------------------------------------------------
def kernel_has_tcp_sysctls(view):
    if view.kernel.exists(TIMESTAMPS):
        return []
    return ["%s has no net.ipv4 TCP sysctls: this is not a Linux host with /proc mounted, run the role only on "
            "Linux hosts" % os.path.join(view.given.proc_root, "sys")]


def proc_sys_net_is_writable(view):
    if not view.kernel.tree_read_only("net") and view.kernel.writable(TIMESTAMPS):
        return []
    return ["/proc/sys/net is read-only here (an unprivileged container, or not root): the role cannot change TCP "
            "sysctls on this host. Run it with become: true on the host or in a privileged container, or leave "
            "this host out; nothing was changed"]


HOST = (kernel_has_tcp_sysctls, proc_sys_net_is_writable)


# -- PROFILE ----------------------------------------------------------------------------------------
def profile_is_known(view):
    requested = view.given.profile
    if requested == "auto" or (requested in PROFILES and requested in view.given.profiles):
        return []
    return ["tcp_tuning_profile = %r is not a profile: use auto, %s" % (requested, ", ".join(PROFILES))]


PROFILE = (profile_is_known,)


# -- ROWS (first refusal only: the listening ports matter only for valid rows) -----------------------
def rows_within_limits(view):
    errors = []
    for row in view.rows:
        for message in values.validate(row["key"], row.get("value"), view.given.limits.get(row["key"], {})):
            errors.append("%s (tcp_tuning_profile %s%s)"
                          % (message, view.profile, ", from tcp_tuning_overrides" if row.get("override") else ""))
    return errors


def listening_ports_known(view):
    if not needs_listen_ports(view.rows) or listen_ports(view.given.facts) is not None:
        return []
    return ["the listening ports of this host are unknown (tcp_state facts missing or gathered in summary mode), "
            "so widening ip_local_port_range could take a service's port: gather tcpops.timewait.tcp_state_facts "
            "in full mode before the role"]


ROWS = (rows_within_limits, listening_ports_known)


# -- VALUES -----------------------------------------------------------------------------------------
def tw_reuse_value_accepted(view):
    if TW_REUSE not in view.rendered:
        return []
    accepted = view.kernel.tw_reuse_values()
    if values.parse_int(view.rendered[TW_REUSE]) in accepted:
        return []
    return ["net.ipv4.tcp_tw_reuse = %s: this kernel accepts only %s (value 2, loopback only, needs a newer "
            "kernel): use 1 for hosts that open many connections, or 0"
            % (view.rendered[TW_REUSE], " or ".join(str(value) for value in accepted))]


def timestamps_stay_on(view):
    if str(view.rendered.get(TIMESTAMPS)) != "0":
        return []
    return ["net.ipv4.tcp_timestamps = 0: the role never turns timestamps off (tcp_tw_reuse and PAWS need them, and "
            "RTT estimates lose precision). Remove it from tcp_tuning_overrides"]


def tw_reuse_has_timestamps(view):
    reuse = view.rendered.get(TW_REUSE, view.kernel.read(TW_REUSE))
    stamps = view.rendered.get(TIMESTAMPS, view.kernel.read(TIMESTAMPS))
    if str(reuse) not in ("1", "2") or str(stamps) != "0":
        return []
    return ["net.ipv4.tcp_tw_reuse = %s with net.ipv4.tcp_timestamps = 0: reuse is only safe with timestamps, the "
            "kernel silently ignores it without them. Keep tcp_timestamps = 1 (drop it from tcp_tuning_overrides) "
            "or set tcp_tw_reuse to 0" % reuse]


def enough_free_ephemeral_ports(view):
    """Reservations must leave enough of the ephemeral range: connect() fails with EADDRNOTAVAIL past it."""
    rendered, kernel = view.rendered, view.kernel
    if PORT_RANGE not in rendered and RESERVED_PORTS not in rendered:
        return []
    live_range = kernel.read(PORT_RANGE) or "%d %d" % KERNEL_DEFAULT_PORT_RANGE
    try:
        low, high = values.parse_port_range(rendered.get(PORT_RANGE, live_range))
        reserved = values.parse_port_list(rendered.get(RESERVED_PORTS, kernel.read(RESERVED_PORTS)))
    except ValueError:
        return []
    span = high - low + 1
    free = span - len([port for port in reserved if low <= port <= high])
    minimum = min(span, (view.given.limits.get(RESERVED_PORTS) or {}).get("min_free", DEFAULT_MIN_FREE_PORTS))
    if free >= minimum:
        return []
    shown = values.format_port_list(reserved)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return ["net.ipv4.ip_local_reserved_ports = %s leaves %d of the %d ephemeral ports (%d-%d) free, fewer than "
            "the vetted minimum %d: outbound connect() would fail with EADDRNOTAVAIL. Reserve only the ports "
            "services listen on" % (shown, free, span, low, high, minimum)]


def max_tw_buckets_not_lowered(view):
    if MAX_TW_BUCKETS not in view.rendered:
        return []
    before = view.originals.saved.get(MAX_TW_BUCKETS, view.kernel.read(MAX_TW_BUCKETS))
    try:
        floor = values.parse_int(before)
    except ValueError:
        return []
    if values.parse_int(view.rendered[MAX_TW_BUCKETS]) >= floor:
        return []
    return ["net.ipv4.tcp_max_tw_buckets = %s is below %d, the value before this role: the kernel destroys TIME_WAIT "
            "sockets early past it and its docs say never to lower it. Use %d or more"
            % (view.rendered[MAX_TW_BUCKETS], floor, floor)]


def originals_not_lost(view):
    """Never take the role's own tuned values for the originals."""
    given = view.given
    if view.originals.exists or given.discard_restore_file:
        return []
    if not os.path.isfile(_host_file(given, given.sysctl_file)):
        return []
    return ["%s (written by this role) exists but the restore file %s is missing: the live values are the role's "
            "now, and saving them as the originals would lose the real ones. Put the restore file back from a "
            "backup, or set tcp_tuning_discard_restore_file: true to take the current live values as the originals"
            % (given.sysctl_file, given.state_file)]


VALUES = (tw_reuse_value_accepted, timestamps_stay_on, tw_reuse_has_timestamps, enough_free_ephemeral_ports,
          max_tw_buckets_not_lowered, originals_not_lost)


# -- BOOT -------------------------------------------------------------------------------------------
def boot_keeps_timestamps(view):
    """tw_reuse = 1 from the role while a later file turns timestamps off at boot, and nothing fixes it."""
    if str(view.rendered.get(TW_REUSE)) != "1":
        return []
    errors = []
    for conflict in view.conflicts:
        if conflict["key"] == TIMESTAMPS and str(conflict["value"]) == "0" and not conflict["fixed"]:
            errors.append("%s:%d sets net.ipv4.tcp_timestamps = 0 after %s: after a reboot tcp_tw_reuse = 1 would run "
                          "without timestamps. %s"
                          % (conflict["path"], conflict["line"], view.given.sysctl_file,
                             "Set tcp_tuning_fix_conflicts: true or remove that line" if conflict["fixable"]
                             else "Mask that package file with an empty /etc/sysctl.d/%s"
                             % os.path.basename(conflict["path"])))
    return errors


def fix_targets_writable(view):
    errors = []
    for fix in view.fixes:
        errors.extend(paths.check_writable(view.given.root, fix["path"], "tcp_tuning_fix_conflicts"))
    return errors


BOOT = (boot_keeps_timestamps, fix_targets_writable)


# -- ABSENT -----------------------------------------------------------------------------------------
def saved_keys_writable(view):
    """absent restores every saved value or none: one key it cannot write stops it."""
    errors = []
    for key in sorted(view.originals.saved):
        if view.kernel.exists(key) and not view.kernel.writable(key):
            errors.append("%s cannot be written here (read-only in this network namespace or not root): absent "
                          "restores every saved value or none, so nothing was changed. Run it where %s is "
                          "writable" % (key, key))
    return errors


def net_writable_for_restore(view):
    if view.originals.saved and view.kernel.tree_read_only("net"):
        return ["/proc/sys/net is read-only here: the saved values cannot be restored on this host"]
    return []


ABSENT = (paths_are_removable, restore_file_is_sound, saved_keys_writable, net_writable_for_restore)
