"""socket inode -> pid/comm through /proc/PID/fd symlinks in a built proc tree, and a real refusal."""

import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils import _socket_owners


def test_owners_found_through_fd_links(make_proc_tree):
    proc = make_proc_tree({
        100: ("cw-leaker", ["socket:[1001]", "socket:[1002]", "pipe:[55]", "/dev/null"]),
        200: ("app", ["socket:[1003]", "socket:[9999]"]),
        300: ("idle", ["anon_inode:[eventfd]"]),
    })
    os.makedirs(os.path.join(proc, "self"))  # non-numeric entries are skipped
    owners, reason = _socket_owners.find_owners({1001, 1002, 1003, 1004}, proc)
    assert reason is None
    assert owners == {
        100: {"comm": "cw-leaker", "inodes": {1001, 1002}},
        200: {"comm": "app", "inodes": {1003}},
    }


def test_no_inodes_means_no_scan(tmp_path):
    assert _socket_owners.find_owners(set(), str(tmp_path / "absent")) == ({}, None)


def test_process_without_fd_dir_is_skipped(make_proc_tree):
    proc = make_proc_tree({100: ("a", ["socket:[1]"])})
    os.makedirs(os.path.join(proc, "101"))  # exited between listing and reading
    owners, reason = _socket_owners.find_owners({1}, proc)
    assert reason is None and list(owners) == [100]


def test_unlistable_proc_root(tmp_path):
    owners, reason = _socket_owners.find_owners({1}, str(tmp_path / "absent"))
    assert owners is None and "cannot list" in reason


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to switch to an unprivileged user with setpriv")
def test_unreadable_fd_tables_make_owners_unavailable():
    # as nobody, /proc/1/fd of the real /proc is not readable
    code = ("import json, sys; from ansible_collections.tcpops.timewait.plugins.module_utils import _socket_owners as o;"
            "print(json.dumps(o.find_owners({1}, '/proc')))")
    completed = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True, text=True, env=dict(os.environ), check=True)
    owners, reason = __import__("json").loads(completed.stdout)
    assert owners is None
    assert "not readable" in reason and "uid 65534" in reason
