"""Loading a filter plugin stays cheap: Jinja looks a filter up when it compiles a template, so every
worker process of a task whose arguments name one loads it, even where the filter never runs (the gather
task names audit_thresholds for namespaces all only)."""

import json
import os
import subprocess
import sys

FILTERS = ("audit_thresholds", "failure_reason", "tuning_conflict_line")


def test_loading_the_filters_imports_none_of_the_collections_other_code():
    program = (
        "import json, sys\n"
        "for name in %r:\n"
        "    __import__('ansible_collections.tcpops.timewait.plugins.filter.' + name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ansible_collections.tcpops.timewait.plugins.')"
        " and not m.startswith('ansible_collections.tcpops.timewait.plugins.filter'))))\n" % (FILTERS,))
    done = subprocess.run([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
