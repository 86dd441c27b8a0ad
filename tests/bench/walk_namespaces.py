"""The process ``bench_namespaces.py`` times as the ``namespaces: all`` walk: the engine's walk over the
namespaces a /proc view links to, printing their total and each one's socket count as JSON.

Kept apart from the benchmark so that the timed process imports what the walk needs and nothing of the
harness (argparse, statistics, subprocess and tempfile cost more to import than a dozen namespaces to
read). ``python walk_namespaces.py VIEW TOP``.
"""

import json
import sys

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect, namespaces


def main(view, top):
    result = namespaces.scan(collect.namespace_reader("netlink", top, collect.DEFAULT_PROC_ROOT), top, view)
    json.dump({"total": result["total"], "reason": result["reason"], "errors": result["errors"],
               "counts": dict((entry["inode"], entry["counts"]["total"]) for entry in result["top"])}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
