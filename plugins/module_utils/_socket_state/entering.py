# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running work inside other network namespaces: setns(2) into one, the work, setns back, always.

Where the kernel shows each thread its own ``/proc/thread-self`` (Linux 3.17 and later), the work runs in
worker threads and the calling thread never leaves its namespace: a worker that cannot move back stops
there and takes its namespace with it. Two workers, because each namespace's socket dump makes the kernel
walk the established hash of every namespace, while the other worker decodes its own dump (the dump
releases the GIL). On older kernels ``/proc/net`` only follows the process's main thread, so the main
thread does the work itself, one namespace after another, as it must then be the one moving.
Standard library only (setns through ``ctypes`` before Python 3.12 added ``os.setns``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

CLONE_NEWNET = 0x40000000
WORKERS = 2


class NamespaceReturnError(Exception):
    """The thread could not return to its own network namespace: nothing else may run in it."""


def os_setns():
    """setns(fd, CLONE_NEWNET) for the calling thread: ``os.setns`` (3.12+), else libc through ctypes."""
    if hasattr(os, "setns"):
        return lambda fd: os.setns(fd, CLONE_NEWNET)
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def setns(fd):
        if libc.setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    return setns


def identity(stat_result):
    return (stat_result.st_dev, stat_result.st_ino)


def default_workers(proc_root):
    """``WORKERS`` where ``proc_root`` has ``thread-self``, else 0 (the calling thread does the work)."""
    return WORKERS if os.path.isdir(os.path.join(proc_root, "thread-self")) else 0


class Entering(object):
    """Moves the calling thread into a namespace and back. ``own_proc``: the /proc directory that shows the
    calling thread's own namespace (``PROC/self`` for the main thread, ``PROC/thread-self`` for any thread);
    work run inside reads its namespace's ``net/`` files from there."""

    def __init__(self, proc_root, setns, own_proc):
        self.proc_root = proc_root
        self.setns = setns
        self.own_proc = own_proc
        self.own_path = os.path.join(own_proc, "ns", "net")
        self.own_fd = os.open(self.own_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self.own = identity(os.fstat(self.own_fd))

    def close(self):
        os.close(self.own_fd)

    def run_in(self, pid, key, read):
        """``read()`` inside the namespace ``key`` through process ``pid``. Raises OSError (ENOENT or
        ESRCH when the process or its namespace went away, EPERM without the right) before moving."""
        fd = os.open(os.path.join(self.proc_root, str(pid), "ns", "net"), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            if identity(os.fstat(fd)) != key:  # the pid now belongs to another process
                raise OSError(errno.ESRCH, "process %d left the namespace" % pid)
            self.setns(fd)
            try:
                return read()
            finally:
                self._return()
        finally:
            os.close(fd)

    def _return(self):
        try:
            self.setns(self.own_fd)
            back = identity(os.stat(self.own_path))
        except OSError as exc:
            raise NamespaceReturnError("could not return to the host's network namespace: %s" % exc)
        if back != self.own:
            raise NamespaceReturnError("still in network namespace inode %d after returning" % back[1])


def each_in_turn(proc_root, setns, jobs, work, workers):
    """Yield (index, ``work(entering, job)``) for each of ``jobs``: in order on the calling thread when
    ``workers`` is 0, else as ``workers`` threads finish them. Any exception of ``work`` (a failed return
    among them) stops the other workers after their current job and is raised here once they have."""
    if not workers:
        entering = Entering(proc_root, setns, os.path.join(proc_root, "self"))
        try:
            for index, job in enumerate(jobs):
                yield index, work(entering, job)
        finally:
            entering.close()
        return
    yield from _threaded(proc_root, setns, jobs, work, min(workers, len(jobs)))


def _threaded(proc_root, setns, jobs, work, count):
    import queue
    import threading

    results = queue.Queue()
    pending = iter(enumerate(jobs))
    lock = threading.Lock()
    stop = threading.Event()
    done = object()

    def next_job():
        with lock:
            return None if stop.is_set() else next(pending, None)

    def worker():
        try:
            entering = Entering(proc_root, setns, os.path.join(proc_root, "thread-self"))
        except BaseException as exc:  # pylint: disable=broad-except
            stop.set()
            results.put((None, exc))
            results.put(done)
            return
        try:
            item = next_job()
            while item is not None:
                results.put((item[0], work(entering, item[1])))
                item = next_job()
        except BaseException as exc:  # pylint: disable=broad-except
            # whatever failed, this thread takes no more work; it may be stuck in a foreign namespace
            stop.set()
            results.put((None, exc))
        finally:
            entering.close()
            results.put(done)

    threads = [threading.Thread(target=worker, name="tcpops-namespace-%d" % number) for number in range(count)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    running = len(threads)
    failure = None
    try:
        while running:
            item = results.get()
            if item is done:
                running -= 1
            elif item[0] is None:
                failure = failure or item[1]
            else:
                yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if failure is not None:
        raise failure
