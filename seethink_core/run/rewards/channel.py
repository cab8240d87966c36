"""The caller's end of one reward worker: its process, its pipe, its progress counter, its jobs.

A worker takes jobs in the order they are queued and runs each one's tasks in order, writing the
number of every task it starts into the shared counter; the caller can queue the next part of a
batch while the worker grades the one before. Messages are read whole (``multiprocessing``'s
``Connection``) and written without ever blocking: what the socket does not take now waits in the
outbox until the selector says it can take more, so a worker that hangs with data still to come
cannot stall the caller that must time it out.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from seethink_core.run.rewards.scores import _Columns, _Tally
from seethink_core.run.rewards.worker import BLOCK, _Counter, blocks_of

_WORKER_CODE = "from seethink_core.run.rewards.worker import _worker_entry; _worker_entry()"

Task = tuple[int, int, int]  # (reward, first sample, end)
_SEND_BUFFER = 4 << 20


class Part(Protocol):
    """A stretch of a batch as the rewards see it; its scores go into its own tally."""

    prompts: list[str]
    completions: list[str]
    cols: _Columns
    extra: dict[str, Any]
    ends: list[int]  # reward r grades samples 0:ends[r]
    tally: _Tally


@dataclass
class Job:
    id: int
    part: Part
    tasks: list[Task]
    base_seq: int  # the counter before its first task: task t runs as base_seq + t + 1
    finished: set[int] = field(default_factory=set)  # task positions with a result


@dataclass
class Worker:
    process: subprocess.Popen
    conn: Connection  # reads the worker's messages
    counter: _Counter
    sock: socket.socket  # the same socket, written without blocking
    started: float = 0.0
    ready: bool = False
    jobs: deque[Job] = field(default_factory=deque)  # queued and not done, oldest first
    seen_seq: int = 0
    seen_at: float = 0.0
    outbox: deque[memoryview] = field(default_factory=deque)  # framed messages not yet written

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

    def queue(self, job_id: int, part: Part, tasks: list[Task]) -> Job:
        """Queue a job and write its start: its tasks and columns, then the text in blocks, the first one
        written before the others are pickled so that an idle worker starts on it at once. Raises
        ``pickle.PicklingError``, ``TypeError`` or ``AttributeError`` for data that cannot travel, after
        killing the worker if part of the job had already been written."""
        last = self.jobs[-1] if self.jobs else None
        base = last.base_seq + len(last.tasks) if last is not None else self.counter.value
        if not self.jobs:
            self.seen_seq, self.seen_at = self.counter.value, time.monotonic()
        size = max(hi for _, _, hi in tasks)
        mark = len(self.outbox)  # frames of earlier jobs still to write: this job's follow them
        pushed = False
        try:
            self.outbox.append(_frame(("run", job_id, tasks, size, part.cols, part.extra)))
            for b in _blocks(tasks):
                lo, hi = b * BLOCK, min((b + 1) * BLOCK, size)
                self.outbox.append(_frame(("data", lo, part.prompts[lo:hi], part.completions[lo:hi])))
                if not pushed and mark == 0:
                    self.push()
                    pushed = True
        except (pickle.PicklingError, TypeError, AttributeError):
            if pushed:  # the worker holds half a job: it cannot take another
                self.kill()
            else:  # nothing of this job left: the jobs before it go on
                while len(self.outbox) > mark:
                    self.outbox.pop()
            raise
        job = Job(job_id, part, tasks, base)
        self.jobs.append(job)
        self.push()
        return job

    def find(self, job_id: int) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def current(self) -> tuple[Job, int] | None:
        """The job and task position the worker is on (``None`` between tasks it has finished)."""
        seq = self.counter.value
        for job in self.jobs:
            t = seq - job.base_seq - 1
            if 0 <= t < len(job.tasks):
                return None if t in job.finished else (job, t)
        return None


def spawn_worker(payload: bytes) -> Worker:
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
    # A socket's default buffer (about 200 KB) holds a third of a 4,000-completion batch: each time the
    # worker drains it, the caller would wake to write more. Asked for more (the kernel caps it at
    # net.core.wmem_max), a batch is usually written in one go.
    with contextlib.suppress(OSError):
        mine.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
    conn = Connection(os.dup(mine.fileno()))
    conn.send(list(sys.path))
    conn.send_bytes(payload)
    return Worker(proc, conn, counter, mine, started=time.monotonic())


def _frame(message: tuple) -> memoryview:
    """``message`` pickled and framed as ``multiprocessing.connection.Connection.recv`` reads it on the
    worker's side: a 4-byte big-endian length (-1 and an 8-byte one past 2 GiB), then the bytes."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    head = struct.pack("!i", len(body)) if len(body) <= 0x7FFFFFFF else struct.pack("!iQ", -1, len(body))
    return memoryview(head + body)


def _blocks(tasks: list[Task]) -> list[int]:
    """The data blocks ``tasks`` read, in the order they first need them."""
    order: dict[int, None] = {}
    for _, lo, hi in tasks:
        for b in blocks_of(lo, hi):
            order.setdefault(b)
    return list(order)
