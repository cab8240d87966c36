"""The caller's side of the reward worker processes: start them, hand them a batch, watch them.

A reward is third-party code that may raise or hang (sympy on ``9^{9^{9^9}}``). Signal based
timeouts only work on the main thread, and a hung thread cannot be stopped, so the rewards run in
persistent worker *processes* (``worker``) that the caller watches. The batch travels to a worker
once for all rewards and is cut into tasks: one sample of a ``risky`` reward (a grader; any reward
that does not say otherwise), or a chunk of samples of a bounded one (``risky = False``). A task
that runs past ``timeout`` seconds gets the worker killed (a chunk is then retried sample by
sample), ``None`` and a failure, and the rest of the batch goes to a warm spare worker, so a hang
costs the timeout and nothing else. Bounded rewards run first, so a grader that hangs rarely leaves
other work behind.

What travels is kept small, so that the worker costs little next to a fast bounded grader: each
column value once per distinct ``Sample`` object (a GRPO batch repeats each prompt's Sample
``group`` times), only the rows a reward grades (a deterministic reward's distinct ones), images
never, and the results as one list of scores per task. The text travels in blocks, written without
ever blocking the caller (the socket is written as far as it takes, the rest when the selector says
it can take more): the worker grades the first block while the others are pickled and sent, and a
worker that hangs with data still to come cannot stall the caller that must time it out.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from seethink_core.hooks.backend import RewardFailure
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.scores import Component, _Columns, _qualname, _risky, _sample_id, _Tally
from seethink_core.run.rewards.worker import BLOCK, _Counter

_POLL_S = 0.02  # how often the caller looks at a busy worker's progress counter
_START_TIMEOUT_S = 120.0  # a worker that cannot even import its rewards is a plugin problem
_CHUNK = BLOCK  # samples per call of a bounded reward (one that is not ``risky``) in the worker

_WORKER_CODE = "from seethink_core.run.rewards.worker import _worker_entry; _worker_entry()"


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection  # reads the worker's messages
    counter: _Counter
    sock: socket.socket  # the same socket, written without blocking
    started: float = 0.0
    ready: bool = False
    # the job in hand
    job: int = -1
    tasks: list[tuple[int, int, int]] = field(default_factory=list)  # (reward, first sample, end)
    finished: set[int] = field(default_factory=set)  # task positions with a result
    base_seq: int = 0  # the counter before the job started: task t runs as base_seq + t + 1
    seen_seq: int = 0
    seen_at: float = 0.0
    outbox: deque[memoryview] = field(default_factory=deque)  # framed messages not yet written

    def push(self) -> bool:
        """Write what the socket takes now, without waiting; ``True`` once nothing is left to write."""
        while self.outbox:
            try:
                sent = self.sock.send(self.outbox[0], socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:  # the worker is gone; its pipe's end of file tells the reader so
                self.outbox.clear()
                break
            if sent == len(self.outbox[0]):
                self.outbox.popleft()
            else:
                self.outbox[0] = self.outbox[0][sent:]
        return True

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2.0)
        self.conn.close()
        self.sock.close()
        self.counter.close()


def _spawn_worker(payload: bytes) -> _Worker:
    """Start a worker and hand it the pickled components; it says "ready" once they are imported."""
    mine, theirs = socket.socketpair()
    counter = _Counter()
    # Its own session: a Ctrl-C at the terminal goes to the foreground process group, and a worker in
    # it would die with a KeyboardInterrupt traceback; the caller stops it instead (close, or the
    # orphan watch once the caller is gone).
    proc = subprocess.Popen([sys.executable, "-c", _WORKER_CODE, str(theirs.fileno()), counter.path],
                            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True,
                            start_new_session=True)
    theirs.close()
    conn = Connection(os.dup(mine.fileno()))
    conn.send(list(sys.path))
    conn.send_bytes(payload)
    return _Worker(proc, conn, counter, mine, started=time.monotonic())


def _frame(message: tuple) -> memoryview:
    """``message`` pickled and framed as ``multiprocessing.connection.Connection.recv`` reads it on the
    worker's side: a 4-byte big-endian length (-1 and an 8-byte one past 2 GiB), then the bytes."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    head = struct.pack("!i", len(body)) if len(body) <= 0x7FFFFFFF else struct.pack("!iQ", -1, len(body))
    return memoryview(head + body)


def _blocks(tasks: list[tuple[int, int, int]]) -> list[int]:
    """The data blocks ``tasks`` read, in the order they first need them."""
    order: dict[int, None] = {}
    for _, lo, hi in tasks:
        for b in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
            order.setdefault(b)
    return list(order)


class WorkerPool:
    """A reward's worker processes and its warm spare; ``run`` grades one batch on them."""

    def __init__(self, components: Sequence[Component], *, timeout: float, workers: int):
        self.components = list(components)
        self.timeout = timeout
        self.n_workers = workers
        self._payload: bytes | None = None
        self._workers: list[_Worker] = []
        self._spare: _Worker | None = None
        self._job = 0

    def close(self) -> None:
        for w in [*self._workers, *([self._spare] if self._spare else [])]:
            w.kill()  # a worker holds no state worth a graceful exit
        self._workers, self._spare = [], None

    def _spawn(self) -> _Worker:
        if self._payload is None:
            try:
                self._payload = pickle.dumps(self.components)
            except Exception as e:
                raise RewardError(f"the rewards cannot be sent to a worker process: {type(e).__name__}: {e}",
                                  hint="a reward must be picklable (a module-level class)") from None
        try:
            return _spawn_worker(self._payload)
        except OSError as e:  # out of processes or file descriptors
            raise RewardError(f"could not start a reward worker process: {e}") from None

    def _take_worker(self) -> _Worker:
        w, self._spare = (self._spare, None) if self._spare is not None else (self._spawn(), None)
        return w

    def ensure_workers(self) -> None:
        for w in self._workers:
            if not w.alive():
                w.kill()  # closes its pipe and removes its counter file
        self._workers = [w for w in self._workers if w.alive()]
        while len(self._workers) < self.n_workers:
            self._workers.append(self._take_worker())

    def _submit(self, w: _Worker, tasks: list[tuple[int, int, int]], payload: tuple) -> None:
        """Queue the job for ``w`` and write its start: the tasks and columns, then the text in blocks,
        the first written before the others are pickled so that the worker starts on it at once."""
        prompts, completions, cols, extra = payload
        self._job += 1
        w.job, w.tasks, w.finished = self._job, tasks, set()
        w.base_seq = w.seen_seq = w.counter.value
        w.seen_at = time.monotonic()
        size = max(hi for _, _, hi in tasks)
        written = False
        try:
            w.outbox.append(_frame(("run", self._job, tasks, size, cols, extra)))
            for b in _blocks(tasks):
                lo, hi = b * BLOCK, min((b + 1) * BLOCK, size)
                w.outbox.append(_frame(("data", lo, prompts[lo:hi], completions[lo:hi])))
                if not written:
                    w.push()
                    written = True
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            w.outbox.clear()
            if written:  # the worker holds half a job: it cannot take another
                w.kill()
                self._workers.remove(w)
            raise RewardError(f"the batch cannot be sent to the reward worker: {type(e).__name__}: {e}",
                              hint="prompts and completions must be strings, and Sample.meta plain data "
                                   "(numbers, strings, lists, dicts)") from None
        w.push()

    def run(self, prompts: list[str], completions: list[str], cols: _Columns, extra: dict[str, Any],
                      ends: list[int], tally: _Tally) -> None:
        payload = (prompts, completions, cols, extra)
        self.ensure_workers()
        # Reward-major order keeps each worker on one reward at a time. Rewards that say they run in
        # bounded time (``risky = False``) go first, so a hang in a grader usually leaves nothing
        # behind that would wait for a fresh worker to start.
        # A risky reward is called one sample per task, so a hang or crash costs one sample; a bounded
        # one is called in chunks (one call per chunk; sample by sample only if the chunk raises).
        order = sorted(range(len(self.components)), key=lambda r: _risky(self.components[r].fn))
        tasks = [(r, lo, min(lo + step, ends[r])) for r in order
                 for step in [1 if _risky(self.components[r].fn) else _CHUNK] for lo in range(0, ends[r], step)]
        shard = -(-len(tasks) // len(self._workers))
        # One selector for the whole call, not multiprocessing's wait(), which builds one each time it is
        # called: the loop below wakes every _POLL_S to read the counters, and that cost the caller more
        # CPU than all the pickling.
        selector = selectors.DefaultSelector()
        busy: dict[int, _Worker] = {}

        def start(w: _Worker, part: list[tuple[int, int, int]]) -> None:
            self._submit(w, part, payload)
            busy[id(w)] = w
            selector.register(w.conn, selectors.EVENT_READ | (selectors.EVENT_WRITE if w.outbox else 0), w)

        def unwatch(w: _Worker) -> None:  # before its pipe closes: the selector asks the pipe its number
            if busy.pop(id(w), None) is not None:
                selector.unregister(w.conn)

        def record(w: _Worker, results: list) -> None:
            for t, lo, values, failures in results:
                r = w.tasks[t][0]
                w.finished.add(t)  # a task's results always travel together
                tally.put(r, self.components[r].name, lo, values, failures)

        def replace(w: _Worker, failed: int | None, why: str) -> None:
            """Kill ``w``; give task ``failed`` a failure; hand its unfinished tasks to a fresh worker."""
            unfinished = [t for t in range(len(w.tasks)) if t not in w.finished]
            if failed is None and unfinished:
                failed = unfinished[0]  # never resubmit the task that may have killed it
            left = [w.tasks[t] for t in unfinished if t != failed]
            if failed is not None:
                r, lo, hi = w.tasks[failed]
                if hi - lo > 1:  # a chunk: find the culprit sample by sample on the fresh worker
                    left[:0] = [(r, i, i + 1) for i in range(lo, hi)]
                else:
                    c = self.components[r]
                    failure = RewardFailure(c.name, why, _qualname(c.fn), _sample_id(cols.sample_id(lo)))
                    tally.put(r, c.name, lo, [None], [(lo, failure)])
            unwatch(w)
            w.kill()
            fresh = self._take_worker()
            self._spare = self._spawn()  # warming already, should a second sample hang
            self._workers[self._workers.index(w)] = fresh
            if left:
                start(fresh, left)

        try:
            with selector:
                for k, w in enumerate(self._workers):
                    part = tasks[k * shard:(k + 1) * shard]
                    if part:
                        start(w, part)
                while busy:
                    ready = set()
                    for key, events in selector.select(timeout=_POLL_S):
                        if events & selectors.EVENT_WRITE and key.data.push():
                            selector.modify(key.fileobj, selectors.EVENT_READ, key.data)
                        if events & selectors.EVENT_READ:
                            ready.add(id(key.data))
                    now = time.monotonic()
                    for w in list(busy.values()):
                        if id(w) in ready:
                            try:
                                msg = w.conn.recv()
                            except (EOFError, OSError):
                                if not w.ready:
                                    unwatch(w)
                                    w.kill()
                                    raise RewardError("the reward worker process exited while importing the rewards "
                                                      "(its error is printed above)") from None
                                replace(w, self._current(w), "crashed its worker process")
                                continue
                            if msg[0] == "ready":
                                w.ready, w.seen_seq, w.seen_at = True, w.counter.value, now
                            elif msg[1] == w.job:
                                record(w, msg[2])
                                if msg[0] == "done":
                                    unwatch(w)
                            continue
                        if not w.ready:
                            if now - w.started > _START_TIMEOUT_S:
                                unwatch(w)
                                w.kill()
                                raise RewardError(f"the reward worker did not start within {_START_TIMEOUT_S:.0f} s")
                            continue
                        seq = w.counter.value
                        if seq != w.seen_seq:
                            w.seen_seq, w.seen_at = seq, now
                        elif now - w.seen_at > self.timeout:
                            replace(w, self._current(w), f"ran past its {self.timeout:g} s timeout")
                        elif not w.alive():
                            replace(w, self._current(w), "crashed its worker process")
        except BaseException:
            # A worker left in the middle of a job (this call raised, or was interrupted) may still wait
            # for data or hold half a message: it cannot take another job.
            for w in busy.values():
                w.kill()
                if w in self._workers:
                    self._workers.remove(w)
            raise
        if self._spare is None or not self._spare.alive():
            # Warmed between calls (not at start, where it would compete with the first workers for
            # the CPU), so that the next hang costs the timeout and no start-up.
            self._spare = self._spawn()

    @staticmethod
    def _current(w: _Worker) -> int | None:
        """The task position the worker is on (``None`` if it has not started the job)."""
        t = w.counter.value - w.base_seq - 1
        return t if 0 <= t < len(w.tasks) and t not in w.finished else None

