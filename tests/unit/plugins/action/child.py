"""Running an action plugin's cases in a process of their own (evaluate_hosts.py says why)."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def child_cases(script):
    """What ``script`` (a file beside this one) printed as JSON; fails with its stderr when it failed."""
    done = subprocess.run([sys.executable, os.path.join(HERE, script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
