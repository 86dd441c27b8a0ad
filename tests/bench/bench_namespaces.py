"""Time tcp_state_facts ``namespaces: all`` against looping ``nsenter -t PID -n ss -ant | awk`` over the same namespaces.

Run as root: ``make bench`` runs it after bench.py (or ``python tests/bench/bench_namespaces.py
[--namespaces 50 --sockets 1000 --rounds 7]``).

``--namespaces`` fresh network namespaces each get ``--sockets`` sockets (ESTABLISHED pairs held by a
worker process of tests/support/plant.py, which is also the process the namespace is found through), and
each its own port range. Then, round after round, rotating which of the first three goes first, whole
processes are timed:

- ``scan``: the namespace walk of ``namespaces: all`` in a fresh interpreter (walk_namespaces.py, the engine's
  imports included): every namespace entered with setns, dumped through netlink, its port range read,
  ranked, and the ``--top`` ones entered again for their owners and other sysctls, by the two worker
  threads the module uses where it may run on more than one CPU. The walk is pointed at a directory that holds
  links to the planted namespaces' /proc/PID entries only (the ``proc_root`` the walk discovers from), so
  that it covers the same namespaces as the loop and not whatever else runs on the machine (each
  namespace is then read through /proc, as the module does; the directory links ``thread-self`` too);
- ``one worker``: the same walk with one worker thread (``workers`` 1: what a host that gives the module one
  CPU gets), to show what the second worker changes;
- ``loop``: ``for pid in PIDS; do nsenter -t $pid -n ss -ant | awk '{++S[$1]} END {...}'; done`` in one shell;
- ``engine``: the whole command line ``--namespaces all`` (host facts plus every namespace of the machine,
  however many there are: listed in the report).

Before timing, the scan's counts are checked against ``ss`` in each namespace. Medians, the ratio and the
load average are printed as Markdown. Every namespace is deleted at the end.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

COLLECTIONS = os.path.join(ROOT, "build", "collections")
ENGINE = "ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect"
AWK = "awk '{++S[$1]} END {for (a in S) print a, S[a]}'"
TARGET = 0.5
SYSTEM_PYTHON = "/usr/bin/python3"


def make_view(pids):
    """A directory standing for /proc: the planted namespaces' processes, and what the walk reads besides."""
    view = tempfile.mkdtemp(prefix="tcpops-nsview-")
    for pid in pids:
        os.symlink("/proc/%d" % pid, os.path.join(view, str(pid)))
    for name in ("self", "thread-self", "sys", "net"):
        os.symlink("/proc/" + name, os.path.join(view, name))
    return view


def run_once(argv, env):
    """(wall seconds, CPU seconds: user + system of the process and of the children it waited for, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    error = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv[:4], proc.returncode, error.decode(errors="replace")[-500:]))
    return elapsed, usage.ru_utime + usage.ru_stime, out


def plant_namespaces(plant, count, sockets):
    spaces = []
    for index in range(count):
        low = 10000 + 100 * index  # each namespace its own range
        ns = plant.Namespace(port_range=(low, low + 20000), prefix="tcpops-nsbench")
        spaces.append(ns)
        ns.create()
        ns.holder = plant.plant_established(ns, sockets // 2)["pids"][0]
    return spaces


def read_walk(output):
    """What walk_namespaces.py printed: {"total", "reason", "errors", "counts" {inode: sockets}}."""
    lines = output.decode().splitlines()
    found = dict(line.split(" ", 1) for line in lines[:3])
    return {"total": int(found["total"]), "reason": None if found["reason"] == "-" else found["reason"],
            "errors": int(found["errors"]), "counts": dict(tuple(map(int, line.split())) for line in lines[3:])}


def check(plant, spaces, scan_output):
    found = read_walk(scan_output)
    if found["total"] != len(spaces) or found["reason"] or found["errors"]:
        raise SystemExit("the scan saw %s namespaces (reason %s, %s errors), %d were planted"
                         % (found["total"], found["reason"], found["errors"], len(spaces)))
    for ns in spaces:
        seen = found["counts"].get(ns.inode)
        out = subprocess.run(["nsenter", "-t", str(ns.holder), "-n", "ss", "-Hant"], capture_output=True,
                             text=True, check=True).stdout
        if seen != len(out.splitlines()):
            raise SystemExit("namespace %s: the scan counts %s sockets, ss %d" % (ns.name, seen, len(out.splitlines())))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--sockets", type=int, default=1000, help="sockets per namespace (even)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.stderr.write("bench_namespaces.py needs root (it creates network namespaces)\n")
        return 2
    import plant

    # the system interpreter where there is one, as on a managed host (the engine is standard library only)
    engine_python = SYSTEM_PYTHON if os.path.exists(SYSTEM_PYTHON) else os.path.realpath(
        getattr(sys, "_base_executable", sys.executable))
    subprocess.run([engine_python, "-m", "compileall", "-q", os.path.join(ROOT, "plugins", "module_utils")], check=True)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS, LC_ALL="C")
    spaces = []
    view = None
    try:
        started = time.monotonic()
        sys.stderr.write("planting %d namespaces of %d sockets...\n" % (args.namespaces, args.sockets))
        spaces = plant_namespaces(plant, args.namespaces, args.sockets)
        planted_s = time.monotonic() - started
        view = make_view([ns.holder for ns in spaces])
        pids = " ".join(str(ns.holder) for ns in spaces)
        commands = {
            "scan": [engine_python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "walk_namespaces.py"), view,
                     str(args.top)],
            "one worker": [engine_python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "walk_namespaces.py"),
                           view, str(args.top), "1"],
            "loop": ["bash", "-c", "for pid in %s; do nsenter -t $pid -n ss -ant | %s; done" % (pids, AWK)],
            "engine": [engine_python, "-m", ENGINE, "--namespaces", "all", "--top", str(args.top)],
        }
        check(plant, spaces, run_once(commands["scan"][:-1] + [str(len(spaces))], env)[2])
        check(plant, spaces, run_once(commands["one worker"][:-2] + [str(len(spaces)), "1"], env)[2])
        engine_seen = json.loads(run_once(commands["engine"], env)[2])["namespaces"]["total"]
        load_before = os.getloadavg()
        samples = dict((name, []) for name in commands)
        cpu = dict((name, []) for name in commands)
        for round_index in range(args.rounds):
            rotation = ["scan", "one worker", "loop"]
            order = rotation[round_index % 3:] + rotation[:round_index % 3]
            for name in order + ["engine"]:
                elapsed, used, _out = run_once(commands[name], env)
                samples[name].append(elapsed)
                cpu[name].append(used)
        load_after = os.getloadavg()
    finally:
        for ns in spaces:
            ns.close()
        if view:
            for name in os.listdir(view):
                os.unlink(os.path.join(view, name))
            os.rmdir(view)
    medians = dict((name, statistics.median(values) * 1000) for name, values in samples.items())
    cpu_medians = dict((name, statistics.median(values) * 1000) for name, values in cpu.items())
    ratio = medians["scan"] / medians["loop"]
    print("## namespaces: all, %d namespaces x %d sockets (%d rounds, alternating)" % (
        args.namespaces, args.sockets, args.rounds))
    print()
    print("| command | median wall ms | min | max | median CPU ms (user + system) |")
    print("|---|---|---|---|---|")
    labels = {"scan": "namespaces: all walk (fresh interpreter)",
              "one worker": "the same walk with one worker thread (one CPU)",
              "loop": "nsenter -t PID -n ss -ant \\| awk, looped",
              "engine": "engine --namespaces all (host + %d namespaces on the machine)" % engine_seen}
    for name in ("scan", "one worker", "loop", "engine"):
        row = (labels[name], medians[name], min(samples[name]) * 1000, max(samples[name]) * 1000, cpu_medians[name])
        print("| %s | %.1f | %.1f | %.1f | %.1f |" % row)
    print()
    print("- ratio walk / loop, wall: **%.2fx** (target <= %.1fx): %s; CPU: %.2fx" % (
        ratio, TARGET, "met" if ratio <= TARGET else "NOT met", cpu_medians["scan"] / cpu_medians["loop"]))
    print("- with one worker: %.2fx wall, %.2fx CPU of the loop" % (
        medians["one worker"] / medians["loop"], cpu_medians["one worker"] / cpu_medians["loop"]))
    print("- load average before %s, after %s (2 cores); planting took %.1f s" % (
        "/".join("%.2f" % v for v in load_before), "/".join("%.2f" % v for v in load_after), planted_s))
    print("- interpreter %s" % engine_python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
