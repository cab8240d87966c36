"""The caller's side of the reward worker processes: start them, hand them a batch, watch them.

A reward is third-party code that may raise or hang (sympy on ``9^{9^{9^9}}``). Signal based
timeouts only work on the main thread, and a hung thread cannot be stopped, so the rewards run in
persistent worker *processes* (``worker``) that the caller watches. A batch reaches the workers as
parts (stretches of it, each a job for one worker, dealt in turn), and each part is cut into tasks:
one sample of a ``risky`` reward (a grader; any reward that does not say otherwise), or a chunk of
samples of a bounded one (``risky = False``). A task that runs past ``timeout`` seconds gets the
worker killed (a chunk is then retried sample by sample), ``None`` and a failure, and the rest of
its work goes to a warm spare worker, so a hang costs the timeout and nothing else. Within a part,
bounded rewards run first, so a grader that hangs rarely leaves other work behind.

Parts are taken from an iterator: the caller prepares the next part (its columns, its identical
rows) while a worker grades the one before, and the first part is small, so grading starts after
a fraction of the batch's bookkeeping instead of all of it. What travels is kept small, so that the
worker costs little next to a fast bounded grader: each column value once per distinct ``Sample``
object (a GRPO batch repeats each prompt's Sample ``group`` times), only the rows a reward grades
(a deterministic reward's distinct ones), images never, and the results as one list of scores per
task. The text travels in blocks written without blocking (``channel``).
"""

from __future__ import annotations

import pickle
import selectors
import time
from collections.abc import Iterable, Sequence

from seethink_core.hooks.backend import RewardFailure
from seethink_core.run.rewards.channel import Job, Part, Task, Worker, spawn_worker
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.scores import Component, _qualname, _risky, _sample_id
from seethink_core.run.rewards.worker import BLOCK

_POLL_S = 0.05  # how often the caller looks at a busy worker's progress counter (hangs are timed to this)
_START_TIMEOUT_S = 120.0  # a worker that cannot even import its rewards is a plugin problem
_CHUNK = BLOCK  # samples per call of a bounded reward (one that is not ``risky``) in the worker


class WorkerPool:
    """A reward's worker processes and its warm spare; ``run`` grades one batch on them."""

    def __init__(self, components: Sequence[Component], *, timeout: float, workers: int):
        self.components = list(components)
        self.timeout = timeout
        self.n_workers = workers
        self._payload: bytes | None = None
        self._workers: list[Worker] = []
        self._spare: Worker | None = None
        self._job = 0
        # Reward-major order within a part keeps a worker on one reward at a time; bounded rewards first.
        self._order = sorted(range(len(self.components)), key=lambda r: _risky(self.components[r].fn))

    def close(self) -> None:
        for w in [*self._workers, *([self._spare] if self._spare else [])]:
            w.kill()  # a worker holds no state worth a graceful exit
        self._workers, self._spare = [], None

    def _spawn(self) -> Worker:
        if self._payload is None:
            try:
                self._payload = pickle.dumps(self.components)
            except Exception as e:
                raise RewardError(f"the rewards cannot be sent to a worker process: {type(e).__name__}: {e}",
                                  hint="a reward must be picklable (a module-level class)") from None
        try:
            return spawn_worker(self._payload)
        except OSError as e:  # out of processes or file descriptors
            raise RewardError(f"could not start a reward worker process: {e}") from None

    def _take_worker(self) -> Worker:
        w, self._spare = (self._spare, None) if self._spare is not None else (self._spawn(), None)
        return w

    def ensure_workers(self) -> None:
        for w in self._workers:
            if not w.alive():
                w.kill()  # closes its pipe and removes its counter file
        self._workers = [w for w in self._workers if w.alive()]
        while len(self._workers) < self.n_workers:
            self._workers.append(self._take_worker())

    def tasks(self, ends: list[int]) -> list[Task]:
        """A part's tasks: a risky reward one sample per task, so a hang or crash costs one sample; a
        bounded one in chunks (one call per chunk; sample by sample only if the chunk raises)."""
        return [(r, lo, min(lo + step, ends[r])) for r in self._order
                for step in [1 if _risky(self.components[r].fn) else _CHUNK] for lo in range(0, ends[r], step)]

    def run(self, parts: Iterable[Part]) -> None:
        """Grade every part (each into its own tally); parts are dealt to the workers in turn."""
        self.ensure_workers()
        # One selector for the whole call, not multiprocessing's wait(), which builds one each time it is
        # called: the loop below wakes every _POLL_S to read the counters, and that cost the caller more
        # CPU than all the pickling.
        selector = selectors.DefaultSelector()
        busy: dict[int, Worker] = {}
        try:
            with selector:
                dealt = 0
                for part in parts:
                    tasks = self.tasks(part.ends)
                    if tasks:
                        self._start(self._workers[dealt % len(self._workers)], part, tasks, selector, busy)
                        dealt += 1
                while busy:
                    self._wait(selector, busy)
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

    def _start(self, w: Worker, part: Part, tasks: list[Task], selector: selectors.BaseSelector,
               busy: dict[int, Worker]) -> None:
        self._job += 1
        try:
            w.queue(self._job, part, tasks)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            if not w.alive() and w in self._workers:
                self._workers.remove(w)  # killed with half a job
            raise RewardError(f"the batch cannot be sent to the reward worker: {type(e).__name__}: {e}",
                              hint="prompts and completions must be strings, and Sample.meta plain data "
                                   "(numbers, strings, lists, dicts)") from None
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if w.outbox else 0)
        if id(w) in busy:
            selector.modify(w.conn, events, w)
        else:
            busy[id(w)] = w
            selector.register(w.conn, events, w)

    def _unwatch(self, w: Worker, selector: selectors.BaseSelector, busy: dict[int, Worker]) -> None:
        if busy.pop(id(w), None) is not None:  # before its pipe closes: the selector asks the pipe its number
            selector.unregister(w.conn)

    def _wait(self, selector: selectors.BaseSelector, busy: dict[int, Worker]) -> None:
        """One round: write what the workers can take, read what they sent, look at their progress."""
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
                        self._unwatch(w, selector, busy)
                        w.kill()
                        raise RewardError("the reward worker process exited while importing the rewards "
                                          "(its error is printed above)") from None
                    self._replace(w, "crashed its worker process", selector, busy)
                    continue
                for m in msg[1] if msg[0] == "many" else [msg]:
                    if m[0] == "ready":
                        w.ready, w.seen_seq, w.seen_at = True, w.counter.value, now
                    elif (job := w.find(m[1])) is not None:
                        self._record(job, m[2])
                        if m[0] == "done":
                            w.jobs.remove(job)
                if w.ready and not w.jobs:
                    self._unwatch(w, selector, busy)
                continue
            if not w.ready:
                if now - w.started > _START_TIMEOUT_S:
                    self._unwatch(w, selector, busy)
                    w.kill()
                    raise RewardError(f"the reward worker did not start within {_START_TIMEOUT_S:.0f} s")
                continue
            seq = w.counter.value
            if seq != w.seen_seq:
                w.seen_seq, w.seen_at = seq, now
            elif now - w.seen_at > self.timeout:
                self._replace(w, f"ran past its {self.timeout:g} s timeout", selector, busy)
            elif not w.alive():
                self._replace(w, "crashed its worker process", selector, busy)

    def _record(self, job: Job, results: list) -> None:
        for t, lo, values, failures in results:
            r = job.tasks[t][0]
            job.finished.add(t)  # a task's results always travel together
            job.part.tally.put(r, self.components[r].name, lo, values, failures)

    def _replace(self, w: Worker, why: str, selector: selectors.BaseSelector, busy: dict[int, Worker]) -> None:
        """Kill ``w``; the task it was on fails; its unfinished tasks go to a fresh worker."""
        current = w.current()
        jobs = list(w.jobs)
        self._unwatch(w, selector, busy)
        w.kill()
        fresh = self._take_worker()
        self._spare = self._spawn()  # warming already, should a second sample hang
        self._workers[self._workers.index(w)] = fresh
        for job in jobs:
            unfinished = [t for t in range(len(job.tasks)) if t not in job.finished]
            failed = current[1] if current is not None and current[0] is job else None
            if current is None and unfinished and job is jobs[0]:
                failed = unfinished[0]  # never resubmit the task that may have killed it
            left = [job.tasks[t] for t in unfinished if t != failed]
            if failed is not None:
                r, lo, hi = job.tasks[failed]
                if hi - lo > 1:  # a chunk: find the culprit sample by sample on the fresh worker
                    left[:0] = [(r, i, i + 1) for i in range(lo, hi)]
                else:
                    c = self.components[r]
                    failure = RewardFailure(c.name, why, _qualname(c.fn), _sample_id(job.part.cols.sample_id(lo)))
                    job.part.tally.put(r, c.name, lo, [None], [(lo, failure)])
            if left:
                self._start(fresh, job.part, left, selector, busy)
