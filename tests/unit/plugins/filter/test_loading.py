"""Loading a filter plugin stays cheap: Jinja looks a filter up when it compiles a template, so every
worker process of a task whose arguments name one loads it, even where the filter never runs (the gather
task names audit_thresholds for namespaces all only)."""

import json
import os
import subprocess
import sys

FILTER_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "filter")


def test_loading_the_filters_imports_none_of_the_collections_other_code():
    names = sorted(name[:-3] for name in os.listdir(FILTER_DIR) if name.endswith(".py") and name != "__init__.py")
    assert "audit_thresholds" in names
    program = (
        "import json, sys\n"
        "for name in %r:\n"
        "    __import__('ansible_collections.tcpops.timewait.plugins.filter.' + name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ansible_collections.tcpops.timewait.plugins.')"
        " and not m.startswith('ansible_collections.tcpops.timewait.plugins.filter'))))\n" % (names,))
    done = subprocess.run([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
