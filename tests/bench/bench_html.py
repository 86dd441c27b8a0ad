"""How fast headless Chromium opens the HTML report of a large fleet, and how big the page is.

Run: ``make bench-html`` (or ``python tests/bench/bench_html.py [--sizes 300,1000] [--rounds 3]
[--keep DIR]``). For each size, a synthetic fleet (tests/support/synthetic_fleet.py: three
destinations per host, CLOSE_WAIT on a fifth of the hosts, remediation outcomes, two earlier runs
for the trends) is rendered by the report code itself, then opened in Debian's chromium:

- ``dump-dom``: a fresh ``chromium --headless --dump-dom`` process, start to exit (browser start
  included; the same measure as an empty page gives the floor);
- ``load``: in one running browser (DevTools protocol on a pipe), from the navigation request to the
  load event, then to the first frame painted after it (``painted``), and the CPU time the
  renderer's main thread spent on the page until then (``ThreadTime`` of Performance.getMetrics, which
  counts from the document's start): on a busy machine the wall times grow with the load, the CPU
  time much less.

Prints the load average before and after: the machine may be shared.
"""

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "build", "collections"))

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet  # noqa: E402
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report, trends  # noqa: E402


def _support(name):
    spec = importlib.util.spec_from_file_location("tcpops_" + name, os.path.join(ROOT, "tests", "support", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthetic = _support("synthetic_fleet")
cdp = _support("cdp")
RUNS = 3


def fleet_document(size, run):
    hosts = {}
    for index in range(size):
        entry = fleet.host_entry(synthetic.synthetic_result(index, run))
        entry["remediation_outcome"] = synthetic.remediation_outcome(index)
        hosts[synthetic.host_name(index)] = entry
    return fleet.build_document(hosts, "2026-01-0%dT00:00:00Z" % (run + 1))


def write_page(size, directory):
    earlier = [trends.point(fleet_document(size, run)) for run in range(RUNS - 1)]
    doc = fleet_document(size, RUNS - 1)
    started = time.monotonic()
    page = html_report.render(doc, title="TCP TIME_WAIT / CLOSE_WAIT compliance report", trend_runs=earlier)
    rendered = time.monotonic() - started
    path = os.path.join(directory, "fleet-%d.html" % size)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path, rendered


def dump_dom_seconds(binary, path, profile):
    started = time.monotonic()
    subprocess.run([binary] + cdp.FLAGS[:-1] + ["--user-data-dir=%s" % profile, "--dump-dom", "file://" + path],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=600)
    return time.monotonic() - started


def spread(values):
    return "%.2f s (min %.2f, max %.2f)" % (statistics.median(values), min(values), max(values))


def measure(binary, pages, rounds, profile):
    """Round after round, every page in turn (so a busy machine slows them all alike)."""
    results = dict((label, {"dump": [], "load": [], "painted": [], "cpu": []}) for label, _p in pages)
    with cdp.Browser(binary, profile) as browser:
        browser.send("Performance.enable")
        for _r in range(rounds):
            for label, path in pages:
                results[label]["dump"].append(dump_dom_seconds(binary, path, profile + "-dump"))
                browser.open("about:blank")
                results[label]["load"].append(browser.open("file://" + path))
                results[label]["painted"].append(results[label]["load"][-1] + browser.settled())
                # ThreadTime counts from the document's start, not the process's
                results[label]["cpu"].append(browser.metrics()["ThreadTime"])
                results[label]["elements"] = browser.evaluate("document.getElementsByTagName('*').length")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="300,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", help="write the pages into this directory and keep them")
    parser.add_argument("--also", action="append", default=[], metavar="PAGE",
                        help="an HTML file written earlier (another version's report) to measure alongside")
    args = parser.parse_args()
    binary = shutil.which("chromium")
    if binary is None:
        sys.exit("chromium is not installed (scripts/install-system-deps.sh installs it)")
    directory = args.keep or tempfile.mkdtemp(prefix="tcpops-bench-html-")
    os.makedirs(directory, exist_ok=True)
    empty = os.path.join(directory, "empty.html")
    with open(empty, "w") as handle:
        handle.write("<!DOCTYPE html><title>empty</title>")
    pages = [("empty page", empty)]
    for size in [int(s) for s in args.sizes.split(",")]:
        path, rendered = write_page(size, directory)
        print("%d hosts: rendered in %.2f s" % (size, rendered))
        pages.append(("%d hosts" % size, path))
    pages.extend((os.path.abspath(path), os.path.abspath(path)) for path in args.also)
    print("load average before: %.2f %.2f %.2f, %d cores" % (os.getloadavg() + (os.cpu_count(),)))
    results = measure(binary, pages, args.rounds, os.path.join(directory, "profile"))
    for label, path in pages:
        found = results[label]
        nbytes = os.path.getsize(path)
        print("%s: %d bytes, %d elements" % (label, nbytes, found["elements"]))
        print("  dump-dom %s" % spread(found["dump"]))
        print("  load     %s" % spread(found["load"]))
        print("  painted  %s" % spread(found["painted"]))
        print("  renderer main thread CPU %s" % spread(found["cpu"]))
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    if not args.keep:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
