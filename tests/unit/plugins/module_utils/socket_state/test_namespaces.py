"""tcp_state.namespaces: owner parsing, discovery, ranking, bounds, processes that vanish.

The namespace walk runs on a fixture /proc tree: each network namespace is a file (its processes'
ns/net are hard links to it, so they share its device and inode, as nsfs links do), and setns is
replaced by a recorder of which namespace file each thread was moved into. Each walk runs with one
worker thread and with two; the calling thread never moves.
Entering real namespaces is tested in tests/integration/test_namespaces_netns.py.
"""

import errno
import os
import threading
import time

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as _collect
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import entering as _entering
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import namespaces as _namespaces
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.states import STATE_NAMES

DOCKER_ID = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b"
POD_UID = "6f1c2a47-9b3e-4c1d-8a2b-0e5f6d7c8b9a"


@pytest.mark.parametrize("entry, text", [
    ({"inode": 7, "owner": {"kind": "container", "id": "4f3c2b1a0e9d"}}, "container 4f3c2b1a0e9d"),
    ({"inode": 7, "owner": {"kind": "pod", "id": POD_UID}}, "pod %s" % POD_UID),
    ({"inode": 7, "owner": {"kind": "unit", "id": "a.service"}}, "unit a.service"),
    ({"inode": 7, "owner": None}, "inode 7"),
])
def test_owner_text(entry, text):
    assert _namespaces.owner_text(entry) == text


@pytest.mark.parametrize("entry, text", [
    ({"inode": 7, "owner": {"kind": "container", "id": "4f3c2b1a0e9d"}}, "container 4f3c2b1a0e9d"),
    ({"inode": 7, "owner": {"kind": "unit", "id": "a.service"}}, "unit a.service (inode 7)"),
    ({"inode": 7, "owner": None}, "inode 7"),
])
def test_messages_name_a_units_namespace_with_its_inode(entry, text):
    assert _namespaces.message_text(entry) == text


def _entry(inode, usage, time_wait, total):
    destinations = [] if usage is None else [{"port_usage": 0.01}, {"port_usage": usage}]
    return {"inode": inode, "time_wait": {"total": time_wait, "top_destinations": destinations},
            "counts": {"total": total}}


def test_pressure_ranks_port_usage_then_time_wait_then_sockets_then_inode():
    entries = [_entry(1, None, 0, 5), _entry(2, 0.2, 10, 20), _entry(3, 0.9, 5, 9), _entry(4, 0.2, 30, 31),
               _entry(5, 0.2, 10, 40), _entry(6, None, 0, 5)]
    assert [e["inode"] for e in sorted(entries, key=_namespaces.pressure)] == [3, 4, 5, 2, 1, 6]


def test_pressure_puts_a_close_wait_or_fin_wait2_buildup_before_a_little_time_wait():
    """Nearness to a finding: the largest share of the default warn thresholds (port usage 0.5, CLOSE_WAIT
    50, FIN_WAIT2 500), so a leaking pod is kept before pods holding some TIME_WAIT."""
    leaking = dict(_entry(7, None, 0, 60), close_wait={"total": 60})  # 1.2 of close_wait_warn
    waiting = _entry(8, None, 0, 400)
    waiting["counts"]["fin_wait2"] = 400  # 0.8 of fin_wait2_warn
    busy = _entry(9, 0.3, 20000, 20000)  # 0.6 of port_usage_warn
    near = _entry(10, 0.55, 10, 10)  # 1.1
    ranked = sorted([busy, waiting, _entry(11, 0.01, 500, 500), leaking, near], key=_namespaces.pressure)
    assert [e["inode"] for e in ranked] == [7, 10, 8, 9, 11]


def test_pressure_uses_the_thresholds_it_is_given():
    from ansible_collections.tcpops.timewait.plugins.module_utils._audit.thresholds import DEFAULT_THRESHOLDS

    leaking = dict(_entry(7, None, 0, 60), close_wait={"total": 60})  # 1.2 of the default 50; 6.0 of 10
    near = _entry(10, 0.9, 10, 10)  # 1.8 of the default 0.5; 1.0 of 0.9
    lowered = dict(DEFAULT_THRESHOLDS, close_wait_warn=10, port_usage_warn=0.9)
    assert [e["inode"] for e in sorted([leaking, near], key=_namespaces.pressure)] == [10, 7]
    assert [e["inode"] for e in sorted([leaking, near], key=lambda e: _namespaces.pressure(e, lowered))] == [7, 10]
    # a warn threshold of 0: any value at all is nearest to a finding, none is not near at all
    zero = dict(DEFAULT_THRESHOLDS, close_wait_warn=0)
    assert _namespaces.pressure(leaking, zero)[0] == float("-inf")
    assert _namespaces.pressure(near, zero)[0] == -1.8


class FakeProc(object):
    """A /proc tree with network namespaces as files and a setns that records where each thread went:
    ``moves`` in the order they happened, ``trails`` per thread."""

    def __init__(self, root, workers):
        self.root = root
        self.workers = workers
        self.files = {}
        self.moves = []
        self.trails = {}
        self._where = {}
        self._lock = threading.Lock()
        self._namespace("host")
        self._link("self", "host")
        self._link("thread-self", "host")

    @property
    def current(self):
        """Where the calling thread is."""
        return self._where.get(threading.get_ident(), self.key("host"))

    def _namespace(self, name):
        path = os.path.join(str(self.root), "nsfiles", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
        self.files[name] = path

    def _link(self, pid, name):
        directory = os.path.join(str(self.root), str(pid), "ns")
        os.makedirs(directory, exist_ok=True)
        os.link(self.files[name], os.path.join(directory, "net"))

    def add(self, name, pids, cgroup=""):
        if name not in self.files:
            self._namespace(name)
        for pid in pids:
            self._link(pid, name)
            with open(os.path.join(str(self.root), str(pid), "cgroup"), "w") as handle:
                handle.write(cgroup)

    def key(self, name):
        info = os.stat(self.files[name])
        return (info.st_dev, info.st_ino)

    def name_of(self, key):
        return [name for name in self.files if self.key(name) == key][0]

    def setns(self, fd):
        info = os.fstat(fd)
        thread = threading.get_ident()
        with self._lock:
            self._where[thread] = (info.st_dev, info.st_ino)
            self.moves.append(self.name_of(self._where[thread]))
            self.trails.setdefault(thread, []).append(self.moves[-1])

    def entered(self):
        """The namespaces entered, in the order the moves happened."""
        return [name for name in self.moves if name != "host"]

    def assert_each_move_was_followed_by_the_return(self):
        for trail in self.trails.values():
            assert trail[1::2] == ["host"] * (len(trail) // 2) and len(trail) % 2 == 0
            assert "host" not in trail[0::2]
        assert all(self._where[thread] == self.key("host") for thread in self._where)
        assert threading.get_ident() not in self.trails  # the calling thread never moved
        assert_no_worker_left()

    def own_proc(self):
        return os.path.join(str(self.root), "thread-self")

    def reader(self, data, completed=None, before=None):
        """read_namespace returning ``data[namespace name]`` for the namespace the thread is in, and a
        ``complete`` that appends the name of the namespace it runs in to ``completed``. Both check that
        they are told the /proc directory of the thread they run on. ``before``: {name: callable} run
        first (to hold one namespace's read back)."""
        def read(warnings, errors, own_proc):
            name = self.name_of(self.current)
            assert name != "host", "read_namespace ran in the host's namespace"
            assert own_proc == self.own_proc()
            if before and name in before:
                before[name]()
            value = data[name]
            if isinstance(value, Exception):
                raise value

            def complete(more_warnings, more_errors, completing_proc):
                assert completing_proc == self.own_proc()
                completed.append(self.name_of(self.current))
            return dict(value), None if completed is None else complete
        return read


def _load(time_wait, usage=0.0):
    return {"counts": {"total": time_wait + 1, "time_wait": time_wait},
            "time_wait": {"total": time_wait, "top_destinations": [{"port_usage": usage}]},
            "close_wait": {}, "listen": {}, "ephemeral_ports": {}, "sysctl": {}}


def _held(counts):
    """The states of summed ``counts`` that hold sockets; every state is there, with "total"."""
    assert sorted(counts) == sorted(STATE_NAMES[1:12] + ("total",))
    return dict((state, sockets) for state, sockets in counts.items() if sockets)


def assert_no_worker_left():
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("tcpops-namespace")]


def _make_proc(tmp_path, workers):
    fake = FakeProc(tmp_path, workers)
    fake.add("host", [1, 2])
    fake.add("ctr", [100, 101], "0::/system.slice/docker-%s.scope\n" % DOCKER_ID)
    fake.add("pod", [300, 200], "0::/kubepods/besteffort/pod%s/x\n" % POD_UID)
    fake.add("bare", [400])
    return fake


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def proc(tmp_path, request):
    return _make_proc(tmp_path, request.param)


def _scan(proc, data, top=10, warnings=None, completed=None, **kwargs):
    return _namespaces.scan(proc.reader(data, completed), top, str(proc.root), setns=proc.setns, warnings=warnings,
                            is_root=True, workers=proc.workers, **kwargs)


def test_each_other_namespace_is_read_inside_it_and_the_thread_returns_after_each(proc):
    result = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0)})
    assert result["total"] == 3 and result["unread"] == 0 and result["reason"] is None
    assert [e["owner"] for e in result["top"]] == [
        {"kind": "pod", "id": POD_UID}, {"kind": "container", "id": DOCKER_ID[:12]}, None]
    pod = result["top"][0]
    assert pod["pids"] == [200, 300] and pod["pids_total"] == 2
    assert pod["inode"] == proc.key("pod")[1]
    assert pod["counts"] == {"total": 51, "time_wait": 50}
    # every move into a namespace is followed by the move back to the host's
    assert sorted(proc.entered()) == ["bare", "ctr", "pod"]
    proc.assert_each_move_was_followed_by_the_return()


def test_top_bounds_the_entries_and_total_and_counts_cover_them_all(proc):
    proc.add("more", [500])
    result = _scan(proc, {"ctr": _load(5, 0.9), "pod": _load(50), "bare": _load(0), "more": _load(7)}, top=2)
    assert result["total"] == 4
    assert [e["inode"] for e in result["top"]] == [proc.key("ctr")[1], proc.key("pod")[1]]
    # the sockets of all four, the two not listed included
    assert _held(result["counts"]) == {"total": 66, "time_wait": 62}
    none_listed = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0), "more": _load(7)}, top=0)
    assert none_listed["top"] == [] and _held(none_listed["counts"]) == {"total": 66, "time_wait": 62}


def test_top_keeps_the_namespaces_nearest_to_the_thresholds_the_scan_is_given(proc):
    from ansible_collections.tcpops.timewait.plugins.module_utils._audit.thresholds import DEFAULT_THRESHOLDS

    leaking = dict(_load(0), close_wait={"total": 60})
    data = {"ctr": _load(5, 0.9), "pod": leaking, "bare": _load(0)}
    assert [e["inode"] for e in _scan(proc, data, top=1)["top"]] == [proc.key("ctr")[1]]
    lowered = dict(DEFAULT_THRESHOLDS, close_wait_warn=10)
    assert [e["inode"] for e in _scan(proc, data, top=1, thresholds=lowered)["top"]] == [proc.key("pod")[1]]


def test_only_the_top_namespaces_are_completed_each_inside_itself_after_all_are_ranked(proc):
    proc.add("more", [500])
    completed = []
    data = {"ctr": _load(5, 0.9), "pod": _load(50), "bare": _load(0), "more": _load(7)}
    result = _scan(proc, data, top=2, completed=completed)
    assert sorted(completed) == ["ctr", "pod"]
    # four namespaces surveyed, then the two ranked first entered again, each followed by the move back
    assert sorted(proc.entered()[:4]) == ["bare", "ctr", "more", "pod"]
    assert sorted(proc.entered()[4:]) == ["ctr", "pod"]
    proc.assert_each_move_was_followed_by_the_return()
    assert [e["inode"] for e in result["top"]] == [proc.key("ctr")[1], proc.key("pod")[1]]
    completed[:] = []
    _scan(proc, data, top=0, completed=completed)
    assert completed == [] and len(proc.moves) == 8 + 4 + 8


def test_a_namespace_gone_before_its_owners_are_searched_keeps_its_counts_and_says_why(proc, monkeypatch):
    real = _namespaces._survey

    def survey(*args):
        surveyed = real(*args)
        for pid in (200, 300):
            os.unlink(os.path.join(str(proc.root), str(pid), "ns", "net"))
        return surveyed
    monkeypatch.setattr(_namespaces, "_survey", survey)
    completed = []
    load = _load(50, 0.7)
    load["close_wait"] = {"owners_reason": None}
    result = _scan(proc, {"ctr": _load(5), "pod": load, "bare": _load(0)}, completed=completed)
    pod = result["top"][0]
    assert pod["owner"]["kind"] == "pod" and pod["counts"]["time_wait"] == 50 and sorted(completed) == ["bare", "ctr"]
    assert "exited after it was read" in pod["close_wait"]["owners_reason"]
    assert pod["time_wait"]["likely_sources_reason"] == pod["close_wait"]["owners_reason"]
    assert result["warnings"] == ["namespace pod %s: %s" % (POD_UID, pod["close_wait"]["owners_reason"])]


def test_pids_are_capped_at_five_lowest(proc):
    proc.add("busy", [910, 905, 909, 901, 908, 903, 907])
    result = _scan(proc, {"ctr": _load(0), "pod": _load(0), "bare": _load(0), "busy": _load(99)})
    assert result["top"][0]["pids"] == [901, 903, 905, 907, 908] and result["top"][0]["pids_total"] == 7


def _vanish_after_discovery(monkeypatch, proc, pids):
    real = _namespaces.discover

    def discover(proc_root, own):
        found = real(proc_root, own)
        for pid in pids:
            os.unlink(os.path.join(str(proc.root), str(pid), "ns", "net"))
        return found
    monkeypatch.setattr(_namespaces, "discover", discover)


def test_a_vanished_process_is_replaced_by_another_of_its_namespace(proc, monkeypatch):
    _vanish_after_discovery(monkeypatch, proc, [100])
    warnings = []
    result = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0)}, warnings=warnings)
    assert result["total"] == 3 and warnings == []
    assert result["top"][1]["pids"] == [100, 101]  # as discovered; read through 101


def test_a_namespace_whose_processes_all_vanished_is_a_warning_not_a_failure(proc, monkeypatch):
    _vanish_after_discovery(monkeypatch, proc, [400])
    warnings = []
    result = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0)}, warnings=warnings)
    assert result["total"] == 2 and len(result["top"]) == 2 and result["errors"] == []
    assert warnings == ["namespace inode %d: its processes exited before it was read (not counted)"
                        % proc.key("bare")[1]]
    assert _held(result["counts"]) == {"total": 57, "time_wait": 55}


def test_a_pid_reused_by_a_process_of_another_namespace_is_not_entered(proc, monkeypatch):
    real = _namespaces.discover

    def discover(proc_root, own):
        found = real(proc_root, own)
        os.unlink(os.path.join(str(proc.root), "400", "ns", "net"))
        os.link(proc.files["ctr"], os.path.join(str(proc.root), "400", "ns", "net"))
        return found
    monkeypatch.setattr(_namespaces, "discover", discover)
    warnings = []
    result = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0)}, warnings=warnings)
    assert result["total"] == 2 and "bare" not in proc.moves
    assert len(warnings) == 1 and "exited before it was read" in warnings[0]


def test_a_namespace_the_engine_cannot_read_is_an_error_and_counted_unread(proc):
    failure = _collect.TcpStateError("/proc/net/sockstat is not readable")
    result = _scan(proc, {"ctr": failure, "pod": _load(50), "bare": _load(0)})
    assert result["total"] == 3 and result["unread"] == 1 and len(result["top"]) == 2
    assert _held(result["counts"]) == {"total": 52, "time_wait": 50}
    assert result["errors"] == ["namespace container %s: /proc/net/sockstat is not readable" % DOCKER_ID[:12]]
    proc.assert_each_move_was_followed_by_the_return()


def _first_read_last(proc):
    """``before`` hooks that hold the read of the namespace with the lowest inode until another has been
    read (with two workers; with one they run in turn anyway)."""
    names = sorted(("ctr", "pod", "bare"), key=lambda name: proc.key(name)[1])
    if proc.workers == 1:
        return {}
    later = threading.Event()

    def hold():
        assert later.wait(5), "the second worker never read another namespace"

    return dict([(names[0], hold)] + [(name, later.set) for name in names[1:]])


def test_the_namespace_own_messages_are_prefixed_with_its_owner_in_the_order_of_the_inodes(proc):
    names = {"ctr": "container %s" % DOCKER_ID[:12], "pod": "pod %s" % POD_UID, "bare": "inode %d" % proc.key("bare")[1]}
    before = _first_read_last(proc)

    def read(warnings, errors, own_proc):
        name = proc.name_of(proc.current)
        if name in before:
            before[name]()
        warnings.append("sysctl x unreadable")
        errors.append("sysctl x unreadable")
        return _load(1), None
    result = _namespaces.scan(read, 10, str(proc.root), setns=proc.setns, is_root=True, workers=proc.workers)
    in_inode_order = sorted(names, key=lambda name: proc.key(name)[1])
    assert result["errors"] == ["namespace %s: sysctl x unreadable" % names[name] for name in in_inode_order]
    assert result["errors_total"] == 3 and result["warnings_total"] == 3


def test_failing_to_return_to_the_host_namespace_raises(proc):
    def setns(fd):
        proc.setns(fd)
        if proc.moves[-1] == "host":
            raise OSError(errno.EINVAL, "Invalid argument")
    with pytest.raises(_namespaces.NamespaceReturnError, match="could not return"):
        _namespaces.scan(proc.reader({"ctr": _load(1), "pod": _load(1), "bare": _load(1)}), 10, str(proc.root),
                         setns=setns, is_root=True, workers=proc.workers)
    # each thread that failed to return took no more work: one namespace entered per thread
    assert all(len(trail) == 2 for trail in proc.trails.values())
    assert 1 <= len(proc.trails) <= proc.workers and threading.get_ident() not in proc.trails
    assert_no_worker_left()


def test_a_failed_return_stops_the_other_worker_after_its_current_namespace(proc):
    for number in range(6):
        proc.add("more%d" % number, [600 + number])
    data = dict((name, _load(1)) for name in proc.files if name != "host")
    first = sorted(data, key=lambda name: proc.key(name)[1])[0]
    failed = threading.Event()

    def setns(fd):
        proc.setns(fd)
        if proc.moves[-1] == "host" and proc.trails[threading.get_ident()][-2] == first:
            failed.set()
            raise OSError(errno.EINVAL, "Invalid argument")

    def wait_for_the_failure():
        failed.wait(5)
    before = dict((name, wait_for_the_failure) for name in data if name != first)
    with pytest.raises(_namespaces.NamespaceReturnError):
        _namespaces.scan(proc.reader(data, before=before), 10, str(proc.root), setns=setns, is_root=True,
                         workers=proc.workers)
    # the failing worker entered one namespace; the other at most the one it held when the failure came
    assert len(proc.entered()) <= proc.workers
    assert_no_worker_left()


def _walk(proc, jobs, work, workers=2):
    return _entering.Walk(str(proc.root), proc.setns, jobs, work, workers)


def _in_thread(function, seconds=10):
    """Run ``function`` in a helper thread: a walk that hangs fails the test instead of the whole run."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc
    helper = threading.Thread(target=run, daemon=True)
    helper.start()
    helper.join(seconds)
    assert not helper.is_alive(), "the walk hung"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _seen_walk(walks):
    """A Walk that puts itself into ``walks`` before its workers start (for work that looks at it)."""
    class SeenWalk(_entering.Walk):
        def _start(self, *args):
            walks.append(self)
            super(SeenWalk, self)._start(*args)
    return SeenWalk


def test_a_worker_failure_stops_the_other_worker_before_anyone_reads_the_walk(tmp_path):
    proc = _make_proc(tmp_path, 2)
    ran = []
    inside_job_1 = threading.Event()
    walks = []
    SeenWalk = _seen_walk(walks)

    def work(entering, job):
        if job == 0:
            assert inside_job_1.wait(5)
            raise _entering.NamespaceReturnError("stuck")
        inside_job_1.set()
        walks[0]._stopped.wait(5)  # the failing worker stops the walk, with nobody reading it
        ran.append(job)
        return job

    def walk():
        with pytest.raises(_entering.NamespaceReturnError):
            with SeenWalk(str(proc.root), proc.setns, list(range(10)), work, 2) as walked:
                assert walked._stopped.wait(5)
    _in_thread(walk)
    assert ran == [1]
    assert_no_worker_left()


def test_a_failed_return_is_raised_before_any_other_failure_of_the_walk(tmp_path):
    proc = _make_proc(tmp_path, 2)
    inside_job_1, failed_first = threading.Event(), threading.Event()

    def work(entering, job):
        if job == 0:
            assert inside_job_1.wait(5)
            failed_first.set()
            raise OSError(errno.EMFILE, "Too many open files")
        inside_job_1.set()
        assert failed_first.wait(5)
        raise _entering.NamespaceReturnError("stuck")

    def walk():
        with _walk(proc, [0, 1], work) as walked:
            list(walked)
    with pytest.raises(_entering.NamespaceReturnError):
        _in_thread(walk)
    assert_no_worker_left()


def test_among_equal_failures_the_earliest_job_is_raised_whichever_came_first(tmp_path):
    proc = _make_proc(tmp_path, 2)
    walks = []
    SeenWalk = _seen_walk(walks)

    def work(entering, job):
        if job == 0:
            deadline = time.monotonic() + 5
            while walks[0]._results.empty() and time.monotonic() < deadline:  # job 1's failure first
                time.sleep(0.01)
            raise _entering.NamespaceReturnError("stuck after job 0")
        raise _entering.NamespaceReturnError("stuck after job 1")

    def walk():
        with SeenWalk(str(proc.root), proc.setns, [0, 1], work, 2):
            # leaving the block stops the walk: both jobs must have been taken first, which a loaded
            # machine may not have done by the time an empty block ends
            for thread in walks[0]._threads:
                thread.join(5)
    with pytest.raises(_entering.NamespaceReturnError, match="job 0"):
        _in_thread(walk)
    assert_no_worker_left()


def test_a_failed_return_is_raised_even_when_the_walks_reader_raises(tmp_path):
    proc = _make_proc(tmp_path, 2)
    inside_job_1 = threading.Event()

    def work(entering, job):
        if job == 1:
            inside_job_1.set()
            raise _entering.NamespaceReturnError("stuck")
        return job

    def walk():
        with _walk(proc, [0, 1], work):
            assert inside_job_1.wait(5)
            raise KeyError("the reader's own bug")
    with pytest.raises(_entering.NamespaceReturnError):
        _in_thread(walk)
    assert_no_worker_left()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_leaving_a_walk_whose_workers_all_wait_for_room_does_not_hang(tmp_path, workers):
    """Every worker waits for room (the reader takes one result, dawdles, and leaves): leaving must wake
    each of them, whatever order they wake in."""
    proc = _make_proc(tmp_path, workers)

    def walk():
        with _walk(proc, list(range(50)), lambda entering, job: job, workers) as walked:
            for _item in walked:
                time.sleep(0.2)  # meanwhile the room freed is taken, and every worker waits again
                break
    _in_thread(walk)
    assert_no_worker_left()


def test_a_walk_whose_second_thread_fails_to_start_for_another_reason_leaves_no_thread(tmp_path, monkeypatch):
    proc = _make_proc(tmp_path, 2)
    real_start = threading.Thread.start

    def start(thread):
        if thread.name == "tcpops-namespace-1":
            raise MemoryError("no memory for a thread")
        real_start(thread)
    monkeypatch.setattr(threading.Thread, "start", start)
    with pytest.raises(MemoryError):
        _walk(proc, list(range(50)), lambda entering, job: job)
    assert_no_worker_left()


def test_when_the_completion_cannot_start_the_survey_is_kept_and_the_owners_say_why(proc, monkeypatch):
    real_start = threading.Thread.start
    started = []

    def start(thread):
        if thread.name.startswith("tcpops-namespace"):
            started.append(thread.name)
            if len(started) > proc.workers:  # the survey's threads start, the completion's do not
                raise RuntimeError("can't start new thread")
        real_start(thread)
    monkeypatch.setattr(threading.Thread, "start", start)
    load = _load(50, 0.7)
    load["close_wait"] = {"owners_reason": None}
    warnings = []
    result = _scan(proc, {"ctr": _load(5), "pod": load, "bare": _load(0)}, warnings=warnings)
    assert result["total"] == 3 and result["reason"] is None and len(result["top"]) == 3
    pod = result["top"][0]
    assert pod["close_wait"]["owners_reason"] == (
        "its socket owners were not searched nor its other sysctls read: "
        "no thread could be started to read the namespaces: can't start new thread")
    assert pod["time_wait"]["likely_sources_reason"] == pod["close_wait"]["owners_reason"]
    assert any("listed in full were read, not their socket owners" in warning for warning in warnings)
    assert_no_worker_left()


def test_a_failed_return_is_raised_even_when_the_walk_stops_on_a_refusal(tmp_path):
    """The lowest namespace is refused (its walk stops with the reason) while the other worker, already in
    the next one, cannot return: the failed return must still fail the scan."""
    proc = _make_proc(tmp_path, 2)
    order = sorted(("ctr", "pod", "bare"), key=lambda name: proc.key(name)[1])
    inside = threading.Event()

    def setns(fd):
        name = proc.name_of((os.fstat(fd).st_dev, os.fstat(fd).st_ino))
        if name == order[0]:
            assert inside.wait(5)
            raise OSError(errno.EPERM, "Operation not permitted")
        proc.setns(fd)
        if name == "host":
            raise OSError(errno.EINVAL, "Invalid argument")

    def entered():
        inside.set()
    with pytest.raises(_namespaces.NamespaceReturnError):
        _namespaces.scan(proc.reader({order[1]: _load(1), order[2]: _load(1)}, before={order[1]: entered}), 10,
                         str(proc.root), setns=setns, is_root=True, workers=proc.workers)
    assert_no_worker_left()


def test_a_refusal_gives_the_same_result_whichever_worker_finishes_first(proc):
    """Namespaces before the refused one are counted, those after it are not, as in a walk in turn."""
    order = sorted(("ctr", "pod", "bare"), key=lambda name: proc.key(name)[1])
    before = _first_read_last(proc)

    def setns(fd):
        if proc.name_of((os.fstat(fd).st_dev, os.fstat(fd).st_ino)) == order[1]:
            raise OSError(errno.EACCES, "Permission denied")
        proc.setns(fd)
    data = {order[0]: _load(5), order[2]: _load(7)}
    warnings = []
    result = _namespaces.scan(proc.reader(data, before=before), 10, str(proc.root), setns=setns,
                              warnings=warnings, is_root=True, workers=proc.workers)
    assert (result["total"], result["unread"], result["reason"]) == (2, 1, _namespaces.ROOT_NEEDED)
    assert [entry["inode"] for entry in result["top"]] == [proc.key(order[0])[1]]
    assert _held(result["counts"]) == {"total": 6, "time_wait": 5}
    assert_no_worker_left()


def test_an_unexpected_exception_in_a_worker_is_raised_after_every_worker_stopped(proc):
    data = {"ctr": RuntimeError("a bug"), "pod": _load(1), "bare": _load(1)}
    with pytest.raises(RuntimeError, match="a bug"):
        _scan(proc, data)
    proc.assert_each_move_was_followed_by_the_return()


def test_a_worker_that_cannot_open_its_own_namespace_is_a_reason(proc, monkeypatch):
    real_open = os.open
    own = os.path.join(str(proc.root), "thread-self", "ns", "net")

    def failing_open(path, *args, **kwargs):
        if str(path) == own:
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", failing_open)
    result = _scan(proc, {"ctr": _load(1), "pod": _load(1), "bare": _load(1)})
    assert result["reason"] == "own network namespace unreadable in a worker thread: Too many open files"
    assert result["total"] is None and result["counts"] is None and proc.moves == []
    assert_no_worker_left()


def test_a_walk_goes_on_with_the_threads_that_started(proc, monkeypatch):
    real_start = threading.Thread.start
    started = []

    def start(thread):
        if thread.name == "tcpops-namespace-1":  # each walk's second worker
            raise RuntimeError("can't start new thread")
        started.append(thread)
        real_start(thread)
    monkeypatch.setattr(threading.Thread, "start", start)
    result = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0)})
    assert result["total"] == 3 and result["reason"] is None
    assert len(started) == 2  # one worker for the survey, one for the completion
    proc.assert_each_move_was_followed_by_the_return()


def test_no_thread_at_all_is_a_reason(proc, monkeypatch):
    def start(thread):
        raise RuntimeError("can't start new thread")
    monkeypatch.setattr(threading.Thread, "start", start)
    warnings = []
    result = _scan(proc, {"ctr": _load(5), "pod": _load(50), "bare": _load(0)}, warnings=warnings)
    assert result["reason"] == "no thread could be started to read the namespaces: can't start new thread"
    assert result["total"] is None and result["counts"] is None and proc.moves == [] and warnings


def test_permission_denied_by_setns_stops_with_the_reason(proc):
    def setns(fd):
        raise OSError(errno.EPERM, "Operation not permitted")
    warnings = []
    result = _namespaces.scan(proc.reader({}), 10, str(proc.root), setns=setns, warnings=warnings, is_root=True,
                              workers=proc.workers)
    assert result["reason"] == _namespaces.ROOT_NEEDED and result["top"] == []
    assert any("become: true" in warning for warning in warnings)


def test_not_root_is_a_reason_not_a_failure(proc):
    warnings = []
    result = _namespaces.scan(proc.reader({}), 10, str(proc.root), setns=proc.setns, warnings=warnings, is_root=False,
                              workers=proc.workers)
    assert result["total"] is None and result["top"] == [] and result["reason"] == _namespaces.ROOT_NEEDED
    assert result["counts"] is None
    assert proc.moves == [] and warnings


def test_workers_are_two_where_more_than_one_cpu_may_run_the_module(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert _namespaces.default_workers() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3})
    assert _namespaces.default_workers() == 2
    with pytest.raises(ValueError, match="at least 1"):
        _namespaces.scan(lambda *args: None, 10, workers=0, is_root=True)


def test_a_thread_sees_its_own_proc_directory(tmp_path):
    assert _namespaces.thread_proc(str(tmp_path)) == os.path.join(
        str(tmp_path), "self", "task", str(threading.get_native_id()))
    os.makedirs(str(tmp_path / "thread-self"))
    assert _namespaces.thread_proc(str(tmp_path)) == os.path.join(str(tmp_path), "thread-self")


def test_self_leaves_namespaces_null_and_all_refuses_what_it_cannot_do(tmp_path):
    assert _collect.collect(mode="summary")["namespaces"] is None
    with pytest.raises(_collect.TcpStateError, match="namespaces all needs mode full"):
        _collect.collect(mode="summary", namespaces="all")
    with pytest.raises(_collect.TcpStateError, match="leave proc_root at /proc"):
        _collect.collect(proc_root=str(tmp_path), namespaces="all")
    with pytest.raises(_collect.TcpStateError, match="namespaces must be one of self, all"):
        _collect.collect(namespaces="some")


def test_bad_thresholds_are_refused_naming_the_threshold(tmp_path):
    with pytest.raises(_collect.TcpStateError, match="thresholds: unknown threshold 'close_wait'"):
        _collect.collect(proc_root=str(tmp_path), thresholds={"close_wait": 1})


def test_cli_takes_namespaces():
    options, refusal = _collect._parse_arguments(["--namespaces", "all", "--top", "3"])
    assert refusal is None and options["namespaces"] == "all" and options["top"] == 3


def test_outbound_table_by_raw_port_is_the_table_read_through_network_port():
    """The transposed table (little-endian fast path) equals the plain lookup through NETWORK_PORT."""
    import random

    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import sockdiag

    tally = _collect.SocketTally({"low": 1024, "high": 40000, "reserved": [2000, 30000], "usable": 38975})
    tally.listeners = [(2, "0.0.0.0", port, 0, 128) for port in random.Random(7).sample(range(65536), 300)]
    tally.listeners_complete(sockdiag.NETWORK_PORT)
    expected = bytes(tally.outbound_ports[sockdiag.NETWORK_PORT[raw]] for raw in range(65536))
    assert tally.outbound_by_raw_port == expected
    assert sum(expected) == sum(tally.outbound_ports) < 38975


@pytest.mark.parametrize("plant", ["fifo", "device_link", "huge", "invalid_utf8_and_nul"])
def test_a_hostile_cgroup_file_gives_no_owner_and_never_blocks(tmp_path, plant):
    """A cgroup file that is not a small regular text file: the next pid names the owner, or none."""
    first, second = tmp_path / "100", tmp_path / "200"
    first.mkdir()
    second.mkdir()
    path = first / "cgroup"
    if plant == "fifo":
        os.mkfifo(str(path))
    elif plant == "device_link":
        os.symlink("/dev/zero", str(path))
    elif plant == "huge":
        path.write_text("0::/system.slice/huge.service\n" + "x" * (_namespaces.CGROUP_CAP + 1))
    else:
        path.write_bytes(b"0::/system.slice/\xff\x00bad.service\n")
    (second / "cgroup").write_text("0::/system.slice/nginx.service\n")
    assert _namespaces.read_owner(str(tmp_path), [100, 200]) == {"kind": "unit", "id": "nginx.service"}
    assert _namespaces.read_owner(str(tmp_path), [100]) is None


def test_a_host_without_other_namespaces_counts_none_and_sums_zeros(tmp_path):
    alone = FakeProc(tmp_path, 1)
    alone.add("host", [1, 2])
    result = _scan(alone, {})
    assert (result["total"], result["unread"], result["top"], result["reason"]) == (0, 0, [], None)
    assert _held(result["counts"]) == {}
