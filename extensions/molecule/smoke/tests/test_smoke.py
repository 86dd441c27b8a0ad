"""The plumbing every scenario relies on, checked inside the containers after converge.yml.

Each container is its own network namespace: its sysctls and socket table are not the host's,
a privileged container may change them, an unprivileged one may only read them, and
tcp_state_facts run inside it counts that namespace's sockets only.
"""

import os

TIME_WAIT_PLANTED = 150

# Client closes first, the server then closes on EOF: exactly COUNT client sockets end in
# TIME_WAIT toward 127.0.0.1:PORT. Prints PORT.
PLANT_TIME_WAIT = """
import socket, sys
count = int(sys.argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(128)
port = listener.getsockname()[1]
for _ in range(count):
    client = socket.create_connection(("127.0.0.1", port))
    server, _ = listener.accept()
    client.close()
    server.recv(1)
    server.close()
listener.close()
print(port)
"""


def groups_of(host):
    return host.ansible.get_variables()["group_names"]


def os_release(container):
    fields = {}
    for line in container.file("/etc/os-release").content_string.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key] = value.strip('"')
    return fields


def tcp_state(host):
    result = host.ansible("tcpops.timewait.tcp_state_facts", check=False)
    return result["ansible_facts"]["tcp_state"]


def read_sysctl(container, path):
    return container.file(path).content_string.strip()


def read_sysctl_on_controller(path):
    with open(path) as handle:
        return handle.read().strip()


def test_image_is_the_debian_release_of_its_group(host, container):
    release = os_release(container)
    assert release["ID"] == "debian"
    assert "debian%s" % release["VERSION_ID"] in groups_of(host)
    for command in ("python3", "ss", "ip", "sysctl", "ps"):
        assert container.exists(command), command


def test_container_has_its_own_network_namespace(container):
    container_ns = container.check_output("readlink /proc/self/ns/net")
    assert container_ns != os.readlink("/proc/self/ns/net")


def test_only_a_privileged_container_can_change_its_own_sysctls(host, container):
    path = "/proc/sys/net/ipv4/tcp_fin_timeout"
    controller_before = read_sysctl_on_controller(path)
    before = read_sysctl(container, path)
    wanted = "37" if before != "37" else "38"

    write = container.run("sysctl -w net.ipv4.tcp_fin_timeout=%s", wanted)

    if "privileged" in groups_of(host):
        assert write.rc == 0, write.stderr
        assert read_sysctl(container, path) == wanted
        container.check_output("sysctl -w net.ipv4.tcp_fin_timeout=%s", before)
    else:
        assert "unprivileged" in groups_of(host)
        assert write.rc != 0
        assert "permission denied" in write.stderr.lower() or "read-only" in write.stderr.lower()
        assert read_sysctl(container, path) == before
    assert read_sysctl_on_controller(path) == controller_before


def test_tcp_state_facts_counts_the_containers_own_sockets(host, container):
    port = int(container.check_output("python3 -c %s %s", PLANT_TIME_WAIT, str(TIME_WAIT_PLANTED)))

    facts = tcp_state(host)
    ss_time_wait = int(container.check_output("ss -Htan state time-wait | wc -l"))
    sockstat_tw = int(container.check_output("awk '/^TCP:/ {for (i = 2; i < NF; i++) if ($i == \"tw\") print $(i + 1)}' /proc/net/sockstat"))

    assert facts["backend"] == "netlink", facts["warnings"]
    planted = [d for d in facts["time_wait"]["top_destinations"] if (d["address"], d["port"]) == ("127.0.0.1", port)]
    assert [d["count"] for d in planted] == [TIME_WAIT_PLANTED]
    # Nothing else in the container opens TCP connections, so three independent views agree.
    assert facts["counts"]["time_wait"] == ss_time_wait == sockstat_tw
    assert facts["sockstat"]["tw"] == sockstat_tw
    assert facts["time_wait"]["outbound"] >= TIME_WAIT_PLANTED
