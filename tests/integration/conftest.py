"""Fixtures for the integration tests on real sockets planted in network namespaces.

Tests marked ``root`` need root (``ip netns add``); they are skipped, with that reason, otherwise.
The engine and the module run under the system ``/usr/bin/python3``, as on a managed host, so
that only the standard library is available to them.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
HOST_PYTHON = "/usr/bin/python3"
ENGINE = "ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _load_planter():
    spec = importlib.util.spec_from_file_location("tcpops_plant", REPO / "tests" / "support" / "plant.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


plant = _load_planter()


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: creates network namespaces with `ip netns add`")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def planter():
    """The tests/support/plant.py module."""
    return plant


@pytest.fixture
def netns():
    """A fresh, empty namespace (port range 1024-65000), deleted after the test."""
    with plant.Namespace() as ns:
        yield ns


def _world_readable_engine(root):
    """Copy the collection's module_utils under ``root`` so that user nobody can import them
    wherever the checkout lives (a checkout under /root is not readable by other users)."""
    target = root / "ansible_collections" / "tcpops" / "timewait" / "plugins" / "module_utils"
    shutil.copytree(REPO / "plugins" / "module_utils", target,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for directory, _subdirs, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)


def _engine_env(pythonpath):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pythonpath)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _ansible_cli():
    beside_python = Path(sys.executable).parent / "ansible"
    return str(beside_python) if beside_python.exists() else shutil.which("ansible")


def _engine_runner(nobody_pythonpath):
    def run_engine(ns, backend="netlink", as_nobody=False, top=10, mode="full"):
        argv = [HOST_PYTHON, "-m", ENGINE, "--mode", mode, "--backend", backend, "--top", str(top)]
        if as_nobody:
            done = ns.run(NOBODY + argv, check=False, env=_engine_env(nobody_pythonpath), cwd="/")
        else:
            done = ns.run(argv, check=False, env=_engine_env(COLLECTIONS))
        assert done.returncode == 0, "engine failed in %s: %s" % (ns.name, done.stderr)
        return json.loads(done.stdout)
    return run_engine


def _run_module_with_ansible(ns, module_args="mode=full"):
    """``ansible localhost -m tcpops.timewait.tcp_state_facts`` inside ``ns``; return the task result."""
    ansible = _ansible_cli()
    assert ansible, "no ansible CLI beside %s nor on PATH" % sys.executable
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    })
    argv = [ansible, "localhost", "-i", "localhost,", "-c", "local",
            "-e", "ansible_python_interpreter=" + HOST_PYTHON,
            "-m", "tcpops.timewait.tcp_state_facts", "-a", module_args]
    done = subprocess.run(ns.exec_argv(argv), capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, "ansible failed (rc %d): %s %s" % (done.returncode, done.stdout[-3000:], done.stderr[-3000:])
    return json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture(scope="session")
def run_engine():
    """``run_engine(ns, backend="netlink", as_nobody=False, top=10, mode="full")`` runs the engine's
    command line inside ``ns`` (as root, or as user nobody) and returns the tcp_state dict."""
    nobody_pythonpath = tempfile.mkdtemp(prefix="tcpops-engine-")
    _world_readable_engine(Path(nobody_pythonpath))
    yield _engine_runner(nobody_pythonpath)
    shutil.rmtree(nobody_pythonpath, ignore_errors=True)


@pytest.fixture(scope="session")
def run_module_with_ansible():
    """``run_module_with_ansible(ns, module_args)`` -> the ad-hoc task result (with ansible_facts)."""
    return _run_module_with_ansible


def _playbook_argv(playbook, report_dir, extra_vars=None, inventory="localhost,"):
    binary = Path(sys.executable).parent / "ansible-playbook"
    argv = [str(binary) if binary.exists() else shutil.which("ansible-playbook"),
            "-i", inventory, "-c", "local", "-e", "ansible_python_interpreter=" + HOST_PYTHON,
            "-e", "tcp_audit_report_dir=%s" % report_dir, "-e", "tcp_audit_fail_on=never"]
    for key, value in sorted((extra_vars or {}).items()):
        argv += ["-e", "%s=%s" % (key, value)]
    return argv + ["tcpops.timewait.%s" % playbook]


def _playbook_env():
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1"})
    return env


@pytest.fixture(scope="session")
def playbook():
    """``playbook.argv(name, report_dir, extra_vars)`` and ``playbook.env()`` to start one yourself;
    ``playbook.run(name, report_dir, extra_vars, ns=None, inventory="localhost,")`` runs it (``-c local``)
    and returns the CompletedProcess (stdout and stderr together in ``stdout``)."""
    class Runner:
        argv = staticmethod(_playbook_argv)
        env = staticmethod(_playbook_env)

        @staticmethod
        def run(name, report_dir, extra_vars=None, ns=None, inventory="localhost,"):
            argv = _playbook_argv(name, report_dir, extra_vars, inventory)
            if ns is not None:
                argv = ns.exec_argv(argv)
            cwd = Path(report_dir).parent
            while not cwd.is_dir():
                cwd = cwd.parent
            return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=_playbook_env(), check=False, cwd=str(cwd))
    return Runner


def _support_module(name):
    spec = importlib.util.spec_from_file_location("tcpops_" + name, REPO / "tests" / "support" / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def processes():
    """The tests/support/processes.py module: signal and wait for every process of one playbook run."""
    return _support_module("processes")


@pytest.fixture(scope="session")
def reportdirs():
    """The tests/support/reportdirs.py module: checks of a report directory, file by file."""
    return _support_module("reportdirs")


@pytest.fixture(scope="session")
def node_exporter():
    """The tests/support/node_exporter.py module: a real node_exporter scraped over loopback."""
    return _support_module("node_exporter")
