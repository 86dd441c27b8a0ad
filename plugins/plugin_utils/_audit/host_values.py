# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's variables as the controller's actions read them: each host's read once, templated on demand."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit.plain_values import plain


class HostValueError(Exception):
    """A variable of one host could not be read: that host is an error, the others are reported."""


def raw_vars(hostvars, name):
    """The variables of host ``name`` as written (``HostVars.raw_get``: not templated); {} for no such host."""
    if name not in hostvars:
        return {}
    return hostvars.raw_get(name) if hasattr(hostvars, "raw_get") else hostvars[name]


class HostValues(object):
    """One host's variables, read once (``HostVars.raw_get``), as ``plain`` values."""

    def __init__(self, hostvars, name, templar):
        self.raw = raw_vars(hostvars, name)
        self.templar = templar
        self._host_templar = None

    def templated(self, var):
        """The variable templated with the host's variables (None when unset); ``HostValueError`` when that
        fails (an undefined variable in it, a failing lookup)."""
        value = self.raw.get(var)
        if value is None:
            return None
        if self._host_templar is None:
            self._host_templar = self.templar.copy_with_new_env(available_variables=self.raw)
        try:
            return plain(self._host_templar.template(value))
        except AnsibleError as exc:
            raise HostValueError("%s cannot be templated for this host: %s" % (var, to_native(exc)))

    def registered(self, var):
        """A registered result as it is; a string (a template set in the inventory instead) templated."""
        value = self.raw.get(var)
        return self.templated(var) if isinstance(value, str) else plain(value)
