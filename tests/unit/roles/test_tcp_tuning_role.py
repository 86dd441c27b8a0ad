"""Static checks of the tcp_tuning role: its variables, its vetted tables and its template.

The profiles are checked as Ansible renders vars/main.yml (the session fixture ``tcp_tuning_vars``),
never re-composed here.
"""

import pathlib

import pytest
import yaml

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import values
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan import ROLE_VARIABLES, PlanInput
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.profile import PROFILES
from ansible_collections.tcpops.timewait.plugins.modules import tcp_tuning_plan

ROLE = pathlib.Path(__file__).parents[3] / "roles" / "tcp_tuning"


def load(relative):
    return yaml.safe_load((ROLE / relative).read_text())


DEFAULTS = load("defaults/main.yml")
SPEC = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
RAW_VARS = load("vars/main.yml")
# Role variables the plan does not read: the role's own tasks do.
ROLE_ONLY = {"tcp_tuning_verify": "verify.yml"}
# The plan checks its two paths exactly as given: `path` would expand ~ and variables first.
MODULE_TYPE = {"path": "str"}


@pytest.fixture(scope="module")
def ROWS(tcp_tuning_vars):
    return dict((name, table["settings"]) for name, table in tcp_tuning_vars["__tcp_tuning_profiles"].items())


@pytest.fixture(scope="module")
def VARS(tcp_tuning_vars):
    return tcp_tuning_vars


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


def test_the_rendered_profiles_are_the_plan_s_profiles_each_with_the_common_rows_once(VARS, ROWS):
    assert sorted(ROWS) == sorted(PROFILES)
    common = VARS["__tcp_tuning_common_settings"]
    for profile, table in VARS["__tcp_tuning_profiles"].items():
        assert table["summary"]
        assert RAW_VARS["__tcp_tuning_profiles"][profile]["settings"].count("__tcp_tuning_common_settings") == 1
        assert ROWS[profile][:len(common)] == common, profile
        assert [row["key"] for row in ROWS[profile]].count(common[0]["key"]) == 1


def test_proxy_is_server_and_client_together(VARS, ROWS):
    assert ROWS["proxy"] == VARS["__tcp_tuning_common_settings"] + VARS["__tcp_tuning_server_settings"] + \
        VARS["__tcp_tuning_client_settings"]
    assert set(row["key"] for row in ROWS["proxy"]) == \
        set(row["key"] for row in ROWS["server"]) | set(row["key"] for row in ROWS["client"])


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_vetted_row_passes_its_own_limits_and_says_why(profile, ROWS, VARS):
    keys = [row["key"] for row in ROWS[profile]]
    assert len(keys) == len(set(keys)), "a key twice in %s" % profile
    for row in ROWS[profile]:
        assert row["key"] in VARS["__tcp_tuning_limits"], row["key"]
        assert values.validate(row["key"], row["value"], VARS["__tcp_tuning_limits"][row["key"]]) == []
        assert row["why"].strip() and "\n" not in row["why"].strip(), row["key"]


def test_nat_aware_rules_of_the_tables(ROWS, VARS):
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


def test_sizes_are_marked_never_lower(ROWS):
    for rows in ROWS.values():
        for row in rows:
            if row["key"] in ("net.ipv4.tcp_max_tw_buckets", "net.core.somaxconn",
                              "net.ipv4.tcp_max_syn_backlog", "net.netfilter.nf_conntrack_max"):
                assert row.get("at_least") is True, row["key"]


def test_conntrack_rows_need_conntrack(VARS):
    for row in VARS["__tcp_tuning_nat_settings"]:
        assert row["requires"] == "conntrack"


def test_template_starts_with_ansible_managed_and_a_fingerprint(VARS):
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
    # apply comes right after configure: nothing between writing the file and applying it
    tasks = yaml.safe_load(main)[1]["block"]
    names = [task["ansible.builtin.include_tasks"] for task in tasks]
    assert names.index("apply.yml") == names.index("configure.yml") + 1
    assert "tcp_tuning_state_file" not in (ROLE / "tasks" / "configure.yml").read_text()


def test_the_role_plans_from_facts_it_gathered_itself():
    """A fact cache (AWX fact storage, jsonfile) may hold another host's tcp_state: never plan from it."""
    plan = (ROLE / "tasks" / "plan.yml").read_text()
    assert "__tcp_tuning_facts.ansible_facts.tcp_state" in plan
    assert "ansible_facts.tcp_state |" not in plan.replace("__tcp_tuning_facts.ansible_facts.tcp_state", "")
    gather = yaml.safe_load((ROLE / "tasks" / "preflight.yml").read_text())[0]
    assert gather["tcpops.timewait.tcp_state_facts"] == {"mode": "full"}
    assert gather["when"] == "tcp_tuning_state == 'present'"


def tasks_of(name):
    return yaml.safe_load((ROLE / "tasks" / (name + ".yml")).read_text())


def every_task():
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()):
            yield path.name, task


def test_one_apply_step_and_no_handler():
    """The file's values go live in apply.yml on every run, whether or not the file changed."""
    assert not (ROLE / "handlers").exists()
    for name, task in every_task():
        assert "notify" not in task, name
        assert task.get("ansible.builtin.meta") != "flush_handlers", name
    apply = tasks_of("apply")
    assert len(apply) == 1 and "when" not in apply[0]
    assert apply[0]["tcpops.timewait.tcp_tuning_live"] == {
        "values": "{{ __tcp_tuning_plan.rendered }}", "kinds": "{{ __tcp_tuning_plan.kinds }}"}
    written = [task for task in tasks_of("configure") if "ansible.builtin.template" in task]
    assert len(written) == 1 and "when" not in written[0]


def test_every_live_write_takes_the_kinds_from_the_plan():
    """A value's kind is computed once, in Python: no Jinja copy in the role's vars."""
    live = [(name, task) for name, task in every_task() if "tcpops.timewait.tcp_tuning_live" in task]
    assert sorted(name for name, _task in live) == ["absent.yml", "apply.yml", "release.yml", "verify.yml"]
    for name, task in live:
        assert task["tcpops.timewait.tcp_tuning_live"]["kinds"] == "{{ __tcp_tuning_plan.kinds }}", name
    assert not [name for name in RAW_VARS if "kind" in name]


def test_the_plan_module_takes_every_role_variable_as_given():
    """Defaults are declared once, in defaults/main.yml: argument_specs repeats them (checked above), and
    the plan module and PlanInput have none for the role's variables, only the type argument_specs gives."""
    options = plan_module_options()
    plan = tasks_of("plan")[0]["tcpops.timewait.tcp_tuning_plan"]
    assert sorted(ROLE_VARIABLES) == sorted(name[len("tcp_tuning_"):] for name in DEFAULTS if name not in ROLE_ONLY)
    for name in ROLE_VARIABLES:
        role_spec, module_spec = SPEC["tcp_tuning_" + name], options[name]
        assert "default" not in module_spec and module_spec.get("required") is True, name
        assert module_spec["type"] == MODULE_TYPE.get(role_spec["type"], role_spec["type"]), name
        assert module_spec.get("elements") == role_spec.get("elements"), name
        if "choices" in module_spec:
            assert module_spec["choices"] == role_spec["choices"], name
        assert plan[name] == "{{ tcp_tuning_%s }}" % name, name
    assert set(PlanInput._field_defaults) == {"root", "proc_root"}
    for name, task_file in ROLE_ONLY.items():
        assert "{{ %s }}" % name not in yaml.safe_dump(plan) and name in (ROLE / "tasks" / task_file).read_text()


def plan_module_options():
    """The plan module's argument_spec, as AnsibleModule receives it."""
    captured = {}

    class Capture(Exception):
        pass

    def fake_module(argument_spec, **_kwargs):
        captured.update(argument_spec)
        raise Capture()

    original = tcp_tuning_plan.AnsibleModule
    tcp_tuning_plan.AnsibleModule = fake_module
    try:
        tcp_tuning_plan.build_module()
    except Capture:
        pass
    finally:
        tcp_tuning_plan.AnsibleModule = original
    return captured
