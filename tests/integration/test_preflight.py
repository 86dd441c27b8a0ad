"""A mistyped variable stops each playbook at its first task, before any host is contacted: the reports
already published and node_exporter's textfile stay as they were (without the check, a bad tcp_audit_top
published a run of errors over them, and remediate wrote its before reports). A value set for one other
host only is still that host's error, with the module's reason; so is a misspelled name, with the report
task's.
"""

import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.root


def one_line(text):
    return " ".join(text.split())


@pytest.fixture
def published(tmp_path, playbook, reportdirs):
    """An audit and a report run already published, each with its textfile; returns what to compare."""
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    for name in ("audit", "report"):
        done = playbook.run(name, tmp_path / name, {"tcp_audit_textfile_dir": textfiles})
        assert done.returncode == 0, done.stdout[-3000:]
    reportdirs.assert_fixed(str(tmp_path / "audit"))
    assert sorted(os.listdir(str(textfiles))) == ["tcp-audit-audit.prom", "tcp-audit-report.prom"]
    return tmp_path


REFUSED = [
    ("audit", {"tcp_audit_top": "many"}, "tcp_audit_top must be a whole number of 0 or more, got 'many'"),
    ("report", {"tcp_audit_merge": "ture"}, "tcp_audit_merge must be true or false (yes, no, on, off, 1 or 0), got "
                                            "'ture'"),
    ("report", {"tcp_audit_namespace": "all"},
     "tcp_audit_namespace is not a variable of the tcpops.timewait playbooks (did you mean tcp_audit_namespaces?)"),
    ("audit", {"tcp_audit_top": "{{ no_such_variable }}"}, "tcp_audit_top cannot be templated"),
    ("remediate", {"tcp_remediate_profile": "servr", "tcp_remediate_max_fail_percentage": 150},
     "2 problems with the playbook's variables; nothing was gathered or written: (1) tcp_remediate_max_fail_percentage "
     "must be a number from 0 to 100, got '150'; (2) tcp_remediate_profile must be one of auto, server, client, proxy, "
     "nat_gateway, got 'servr'"),
    ("merge", {"tcp_audit_run_id": "r1", "tcp_audit_history": "maybe"},
     "tcp_audit_history must be true or false (yes, no, on, off, 1 or 0), got 'maybe'"),
    ("merge", {}, "tcpops.timewait.merge needs tcp_audit_run_id"),
    ("report", {"tcp_report_keep": 0, "tcp_audit_thresholds": '{"close_wait_warn":"many"}'},
     "(1) tcp_audit_thresholds: threshold close_wait_warn must be a number, got 'many'; (2) tcp_report_keep must be a "
     "whole number of 1 or more, got 0"),
]


@pytest.mark.parametrize("name,extra,message", REFUSED, ids=["%s %s" % (n, sorted(e)) for n, e, _m in REFUSED])
def test_a_mistyped_variable_stops_the_playbook_before_any_host_and_changes_nothing(
        published, playbook, reportdirs, name, extra, message):
    textfiles = published / "textfile"
    dest = published / ("audit" if name == "audit" else "report")
    before = reportdirs.snapshot(str(published))
    variables = dict(extra, tcp_audit_textfile_dir=textfiles)
    done = playbook.run(name, dest, variables)
    out = one_line(done.stdout)
    assert done.returncode != 0, out[-3000:]
    assert message in out and "nothing was gathered or written" in out, out[-3000:]
    assert "Gather TCP state facts" not in out and "Merge the slices and write" not in out
    assert reportdirs.snapshot(str(published)) == before


def test_a_report_directory_the_reports_cannot_go_to_is_refused_before_any_host(tmp_path, playbook):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports would go\n")
    done = playbook.run("report", blocker)
    out = one_line(done.stdout)
    assert done.returncode != 0
    assert "tcp_audit_report_dir: %s exists and is not a directory; nothing was gathered or written" % blocker in out
    assert "Gather TCP state facts" not in out
    assert blocker.read_text() == "a file where the reports would go\n"


OTHER_HOST = [
    ("tcp_audit_top=many", "top"),
    ("tcp_audit_namespace=all", "tcp_audit_namespace is not a variable of the tcpops.timewait playbooks (did you "
                                "mean tcp_audit_namespaces?); it would have no effect"),
]


@pytest.mark.parametrize("variable,reason", OTHER_HOST, ids=[variable for variable, _reason in OTHER_HOST])
def test_a_bad_value_or_a_misspelled_name_for_one_other_host_is_that_hosts_error(tmp_path, playbook, reportdirs,
                                                                                 variable, reason):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n"
                         "second ansible_connection=local %s\n" % variable)
    dest = tmp_path / "reports"
    done = playbook.run("audit", dest, inventory=str(inventory))
    assert done.returncode == 0, done.stdout[-3000:]
    hosts = reportdirs.assert_fixed(str(dest))["hosts"]
    assert hosts["localhost"]["status"] != "error", hosts["localhost"]["reason"]
    assert hosts["second"]["status"] == "error" and reason in hosts["second"]["reason"], hosts["second"]["reason"]
    assert json.loads((dest / "tcp-audit.json").read_text())["summary"]["hosts"] == 2


def _inventory_with_groups(tmp_path, group_vars, host_vars=None):
    """localhost in group a, second in group b, both local; ``group_vars`` and ``host_vars`` ({name: text})
    written beside the inventory, where Ansible reads them."""
    inventory = tmp_path / "inventory" / "hosts.ini"
    for kind, files in (("group_vars", group_vars), ("host_vars", host_vars or {})):
        (inventory.parent / kind).mkdir(parents=True)
        for name, text in files.items():
            (inventory.parent / kind / (name + ".yml")).write_text(text)
    inventory.write_text("[a]\nlocalhost ansible_connection=local\n[b]\nsecond ansible_connection=local\n")
    return str(inventory)


SET_IT_ONCE = "remove it where it differs and set it once (group all, or -e)"
NO_EFFECT = ("where it has no effect: Ansible templates the play's %s from the extra variables and the play's own, "
             "before it reads any host's; pass it with -e")
SPREAD = [
    ("audit", {"b": "tcp_audit_report_name: nightly\n"}, {},
     "tcp_audit_report_name is read once for the whole run, as the play's first host sees it (localhost: unset); "
     "1 other host has another value, which would be ignored (second: 'nightly'): " + SET_IT_ONCE),
    ("report", {"a": "tcp_report_keep: 5\n", "b": "tcp_report_keep: 50\n"}, {},
     "tcp_report_keep is read once for the whole run, as the play's first host sees it (localhost: 5); 1 other "
     "host has another value, which would be ignored (second: 50): " + SET_IT_ONCE),
    ("audit", {"all": "tcp_audit_report_name: \"{{ site }}-audit\"\n", "a": "site: eu\n", "b": "site: us\n"}, {},
     "tcp_audit_report_name is read once for the whole run, as the play's first host sees it (localhost: "
     "'eu-audit'); 1 other host has another value, which would be ignored (second: 'us-audit'): it is templated "
     "from variables that differ between hosts (site): give it one value for every host (group all, or -e)"),
    ("remediate", {"b": "tcp_remediate_max_fail_percentage: 50\n"}, {},
     "tcp_remediate_max_fail_percentage is one budget for the whole run, but each host reads it as it sees it "
     "(localhost: unset); 1 other host has another value, with which it would stop at another share of failed "
     "hosts (second: 50): " + SET_IT_ONCE),
    ("remediate", {"all": "tcp_remediate_serial: 1\n"}, {},
     "tcp_remediate_serial is set as a host variable (localhost: 1; second: 1), " + NO_EFFECT % "serial"),
    ("audit", {}, {"second": "tcp_audit_hosts: second\n"},
     "tcp_audit_hosts is set as a host variable (second: 'second'), " + NO_EFFECT % "hosts"),
]


@pytest.mark.parametrize("name,group_vars,host_vars,message", SPREAD,
                         ids=["%s %s" % (n, sorted(g) + sorted(h)) for n, g, h, _m in SPREAD])
def test_a_run_wide_variable_set_per_host_stops_the_playbook_before_any_host_and_changes_nothing(
        tmp_path, published, playbook, reportdirs, name, group_vars, host_vars, message):
    dest = published / ("audit" if name == "audit" else "report")
    inventory = _inventory_with_groups(tmp_path, group_vars, host_vars)
    before = reportdirs.snapshot(str(published))
    done = playbook.run(name, dest, {"tcp_audit_textfile_dir": published / "textfile"}, inventory=inventory)
    out = one_line(done.stdout)
    assert done.returncode != 0, out[-3000:]
    assert message in out and "nothing was gathered or written" in out, out[-3000:]
    assert "Gather TCP state facts" not in out
    assert reportdirs.snapshot(str(published)) == before


def test_a_run_wide_value_that_templates_alike_or_comes_from_extra_variables_runs(tmp_path, playbook, reportdirs):
    """Also: a value templated into omit is unset, and a variable this playbook does not read (tcp_report_keep:
    the audit keeps no history) may differ."""
    inventory = _inventory_with_groups(tmp_path, {
        "a": "tcp_audit_report_name: nightly\ntcp_report_keep: 5\n",
        "b": "tcp_audit_report_name: \"{{ 'night' ~ 'ly' }}\"\ntcp_report_keep: 50\n"
             "tcp_audit_textfile_dir: \"{{ omit }}\"\n",
        "all": "tcp_audit_hosts: all\n"})
    dest = tmp_path / "reports"
    done = playbook.run("audit", dest, {"tcp_audit_hosts": "all"}, inventory=inventory)
    assert done.returncode == 0, done.stdout[-3000:]
    assert sorted(reportdirs.assert_fixed(str(dest), report="nightly")["hosts"]) == ["localhost", "second"]


def _run(argv, playbook, cwd):
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=playbook.env(),
                          check=False, cwd=str(cwd))
    return done.returncode, one_line(done.stdout)


def test_play_variables_override_every_hosts_and_limit_leaves_the_other_hosts_out(tmp_path, playbook, reportdirs):
    inventory = _inventory_with_groups(tmp_path, {"a": "site: eu\n", "b": "tcp_audit_report_name: other\nsite: us\n"})
    wrapper = tmp_path / "audit-play-vars.yml"
    dest = tmp_path / "reports"
    argv = playbook.argv("audit", dest, inventory=inventory)
    rc, out = _run(argv, playbook, tmp_path)
    assert rc != 0 and "tcp_audit_report_name is read once" in out, out[-3000:]
    assert not dest.exists()
    for report_name, limit in (("nightly", []), ("audit", ["--limit", "localhost"])):
        wrapper.write_text("- name: The audit with play variables\n  ansible.builtin.import_playbook: tcpops.timewait.audit\n"
                           "  vars:\n    tcp_audit_report_name: %s\n" % report_name)
        rc, out = _run(argv[:-1] + limit + [str(wrapper)], playbook, tmp_path)
        assert rc == 0 and "is read once" not in out, out[-3000:]
        hosts = reportdirs.assert_fixed(str(dest), report=report_name)["hosts"]
        assert sorted(hosts) == (["localhost"] if limit else ["localhost", "second"])
    # a play variable templated from variables that differ between hosts differs too
    wrapper.write_text("- name: The audit with a play variable templated per host\n"
                       "  ansible.builtin.import_playbook: tcpops.timewait.audit\n"
                       "  vars:\n    tcp_audit_report_name: \"{{ site }}-nightly\"\n")
    before = reportdirs.snapshot(str(dest))
    rc, out = _run(argv[:-1] + [str(wrapper)], playbook, tmp_path)
    assert rc != 0, out[-3000:]
    assert ("tcp_audit_report_name is read once for the whole run, as the play's first host sees it (localhost: "
            "'eu-nightly'); 1 other host has another value, which would be ignored (second: 'us-nightly'): it is "
            "templated from variables that differ between hosts (site)") in out, out[-3000:]
    assert reportdirs.snapshot(str(dest)) == before
