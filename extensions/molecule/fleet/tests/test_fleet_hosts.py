"""State inside the containers after converge.yml."""

import pytest
import testinfra


def container(name):
    return testinfra.get_host("podman://%s" % name)


@pytest.fixture(scope="module")
def server():
    return container("fleet-server")


def test_leak_is_still_there_and_no_sysctl_was_written_for_it(server):
    assert server.process.get(comm="leaky-server")
    assert int(server.check_output("ss -Htan state close-wait | wc -l")) >= 120
    assert server.check_output("ls /etc/sysctl.d").split() == ["README.sysctl"]


def test_folk_block_cleaned_so_sysctl_system_runs_clean():
    folk = container("fleet-folk")
    run = folk.run("sysctl --system")
    assert run.rc == 0, run.stderr
    assert "tcp_tw_recycle" not in run.stderr
    assert folk.run("grep -E '^[[:space:]]*net.ipv4.tcp_tw_recycle' /etc/sysctl.conf").rc == 1


def test_client_port_range_widened_and_load_port_reserved():
    client = container("fleet-client")
    assert client.file("/proc/sys/net/ipv4/ip_local_port_range").content_string.split() == ["10240", "65535"]
    assert "40080" in client.file("/proc/sys/net/ipv4/ip_local_reserved_ports").content_string
