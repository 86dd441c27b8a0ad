# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of tcp_audit_preflight: the playbooks' variables checked before any host is contacted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import play_vars
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.controller_action import ControllerAction
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.host_values import HostValueError, HostValues
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.plain_values import plain

ARGUMENT_SPEC = dict(
    playbook=dict(type="str", required=True, choices=list(play_vars.PLAYBOOKS)),
)


try:
    from ansible.errors import AnsibleValueOmittedError
except ImportError:  # ansible-core before 2.19
    class AnsibleValueOmittedError(Exception):
        """Never raised: before 2.19 a template that gives omit returns the omit placeholder."""


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result, args = self.start(tmp, task_vars)
        task_vars = task_vars or {}
        values, found = self._templated(task_vars)
        found.extend(play_vars.problems(values, args["playbook"]))
        found.extend(self._spread_problems(task_vars, args["playbook"]))
        if found:
            raise AnsibleActionFail(
                "%s; nothing was gathered or written" % "; ".join(found) if len(found) == 1 else
                "%d problems with the playbook's variables; nothing was gathered or written: %s"
                % (len(found), "; ".join("(%d) %s" % (number, text) for number, text in enumerate(found, 1))))
        result.update(changed=False, checked=sorted(values))
        return result

    def _templated(self, task_vars):
        """({name: templated value}, problems). A value templated into omit is unset, as the playbooks'
        ``default(omit)`` would leave it; thresholds that cannot be templated for this host are left to the
        report task, which templates them for each host and makes each one they fail for an error."""
        values, found = {}, []
        omit = task_vars.get("omit")
        for name in play_vars.names_to_check(task_vars):
            try:
                value = self._templar.template(task_vars[name])
            except AnsibleValueOmittedError:
                continue
            except AnsibleError as exc:
                if name != "tcp_audit_thresholds":
                    found.append("%s cannot be templated: %s" % (name, " ".join(to_native(exc).split())))
                continue
            if omit is not None and value == omit:
                continue
            values[name] = plain(value)
        return values, found

    def _spread_problems(self, task_vars, playbook):
        """``play_vars.spread_problems`` for the play's hosts: each host's variables read once (the names that
        matter kept), the play's as Ansible templates its keywords."""
        hostvars = task_vars.get("hostvars")
        first = task_vars.get("inventory_hostname")
        if hostvars is None or first is None:
            return []
        names = play_vars.RUN_WIDE | set(play_vars.PLAY_KEYWORDS)
        others = [host for host in task_vars.get("ansible_play_hosts_all") or [] if host != first]
        hosts_values = []
        for host in [first] + others:
            raw = HostValues(hostvars, host, self._templar).raw
            hosts_values.append((host, dict((name, raw[name]) for name in names if name in raw)))
        play_level = self._task.get_variable_manager().get_vars(play=self._task.get_play())
        play_values = dict((name, play_level[name]) for name in names if name in play_level)

        def resolve(host, name):
            values = HostValues(hostvars, host, self._templar)
            try:
                return values.templated(name)
            except HostValueError:
                return plain(values.raw[name])

        return play_vars.spread_problems(hosts_values, play_values, playbook, resolve)
