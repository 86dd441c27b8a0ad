"""A 40-host sliced audit on real podman containers (reached with containers.podman.podman) with
faults: hosts killed while their module runs, a host without python3, a host audited as an
unprivileged user, and a whole slice killed before it wrote anything. The merged report must give
every host a status and, for every faulted host, the reason; the killed slice's hosts are missing,
never ``pass``.
"""

import concurrent.futures
import json
import os
import signal
import subprocess
import time

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF",
                                                      str(REPO / "tests" / "containers" / "containers.conf")))
IMAGE = "localhost/tcpops-debian:12"
PREFIX = "tcpops-fleetslices-"
FLEET = [PREFIX + "%02d" % i for i in range(40)]
SLICE_A, SLICE_B = FLEET[:20], FLEET[20:]
KILLED = FLEET[0:3]
NO_PYTHON = FLEET[19]
UNPRIVILEGED = FLEET[18]
SLOW = KILLED + [FLEET[20]]
# python3 that waits before it starts: the kill lands while the module runs
SLOW_PYTHON = '#!/bin/sh\nsleep 40\nexec /usr/bin/python3.11 "$@"\n'

pytestmark = pytest.mark.root


def podman(*args, check=True):
    done = subprocess.run(["podman"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False, timeout=300, env=ENV)
    assert done.returncode == 0 or not check, done.stdout
    return done


@pytest.fixture(scope="module")
def fleet():
    for name in FLEET:
        podman("rm", "-f", "-t", "0", name, check=False)

    def start(name):
        podman("run", "-d", "--name", name, "--network", "none", IMAGE, "sleep", "infinity")
        if name in SLOW:
            podman("exec", name, "sh", "-c", "rm /usr/bin/python3 && printf '%%s' '%s' > /usr/bin/python3 && "
                   "chmod 755 /usr/bin/python3" % SLOW_PYTHON.replace("'", "'\\''"))
        if name == NO_PYTHON:
            podman("exec", name, "rm", "-f", "/usr/bin/python3", "/usr/bin/python3.11")

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(start, FLEET))
        yield FLEET
    finally:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda name: podman("rm", "-f", "-t", "0", name, check=False), FLEET))


def inventory(tmp_path):
    lines = ["[fleet]"]
    for name in FLEET:
        extra = " ansible_user=nobody ansible_remote_tmp=/tmp/.ansible-nobody" if name == UNPRIVILEGED else ""
        lines.append(name + extra)
    lines += ["[fleet:vars]", "ansible_connection=containers.podman.podman",
              "ansible_python_interpreter=/usr/bin/python3"]
    path = tmp_path / "inventory.ini"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def start_slice(playbook, inv, base, limit):
    args = list(playbook.argv("report", str(base), None, inv))
    argv = args[:-1] + ["-e", "tcp_audit_run_id=faults", "-e", "tcp_audit_merge=false", "-f", "20",
                        "--limit", ",".join(limit)] + [args[-1]]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(playbook.env(), CONTAINERS_CONF=ENV["CONTAINERS_CONF"]),
                            cwd=str(base.parent), start_new_session=True)


def wait_for_gather(process, seen):
    for line in process.stdout:
        seen.append(line)
        if line.startswith("TASK [Gather TCP state facts"):
            return


def test_sliced_40_host_audit_with_faults(fleet, tmp_path, playbook, processes):
    started = time.monotonic()
    inv = inventory(tmp_path)
    base = tmp_path / "reports"
    out_a, out_b = [], []
    slice_a = start_slice(playbook, inv, base, SLICE_A)
    slice_b = start_slice(playbook, inv, base, SLICE_B)
    wait_for_gather(slice_a, out_a)
    wait_for_gather(slice_b, out_b)
    time.sleep(5)
    for name in KILLED:
        podman("kill", name, check=False)
    os.killpg(slice_b.pid, signal.SIGKILL)
    slice_b.wait(timeout=60)
    processes.signal_run(",".join(SLICE_B), signal.SIGKILL)
    processes.wait_run_gone(",".join(SLICE_B))
    out_a.extend(slice_a.stdout)
    assert slice_a.wait(timeout=600) == 0, "".join(out_a)
    slices = os.listdir(str(base / "runs-in-progress" / "faults"))
    assert len(slices) == 1, slices

    merge = subprocess.run(list(playbook.argv("merge", str(base), None, inv))[:-1]
                           + ["-e", "tcp_audit_run_id=faults", "tcpops.timewait.merge"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=600,
                           env=dict(playbook.env(), CONTAINERS_CONF=ENV["CONTAINERS_CONF"]), cwd=str(tmp_path))
    assert merge.returncode == 0, merge.stdout
    doc = json.loads((base / "latest" / "tcp-audit.json").read_text())
    hosts = doc["hosts"]
    assert sorted(hosts) == sorted(FLEET)

    for name in KILLED:
        assert hosts[name]["status"] in ("unreachable", "error"), (name, hosts[name]["status"])
        assert hosts[name]["reason"], name
    assert hosts[NO_PYTHON]["status"] == "error" and hosts[NO_PYTHON]["reason"], hosts[NO_PYTHON]
    unprivileged = hosts[UNPRIVILEGED]
    assert unprivileged["status"] in ("pass", "warn", "fail"), unprivileged.get("reason")
    assert unprivileged["facts"]["close_wait"]["owners_available"] is False
    for name in SLICE_A:
        if name not in KILLED + [NO_PYTHON, UNPRIVILEGED]:
            assert hosts[name]["status"] in ("pass", "warn", "fail"), (name, hosts[name].get("reason"))
    for name in SLICE_B:
        assert hosts[name]["status"] == "error", name
        assert hosts[name]["reason"].startswith("missing:"), name
    by_status = doc["summary"]["by_status"]
    assert sum(by_status.values()) == 40
    assert by_status["pass"] + by_status["warn"] + by_status["fail"] == 20 - len(KILLED) - 1
    assert doc["summary"]["worst_status"] in ("unreachable", "error")
    print("40-host sliced audit with faults, containers started and merged in %.0f s"
          % (time.monotonic() - started))
