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
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.plain_values import plain

ARGUMENT_SPEC = dict(
    playbook=dict(type="str", required=True, choices=list(play_vars.PLAYBOOKS)),
)


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result, args = self.start(tmp, task_vars)
        task_vars = task_vars or {}
        values = {}
        found = []
        for name in play_vars.names_to_check(task_vars):
            try:
                values[name] = plain(self._templar.template(task_vars[name]))
            except AnsibleError as exc:
                found.append("%s cannot be templated: %s" % (name, " ".join(to_native(exc).split())))
        found.extend(play_vars.problems(values, args["playbook"]))
        if found:
            raise AnsibleActionFail(
                "%s; nothing was gathered or written" % "; ".join(found) if len(found) == 1 else
                "%d problems with the playbook's variables; nothing was gathered or written: %s"
                % (len(found), "; ".join("(%d) %s" % (number, text) for number, text in enumerate(found, 1))))
        result.update(changed=False, checked=sorted(values))
        return result
