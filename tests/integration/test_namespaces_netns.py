"""tcp_state_facts namespaces=all on real namespaces: each one read inside it, as ``ss`` run inside it sees it.

Five namespaces are created, each held by a live process and each with its own port range and its own
load; the engine then runs once from the host's namespace with ``--namespaces all``, and ``nsenter -t PID
-n ss`` runs inside each namespace right after it, well within the 60 s a TIME_WAIT socket lives. Other
namespaces of the machine (other tests, containers) may be listed too: the entries are found by inode.
The audit playbook then runs with ``tcp_audit_namespaces=all`` and reports the two namespaces whose
own ranges are nearly used up toward the same destination: each finding whole, the rule once per
host. A podman container checks the owner read from the cgroup path.
"""

import csv
import html
import json
import os
import secrets
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.namespaces import owner_text

pytestmark = pytest.mark.root

# name -> (port range, TIME_WAIT toward 127.0.0.2:8080, established pairs, CLOSE_WAIT)
LOADS = {
    "narrow": ((40000, 40999), 900, 0, 0),
    "snug": ((41000, 41499), 425, 0, 0),
    "wide": ((20000, 29999), 300, 25, 0),
    "leaky": ((1024, 65000), 0, 5, 60),
    "empty": ((42000, 42999), 0, 0, 0),  # no TCP socket: read from sockstat alone, not dumped
}
STATE_NAMES = ("established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait", "close",
               "close_wait", "last_ack", "listen", "closing")
IMAGE = "localhost/tcpops-debian:12"
COLLECTIONS = Path(__file__).resolve().parents[2] / "build" / "collections"
HOST_PYTHON = "/usr/bin/python3"  # the engine runs on the system python, standard library only
ENGINE = "ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect"


def _ss_counts(planter, pid):
    """Per-state counts of ``ss -Hant`` run inside the namespace of ``pid`` through nsenter."""
    out = subprocess.run(["nsenter", "-t", str(pid), "-n", "ss", "-Hant"], capture_output=True, text=True,
                         check=True).stdout
    counts = dict((state, 0) for state in STATE_NAMES)
    for line in out.splitlines():
        counts[planter.SS_STATE_NAMES[line.split()[0]]] += 1
    counts["total"] = sum(counts.values())
    return counts


def _ss_state_count(pid, state):
    out = subprocess.run(["nsenter", "-t", str(pid), "-n", "ss", "-Hant", "state", state], capture_output=True,
                         text=True, check=True).stdout
    return len(out.splitlines())


# the walk alone, with a given number of worker threads, from a given /proc (or a view of it): checks that
# the calling thread never left its namespace and that no worker is left, then prints {inode: counts}
WALK = """
import json, os, sys, threading
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect, namespaces
home = os.readlink("/proc/self/ns/net")
result = namespaces.scan(collect.namespace_reader("auto", 10000, "/proc"), 10000, sys.argv[2],
                         workers=int(sys.argv[1]))
assert result["reason"] is None and result["total"] == len(result["top"]), result
assert os.readlink("/proc/self/ns/net") == home and threading.active_count() == 1
print(json.dumps(dict((entry["inode"], entry["counts"]) for entry in result["top"])))
"""


def _walk_from(pid, workers, proc_root="/proc"):
    """The walk run from inside the namespace of ``pid``: {inode: counts} of every other namespace."""
    argv = ["nsenter", "-t", str(pid), "-n", HOST_PYTHON, "-c", WALK, str(workers), proc_root]
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return dict((int(inode), counts) for inode, counts in json.loads(done.stdout).items())


def _view_without_thread_self(directory, pids):
    """A /proc standing for one without ``thread-self`` (kernels before 3.17): the planted namespaces'
    processes, and what the walk reads besides; threads then find their own ``net/`` under
    ``self/task/TID``."""
    for pid in pids:
        os.symlink("/proc/%d" % pid, os.path.join(directory, str(pid)))
    for name in ("self", "sys", "net"):
        os.symlink("/proc/" + name, os.path.join(directory, name))
    return directory


def _engine_all(top=100):
    argv = [HOST_PYTHON, "-m", ENGINE, "--namespaces", "all", "--top", str(top)]
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class Scene:
    """What was planted and read."""


@pytest.fixture(scope="module")
def scene(planter, playbook, tmp_path_factory, run_module_with_ansible):
    namespaces = {}
    try:
        for name, (port_range, time_wait, pairs, close_wait) in LOADS.items():
            ns = planter.Namespace(port_range=port_range, prefix="tcpops-nsall")
            ns.create()
            namespaces[name] = ns
            ns.holder = planter.hold(ns)
            if time_wait:
                planter.plant_time_wait(ns, [("127.0.0.2", 8080, time_wait)], verify=True)
            if pairs:
                planter.plant_established(ns, pairs)
            if close_wait:
                ns.leak = planter.plant_close_wait(ns, close_wait)
        scene = Scene()
        scene.namespaces = namespaces
        started = time.monotonic()
        scene.facts = _engine_all()
        scene.ss = dict((name, _ss_counts(planter, ns.holder)) for name, ns in namespaces.items())
        scene.ss_time_wait = dict((name, _ss_state_count(ns.holder, "time-wait")) for name, ns in namespaces.items())
        empty = namespaces["empty"].holder
        scene.walked_from_empty = dict((workers, _walk_from(empty, workers)) for workers in (1, 2))
        view = _view_without_thread_self(str(tmp_path_factory.mktemp("procview")),
                                         [ns.holder for ns in namespaces.values()])
        scene.walked_from_empty["no thread-self"] = _walk_from(empty, 2, view)
        # the module from inside "empty", one namespace in full: the defaults rank "narrow" (port usage 0.9
        # of 0.5) before "leaky" (60 CLOSE_WAIT of 50); a close_wait_warn of 10 ranks "leaky" first
        scene.kept = dict((name, run_module_with_ansible(namespaces["empty"], json.dumps(args)))
                          for name, args in (("defaults", {"namespaces": "all", "top": 1}),
                                             ("lowered", {"namespaces": "all", "top": 1,
                                                          "thresholds": {"close_wait_warn": 10}})))
        scene.inodes = dict((name, ns.inode) for name, ns in namespaces.items())
        scene.proc_inodes = dict((name, os.stat("/proc/%d/ns/net" % ns.holder).st_ino)
                                 for name, ns in namespaces.items())
        scene.sysctl_range = dict((name, ns.sysctl("net.ipv4.ip_local_port_range")) for name, ns in namespaces.items())
        report_dir = tmp_path_factory.mktemp("nsaudit") / "reports"
        scene.report_dir = report_dir
        # thresholds as a survey gives them (a JSON string), equal to the defaults: read through the filter
        scene.audit = playbook.run("audit", str(report_dir), {"tcp_audit_namespaces": "all",
                                                              "tcp_audit_thresholds": "'{\"close_wait_warn\": 50}'"})
        scene.audit_doc = None
        if (report_dir / "tcp-audit.json").exists():
            scene.audit_doc = json.loads((report_dir / "tcp-audit.json").read_text())
        scene.age = time.monotonic() - started + (started - min(ns.planted_at or started for ns in namespaces.values()))
        yield scene
    finally:
        for ns in namespaces.values():
            ns.close()


def _entry(scene, name):
    found = [e for e in scene.facts["namespaces"]["top"] if e["inode"] == scene.inodes[name]]
    assert len(found) == 1, "namespace %s (inode %d) not listed once" % (name, scene.inodes[name])
    return found[0]


def test_everything_was_read_while_the_time_wait_sockets_lived(scene):
    assert scene.age < 55, "planting and reading took %.1f s; TIME_WAIT lasts 60 s" % scene.age


def test_inode_is_what_stat_of_proc_pid_ns_net_prints(scene):
    assert scene.inodes == scene.proc_inodes
    for name, ns in scene.namespaces.items():
        assert ns.holder in _entry(scene, name)["pids"]


def test_the_host_namespace_is_the_top_level_and_not_repeated(scene):
    own = os.stat("/proc/self/ns/net").st_ino
    assert own not in [e["inode"] for e in scene.facts["namespaces"]["top"]]
    assert scene.facts["namespaces"]["reason"] is None
    assert scene.facts["namespaces"]["total"] >= len(LOADS)


@pytest.mark.parametrize("name", sorted(LOADS))
def test_each_namespace_counts_equal_ss_run_inside_it(scene, name):
    assert _entry(scene, name)["counts"] == scene.ss[name]


@pytest.mark.parametrize("workers", [1, 2, "no thread-self"])
def test_each_namespace_is_counted_from_its_own_sockstat_whichever_thread_reads_it(scene, workers):
    """Walked from inside "empty", whose sockstat shows no TCP socket: a worker that read the namespaces'
    sockstat through the process's /proc/net (the main thread's namespace) would skip every dump and
    count nothing. Workers read /proc/thread-self/net, or /proc/self/task/TID/net where the /proc they
    are given has no thread-self; the main thread never moves (checked in the walk's process)."""
    walked = scene.walked_from_empty[workers]
    for name in sorted(set(LOADS) - {"empty"}):
        assert walked[scene.inodes[name]] == scene.ss[name], name
    assert scene.inodes["empty"] not in walked


def test_the_sums_count_every_namespace_read_not_only_those_listed_in_full(scene):
    namespaces = scene.kept["defaults"]["ansible_facts"]["tcp_state"]["namespaces"]
    assert len(namespaces["top"]) == 1 and namespaces["unread"] == 0
    planted = sum(load[1] for name, load in LOADS.items() if name != "empty")  # "empty" is the module's own
    # other namespaces of the machine may add more
    assert namespaces["counts"]["time_wait"] >= planted > namespaces["top"][0]["counts"]["time_wait"]
    assert namespaces["counts"]["close_wait"] >= LOADS["leaky"][3]
    assert sorted(namespaces["counts"]) == sorted(STATE_NAMES + ("total",))


def test_the_module_lists_in_full_the_namespace_nearest_to_the_thresholds_it_is_given(scene):
    kept = dict((name, [entry["inode"] for entry in result["ansible_facts"]["tcp_state"]["namespaces"]["top"]])
                for name, result in scene.kept.items())
    assert kept == {"defaults": [scene.inodes["narrow"]], "lowered": [scene.inodes["leaky"]]}


@pytest.mark.parametrize("name", sorted(LOADS))
def test_each_namespace_time_wait_equals_ss_state_time_wait_inside_it(scene, name):
    entry = _entry(scene, name)
    assert entry["time_wait"]["total"] == scene.ss_time_wait[name] == LOADS[name][1]


@pytest.mark.parametrize("name", sorted(LOADS))
def test_each_namespace_has_its_own_port_range_not_the_hosts(scene, name):
    entry = _entry(scene, name)
    low, high = LOADS[name][0]
    ports = entry["ephemeral_ports"]
    assert (ports["low"], ports["high"], ports["usable"]) == (low, high, high - low + 1)
    assert entry["sysctl"]["net.ipv4.ip_local_port_range"] == scene.sysctl_range[name] == "%d %d" % (low, high)
    host = scene.facts["ephemeral_ports"]
    assert (host["low"], host["high"]) != (low, high)


def test_port_usage_is_judged_against_the_namespace_own_range(scene):
    narrow = _entry(scene, "narrow")["time_wait"]
    assert narrow["outbound"] == 900
    worst = narrow["top_destinations"][0]
    assert (worst["address"], worst["port"], worst["count"]) == ("127.0.0.2", 8080, 900)
    assert worst["port_usage"] == 0.9
    wide = _entry(scene, "wide")["time_wait"]["top_destinations"][0]
    assert wide["port_usage"] == round(300 / 10000, 4)


def test_close_wait_owner_is_found_inside_its_namespace(scene):
    close_wait = _entry(scene, "leaky")["close_wait"]
    assert close_wait["total"] == 60 and close_wait["owners_available"] is True
    assert close_wait["top_processes"][0]["pid"] == scene.namespaces["leaky"].leak["leaker_pid"]
    assert close_wait["top_processes"][0]["comm"] == "cw-leaker"


def test_namespaces_are_ranked_by_pressure(scene):
    listed = [e["inode"] for e in scene.facts["namespaces"]["top"]]
    ours = [inode for inode in listed if inode in scene.inodes.values()]
    # port usage 0.9 and 0.85 (of port_usage_warn 0.5), 60 CLOSE_WAIT (of close_wait_warn 50), 3% usage
    assert ours == [scene.inodes[name] for name in ("narrow", "snug", "leaky", "wide", "empty")]


def test_the_audit_reports_the_namespace_finding_on_the_host(scene):
    assert scene.audit.returncode == 0, scene.audit.stdout[-3000:]
    host = scene.audit_doc["hosts"]["localhost"]
    inode = scene.inodes["narrow"]
    found = [f for f in host["findings"] if (f.get("namespace") or {}).get("inode") == inode]
    assert [(f["id"], f["severity"]) for f in found] == [("time_wait_port_exhaustion", "fail")]
    expected = owner_text(_entry(scene, "narrow"))
    assert found[0]["namespace"]["owner_text"] == expected
    assert found[0]["message"].startswith(
        "namespace %s: 900 sockets toward 127.0.0.2:8080 (900 TIME_WAIT) hold 90%% of 1000 usable local ports"
        % expected)
    assert host["status"] == "fail"


def test_the_fleet_hot_destinations_count_the_namespace_destination_on_its_host(scene):
    hot = [d for d in scene.audit_doc["hot_destinations"] if (d["address"], d["port"]) == ("127.0.0.2", 8080)]
    assert len(hot) == 1, scene.audit_doc["hot_destinations"]
    # at risk in "narrow" (90% of its own range) and "snug" (85%), not in "wide" (3%) nor in the host's own
    assert hot[0]["hosts_affected"] == 1 and hot[0]["namespaces_affected"] == 2
    assert hot[0]["worst_port_usage"] == 0.9 and hot[0]["worst_hosts"] == ["localhost"]
    assert hot[0]["sockets_total"] == 900 + 425


def _port_exhaustion_names(scene):
    return ["time_wait_port_exhaustion (%s)" % owner_text(_entry(scene, name)) for name in ("narrow", "snug")]


def test_a_rule_failing_in_two_namespaces_is_two_findings_and_one_rule_of_the_host(scene):
    doc = scene.audit_doc
    host = doc["hosts"]["localhost"]
    failing = [f for f in host["findings"] if f["id"] == "time_wait_port_exhaustion" and f["severity"] == "fail"]
    assert sorted(f["namespace"]["inode"] for f in failing) == sorted([scene.inodes["narrow"], scene.inodes["snug"]])
    # the host's sysctl files never reach these namespaces: remediating the host would not fix them
    assert all(f["fixed_by"] == "container" for f in failing)
    assert doc["summary"]["by_rule"]["time_wait_port_exhaustion"] == {"warn": 0, "fail": 1}
    with open(str(scene.report_dir / "tcp-audit.csv"), newline="") as handle:
        row = [r for r in csv.DictReader(handle) if r["host"] == "localhost"][0]
    assert row["failing_rules"].split().count("time_wait_port_exhaustion") == 1
    assert int(row["fail_count"]) >= 2
    suite = ET.parse(str(scene.report_dir / "tcp-audit.junit.xml")).getroot().find("testsuite[@name='localhost']")
    names = [case.get("name") for case in suite.findall("testcase")]
    assert len(names) == len(set(names))
    for name in _port_exhaustion_names(scene):
        assert suite.find("testcase[@name='%s']/failure" % name) is not None, names


def test_node_exporter_serves_the_rule_once_per_host_at_its_worst(scene, node_exporter, tmp_path):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    shutil.copy(str(scene.report_dir / "tcp-audit.prom"), str(textfiles / "tcp-audit.prom"))
    lines = node_exporter.scrape_textfiles(str(textfiles)).splitlines()
    assert "node_textfile_scrape_error 0" in lines
    series = [line for line in lines if line.startswith(
        'tcp_audit_finding_severity{host="localhost",report="audit",rule="time_wait_port_exhaustion"} ')]
    assert series == ['tcp_audit_finding_severity{host="localhost",report="audit",rule="time_wait_port_exhaustion"} 2']


def test_the_html_names_the_namespace_of_the_worst_port_usage(scene):
    page = (scene.report_dir / "tcp-audit.html").read_text()
    closest = page[page.index('<section id="closest-to-exhaustion">'):page.index('<section id="rules-firing">')]
    where = html.escape(owner_text(_entry(scene, "narrow")))
    assert ('<a href="#host-localhost">localhost</a><br><small title="in %s">in ' % where) in closest
    assert '<td class="n">90%</td>' in closest


@pytest.fixture(scope="module")
def container():
    podman = shutil.which("podman")
    assert podman, "podman is not installed (make system-deps installs it)"
    images = subprocess.run([podman, "image", "exists", IMAGE], check=False)
    assert images.returncode == 0, "no image %s: build it with tests/containers/build-image.sh (make test-integration does)" % IMAGE
    name = "tcpops-nsowner-%s" % secrets.token_hex(4)
    done = subprocess.run([podman, "run", "-d", "--rm", "--name", name, IMAGE, "sleep", "300"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    container_id = done.stdout.strip()
    try:
        pid = int(subprocess.run([podman, "inspect", "-f", "{{.State.Pid}}", name], capture_output=True, text=True,
                                 check=True).stdout)
        yield container_id, pid
    finally:
        subprocess.run([podman, "rm", "-f", "-t", "0", name], capture_output=True, check=False)


def test_a_container_namespace_is_owned_by_its_container_id(container):
    container_id, pid = container
    facts = _engine_all()
    inode = os.stat("/proc/%d/ns/net" % pid).st_ino
    found = [e for e in facts["namespaces"]["top"] if e["inode"] == inode]
    assert len(found) == 1
    assert found[0]["owner"] == {"kind": "container", "id": container_id[:12]}
    assert found[0]["pids"] == [pid]


def test_the_reports_count_the_namespaces_sockets_beside_the_hosts_own(scene, reportdirs):
    planted = sum(load[1] for load in LOADS.values())  # TIME_WAIT in our namespaces (others may add more)
    with open(str(scene.report_dir / "tcp-audit.csv"), newline="") as handle:
        row = [r for r in csv.DictReader(handle) if r["host"] == "localhost"][0]
    namespaces = scene.audit_doc["hosts"]["localhost"]["facts"]["namespaces"]
    listed = namespaces["top"]
    assert int(row["namespaces_listed"]) == len(listed) >= len(LOADS)
    assert int(row["namespaces_total"]) == namespaces["total"]
    assert int(row["namespaces_summed"]) == namespaces["total"] - namespaces["unread"]
    assert int(row["namespaces_time_wait"]) == namespaces["counts"]["time_wait"]
    assert namespaces["counts"]["time_wait"] >= sum(entry["counts"]["time_wait"] for entry in listed) >= planted
    prom = (scene.report_dir / "tcp-audit.prom").read_text().splitlines()
    assert ('tcp_audit_namespaces_tcp_sockets{host="localhost",report="audit",state="time_wait"} %s'
            % row["namespaces_time_wait"]) in prom
    reportdirs.promtool_check(str(scene.report_dir / "tcp-audit.prom"))
