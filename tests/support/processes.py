"""The processes of one ansible-playbook run, found by an argument of its command line.

ansible-playbook's forks run in sessions of their own, so killing the playbook's process group leaves
them running (an action plugin of the killed run may still be writing). A test that kills a run and
then inspects what it left must signal those forks too and wait until they are gone.
"""

import os
import time


def pids_of(argument):
    """Pids of the processes whose command line holds ``argument`` as one whole argument."""
    marker = ("\0" + argument + "\0").encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                if marker in b"\0" + handle.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def signal_run(argument, sig):
    """Send ``sig`` to every process of the run; return how many were signalled."""
    signalled = 0
    for pid in pids_of(argument):
        try:
            os.kill(pid, sig)
            signalled += 1
        except ProcessLookupError:
            continue
    return signalled


def wait_run_gone(argument, timeout=60.0):
    """Wait until no process of the run is left (zombies of other parents count as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [pid for pid in pids_of(argument) if not _zombie(pid)]:
            return
        time.sleep(0.1)
    raise AssertionError("processes of the run holding %r still alive after %.0f s" % (argument, timeout))


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
