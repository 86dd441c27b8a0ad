# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running work inside other network namespaces: worker threads that setns(2) into one, do the work, and
setns back, always; the calling thread never leaves its namespace.

A thread's own view of ``/proc/net`` is ``/proc/thread-self/net`` (Linux 3.17 and later), else
``/proc/self/task/TID/net``; ``/proc/net`` and ``/proc/self/net`` follow the main thread only. Two workers
where the module may run on more than one CPU: each namespace's socket dump makes the kernel walk the
established hash that all namespaces share, and while one worker's dump runs (it releases the GIL) the
other decodes its own. Results come back in the order of the jobs, whichever worker finished first, so
that a walk gives what one thread going through the jobs in turn would. A worker that cannot move back
takes no more work: the walk stops and ``NamespaceReturnError`` is raised once every worker has stopped.
Standard library only (setns through ``ctypes`` before Python 3.12 added ``os.setns``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import queue
import threading

CLONE_NEWNET = 0x40000000
WORKERS = 2
# jobs handed out and not yet taken by the consumer, per worker (keeps memory bounded)
AHEAD = 2


class NamespaceReturnError(Exception):
    """A thread could not return to its own network namespace: nothing else may run in it."""


class WalkUnavailable(Exception):
    """Not one worker thread could be started."""


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


def default_workers():
    """``WORKERS`` where this process may run on more than one CPU, else 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return WORKERS if cpus > 1 else 1


def thread_proc(proc_root):
    """The /proc directory that shows the calling thread's own namespaces and ``net/``."""
    path = os.path.join(proc_root, "thread-self")
    if os.path.isdir(path):
        return path
    return os.path.join(proc_root, "self", "task", str(threading.get_native_id()))


class Entering(object):
    """Moves the calling thread into a namespace and back. ``own_proc``: the /proc directory that shows the
    thread's own namespace (``thread_proc``); work run inside reads its namespace's ``net/`` files there."""

    def __init__(self, proc_root, setns, own_proc):
        self.proc_root = proc_root
        self.setns = setns
        self.own_proc = own_proc
        self.own_path = os.path.join(own_proc, "ns", "net")
        self.own_fd = os.open(self.own_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self.own = identity(os.fstat(self.own_fd))

    def close(self):
        try:
            os.close(self.own_fd)
        except OSError:
            pass

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


def _severity(failure):
    """Which failure of a walk is raised: a failed return before anything else, OSError last."""
    if isinstance(failure, NamespaceReturnError):
        return 0
    return 2 if isinstance(failure, OSError) else 1


class Walk(object):
    """``work(entering, job)`` for each of ``jobs`` in up to ``workers`` threads, as a context manager
    whose iteration gives (index, result) in the order of the jobs. ``stop()``, leaving the iteration or
    leaving the ``with`` block hands out no more jobs; leaving the ``with`` block waits for every worker
    to stop, then raises the most severe exception a worker met (``_severity``), of the earliest job
    among equals, even over an exception of the block's own when it is a failed return. A worker that
    cannot open its own namespace before any move stops the walk too. Raises ``WalkUnavailable`` when
    no thread starts."""

    _DONE = object()

    def __init__(self, proc_root, setns, jobs, work, workers):
        self._jobs = jobs
        self._work = work
        self._results = queue.Queue()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._room = threading.Semaphore(AHEAD * workers)
        self._handed = 0
        self._failures = []
        self._threads = []
        try:
            self._start(proc_root, setns, min(workers, len(jobs)))
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _start(self, proc_root, setns, count):
        for number in range(count):
            thread = threading.Thread(target=self._worker, args=(proc_root, setns),
                                      name="tcpops-namespace-%d" % number)
            thread.daemon = True
            try:
                thread.start()
            except RuntimeError as exc:  # out of threads (pids.max, TasksMax): walk with those started
                if not self._threads:
                    raise WalkUnavailable("no thread could be started to read the namespaces: %s" % exc)
                break
            self._threads.append(thread)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.stop()
        for thread in self._threads:
            thread.join()
        while True:
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                break
            if item is not self._DONE and item[0] is None:
                self._failures.append(item[1:])
        if self._failures:
            worst = min(self._failures, key=lambda failure: (_severity(failure[0]), failure[1]))[0]
            if exc_type is None or isinstance(worst, NamespaceReturnError):
                raise worst
        return False

    def stop(self):
        """Hand out no more jobs (those running finish)."""
        self._stopped.set()
        self._room.release()  # a worker waiting for room wakes, sees the stop and passes the wake-up on

    def _take(self):
        """The index of the next job to run, or None."""
        self._room.acquire()
        with self._lock:
            if self._stopped.is_set() or self._handed >= len(self._jobs):
                self._room.release()
                return None
            self._handed += 1
            return self._handed - 1

    def _worker(self, proc_root, setns):
        index = -1  # a failure before any job ranks first among its kind
        try:
            entering = Entering(proc_root, setns, thread_proc(proc_root))
            try:
                index = self._take()
                while index is not None:
                    self._results.put((index, self._work(entering, self._jobs[index])))
                    index = self._take()
            finally:
                entering.close()
        except BaseException as exc:  # whatever failed, this thread takes no more work: it may be elsewhere
            self._stopped.set()
            self._room.release()
            self._results.put((None, exc, index))
        finally:
            self._results.put(self._DONE)

    def __iter__(self):
        try:
            yield from self._in_order()
        finally:
            self.stop()

    def _in_order(self):
        waiting = {}
        wanted = 0
        running = len(self._threads)
        while wanted < len(self._jobs):
            if wanted in waiting:
                result = waiting.pop(wanted)
                self._room.release()
                yield wanted, result
                wanted += 1
                continue
            if not running or self._failures or self._stopped.is_set():
                return
            item = self._results.get()
            if item is self._DONE:
                running -= 1
            elif item[0] is None:
                self._failures.append(item[1:])
            else:
                waiting[item[0]] = item[1]
