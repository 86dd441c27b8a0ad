"""Static checks of the tcp_tuning role: its variables, its vetted tables and its template."""

import pathlib

import pytest
import yaml

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "tcp_tuning"


def load(relative):
    return yaml.safe_load((ROLE / relative).read_text())


DEFAULTS = load("defaults/main.yml")
SPEC = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
VARS = load("vars/main.yml")
ROWS = {
    "server": VARS["__tcp_tuning_common_settings"] + VARS["__tcp_tuning_server_settings"],
    "client": VARS["__tcp_tuning_common_settings"] + VARS["__tcp_tuning_client_settings"],
    "proxy": (VARS["__tcp_tuning_common_settings"] + VARS["__tcp_tuning_server_settings"]
              + VARS["__tcp_tuning_client_settings"]),
    "nat_gateway": VARS["__tcp_tuning_common_settings"] + VARS["__tcp_tuning_nat_settings"],
}


def test_defaults_and_argument_specs_name_the_same_variables():
    assert sorted(DEFAULTS) == sorted(SPEC)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_argument_spec_default_matches_defaults(name):
    assert SPEC[name]["default"] == DEFAULTS[name]
    assert name.startswith("tcp_tuning_")


def test_the_variables_the_playbooks_use_exist():
    for name in ("tcp_tuning_profile", "tcp_tuning_overrides", "tcp_tuning_fix_conflicts", "tcp_tuning_state"):
        assert name in SPEC
    assert SPEC["tcp_tuning_profile"]["choices"] == ["auto", "server", "client", "proxy", "nat_gateway"]


def test_profiles_in_vars_compose_the_same_rows_this_test_checks():
    for profile, table in VARS["__tcp_tuning_profiles"].items():
        assert profile in ROWS
        assert table["summary"]
        assert table["settings"].count("__tcp_tuning_common_settings") == 1


@pytest.mark.parametrize("profile", sorted(ROWS))
def test_every_vetted_row_passes_its_own_limits_and_says_why(profile):
    keys = [row["key"] for row in ROWS[profile]]
    assert len(keys) == len(set(keys)), "a key twice in %s" % profile
    for row in ROWS[profile]:
        assert row["key"] in VARS["__tcp_tuning_limits"], row["key"]
        assert values.validate(row["key"], row["value"], VARS["__tcp_tuning_limits"][row["key"]]) == []
        assert row["why"].strip() and "\n" not in row["why"].strip(), row["key"]


def test_nat_aware_rules_of_the_tables():
    for profile, rows in ROWS.items():
        settings = dict((row["key"], row["value"]) for row in rows)
        assert "net.ipv4.tcp_tw_recycle" not in settings
        assert settings["net.ipv4.tcp_timestamps"] == 1
        reuse = settings.get("net.ipv4.tcp_tw_reuse")
        assert reuse == (1 if profile in ("client", "proxy") else None), profile
        widened = "net.ipv4.ip_local_port_range" in settings
        assert widened == (profile in ("client", "proxy"))
        assert widened == ("net.ipv4.ip_local_reserved_ports" in settings)
    assert "net.ipv4.tcp_tw_recycle" not in VARS["__tcp_tuning_limits"]


def test_sizes_are_marked_never_lower():
    for rows in ROWS.values():
        for row in rows:
            if row["key"] in ("net.ipv4.tcp_max_tw_buckets", "net.core.somaxconn",
                              "net.ipv4.tcp_max_syn_backlog", "net.netfilter.nf_conntrack_max"):
                assert row.get("at_least") is True, row["key"]


def test_conntrack_rows_need_conntrack():
    for row in VARS["__tcp_tuning_nat_settings"]:
        assert row["requires"] == "conntrack"


def test_template_starts_with_ansible_managed_and_a_fingerprint():
    lines = (ROLE / "templates" / "tcp_tuning.conf.j2").read_text().splitlines()
    assert lines[0] == "{{ ansible_managed | comment }}"
    assert lines[1].startswith("# {{ __tcp_tuning_fingerprint }}")
    assert VARS["__tcp_tuning_fingerprint"] == "tcpops.timewait.tcp_tuning"


def test_task_files_exist():
    for name in ("main", "preflight", "plan", "save", "configure", "apply", "release", "verify", "absent"):
        assert (ROLE / "tasks" / (name + ".yml")).is_file()


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_variable_is_in_the_role_readme(name):
    assert "| `%s` |" % name in (ROLE / "README.md").read_text()


def test_the_restore_file_is_written_before_the_sysctl_file():
    """An interruption after the sysctl file must find the originals already on disk."""
    main = (ROLE / "tasks" / "main.yml").read_text()
    assert main.index("save.yml") < main.index("configure.yml") < main.index("apply.yml") < main.index("release.yml")
    assert "tcp_tuning_state_file" not in (ROLE / "tasks" / "configure.yml").read_text()


def test_the_role_plans_from_facts_it_gathered_itself():
    """A fact cache (AWX fact storage, jsonfile) may hold another host's tcp_state: never plan from it."""
    plan = (ROLE / "tasks" / "plan.yml").read_text()
    assert "__tcp_tuning_facts.ansible_facts.tcp_state" in plan
    assert "ansible_facts.tcp_state |" not in plan.replace("__tcp_tuning_facts.ansible_facts.tcp_state", "")
    gather = yaml.safe_load((ROLE / "tasks" / "preflight.yml").read_text())[0]
    assert gather["tcpops.timewait.tcp_state_facts"] == {"mode": "full"}
    assert gather["when"] == "tcp_tuning_state == 'present'"
