# -*- coding: utf-8 -*-
"""Variables that hold one value for the whole run, checked across the play's hosts (tcp_audit_preflight)."""

import re
from pathlib import Path

import jinja2
import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import run_wide

UNSET = run_wide.UNSET
SET_IT_ONCE = "remove it where it differs and set it once (group all, or -e)"


def spread(hosts_values, play_values=None, playbook="audit", templated=None, skip=()):
    """spread_problems with a ``resolve`` that gives ``templated[(host, name)]`` (the value as written when
    absent, UNSET when unset) and records each call: (problems, calls)."""
    asked = []

    def resolve(host, name):
        asked.append((host, name))
        if (host, name) in (templated or {}):
            return templated[(host, name)]
        return dict(hosts_values)[host].get(name, UNSET)

    found = run_wide.spread_problems(hosts_values, play_values or {}, playbook, resolve, skip=skip)
    return found, asked


def test_a_value_set_otherwise_for_other_hosts_is_named_with_them_and_what_to_do():
    hosts = [("web1", {"tcp_audit_fail_on": "warn"}), ("web2", {"tcp_audit_fail_on": "warn"}),
             ("web3", {"tcp_audit_fail_on": "never"}), ("web4", {})]
    found, _asked = spread(hosts)
    assert found == [
        "tcp_audit_fail_on is read once for the whole run, as the play's first host sees it (web1: 'warn'); 2 other "
        "hosts have another value, which would be ignored (web3: 'never'; web4: unset): " + SET_IT_ONCE]


def test_five_hosts_are_listed_and_the_rest_counted():
    def hosts(count):
        return [("web0", {"tcp_audit_report_dir": "/srv/a"})] + [
            ("web%d" % number, {"tcp_audit_report_dir": "/srv/b"}) for number in range(1, count + 1)]
    five, _asked = spread(hosts(5))
    assert "(web1: '/srv/b'; web2: '/srv/b'; web3: '/srv/b'; web4: '/srv/b'; web5: '/srv/b'): " in five[0]
    six, _asked = spread(hosts(6))
    assert "6 other hosts have another value" in six[0]
    assert "web5: '/srv/b'; and 1 more): " in six[0] and "web6" not in six[0]


def test_unset_is_the_playbooks_default_and_values_are_compared_as_the_playbooks_read_them():
    alike = [
        ("tcp_audit_fail_on", UNSET, "fail"), ("tcp_audit_report_dir", UNSET, "reports"),
        ("tcp_audit_merge", UNSET, "yes"), ("tcp_audit_merge", False, "false"), ("tcp_audit_merge", "On", 1),
        ("tcp_report_keep", UNSET, "30"), ("tcp_report_in_progress_keep_days", 7, "7"),
        ("tcp_audit_report_name", UNSET, "report"), ("tcp_audit_report_name", 2024, "2024"),
        ("tcp_audit_textfile_dir", UNSET, ""), ("tcp_audit_textfile_dir", None, UNSET),
        ("tcp_audit_run_id", 42, "42"),
    ]
    for name, first, other in alike:
        hosts = [("web1", {} if first is UNSET else {name: first}), ("web2", {} if other is UNSET else {name: other})]
        assert spread(hosts, playbook="report")[0] == [], (name, first, other)
    differ = [("tcp_audit_merge", True, "ture"), ("tcp_audit_run_id", UNSET, ""), ("tcp_audit_run_id", None, UNSET),
              ("tcp_report_keep", 30, 31), ("tcp_audit_report_name", UNSET, "audit")]
    for name, first, other in differ:
        hosts = [("web1", {} if first is UNSET else {name: first}), ("web2", {} if other is UNSET else {name: other})]
        found = spread(hosts, playbook="report")[0]
        assert len(found) == 1 and found[0].startswith(name + " is read once"), (name, first, other)


def test_each_playbook_compares_only_what_it_reads():
    hosts = [("web1", {}), ("web2", {"tcp_report_keep": 90, "tcp_audit_merge": False, "tcp_audit_history": False,
                                     "tcp_remediate_max_fail_percentage": 50, "tcp_audit_top": 5,
                                     "tcp_audit_namespaces": "all", "tcp_remediate_profile": "proxy"})]
    assert [line.split(" ")[0] for line in spread(hosts, playbook="report")[0]] == [
        "tcp_audit_merge", "tcp_report_keep"]
    assert [line.split(" ")[0] for line in spread(hosts, playbook="audit")[0]] == ["tcp_audit_merge"]
    assert [line.split(" ")[0] for line in spread(hosts, playbook="remediate")[0]] == [
        "tcp_remediate_max_fail_percentage"]
    assert spread(hosts, playbook="merge") == ([], [])


def test_the_failure_budget_each_host_reads_must_be_one_for_the_run():
    # remediate's batches stop when the failed hosts exceed it; each host reads it for itself
    hosts = [("web1", {}), ("web2", {"tcp_remediate_max_fail_percentage": "0"}),
             ("db1", {"tcp_remediate_max_fail_percentage": 50}), ("db2", {"tcp_remediate_max_fail_percentage": "50"})]
    found, _asked = spread(hosts, playbook="remediate")
    assert found == ["tcp_remediate_max_fail_percentage is one budget for the whole run, but each host reads it as "
                     "it sees it (web1: unset); 2 other hosts have another value, with which they would stop at "
                     "another share of failed hosts (db1: 50; db2: '50'): " + SET_IT_ONCE]
    found, _asked = spread(hosts[:3], playbook="remediate")
    assert "1 other host has another value, with which it would stop" in found[0]
    assert spread([("web1", {"tcp_remediate_max_fail_percentage": 10}),
                   ("web2", {"tcp_remediate_max_fail_percentage": "10.0"})], playbook="remediate") == (
        [], [("web1", "tcp_remediate_max_fail_percentage"), ("web2", "tcp_remediate_max_fail_percentage")])


def test_values_written_differently_are_compared_once_templated_and_only_those_are_templated():
    hosts = [("web1", {"tcp_audit_fail_on": "warn"}), ("web2", {"tcp_audit_fail_on": "{{ level }}"}),
             ("web3", {"tcp_audit_fail_on": "warn"}), ("web4", {"tcp_audit_fail_on": "{{ level }}"})]
    found, asked = spread(hosts, templated={("web2", "tcp_audit_fail_on"): "warn",
                                            ("web4", "tcp_audit_fail_on"): "never"})
    assert found == [
        "tcp_audit_fail_on is read once for the whole run, as the play's first host sees it (web1: 'warn'); 1 other "
        "host has another value, which would be ignored (web4: 'never'): " + SET_IT_ONCE]
    assert asked == [("web1", "tcp_audit_fail_on"), ("web2", "tcp_audit_fail_on"), ("web4", "tcp_audit_fail_on")]


def test_one_template_written_for_all_is_templated_where_its_inputs_differ():
    template = "/srv/{{ site }}/{{ kind }}"
    hosts = [("web1", {"tcp_audit_report_dir": template, "site": "{{ region }}-1", "region": "eu", "kind": "tcp"}),
             ("web2", {"tcp_audit_report_dir": template, "site": "{{ region }}-1", "region": "eu", "kind": "tcp"}),
             ("web3", {"tcp_audit_report_dir": template, "site": "{{ region }}-1", "region": "us", "kind": "tcp"})]
    assert run_wide.inputs_by_name(hosts[0][1], ["tcp_audit_report_dir", "tcp_audit_fail_on"]) == {
        "tcp_audit_report_dir": frozenset(["site", "kind", "region"])}
    found, asked = spread(hosts, templated={("web1", "tcp_audit_report_dir"): "/srv/eu-1/tcp",
                                            ("web3", "tcp_audit_report_dir"): "/srv/us-1/tcp"})
    assert asked == [("web1", "tcp_audit_report_dir"), ("web3", "tcp_audit_report_dir")]
    assert found == [
        "tcp_audit_report_dir is read once for the whole run, as the play's first host sees it (web1: "
        "'/srv/eu-1/tcp'); 1 other host has another value, which would be ignored (web3: '/srv/us-1/tcp'): it is "
        "templated from variables that differ between hosts (region): give it one value for every host (group all, "
        "or -e)"]


def test_a_template_without_inputs_is_never_templated_and_one_that_cannot_be_parsed_always_is():
    clock = [(host, {"tcp_audit_run_id": "{{ now(fmt='%s') }}"}) for host in ("web1", "web2")]
    assert spread(clock) == ([], [])
    broken = [("web1", {"tcp_audit_run_id": "{{ oops"}), ("web2", {"tcp_audit_run_id": "{{ oops"})]
    assert run_wide.inputs_by_name(broken[0][1], ["tcp_audit_run_id"]) == {"tcp_audit_run_id": run_wide.ALWAYS}
    found, asked = spread(broken, templated={("web1", "tcp_audit_run_id"): "r1",
                                             ("web2", "tcp_audit_run_id"): run_wide.Untemplatable("unexpected end")})
    assert asked == [("web1", "tcp_audit_run_id"), ("web2", "tcp_audit_run_id")]
    assert found == [
        "tcp_audit_run_id is read once for the whole run, as the play's first host sees it (web1: 'r1'); 1 other "
        "host has another value, which would be ignored (web2: cannot be templated (unexpected end)): " + SET_IT_ONCE]


def test_one_already_refused_is_not_compared_again():
    hosts = [("web1", {"tcp_audit_fail_on": "warn"}), ("web2", {"tcp_audit_fail_on": "never"})]
    assert spread(hosts, skip=["tcp_audit_fail_on"]) == ([], [])


def test_one_host_has_nothing_to_differ_from():
    assert spread([("web1", {"tcp_audit_fail_on": "warn", "tcp_report_keep": 3})], playbook="report") == ([], [])


def test_a_play_keyword_set_as_a_host_variable_has_no_effect_and_is_named_where_the_playbook_has_it():
    hosts = [("web1", {"tcp_remediate_serial": 1}), ("web2", {"tcp_remediate_serial": 1}),
             ("web3", {"tcp_remediate_serial": 1, "tcp_audit_hosts": "web"})]
    hosts_line = ("tcp_audit_hosts is set as a host variable (web3: 'web'), where it has no effect: Ansible templates "
                  "the play's hosts from the extra variables and the play's own, before it reads any host's; pass it "
                  "with -e (in AWX, the job template's extra variables or a survey)")
    serial_line = ("tcp_remediate_serial is set as a host variable (web1: 1; web2: 1; web3: 1), where it has no "
                   "effect: Ansible templates the play's serial from the extra variables and the play's own, before it "
                   "reads any host's; pass it with -e (in AWX, the job template's extra variables or a survey)")
    assert spread(hosts, playbook="remediate")[0] == [hosts_line, serial_line]
    assert spread(hosts, playbook="audit")[0] == [hosts_line]
    assert spread(hosts, playbook="report")[0] == [hosts_line]
    assert spread(hosts, playbook="merge")[0] == []


def test_a_play_keyword_from_the_extra_or_play_variables_is_fine_and_a_host_variable_under_it_is_not():
    from_extra_vars = [("web1", {"tcp_remediate_serial": "25%"}), ("web2", {"tcp_remediate_serial": "25%"})]
    assert spread(from_extra_vars, play_values={"tcp_remediate_serial": "25%"}, playbook="remediate") == ([], [])
    overridden = [("web1", {"tcp_remediate_serial": 1}), ("web2", {})]
    found, _asked = spread(overridden, play_values={"tcp_remediate_serial": 2}, playbook="remediate")
    assert len(found) == 1 and found[0].startswith("tcp_remediate_serial is set as a host variable (web1: 1)")


def test_inputs_are_the_names_a_template_loads_whatever_its_filters_and_tests():
    first = {"a": "{{ '%Y' | strftime }}", "b": "{{ x | bool }}", "c": "{{ y is match('e.*') | ternary(z, 1) }}",
             "d": "{{ lookup('env', 'HOME') ~ now() }}", "e": "{{ vars['dir_' ~ dc] }}", "f": "{{ lookup('vars', k) }}",
             "g": "{{ query('ansible.builtin.vars', 'x') }}", "h": "{{ paths.reports }}", "i": "plain",
             "paths": {"reports": ["/srv/{{ site }}"]}, "site": "{% if eu %}eu{% endif %}"}
    assert run_wide.inputs_by_name(first, sorted(first)) == {
        "a": frozenset(), "b": frozenset(["x"]), "c": frozenset(["y", "z"]), "d": frozenset(),
        "e": run_wide.ALWAYS, "f": run_wide.ALWAYS, "g": run_wide.ALWAYS,
        "h": frozenset(["paths", "site", "eu"]), "paths": frozenset(["site", "eu"]), "site": frozenset(["eu"])}


def test_a_value_from_the_extra_or_play_variables_is_compared_only_where_its_inputs_differ():
    hosts = [("web1", {"tcp_audit_fail_on": "warn", "site": "eu"}),
             ("web2", {"tcp_audit_fail_on": "never", "site": "us"})]
    assert spread(hosts, play_values={"tcp_audit_fail_on": "fail"}) == ([], [])
    hosts = [("web1", {"site": "eu"}), ("web2", {"site": "us"})]
    found, asked = spread(hosts, play_values={"tcp_audit_report_dir": "/srv/{{ site }}"},
                          templated={("web1", "tcp_audit_report_dir"): "/srv/eu",
                                     ("web2", "tcp_audit_report_dir"): "/srv/us"})
    assert asked == [("web1", "tcp_audit_report_dir"), ("web2", "tcp_audit_report_dir")]
    assert found == [

        "tcp_audit_report_dir is read once for the whole run, as the play's first host sees it (web1: '/srv/eu'); 1 "
        "other host has another value, which would be ignored (web2: '/srv/us'): it is templated from variables "
        "that differ between hosts (site): give it one value for every host (group all, or -e)"]


def test_the_names_kept_of_each_host_are_the_playbooks_and_the_inputs_of_what_it_reads_once():
    first = {"tcp_audit_report_dir": "{{ root }}/{{ site }}", "site": "{{ region }}", "tcp_audit_top": "{{ n }}",
             "tcp_audit_run_id": "{{ vars['id_' ~ dc] }}"}
    assert run_wide.wanted_names(first, "audit") == run_wide.names("audit") | set(["root", "site", "region"])
    assert run_wide.names("audit") == set(run_wide.READ_ONCE["audit"]) | set(["tcp_audit_hosts"])
    assert run_wide.wanted_names({}, "merge") == set()


def _playbook_defaults(playbook):
    """{variable: [default value, ...]} of every ``NAME | default(LITERAL)`` the playbook (with its task files,
    which every playbook imports) writes; a default that is not a literal (omit, an expression) is left out."""
    root = Path(__file__).resolve().parents[5] / "playbooks"
    found = {}
    for path in [root / ("%s.yml" % playbook)] + sorted(root.glob("tasks/*.yml")):
        for name, literal in re.findall(r"\b(tcp_\w+)\s*\|\s*default\(([^()]*)\)", path.read_text()):
            try:
                value = jinja2.Environment().compile_expression("(%s,)" % literal)()[0]  # default's first argument
            except jinja2.exceptions.UndefinedError:
                continue
            if not isinstance(value, jinja2.Undefined):
                found.setdefault(name, []).append(value)
    return found


@pytest.mark.parametrize("playbook", sorted(run_wide.READ_ONCE))
def test_the_defaults_compared_are_those_the_playbooks_apply(playbook):
    # an unset variable is compared as its default: a default changed in a playbook must change here too
    defaults = _playbook_defaults(playbook)
    for name in run_wide.READ_ONCE[playbook]:
        if name == "tcp_audit_report_name":
            assert set(defaults[name]) == {playbook}
        elif name in run_wide.DEFAULTS:
            assert defaults.get(name) and set(defaults[name]) == {run_wide.DEFAULTS[name]}, name
        else:
            assert name not in defaults, "%s has a default in %s that run_wide.DEFAULTS lacks" % (name, playbook)
