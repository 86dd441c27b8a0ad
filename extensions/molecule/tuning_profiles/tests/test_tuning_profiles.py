"""Inside each converged container: the file, the live values, the conflicts, the reserved ports.

Every fact about a container is read once through the shared ``reader`` fixture (testinfra's file,
command and socket modules over ``podman exec``), in the order below: the files and live values
first, then ``sysctl -p`` and ``sysctl --system`` (which apply them as boot would), then the live
values again. The tests assert on that record.
"""

import json
import pathlib

import pytest
import yaml

CASES = yaml.safe_load((pathlib.Path(__file__).parents[1] / "vars" / "cases.yml").read_text())["tuning_cases"]
FILE = "/etc/sysctl.d/90-tcpops-timewait.conf"
KEYS = ["net.ipv4.tcp_timestamps", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_max_syn_backlog", "net.core.somaxconn",
        "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
        "net.netfilter.nf_conntrack_tcp_timeout_time_wait", "net.netfilter.nf_conntrack_max"]
FILES = (FILE, "/etc/sysctl.conf", "/etc/sysctl.d/99-hardening.conf", "/root/tcp_tuning_result.json",
         "/var/lib/tcpops-timewait/tcp_tuning.json")

_STATES = {}


def collect(reader):
    state = {"files": {}, "stat": {}}
    for path in FILES:
        state["files"][path] = reader.text(path)
        if state["files"][path] is not None:
            state["stat"][path] = reader.mode_and_owner(path)
    backups = ["/etc/" + name for name in reader.names("/etc") if name.startswith("sysctl.conf.") and name.endswith("~")]
    backups += ["/etc/sysctl.d/" + name for name in reader.names("/etc/sysctl.d") if name.endswith("~")]
    state["backups"] = dict((path, reader.text(path)) for path in backups)
    state["live"] = reader.sysctls(KEYS)
    state["listening"] = reader.listening_ports()
    state["sysctl_p_file"] = reader.run("sysctl -p %s", FILE)
    state["sysctl_p_conf"] = reader.run("sysctl -p /etc/sysctl.conf")
    state["sysctl_system"] = reader.run("sysctl --system")
    state["live_after_system"] = reader.sysctls(KEYS)
    return state


@pytest.fixture
def case(host):
    return CASES[host.backend.get_hostname()]


@pytest.fixture
def state(host, reader):
    name = host.backend.get_hostname()
    if name not in _STATES:
        _STATES[name] = collect(reader)
    return _STATES[name]


def settings_of(state):
    settings = {}
    for line in state["files"][FILE].splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key.strip()] = " ".join(value.split())
    return settings


def result_of(state):
    return json.loads(state["files"]["/root/tcp_tuning_result.json"])


def test_file_header_and_why_comments(state):
    assert state["stat"][FILE] == [0o644, 0]
    lines = state["files"][FILE].splitlines()
    assert lines[:3] == ["#", "# Ansible managed", "#"]
    assert lines[3].startswith("# tcpops.timewait.tcp_tuning: profile %s" % result_of(state)["profile"])
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[number - 1].startswith("# ") and len(lines[number - 1]) > 10, line
    assert "tcp_tw_recycle" not in state["files"][FILE]


def test_live_values_match_the_file_and_sysctl_accepts_it(state):
    settings = settings_of(state)
    assert settings == dict((key, state["live"][key]) for key in settings)
    assert state["sysctl_p_file"]["rc"] == 0 and state["sysctl_p_file"]["stderr"] == ""


def test_file_holds_what_the_result_reports(state):
    rendered = result_of(state)["rendered"]
    assert settings_of(state) == dict((key, " ".join(str(value).split())) for key, value in rendered.items())


def test_tw_reuse_and_port_range_only_where_the_host_opens_connections(state):
    settings = settings_of(state)
    assert settings["net.ipv4.tcp_timestamps"] == "1"
    if result_of(state)["profile"] in ("client", "proxy"):
        assert settings["net.ipv4.tcp_tw_reuse"] == "1"
        assert settings["net.ipv4.ip_local_port_range"] == "10240 65535"
    else:
        assert "net.ipv4.tcp_tw_reuse" not in settings
        assert "net.ipv4.ip_local_port_range" not in settings
        assert "net.ipv4.ip_local_reserved_ports" not in settings


def test_listening_ports_inside_the_widened_range_are_reserved(state, case):
    for port in case["listen"]:
        assert port in state["listening"], port
    if result_of(state)["profile"] not in ("client", "proxy"):
        assert state["live"]["net.ipv4.ip_local_reserved_ports"] == ""
        return
    reserved = [port for port in state["live"]["net.ipv4.ip_local_reserved_ports"].split(",") if port]
    for port in case["listen"]:
        assert (str(port) in reserved) == (10240 <= port <= 65535), port
    assert reserved == [str(port) for port in sorted(case["listen"]) if port >= 10240]


def test_folk_block_fixed_where_asked_and_reported_everywhere(state, case):
    conflicts = [c for c in result_of(state)["conflicts"] if c["key"] == "net.ipv4.tcp_tw_recycle"]
    sysctl_conf = state["files"]["/etc/sysctl.conf"] or ""
    by_file = state["sysctl_p_conf"]
    if not case["folk"]:
        assert conflicts == [] and "tcp_tw_recycle" not in sysctl_conf
        return
    assert [(c["path"], c["kind"], c["fixed"]) for c in conflicts] == [
        ("/etc/sysctl.conf", "obsolete", case["fix_conflicts"])]
    backups = [path for path in state["backups"] if path.startswith("/etc/sysctl.conf.")]
    if case["fix_conflicts"]:
        assert "\n# net.ipv4.tcp_tw_recycle = 1  # disabled by tcpops.timewait.tcp_tuning\n" in sysctl_conf
        assert by_file["rc"] == 0 and by_file["stderr"] == ""
        assert len(backups) == 1
        assert "\nnet.ipv4.tcp_tw_recycle = 1\n" in state["backups"][backups[0]]
    else:
        assert "\nnet.ipv4.tcp_tw_recycle = 1\n" in sysctl_conf
        assert by_file["rc"] != 0 and "tcp_tw_recycle" in by_file["stderr"]
        assert backups == []


def test_after_sysctl_system_the_role_s_values_hold(state):
    # sysctl --system applies every file as boot would: fixed conflicts no longer override the role,
    # and the folk block left on the client sets tw_reuse = 1 and syncookies = 1 as the role does
    system = state["sysctl_system"]
    assert system["rc"] == 0 and system["stderr"] == ""
    settings = settings_of(state)
    assert dict((key, state["live_after_system"][key]) for key in settings) == settings


def test_hardening_baseline_flagged_and_commented(state, case):
    conflicts = [c for c in result_of(state)["conflicts"] if c["key"] == "net.ipv4.tcp_timestamps"]
    if not case["hardening"]:
        assert conflicts == []
        return
    assert [(c["path"], c["kind"], c["value"], c["fixed"]) for c in conflicts] == [
        ("/etc/sysctl.d/99-hardening.conf", "overrides", "0", True)]
    assert "# net.ipv4.tcp_timestamps = 0  # disabled by" in state["files"]["/etc/sysctl.d/99-hardening.conf"]
    assert state["live_after_system"]["net.ipv4.tcp_timestamps"] == "1"


def test_conntrack_tuned_only_on_the_nat_gateway(state, case):
    settings = settings_of(state)
    skipped = dict((s["key"], s["reason"]) for s in result_of(state)["skipped"])
    if case["profile"] != "nat_gateway":
        assert "net.netfilter.nf_conntrack_tcp_timeout_time_wait" not in settings
        return
    assert settings["net.netfilter.nf_conntrack_tcp_timeout_time_wait"] == "60"
    # nf_conntrack_max is read-only outside the initial network namespace: skipped and reported
    assert skipped["net.netfilter.nf_conntrack_max"].startswith("not writable here")
    assert "net.netfilter.nf_conntrack_max" not in settings


def test_profile_and_reason(state, case):
    outcome = result_of(state)
    assert outcome["profile_requested"] == case["profile"]
    assert outcome["profile"] == case["expect"]
    header = state["files"][FILE].splitlines()[3]
    if case["profile"] != "auto":
        assert outcome["reason"] == "requested by tcp_tuning_profile"
        assert "(chosen by auto)" not in header
        return
    # the loopback client keeps about 1200 outbound TIME_WAIT; its server listens on loopback only
    assert "outbound >= 100" in outcome["reason"] and "no service listener" in outcome["reason"]
    assert "(chosen by auto)" in header


def test_saved_live_values_for_restore(state):
    path = "/var/lib/tcpops-timewait/tcp_tuning.json"
    assert state["stat"][path] == [0o600, 0]
    saved = json.loads(state["files"][path])["saved"]
    assert sorted(saved) == sorted(settings_of(state))
    if "net.ipv4.ip_local_port_range" in saved:
        assert saved["net.ipv4.ip_local_port_range"] == "32768 60999"
