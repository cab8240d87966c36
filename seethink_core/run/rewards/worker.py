"""The code that runs inside a reward worker process: it imports the rewards and scores tasks.

Started with subprocess, not multiprocessing (``pool``): spawn would re-import the caller's
__main__ (a script without a main guard would start workers recursively) and fork is unsafe in a
process that runs torch threads. The worker writes the number of the task it starts into a shared
counter, so the caller knows which task is running without any message, and sends results as one
list of scores per task, when a reward is done and otherwise at most every ``_FLUSH_S`` (several
jobs' results go as one message when the next job is already waiting: ``_Results``).

A job arrives as one ``run`` message (the tasks, the columns, the token counts) followed by the
prompts and completions in blocks of ``BLOCK`` positions, in the order the tasks need them: the worker
grades the first block while the rest is still being pickled and sent, so that moving half a megabyte
of text costs about the first block's worth of time instead of all of it.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import pickle
import signal
import struct
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection

from seethink_core.hooks.backend import RewardFailure
from seethink_core.run.rewards.scores import Component, _run_task

# A worker sends finished results at least this often. Each message wakes the caller (a context switch
# on a busy machine), and nothing is lost by waiting: a killed worker's unsent tasks are run again by
# its replacement, so this bounds the work redone after a hang, next to the timeout it already cost.
_FLUSH_S = 0.25
# Positions per data message. The worker waits for the first block before it grades anything, so it
# is small; a bounded reward's chunk (pool._CHUNK) is the same size, so each block is one task's data.
BLOCK = 256


def blocks_of(lo: int, hi: int) -> range:
    """The data blocks that positions ``lo:hi`` fall in."""
    return range(lo // BLOCK, (hi - 1) // BLOCK + 1)


class _Counter:
    """An 8-byte integer shared with a worker through a memory-mapped temporary file: the worker
    writes the sequence number of the task it starts, the caller reads it without any message."""

    def __init__(self, path: str | None = None):
        self.owner = path is None
        if path is None:
            shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
            fd, path = tempfile.mkstemp(prefix="seethink-reward-", dir=shm)
            os.write(fd, bytes(8))
            os.close(fd)
        self.path = path
        with open(path, "r+b") as f:
            self._map = mmap.mmap(f.fileno(), 8)

    @property
    def value(self) -> int:
        return struct.unpack_from("q", self._map)[0]

    @value.setter
    def value(self, v: int) -> None:
        struct.pack_into("q", self._map, 0, v)

    def close(self) -> None:
        try:
            self._map.close()
        except (BufferError, ValueError):
            pass
        if self.owner:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def _worker_entry() -> None:
    """``python -c`` entry of a worker: ``argv = [-c, socket fd, counter path]``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also when SIGINT is sent to it directly: the caller decides
    conn = Connection(int(sys.argv[1]))
    counter = _Counter(sys.argv[2])
    parent = os.getppid()

    def orphan_watch() -> None:  # a worker stuck in sympy must not outlive its caller
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=orphan_watch, daemon=True).start()
    sys.path[:] = conn.recv()  # the caller's import path, before anything is unpickled
    components = pickle.loads(conn.recv_bytes())
    _worker_loop(conn, counter, components)


def _worker_loop(conn: Connection, counter: _Counter, components: list[Component]) -> None:
    """Score tasks until the pipe closes. ``counter`` holds the sequence number of the task in hand."""
    for c in components:  # import heavy graders now, not inside the first timed task
        warm = getattr(c.fn, "warmup", None)
        if callable(warm):
            with contextlib.suppress(Exception):  # a broken grader shows up per sample, as failures
                warm()
    # What the imports made (sympy's caches and classes) lives as long as the worker: frozen, the
    # collector's full passes during grading no longer walk it.
    gc.collect()
    gc.freeze()
    conn.send(("ready",))
    seq = 0
    tracebacks: set[str] = set()  # rewards whose first traceback this worker has sent
    results = _Results(conn)
    while True:
        try:
            _, job, tasks, size, cols, extra = conn.recv()
            data = _Data(conn, size)
            results.start()
            done: list[tuple[int, int, list[float | None], list[tuple[int, RewardFailure]]]] = []
            for t, (r, lo, hi) in enumerate(tasks):
                if done and done[-1][0] == t - 1 and tasks[t - 1][0] != r:
                    # Another reward starts: send what is finished, so a hang from here on loses none of it.
                    results.send(("part", job, done))
                    done = []
                data.wait_for(lo, hi)
                seq += 1
                counter.value = seq
                # One entry per task (its scores as one list): a batch's results pickle as a few lists of floats.
                done.append((t, lo, *_run_task(components[r], lo, hi, data.prompts, data.completions, cols, extra,
                                               tracebacks)))
                if time.monotonic() - results.sent_at >= _FLUSH_S:
                    results.send(("part", job, done))
                    done = []
            results.done(("done", job, done))
        except (EOFError, OSError):  # the caller closed the pipe: it is done with this worker
            return


class _Results:
    """What the worker sends back. A finished job's results wait while the caller's next job is already
    in the pipe, and for less than ``_FLUSH_S`` since the last send: a batch sent in parts then wakes
    the caller once instead of once a part, and a hang still loses no more than ``_FLUSH_S`` of work."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.held: list[tuple] = []
        self.sent_at = time.monotonic()

    def start(self) -> None:
        """A job begins: with nothing held, no finished work waits, and the clock starts again."""
        if not self.held:
            self.sent_at = time.monotonic()

    def send(self, message: tuple) -> None:
        messages, self.held = [*self.held, message], []
        self.conn.send(messages[0] if len(messages) == 1 else ("many", messages))
        self.sent_at = time.monotonic()

    def done(self, message: tuple) -> None:
        if time.monotonic() - self.sent_at < _FLUSH_S and self.conn.poll(0):
            self.held.append(message)
        else:
            self.send(message)


class _Data:
    """A job's prompts and completions, filled in block by block as they arrive."""

    def __init__(self, conn: Connection, size: int):
        self.conn = conn
        self.prompts: list[str] = [""] * size
        self.completions: list[str] = [""] * size
        self.arrived: set[int] = set()  # block numbers

    def wait_for(self, lo: int, hi: int) -> None:
        """Receive blocks until positions ``lo:hi`` are all here; the caller sends them in the order the
        tasks need them, and only those the tasks need."""
        for b in blocks_of(lo, hi):
            while b not in self.arrived:
                _, start, prompts, completions = self.conn.recv()
                self.prompts[start:start + len(prompts)] = prompts
                self.completions[start:start + len(completions)] = completions
                self.arrived.add(start // BLOCK)
