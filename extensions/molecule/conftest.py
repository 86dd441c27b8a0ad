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


class ContainerReader:
    """What a test reads inside one container, through testinfra's own modules on ``container``.

    Every read is one ``podman exec``: ``text`` and ``exists`` use ``file``, ``mode_and_owner``
    the file's ``mode`` and ``uid``, ``names`` its ``listdir``, ``run`` the command module (rc,
    stdout, stderr), ``sysctls`` one ``sysctl -e`` for many keys, ``listening_ports`` ``socket``.
    """

    def __init__(self, container):
        self.container = container

    def exists(self, path):
        return self.container.file(path).exists

    def text(self, path):
        """The file's text, or None when there is no such file."""
        handle = self.container.file(path)
        return handle.content_string if handle.exists else None

    def mode_and_owner(self, path):
        handle = self.container.file(path)
        return [handle.mode, handle.uid] if handle.exists else None

    def names(self, directory):
        handle = self.container.file(directory)
        return sorted(handle.listdir()) if handle.is_directory else []

    def run(self, command, *args):
        result = self.container.run(command, *args)
        return {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr}

    def sysctls(self, keys):
        """``{key: value with white space folded}``; None for a key this kernel lacks."""
        values = dict((key, None) for key in keys)
        output = self.container.run("sysctl -e %s" % " ".join(["%s"] * len(keys)), *keys).stdout
        for line in output.splitlines():
            key, _sep, value = line.partition("=")
            if key.strip() in values:
                values[key.strip()] = " ".join(value.split())
        return values

    def listening_ports(self):
        ports = set()
        for address in self.container.socket.get_listening_sockets():
            if address.startswith("tcp://"):
                ports.add(int(address.rsplit(":", 1)[1]))
        return sorted(ports)


@pytest.fixture(scope="module")
def reader(container):
    return ContainerReader(container)
