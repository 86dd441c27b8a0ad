"""The process ``bench_namespaces.py`` times as the ``namespaces: all`` walk: the engine's walk over the
namespaces a /proc view links to, printing their total and each one's socket count.

Kept apart from the benchmark so that the timed process imports what the walk needs and nothing of the
harness (argparse, statistics, subprocess and tempfile cost more to import than a dozen namespaces to
read; so would json, whose import alone is 11 ms: the few numbers are printed as lines of text).
``python walk_namespaces.py VIEW TOP [WORKERS]`` prints ``total N``, ``reason TEXT`` (``reason -`` without
one), ``errors N``, then ``INODE SOCKETS`` per namespace kept. ``WORKERS`` (default: what the module
would use) sets the walk's worker threads.
"""

import sys

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect, namespaces


def main(view, top, workers=None):
    result = namespaces.scan(collect.namespace_reader("netlink", top, collect.DEFAULT_PROC_ROOT), top, view,
                             workers=workers)
    lines = ["total %s" % result["total"], "reason %s" % " ".join((result["reason"] or "-").split()),
             "errors %d" % result["errors_total"]]
    lines.extend("%d %d" % (entry["inode"], entry["counts"]["total"]) for entry in result["top"])
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
