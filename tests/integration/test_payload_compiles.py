"""The facts module as Ansible ships it (a real AnsiballZ file, kept with ANSIBLE_KEEP_REMOTE_FILES)
compiles each file of the collection's host code below module_utils once (but the two it imports to
install the finder), under the controller host's python3 and under Debian 13's python 3.13 in a
container, and still returns its facts. The standard import from the payload's zip compiles each file
twice (CPython's zipimporter names a file by compiling it); the same count of Ansible's own basic.py
in the same run shows that this run would have seen it."""

import glob
import json
import os
import subprocess

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST_PYTHON = "/usr/bin/python3"
COUNTER = REPO / "tests" / "support" / "compile_counter.py"
IMAGE = "localhost/tcpops-debian:13"
HOST_CODE = "/ansible_collections/tcpops/timewait/plugins/module_utils/"
ANSIBLE_CODE = "/ansible/module_utils/basic.py"
# imported to install the finder, so before it: the standard import's two compiles
BEFORE_THE_FINDER = {"__init__.py": 2, "_payload_import.py": 2}
ENV = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF",
                                                      str(REPO / "tests" / "containers" / "containers.conf")))


@pytest.fixture(scope="module")
def module_file(tmp_path_factory):
    """The AnsiballZ file of ``tcp_state_facts`` (default arguments) that Ansible wrote for localhost."""
    remote_tmp = tmp_path_factory.mktemp("remote-tmp")
    env = dict(ENV, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote_tmp),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    done = subprocess.run(["ansible", "localhost", "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=" + HOST_PYTHON, "-m", "tcpops.timewait.tcp_state_facts"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    found = glob.glob(str(remote_tmp / "*" / "AnsiballZ_tcp_state_facts.py"))
    assert len(found) == 1, found
    return Path(found[0])


def _compiles(done):
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert "tcp_state" in result["ansible_facts"], sorted(result)
    assert result["ansible_facts"]["tcp_state"]["backend"] in ("netlink", "procfs")
    return json.loads(done.stderr.strip().splitlines()[-1])["compiles"]


def _assert_host_code_compiled_once(compiles):
    host_code = dict((path.split(HOST_CODE, 1)[1], count) for path, count in compiles.items() if HOST_CODE in path)
    assert dict((path, host_code.pop(path, None)) for path in BEFORE_THE_FINDER) == BEFORE_THE_FINDER
    assert "_socket_state/collect.py" in host_code and len(host_code) >= 10, host_code
    assert set(host_code.values()) == {1}, host_code
    standard = [count for path, count in compiles.items() if path.endswith(ANSIBLE_CODE)]
    assert standard == [2], "Ansible's basic.py compiled %s times: the standard import no longer compiles twice" % standard


def test_under_the_hosts_python(module_file):
    done = subprocess.run([HOST_PYTHON, str(COUNTER), str(module_file)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False)
    _assert_host_code_compiled_once(_compiles(done))


@pytest.mark.root
def test_under_debian_13s_python(module_file):
    mounts = ["-v", "%s:/probe/counter.py:ro" % COUNTER, "-v", "%s:/probe/module.py:ro" % module_file]
    done = subprocess.run(["podman", "run", "--rm", "--network", "none"] + mounts
                          + [IMAGE, "python3", "/probe/counter.py", "/probe/module.py"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, check=False)
    _assert_host_code_compiled_once(_compiles(done))
