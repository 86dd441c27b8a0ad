"""Running controller-side cases in a process of their own: importing Ansible's controller side (an action
plugin, its templar, ``ansible.errors``) makes module warnings go to the controller's display for the rest
of the process, which the module tests of the same pytest run would then miss."""

import json
import os
import subprocess
import sys


def child_cases(test_file, script):
    """What ``script`` (a file beside ``test_file``) printed as JSON; fails with its stderr when it failed."""
    done = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(test_file)), script)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
