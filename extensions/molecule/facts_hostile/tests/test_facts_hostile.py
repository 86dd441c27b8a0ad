"""tcp_state_facts on a container holding odd host data, under a 256 MB memory limit.

prepare.yml planted in /etc/sysctl.d a link to /dev/zero, a FIFO, a NUL byte in a key, a 50 MB
file, a directory, a dangling link, a link loop and a socket file, all named *.conf, and a process
named with bytes that are not UTF-8 holding 40 CLOSE_WAIT sockets. The module must return its facts
within seconds, name each of these in ``errors``, and read the ordinary data around them.
"""

import json
import subprocess
import time

import pytest

MEMORY_LIMIT = 256 * 1024 * 1024
SYSCTL_D = "/etc/sysctl.d"
EXPECTED_FILE_ERRORS = [
    "81-x.conf: a character device, not a regular file: not read",
    "82-fifo.conf: a FIFO, not a regular file: not read",
    "83-nul.conf line 1: key 'net.ipv4.tcp_fin\\x00_timeout' holds a control character, a NUL byte,"
    " a space or invalid UTF-8",
    "84-huge.conf: larger than 262144 bytes: not read",
    "85-dir.conf: a directory, not a regular file: not read",
    "86-dangling.conf: No such file or directory",
    "87-loop.conf: Too many levels of symbolic links",
    "88-sock.conf: No such device or address",
]


@pytest.fixture(scope="module")
def run(host):
    started = time.monotonic()
    result = host.ansible("tcpops.timewait.tcp_state_facts", check=False)
    return result, time.monotonic() - started


def test_the_container_runs_under_the_memory_limit(host):
    inspected = subprocess.run(["podman", "inspect", host.backend.host], stdout=subprocess.PIPE, check=True).stdout
    assert json.loads(inspected)[0]["HostConfig"]["Memory"] == MEMORY_LIMIT


def test_the_odd_data_is_in_place(container):
    assert container.file(SYSCTL_D + "/81-x.conf").linked_to == "/dev/zero"
    assert container.file(SYSCTL_D + "/82-fifo.conf").is_pipe
    assert container.file(SYSCTL_D + "/84-huge.conf").size == 52428800
    assert container.file(SYSCTL_D + "/88-sock.conf").is_socket
    pid = container.check_output("pgrep -f '^python3 /usr/local/bin/cw_leaker.py'")
    assert container.run("head -c 4 /proc/%s/comm | od -An -tx1" % pid).stdout.split() == ["ff", "fe", "63", "77"]


def test_module_returns_within_seconds(run):
    result, elapsed = run
    assert result.get("failed") is not True, result
    assert result["ansible_facts"]["tcp_state"]["duration_ms"] < 5000
    assert elapsed < 60  # a whole ansible run, connection and AnsiballZ included


def test_every_odd_file_is_an_error_naming_it(run):
    state = run[0]["ansible_facts"]["tcp_state"]
    config_errors = state["sysctl_config"]["errors"]
    assert config_errors == ["%s/%s" % (SYSCTL_D, text) for text in EXPECTED_FILE_ERRORS]
    for text in EXPECTED_FILE_ERRORS:
        assert "sysctl configuration: %s/%s" % (SYSCTL_D, text) in state["errors"]
        assert "sysctl configuration: %s/%s" % (SYSCTL_D, text) in state["warnings"]


def test_the_ordinary_data_around_it_is_still_read(run):
    state = run[0]["ansible_facts"]["tcp_state"]
    effective = state["sysctl_config"]["effective"]
    assert effective["net.ipv4.tcp_fin_timeout"] == {"value": "30", "path": SYSCTL_D + "/10-good.conf", "line": 1}
    assert effective["net.core.somaxconn"] == {"value": "4096", "path": SYSCTL_D + "/83-nul.conf", "line": 2}
    assert state["backend"] == "netlink" and state["counts"]["total"] >= 40
    assert isinstance(state["sysctl"]["net.ipv4.tcp_fin_timeout"], int)


def test_the_process_named_with_bytes_is_shown_escaped_and_named_in_errors(run, container):
    state = run[0]["ansible_facts"]["tcp_state"]
    pid = int(container.check_output("pgrep -f '^python3 /usr/local/bin/cw_leaker.py'"))
    close_wait = state["close_wait"]
    assert close_wait["owners_available"] is True and close_wait["total"] >= 40
    owner = [entry for entry in close_wait["top_processes"] if entry["pid"] == pid]
    assert owner and owner[0]["count"] == 40
    assert owner[0]["comm"] == u"\ufffd\ufffdcw\\x0a\\x1b[2J"
    assert ("/proc/%d/comm: process name is not valid UTF-8 or holds control characters, shown as '%s'"
            % (pid, owner[0]["comm"])) in state["errors"]


def test_collected_at_is_set(run):
    assert run[0]["ansible_facts"]["tcp_state"]["collected_at"].endswith("Z")
