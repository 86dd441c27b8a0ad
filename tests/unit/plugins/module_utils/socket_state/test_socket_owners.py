"""socket inode -> pid/comm through /proc/PID/fd symlinks in a built proc tree, and a real refusal."""

import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import owners as _socket_owners


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
@pytest.mark.parametrize("inodes", ["{1}", "set()"], ids=["a-socket-to-look-up", "nothing-to-look-up"])
def test_unreadable_fd_tables_make_owners_unavailable(inodes):
    # as nobody, /proc/1/fd of the real /proc is not readable, whether or not there is a socket to look up
    code = ("import json, sys; from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import owners as o;"
            "print(json.dumps(o.find_owners(%s, '/proc')))" % inodes)
    completed = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True, text=True, env=dict(os.environ), check=True)
    owners, reason = __import__("json").loads(completed.stdout)
    assert owners is None
    assert "not readable" in reason and "uid 65534" in reason


def test_own_namespace_first_then_the_others_when_needed(make_proc_tree):
    proc = make_proc_tree({
        100: ("local-app", ["socket:[1001]"]),
        200: ("container-app", ["socket:[1002]"]),
        300: ("other", ["socket:[7]"]),
    })
    for pid, namespace in (("self", 1), ("100", 1), ("200", 2), ("300", 2)):
        os.makedirs(os.path.join(proc, pid, "ns"), exist_ok=True)
        os.symlink("net:[%d]" % namespace, os.path.join(proc, pid, "ns", "net"))
    owners, reason = _socket_owners.find_owners({1001}, proc)
    assert reason is None and owners == {100: {"comm": "local-app", "inodes": {1001}}}
    # an inode held only in another namespace is still found, by the second pass
    owners, reason = _socket_owners.find_owners({1001, 1002}, proc)
    assert reason is None and sorted(owners) == [100, 200]
    assert owners[200] == {"comm": "container-app", "inodes": {1002}}


# -- process names any local user chooses, processes that vanish mid-scan ------------------------------

def test_comm_that_is_not_utf8_or_holds_control_characters_is_shown_escaped_with_an_error(make_proc_tree):
    proc = make_proc_tree({100: ("x", ["socket:[1001]"]), 200: ("y", ["socket:[1002]"]),
                           300: ("z", ["socket:[1003]"]), 400: ("nginx", ["socket:[1004]"])})
    with open(os.path.join(proc, "100", "comm"), "wb") as handle:
        handle.write(b"\xff\xfe\xfd\n")
    with open(os.path.join(proc, "200", "comm"), "wb") as handle:
        handle.write(b"evil\nroot\x1b[2J\n")
    os.unlink(os.path.join(proc, "300", "comm"))
    os.mkfifo(os.path.join(proc, "300", "comm"))
    errors = []
    owners, reason = _socket_owners.find_owners({1001, 1002, 1003, 1004}, proc, errors)
    assert reason is None
    assert owners[100]["comm"] == u"\ufffd\ufffd\ufffd"
    assert owners[200]["comm"] == "evil\\x0aroot\\x1b[2J"
    assert owners[300]["comm"] is None and owners[400]["comm"] == "nginx"
    assert sorted(errors) == [
        u"%s/100/comm: process name is not valid UTF-8 or holds control characters, shown as '\ufffd\ufffd\ufffd'" % proc,
        "%s/200/comm: process name is not valid UTF-8 or holds control characters, shown as 'evil\\x0aroot\\x1b[2J'"
        % proc,
        "%s/300/comm: a FIFO, not a regular file: not read" % proc,
    ]


def test_process_that_vanished_mid_scan_is_skipped_quietly(make_proc_tree):
    proc = make_proc_tree({100: ("gone", ["socket:[1001]"]), 200: ("app", ["socket:[1002]", "socket:[oops]"])})
    os.unlink(os.path.join(proc, "100", "comm"))  # exited between the fd walk and the comm read
    shutil.rmtree(os.path.join(proc, "200", "fd"))  # or before its fd table was listed
    os.makedirs(os.path.join(proc, "200", "fd"))
    os.symlink("socket:[1002]", os.path.join(proc, "200", "fd", "3"))
    os.symlink("socket:[not-a-number]", os.path.join(proc, "200", "fd", "4"))
    errors = []
    owners, reason = _socket_owners.find_owners({1001, 1002}, proc, errors)
    assert reason is None and errors == []
    assert owners == {100: {"comm": None, "inodes": {1001}}, 200: {"comm": "app", "inodes": {1002}}}


def test_huge_comm_is_not_read_whole(make_proc_tree):
    proc = make_proc_tree({100: ("x", ["socket:[1001]"])})
    with open(os.path.join(proc, "100", "comm"), "wb") as handle:
        handle.write(b"a" * 10000000)
    errors = []
    owners, _reason = _socket_owners.find_owners({1001}, proc, errors)
    assert owners[100]["comm"] is None
    assert errors == ["%s/100/comm: larger than %d bytes: not read" % (proc, _socket_owners.COMM_CAP)]


def test_sources_by_destination_counts_each_process_per_destination():
    owners = {
        10: {"comm": "api", "inodes": {1, 2, 3, 9}},
        11: {"comm": "worker", "inodes": {4}},
        12: {"comm": "forked", "inodes": {1}},  # a socket shared after fork counts for each holder
    }
    destinations = {1: ("10.0.0.5", 5432), 2: ("10.0.0.5", 5432), 3: ("10.0.0.6", 80), 4: ("10.0.0.5", 5432)}
    assert _socket_owners.sources_by_destination(owners, destinations) == {
        ("10.0.0.5", 5432): [{"pid": 10, "comm": "api", "count": 2}, {"pid": 11, "comm": "worker", "count": 1},
                             {"pid": 12, "comm": "forked", "count": 1}],
        ("10.0.0.6", 80): [{"pid": 10, "comm": "api", "count": 1}],
    }
    assert _socket_owners.sources_by_destination(owners, destinations, limit=1)[("10.0.0.5", 5432)] == [
        {"pid": 10, "comm": "api", "count": 2}]
