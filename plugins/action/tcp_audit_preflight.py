# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of tcp_audit_preflight: the playbooks' variables checked before any host is contacted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import play_vars
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import run_wide
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.controller_action import ControllerAction
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.host_values import raw_vars
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.plain_values import plain

ARGUMENT_SPEC = dict(
    playbook=dict(type="str", required=True, choices=list(play_vars.PLAYBOOKS)),
)


try:
    from ansible.errors import AnsibleValueOmittedError
except ImportError:  # ansible-core before 2.19
    class AnsibleValueOmittedError(Exception):
        """Never raised: before 2.19 a template that gives omit returns the omit placeholder."""


def _kept(raw, wanted):
    """The variables of ``wanted`` a host has, by reference: not the whole of every host's at once."""
    return dict((name, raw[name]) for name in wanted if name in raw)


def _template_or_unset(templar, value, omit):
    """``value`` templated; UNSET where it gives omit (the playbooks' ``default(omit)`` leaves it unset);
    ``AnsibleError`` where templating fails."""
    try:
        value = templar.template(value)
    except AnsibleValueOmittedError:
        return run_wide.UNSET
    if omit is not None and value == omit:
        return run_wide.UNSET
    return plain(value)


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result, args = self.start(tmp, task_vars)
        task_vars = task_vars or {}
        values, found, untemplatable = self._templated(task_vars)
        found.extend(play_vars.problems(values, args["playbook"]))
        refused = untemplatable + [name for name, value in values.items()
                                   if name in play_vars.INPUTS and play_vars.INPUTS[name](value)]
        found.extend(self._spread_problems(task_vars, args["playbook"], values, refused))
        room, warnings = play_vars.room_problems(
            values, args["playbook"], len(task_vars.get("ansible_play_hosts_all") or []), refused)
        found.extend(room)
        if found:
            raise AnsibleActionFail(
                "%s; nothing was gathered or written" % "; ".join(found) if len(found) == 1 else
                "%d problems with the playbook's variables; nothing was gathered or written: %s"
                % (len(found), "; ".join("(%d) %s" % (number, text) for number, text in enumerate(found, 1))))
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        result.update(changed=False, checked=sorted(values))
        return result

    def _templated(self, task_vars):
        """({name: templated value}, problems, names that cannot be templated). A value templated into omit is
        unset, as the playbooks' ``default(omit)`` would leave it; thresholds that cannot be templated for this
        host are left to the report task, which templates them for each host and makes each one they fail for
        an error."""
        values, found, untemplatable = {}, [], []
        omit = task_vars.get("omit")
        for name in play_vars.names_to_check(task_vars):
            try:
                value = _template_or_unset(self._templar, task_vars[name], omit)
            except AnsibleError as exc:
                untemplatable.append(name)
                if name != "tcp_audit_thresholds":
                    found.append("%s cannot be templated: %s" % (name, " ".join(to_native(exc).split())))
                continue
            if value is not run_wide.UNSET:
                values[name] = value
        return values, found, untemplatable

    def _spread_problems(self, task_vars, playbook, first_values, refused):
        """``run_wide.spread_problems`` over the play's hosts: each host's variables read once, only the names
        that matter kept; the play's as Ansible templates its keywords; the first host's as ``_templated``
        gave them. Only with ``run_once``: without it every host would read every host's."""
        hostvars = task_vars.get("hostvars")
        first = task_vars.get("inventory_hostname")
        if hostvars is None or first is None or not self._task.run_once:
            return []
        # the extra variables and the play's own, over every host's: these plays have no roles and set no
        # fact before this task, so nothing else comes between
        play_level = self._task.get_variable_manager().get_vars(play=self._task.get_play())
        first_raw = raw_vars(hostvars, first)
        wanted = run_wide.wanted_names(dict(first_raw, **play_level), playbook)
        others = [host for host in task_vars.get("ansible_play_hosts_all") or [] if host != first]
        hosts_values = [(first, _kept(first_raw, wanted))] + [
            (host, _kept(raw_vars(hostvars, host), wanted)) for host in others]
        omit = task_vars.get("omit")
        templar = self._templar.copy_with_new_env()
        current = {}

        def resolve(host, name):
            if host == first:
                return first_values.get(name, run_wide.UNSET)
            if current.get("host") != host:
                available = dict(raw_vars(hostvars, host), hostvars=hostvars)
                available.update(play_level)
                templar.available_variables = available
                current.update(host=host, available=available)
            if name not in current["available"]:
                return run_wide.UNSET
            try:
                return _template_or_unset(templar, current["available"][name], omit)
            except AnsibleError as exc:
                return run_wide.Untemplatable(" ".join(to_native(exc).split()))

        return run_wide.spread_problems(hosts_values, _kept(play_level, wanted), playbook, resolve, skip=refused)
