"""Fixtures shared by the testinfra tests of every scenario under extensions/molecule/.

Molecule runs testinfra with its Ansible backend. The podman connection is not one testinfra
can take over, so each command on ``host`` becomes a whole ``ansible`` run (seconds each).
``container`` is the same instance reached with ``podman exec`` (milliseconds each): use it
for commands and files, and ``host`` for what needs Ansible (``host.ansible(...)`` to run a
module, ``host.ansible.get_variables()`` for inventory variables and groups).
"""

import os

import pytest
import testinfra


@pytest.fixture(scope="module")
def container(host):
    # The podman driver names each container after its inventory host.
    return testinfra.get_host("podman://%s" % host.backend.host)


@pytest.fixture(scope="session")
def published_reports():
    """The report names a fixed report directory publishes, checked to be links into its current run."""
    def names(directory):
        current = os.path.join(directory, ".tcpops-current")
        run = os.path.realpath(current)
        visible = sorted(name for name in os.listdir(directory) if not name.startswith("."))
        for name in visible:
            assert os.path.realpath(os.path.join(directory, name)) == os.path.join(run, name), name
        return visible
    return names
