"""Run an AnsiballZ module file as Ansible runs it on a host, and print afterwards on stderr, as one JSON
line, how many times each source file was compiled. Standard library only: it runs under a host's
python3 (the module's own output stays on stdout).

    python3 compile_counter.py AnsiballZ_MODULE.py
"""

import atexit
import collections
import json
import runpy
import sys

COMPILES = collections.Counter()


def _count(event, args):
    if event == "compile" and args[1] is not None:
        COMPILES[str(args[1])] += 1


def _report():
    sys.stderr.write("\n" + json.dumps({"compiles": COMPILES}) + "\n")


def main():
    module_file = sys.argv[1]
    # AnsiballZ reads a second argument as a debug subcommand
    sys.argv = [module_file]
    sys.addaudithook(_count)
    atexit.register(_report)
    runpy.run_path(module_file, run_name="__main__")


if __name__ == "__main__":
    main()
