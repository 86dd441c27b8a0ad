"""Runs the report task's slice writer (``ActionModule._write_slice``, then ``_with_stats`` as ``run`` does, with
set_stats on as the playbooks have it) when the slice cannot be written: a full disk, and a destination the
slices cannot go to; prints the results as JSON (a process of its own: ../child.py says why)."""

import errno
import json
import sys

from ansible_collections.tcpops.timewait.plugins.action.tcp_audit_report import ActionModule
from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files

HOSTS = {
    "web1": fleet.host_entry({"unreachable": True, "msg": "ssh: connect to host web1 port 22: Connection refused"}),
    "web2": fleet.host_entry({"failed": True, "msg": "python3: not found"}),
}


def written_with(error):
    def write_slice(*_args):
        raise error
    files.write_slice = write_slice
    args = {"hosts": sorted(HOSTS), "fail_on": "fail", "set_stats": True}
    return ActionModule._with_stats(args, ActionModule._write_slice({}, args, "/srv/reports", "nightly-1", HOSTS))


if __name__ == "__main__":
    json.dump({
        "full": written_with(OSError(errno.ENOSPC, "No space left on device")),
        "refused": written_with(files.ReportDirError("runs-in-progress is a file")),
    }, sys.stdout)
