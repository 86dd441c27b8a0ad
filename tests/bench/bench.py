"""Time tcp_state_facts against the commands operators use today, on planted TIME_WAIT sockets.

Run as root: ``make bench`` (or ``python tests/bench/bench.py [--sizes 50000,100000,200000]``).

For each size, a fresh network namespace gets ``size`` TIME_WAIT sockets (plus ESTABLISHED
pairs, CLOSE_WAIT held by a child process, a listener, and a client process holding live
connections toward the first TIME_WAIT destination, so that full mode computes the all-state port
headroom and names that client as the likely source) from tests/support/plant.py. A timing
driver then runs INSIDE the namespace (one ``ip netns exec`` for the driver, none per command)
and, round after round in rotating order, starts each command as a whole process and records
its wall time and its peak RSS (``ru_maxrss`` from ``wait4``):

- ``python -c pass`` and ``python -c 'import ansible.module_utils.basic'`` (baselines)
- the stdlib engine ``python -m ...module_utils._socket_state.collect`` in full mode per backend, and summary
- with ``--baseline DIR`` (a directory holding ``ansible_collections``, e.g. another checkout's
  build/collections), that version's engine in full netlink mode too, in the same rounds
- the real module file ``python plugins/modules/tcp_state_facts.py args.json``, same variants
- ``ss -ant | awk '{print $1}' | sort | uniq -c`` and
  ``netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'``

TIME_WAIT lasts 60 s, so rounds stop before the first planted socket expires, and the TIME_WAIT
count is checked again afterwards. Medians, ratios and the targets are printed as Markdown.
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

ENGINE = "ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect"
MODULE_FILE = os.path.join(ROOT, "plugins", "modules", "tcp_state_facts.py")
COLLECTIONS = os.path.join(ROOT, "build", "collections")
SS_AWK = "ss -ant | awk '{print $1}' | sort | uniq -c"
NETSTAT_AWK = "netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'"
TIME_WAIT_LIFETIME = 60.0
SAFETY = 4.0  # stop this many seconds before the first planted TIME_WAIT expires
PER_DESTINATION = 50000
SOURCE_COMM = "tw-client"
TARGETS = {"full_vs_ss": 0.65, "summary_vs_bare": 1.3, "peak_rss_mb": 60.0}
BASELINE = "engine full netlink (baseline)"


def commands(engine_python, module_python, workdir, baseline=None):
    """name -> argv. The engine runs on the base interpreter, the module on the one with Ansible.
    With ``baseline``, one more command runs the engine found there (see ``pythonpaths``)."""
    def module_args(name, **args):
        path = os.path.join(workdir, name + ".json")
        with open(path, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        return [module_python, MODULE_FILE, path]

    argvs = {
        "python -c pass": [engine_python, "-c", "pass"],
        "engine full netlink": [engine_python, "-m", ENGINE, "--mode", "full", "--backend", "netlink"],
        "engine full proc": [engine_python, "-m", ENGINE, "--mode", "full", "--backend", "proc"],
        "engine summary": [engine_python, "-m", ENGINE, "--mode", "summary"],
        "import ansible basic": [module_python, "-c", "import ansible.module_utils.basic"],
        "module full netlink": module_args("full_netlink", mode="full", backend="netlink"),
        "module full proc": module_args("full_proc", mode="full", backend="proc"),
        "module summary": module_args("summary", mode="summary"),
        "ss -ant | awk": ["sh", "-c", SS_AWK],
        "netstat -n | awk": ["sh", "-c", NETSTAT_AWK],
    }
    if baseline:
        argvs[BASELINE] = [engine_python, "-m", ENGINE, "--mode", "full", "--backend", "netlink"]
    return argvs


def pythonpaths(baseline=None):
    """The PYTHONPATH of each command that does not import this checkout's collection."""
    return {BASELINE: os.path.abspath(baseline)} if baseline else {}


# ---------------------------------------------------------------------------------------------
# inside the namespace
# ---------------------------------------------------------------------------------------------

def run_once(argv, env):
    """Wall seconds, CPU seconds (user + system, the process and the children it waited for)
    and peak RSS (KiB) of one whole process, output discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    error = proc.stderr.read()
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv, proc.returncode, error.decode(errors="replace")[-500:]))
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def inner_main(spec_path):
    with open(spec_path) as handle:
        spec = json.load(handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS, LC_ALL="C")
    envs = dict((name, dict(env, PYTHONPATH=path)) for name, path in spec.get("pythonpaths", {}).items())
    names = list(spec["commands"])
    samples = dict((name, []) for name in names)
    cpu = dict((name, []) for name in names)
    rss = dict((name, 0) for name in names)
    last = dict((name, 0.0) for name in names)
    rounds = 0
    while rounds < spec["max_rounds"]:
        remaining = spec["deadline"] - time.time()
        if remaining < sum(last.values()) * 1.5 and rounds >= 1:
            break
        order = names[rounds % len(names):] + names[:rounds % len(names)]
        for name in order:
            elapsed, used, peak = run_once(spec["commands"][name], envs.get(name, env))
            samples[name].append(elapsed)
            cpu[name].append(used)
            last[name] = elapsed
            rss[name] = max(rss[name], peak)
        rounds += 1
    json.dump({"samples": samples, "cpu": cpu, "rss_kib": rss, "rounds": rounds}, sys.stdout)


# ---------------------------------------------------------------------------------------------
# outside: plant, drive, report
# ---------------------------------------------------------------------------------------------

def check_engine(ns, engine_python, size, env, source):
    """The engine's view of the planted namespace, before timing: counts must match, and the top
    destination must count the planted client's connections and name it as the likely source."""
    out = ns.run([engine_python, "-m", ENGINE, "--mode", "full", "--backend", "netlink"], env=env)
    state = json.loads(out.stdout)
    time_wait = state["counts"]["time_wait"]
    if abs(time_wait - size) > size * 0.01:
        raise SystemExit("engine sees %d TIME_WAIT, %d were planted" % (time_wait, size))
    # with loopback reuse its TIME_WAIT older than a second are free: it need not rank first
    top = ([d for d in state["time_wait"]["top_destinations"] if (d["address"], d["port"]) == source["destination"]]
           or [None])[0]
    if top is None:
        raise SystemExit("engine does not list the planted destination %s:%d" % source["destination"])
    if top["states"].get("established") != source["count"] or top["held"] != top["count"] + source["count"]:
        raise SystemExit("engine's top destination does not count the planted client: %r" % top)
    if not top["reuse_effective"] or not 0 <= top["time_wait_reusable"] <= top["count"]:
        raise SystemExit("engine does not judge loopback TIME_WAIT reuse: %r" % top)
    if (top["likely_sources"] or [{}])[0].get("pid") != source["client_pid"]:
        raise SystemExit("engine does not name the planted client %d as the likely source: %r"
                         % (source["client_pid"], top["likely_sources"]))
    return state, top


def plant_and_measure(plant, size, args, engine_python, module_python, env):
    """One planting in a fresh namespace, then as many timing rounds as fit in the TIME_WAIT window."""
    with plant.Namespace() as ns, tempfile.TemporaryDirectory(prefix="tcpops-bench-") as workdir:
        os.chmod(workdir, 0o755)
        destinations = []
        left = size
        index = 2
        while left > 0:
            count = min(PER_DESTINATION, left)
            destinations.append(("127.0.0.%d" % index, 8080, count))
            left -= count
            index += 1
        planting = time.monotonic()
        # the sockets that do not expire first, so that the 60 s window after the TIME_WAIT is all
        # measurement; one planting process per destination (a fair share of a loaded machine)
        plant.plant_established(ns, args.established)
        plant.plant_close_wait(ns, args.close_wait, comm="cw-leaker")
        plant.plant_listen(ns, 443, backlog=128, pending=0)
        plant.plant_time_wait(ns, destinations, workers=len(destinations))
        source = plant.plant_clients(ns, destinations[0][0], destinations[0][1], args.sources, comm=SOURCE_COMM)
        # planted with reuse off (else connect() would take planted TIME_WAIT); measured with the
        # kernel default, loopback reuse, so that the engine sorts young TIME_WAIT from reusable
        ns.write_sysctl("net.ipv4.tcp_tw_reuse", "2")
        planted_for = time.monotonic() - planting
        deadline = time.time() - (time.monotonic() - ns.planted_at) + TIME_WAIT_LIFETIME - SAFETY
        before = ns.sockstat()["tw"]
        source["destination"] = destinations[0][:2]
        state, headroom = check_engine(ns, engine_python, size, env, source)
        timed = commands(engine_python, module_python, workdir, args.baseline)
        if args.commands:
            timed = dict((name, timed[name]) for name in args.commands.split(","))
        spec = {"commands": timed, "deadline": deadline,
                "max_rounds": args.max_rounds, "pythonpaths": pythonpaths(args.baseline)}
        spec_path = os.path.join(workdir, "spec.json")
        with open(spec_path, "w") as handle:
            json.dump(spec, handle)
        measured = time.monotonic()
        out = ns.run([sys.executable, os.path.abspath(__file__), "--inner", spec_path], env=env)
        measured_for = time.monotonic() - measured
        after = ns.sockstat()["tw"]
        if after < size * 0.99:
            raise SystemExit("TIME_WAIT expired during the measurement (%d left of %d): lower --max-rounds" % (after, size))
        result = json.loads(out.stdout)
        result.update(planted_s=round(planted_for, 1), measured_s=round(measured_for, 1), tw_before=before,
                      tw_after=after, sockets=state["counts"]["total"], established=state["counts"]["established"],
                      close_wait=state["counts"]["close_wait"], owners=state["close_wait"]["top_processes"][:1],
                      headroom=headroom)
        return result


def bench_size(plant, size, args, engine_python, module_python):
    """Re-plant (each time in a new namespace) until at least --min-rounds rounds are measured."""
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    merged = None
    for _cycle in range(args.max_plantings):
        result = plant_and_measure(plant, size, args, engine_python, module_python, env)
        sys.stderr.write("  planted %d TIME_WAIT in %.1f s, %d rounds\n" % (size, result["planted_s"], result["rounds"]))
        planting = dict((key, result[key]) for key in ("planted_s", "measured_s", "rounds", "tw_before", "tw_after"))
        if merged is None:
            merged = result
            merged["plantings"] = [planting]
        else:
            for name, samples in result["samples"].items():
                merged["samples"][name].extend(samples)
                merged["cpu"][name].extend(result["cpu"][name])
                merged["rss_kib"][name] = max(merged["rss_kib"][name], result["rss_kib"][name])
            merged["rounds"] += result["rounds"]
            merged["plantings"].append(planting)
        if merged["rounds"] >= args.min_rounds:
            break
    merged["size"] = size
    return merged


def median_ms(result, name, kind="samples"):
    return statistics.median(result[kind][name]) * 1000.0


def per_socket_rows(results, row):
    """What each socket costs, full mode against summary and against ss-awk."""
    row("engine full netlink - summary, per socket (wall)",
        ["%.2f us" % ((median_ms(r, "engine full netlink") - median_ms(r, "engine summary")) * 1000.0 / r["sockets"])
         for r in results], "flat")
    row("engine full netlink - summary, per socket (CPU)",
        ["%.2f us" % ((median_ms(r, "engine full netlink", "cpu") - median_ms(r, "engine summary", "cpu"))
                      * 1000.0 / r["sockets"]) for r in results], "flat")
    for label, name in (("engine full netlink", "engine full netlink"), ("ss-awk", "ss -ant | awk")):
        marginal = ["-"]
        for previous, current in zip(results, results[1:]):
            added = current["sockets"] - previous["sockets"]
            marginal.append("%.2f us" % ((median_ms(current, name, "cpu") - median_ms(previous, name, "cpu"))
                                         * 1000.0 / added))
        row("%s, CPU per socket added since the previous size" % label, marginal, "flat" if label != "ss-awk" else "")
    row("ss-awk per socket (CPU)", ["%.2f us" % (median_ms(r, "ss -ant | awk", "cpu") * 1000.0 / r["sockets"])
                                    for r in results], "")


def report(results, engine_python, module_python):
    lines = []
    sizes = " | ".join("%dk TW" % (r["size"] // 1000) for r in results)
    names = list(results[0]["samples"])
    lines.append("Median per command: wall time (CPU time = user + system, children included).")
    lines.append("")
    lines.append("| command | " + sizes + " |")
    lines.append("|---|" + "---|" * len(results))
    for name in names:
        lines.append("| %s | %s |" % (name.replace("|", "\\|"), " | ".join(
            "%.0f ms (%.0f)" % (median_ms(r, name), median_ms(r, name, "cpu")) for r in results)))
    lines.append("")
    lines.append("| ratio / measure | " + sizes + " | target |")
    lines.append("|---|" + "---|" * len(results) + "---|")

    def row(label, values, target):
        lines.append("| %s | %s | %s |" % (label, " | ".join(values), target))

    def timed(*wanted):
        return all(name in names for name in wanted)  # --commands may have left some out

    def ratio(label, numerator, denominator, target=""):
        if not timed(numerator, denominator):
            return
        row(label + " (wall)", ["%.2fx" % (median_ms(r, numerator) / median_ms(r, denominator)) for r in results], target)
        row(label + " (CPU)", ["%.2fx" % (median_ms(r, numerator, "cpu") / median_ms(r, denominator, "cpu"))
                               for r in results], target)

    ratio("engine full netlink / ss-awk", "engine full netlink", "ss -ant | awk", "<= %.2fx" % TARGETS["full_vs_ss"])
    if BASELINE in names:
        ratio("baseline engine full netlink / ss-awk", BASELINE, "ss -ant | awk")
        ratio("engine full netlink / baseline", "engine full netlink", BASELINE)
    ratio("module full netlink / ss-awk", "module full netlink", "ss -ant | awk", "<= %.2fx" % TARGETS["full_vs_ss"])
    ratio("engine full proc / netstat-awk", "engine full proc", "netstat -n | awk")
    ratio("engine summary / python -c pass", "engine summary", "python -c pass", "<= %.1fx" % TARGETS["summary_vs_bare"])
    ratio("module summary / python -c pass", "module summary", "python -c pass", "<= %.1fx" % TARGETS["summary_vs_bare"])
    ratio("module summary / import ansible basic", "module summary", "import ansible basic")
    for name in ("engine full netlink", "engine full proc", "module full netlink", "module full proc"):
        if timed(name):
            row("peak RSS %s" % name, ["%.1f MB" % (r["rss_kib"][name] / 1024.0) for r in results],
                "< %d MB" % TARGETS["peak_rss_mb"])
    if timed("engine full netlink", "engine summary", "ss -ant | awk"):
        per_socket_rows(results, row)
    lines.append("")
    for r in results:
        plantings = "; ".join("planted in %.1f s, %d rounds in %.1f s, sockstat tw %d before / %d after"
                              % (p["planted_s"], p["rounds"], p["measured_s"], p["tw_before"], p["tw_after"])
                              for p in r["plantings"])
        lines.append("- %dk: %d sockets (%d ESTABLISHED, %d CLOSE_WAIT); %s; CLOSE_WAIT owner seen: %s"
                     % (r["size"] // 1000, r["sockets"], r["established"], r["close_wait"], plantings,
                        ", ".join("%s (pid %d, %d)" % (o["comm"], o["pid"], o["count"]) for o in r["owners"]) or "none"))
        top = r.get("headroom")
        if top:
            sources = ", ".join("%s (pid %d, %d)" % (s["comm"], s["pid"], s["count"]) for s in top["likely_sources"] or [])
            lines.append("  planted destination %s:%s: held %d %s, %d TIME_WAIT reusable, port_usage %s, likely sources %s"
                         % (top["address"], top["port"], top["held"], json.dumps(top["states"], sort_keys=True),
                            top["time_wait_reusable"], top["port_usage"], sources or "none"))
    lines.append("- engine interpreter %s; module interpreter %s" % (engine_python, module_python))
    lines.append("- load average before / after: %s" % "; ".join(
        "%dk %s / %s" % (r["size"] // 1000, r.get("load_before", "?"), r.get("load_after", "?")) for r in results))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="50000,100000,200000")
    parser.add_argument("--established", type=int, default=2000, help="connections (2 sockets each)")
    parser.add_argument("--close-wait", type=int, default=50)
    parser.add_argument("--sources", type=int, default=200,
                        help="live connections of the client planted toward the first TIME_WAIT destination")
    parser.add_argument("--baseline", help="a directory holding ansible_collections: time that engine too")
    parser.add_argument("--commands", help="time only these commands (comma-separated names, as in the report): "
                                           "shorter rounds on a loaded machine")
    parser.add_argument("--max-rounds", type=int, default=9, help="rounds per planting at most")
    parser.add_argument("--min-rounds", type=int, default=5, help="re-plant until this many rounds are measured")
    parser.add_argument("--max-plantings", type=int, default=3, help="plantings per size at most")
    parser.add_argument("--report-from", help="print the report of a --json file of an earlier run")
    parser.add_argument("--json", help="also write the raw samples here")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner_main(args.inner)
        return 0
    if args.report_from:
        with open(args.report_from) as handle:
            results = json.load(handle)
        print(report(results, results[0].get("engine_python", "?"), results[0].get("module_python", "?")))
        return 0
    if os.geteuid() != 0:
        sys.stderr.write("bench.py needs root (it creates network namespaces)\n")
        return 2
    import plant

    module_python = sys.executable
    engine_python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    # as an installed collection would have it: bytecode cached (Python only reads it when
    # PYTHONDONTWRITEBYTECODE is set, so write it once here)
    compiled = [os.path.join(ROOT, "plugins", "module_utils")] + ([args.baseline] if args.baseline else [])
    subprocess.run([engine_python, "-m", "compileall", "-q"] + compiled, check=True)
    results = []
    for size in (int(value) for value in args.sizes.split(",")):
        sys.stderr.write("planting %d TIME_WAIT...\n" % size)
        load_before = " ".join("%.2f" % value for value in os.getloadavg())
        result = bench_size(plant, size, args, engine_python, module_python)
        result.update(load_before=load_before, load_after=" ".join("%.2f" % value for value in os.getloadavg()))
        result.update(engine_python=engine_python, module_python=module_python)
        results.append(result)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    print(report(results, engine_python, module_python))
    return 0


if __name__ == "__main__":
    sys.exit(main())
