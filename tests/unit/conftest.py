"""Shared helpers for the unit tests: fixture locations, the audit fixtures, a refused netlink, and
builders for /proc trees."""

import json
import os
import pathlib
import shutil

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import sockdiag
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load as load_audit_fixture

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "proc"
NETLINK_REFUSAL = "netlink socket dump not allowed: Operation not permitted"


@pytest.fixture
def clean_facts():
    """``tcp_state`` of a clean current host (fixtures/audit/tcp_state_clean.json), a fresh copy."""
    return load_audit_fixture("tcp_state_clean.json")


@pytest.fixture
def folk_config():
    """``sysctl_config`` of a host with the folk block in /etc/sysctl.conf (fixtures/audit/sysctl_config_folk.json)."""
    return load_audit_fixture("sysctl_config_folk.json")


@pytest.fixture
def netlink_refused(monkeypatch):
    """Netlink refused as a seccomp filter or an LSM refuses it (a refusal cannot be made here for real):
    every socket dump raises ``SockDiagUnavailable(NETLINK_REFUSAL)``. Returns that message."""

    def refuse(tally, live_counts=None):
        raise sockdiag.SockDiagUnavailable(NETLINK_REFUSAL)

    monkeypatch.setattr(sockdiag, "collect_sockets", refuse)
    return NETLINK_REFUSAL


@pytest.fixture
def modern_proc():
    """A /proc tree of a current kernel with IPv4, IPv6 and IPv4-mapped sockets in every state."""
    return str(FIXTURES / "modern")


@pytest.fixture
def old_kernel_proc():
    """A /proc tree of a 3.10 kernel: tcp_tw_recycle present, no tcp_tw_reuse_delay, no IPv6."""
    return str(FIXTURES / "old_kernel")


@pytest.fixture
def make_proc_tree(tmp_path):
    """Build a proc_root from a fixture tree plus processes: {pid: (comm, [fd link targets])}."""

    def build(processes, base=None):
        root = tmp_path / "proc"
        if base is not None:
            shutil.copytree(str(FIXTURES / base), str(root))
        else:
            root.mkdir()
        for pid, (comm, targets) in processes.items():
            fd_dir = root / str(pid) / "fd"
            fd_dir.mkdir(parents=True)
            (root / str(pid) / "comm").write_text(comm + "\n")
            for number, target in enumerate(targets):
                os.symlink(target, str(fd_dir / str(number)))
        return str(root)

    return build


TUNING_KERNELS = pathlib.Path(__file__).parent / "fixtures" / "tuning" / "kernels"


@pytest.fixture
def tuning_kernel_proc():
    """Build a proc_root from a kernel description in fixtures/tuning/kernels/NAME.json (release,
    sysctl values, read-only keys) under a given directory: ``build(base, name)``."""

    def build(base, name):
        spec = json.loads((TUNING_KERNELS / (name + ".json")).read_text())
        root = pathlib.Path(base) / "proc"
        (root / "sys" / "kernel").mkdir(parents=True)
        (root / "sys" / "kernel" / "osrelease").write_text(spec["release"] + "\n")
        for key, value in spec["sysctl"].items():
            path = root.joinpath("sys", *key.split("."))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value + "\n")
            if key in spec["read_only"]:
                os.chmod(str(path), 0o444)
        return str(root)

    return build


TCP_TUNING_ROLE = pathlib.Path(__file__).parents[2] / "roles" / "tcp_tuning"


# Run in a child interpreter: loading Ansible's controller-side templating changes process-wide state
# (module warnings stop reaching the module result) that other unit tests depend on.
_RENDER = """
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
loader = DataLoader()
raw = loader.load_from_file(sys.argv[1], trusted_as_template=True)
print(json.dumps(Templar(loader=loader, variables=raw).template(raw)))
"""


def _render_role_file(relative):
    """A file of the tcp_tuning role rendered by Ansible's own templating, as plain JSON data (what a
    module receives): the tests never re-compose the role's variables themselves."""
    import subprocess
    import sys

    output = subprocess.run([sys.executable, "-c", _RENDER, str(TCP_TUNING_ROLE / relative)], check=True,
                            stdout=subprocess.PIPE).stdout
    return json.loads(output)


@pytest.fixture(scope="session")
def tcp_tuning_vars():
    """roles/tcp_tuning/vars/main.yml rendered: ``__tcp_tuning_profiles`` holds each profile's rows."""
    return _render_role_file("vars/main.yml")


@pytest.fixture(scope="session")
def tcp_tuning_defaults():
    """roles/tcp_tuning/defaults/main.yml rendered: the one declaration of the role's defaults."""
    return _render_role_file("defaults/main.yml")
