"""The plan's input as the role builds it: its defaults and its rendered vars, with a test's changes."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan import ROLE_VARIABLES, PlanInput


@pytest.fixture
def role_plan_input(tcp_tuning_vars, tcp_tuning_defaults):
    """``make(**fields)``: a PlanInput holding what tasks/plan.yml passes with the role's defaults."""

    def make(**fields):
        given = dict((name, tcp_tuning_defaults["tcp_tuning_" + name]) for name in ROLE_VARIABLES)
        given.update(profiles=tcp_tuning_vars["__tcp_tuning_profiles"], limits=tcp_tuning_vars["__tcp_tuning_limits"],
                     tw_recycle_why=tcp_tuning_vars["__tcp_tuning_tw_recycle_why"], facts=None)
        given.update(fields)
        return PlanInput(**given)

    return make
