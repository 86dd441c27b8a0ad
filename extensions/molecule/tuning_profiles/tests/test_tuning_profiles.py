"""Inside each converged container: the file, the live values, the conflicts, the reserved ports."""

import json
import pathlib

import pytest
import yaml

CASES = yaml.safe_load((pathlib.Path(__file__).parents[1] / "cases.yml").read_text())["tuning_cases"]
FILE = "/etc/sysctl.d/90-tcpops-timewait.conf"


@pytest.fixture
def case(host):
    return CASES[host.backend.get_hostname()]


def file_settings(host):
    settings = {}
    for line in host.file(FILE).content_string.splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key.strip()] = " ".join(value.split())
    return settings


def live(host, key):
    return " ".join(host.check_output("sysctl -n %s", key).split())


def result(host):
    return json.loads(host.file("/root/tcp_tuning_result.json").content_string)


def test_file_header_and_why_comments(host, case):
    sysctl_file = host.file(FILE)
    assert sysctl_file.user == "root" and sysctl_file.mode == 0o644
    lines = sysctl_file.content_string.splitlines()
    assert lines[:3] == ["#", "# Ansible managed", "#"]
    chosen = result(host)["profile"]
    assert lines[3].startswith("# tcpops.timewait.tcp_tuning: profile %s" % chosen)
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[number - 1].startswith("# ") and len(lines[number - 1]) > 10, line
    assert "tcp_tw_recycle" not in sysctl_file.content_string


def test_live_values_match_the_file_and_sysctl_accepts_it(host):
    settings = file_settings(host)
    assert settings
    for key, value in settings.items():
        assert live(host, key) == value, key
    applied = host.run("sysctl -p %s", FILE)
    assert applied.rc == 0 and applied.stderr == ""


def test_tw_reuse_only_where_the_host_opens_connections(host, case):
    settings = file_settings(host)
    chosen = result(host)["profile"]
    assert settings.get("net.ipv4.tcp_timestamps") == "1"
    if chosen in ("client", "proxy"):
        assert settings["net.ipv4.tcp_tw_reuse"] == "1"
        assert settings["net.ipv4.ip_local_port_range"] == "10240 65535"
    else:
        assert "net.ipv4.tcp_tw_reuse" not in settings
        assert "net.ipv4.ip_local_port_range" not in settings


def test_listening_ports_inside_the_widened_range_are_reserved(host, case):
    if result(host)["profile"] not in ("client", "proxy"):
        pytest.skip("profile %s does not widen the port range" % result(host)["profile"])
    reserved = host.check_output("sysctl -n net.ipv4.ip_local_reserved_ports").strip().split(",")
    for port in case["listen"]:
        assert (str(port) in reserved) == (10240 <= port <= 65535), port
        assert host.socket("tcp://0.0.0.0:%d" % port).is_listening


def test_folk_block_fixed_where_asked_and_reported_everywhere(host, case):
    if not case["folk"]:
        pytest.skip("no folk block on this host")
    conflicts = [c for c in result(host)["conflicts"] if c["key"] == "net.ipv4.tcp_tw_recycle"]
    assert [(c["path"], c["kind"], c["fixed"]) for c in conflicts] == [
        ("/etc/sysctl.conf", "obsolete", case["fix_conflicts"])]
    sysctl_conf = host.file("/etc/sysctl.conf").content_string
    by_file = host.run("sysctl -p /etc/sysctl.conf")
    if case["fix_conflicts"]:
        assert "# net.ipv4.tcp_tw_recycle = 1  # disabled by tcpops.timewait.tcp_tuning" in sysctl_conf
        assert by_file.rc == 0 and by_file.stderr == ""
        backups = host.run("ls /etc/sysctl.conf.*~").stdout.split()
        assert len(backups) == 1
        assert "\nnet.ipv4.tcp_tw_recycle = 1\n" in host.file(backups[0]).content_string
    else:
        assert "\nnet.ipv4.tcp_tw_recycle = 1\n" in sysctl_conf
        assert by_file.rc != 0 and "tcp_tw_recycle" in by_file.stderr


def test_boot_order_keeps_the_role_s_values_after_fixing(host, case):
    if not case["fix_conflicts"]:
        pytest.skip("conflicts left in place on this host")
    system = host.run("sysctl --system")
    assert system.rc == 0 and system.stderr == ""
    for key, value in file_settings(host).items():
        assert live(host, key) == value, key


def test_hardening_baseline_flagged_and_commented(host, case):
    if not case["hardening"]:
        pytest.skip("no hardening file on this host")
    conflicts = [c for c in result(host)["conflicts"] if c["key"] == "net.ipv4.tcp_timestamps"]
    assert [(c["path"], c["kind"], c["value"], c["fixed"]) for c in conflicts] == [
        ("/etc/sysctl.d/99-hardening.conf", "overrides", "0", True)]
    assert "# net.ipv4.tcp_timestamps = 0  # disabled by" in host.file("/etc/sysctl.d/99-hardening.conf").content_string


def test_nat_gateway_tunes_conntrack_and_reports_what_it_cannot(host, case):
    if case["profile"] != "nat_gateway":
        pytest.skip("not a NAT gateway")
    assert file_settings(host)["net.netfilter.nf_conntrack_tcp_timeout_time_wait"] == "60"
    skipped = dict((s["key"], s["reason"]) for s in result(host)["skipped"])
    # nf_conntrack_max is read-only outside the initial network namespace
    assert skipped["net.netfilter.nf_conntrack_max"].startswith("not writable here")
    assert "net.netfilter.nf_conntrack_max" not in file_settings(host)


def test_auto_reports_its_choice_and_reason(host, case):
    if case["profile"] != "auto":
        pytest.skip("profile given explicitly")
    outcome = result(host)
    assert outcome["profile_requested"] == "auto"
    # an idle container: no TIME_WAIT pressure, no service listener
    assert outcome["profile"] == "server"
    assert "no TIME_WAIT pressure and no service listener" in outcome["reason"]
    assert "(chosen by auto)" in host.file(FILE).content_string.splitlines()[3]


def test_saved_live_values_for_restore(host):
    state = host.file("/var/lib/tcpops-timewait/tcp_tuning.json")
    assert state.mode == 0o600
    saved = json.loads(state.content_string)["saved"]
    assert sorted(saved) == sorted(file_settings(host))
    if "net.ipv4.ip_local_port_range" in saved:
        assert saved["net.ipv4.ip_local_port_range"] == "32768 60999"
