"""Reward combination and isolation (docs/architecture.md §8).

``build_reward(refs, registry)`` turns a phase's ``RewardRef`` list into one ``CombinedReward``:
``total = Σ weight × value`` over the components that are not ``None``, every component reported
on its own.

Isolation: a reward is third-party code that may raise or hang (sympy on ``9^{9^{9^9}}``). Signal
based timeouts only work on the main thread, and a hung thread cannot be stopped, so the rewards
run in a persistent worker *process* that the caller watches. The batch travels to the worker once
for all rewards and is cut into tasks: one sample of a ``risky`` reward (a grader; any reward that
does not say otherwise), or a chunk of samples of a bounded one (``risky = False``). The worker
writes the number of the task it starts into a shared counter, so the caller knows which task is
running without any message. A sample whose reward raises gives ``None`` and a failure; a task
that runs past ``timeout`` seconds gets the worker killed (a chunk is then retried sample by
sample), ``None`` and a failure, and the rest of the batch goes to a warm spare worker, so a hang
costs the timeout and nothing else. Bounded rewards run first, so a grader that hangs rarely
leaves other work behind.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
import pickle
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from seethink_core.backend import RewardBatch
from seethink_core.errors import ConfigError, PluginError, SeethinkError
from seethink_core.options import validate
from seethink_core.plan import RewardRef
from seethink_core.registry import Registry, RewardSpec
from seethink_core.sample import Sample

RewardCallable = Callable[..., list]

# Sample fields handed to rewards as columns (images stay behind: rewards grade text).
COLUMNS = ("answer", "capability", "difficulty", "facts", "meta", "id", "source")

_POLL_S = 0.02  # how often the caller looks at a busy worker's progress counter
_START_TIMEOUT_S = 120.0  # a worker that cannot even import its rewards is a plugin problem
_FLUSH_S = 0.02  # a worker sends finished results at least this often
_CHUNK = 256  # samples per call of a bounded reward (one that is not ``risky``) in the worker


class RewardError(SeethinkError):
    """A reward could not be built or its worker could not be started."""


# ----------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True)
class Component:
    name: str  # the key in RewardBatch.components (the reward name, made unique if repeated)
    weight: float
    fn: RewardCallable
    needs: frozenset[str] = frozenset()  # the spec's columns; "answer" means it grades the answer


def build_components(refs: Sequence[RewardRef], registry: Registry) -> list[Component]:
    """Instantiate each referenced reward with its validated options (errors are SeethinkErrors)."""
    out: list[Component] = []
    seen: dict[str, int] = {}
    for ref in refs:
        spec: RewardSpec = registry.get("reward", ref.name)
        options, problems = validate(spec.options, dict(ref.options), what=f"reward '{ref.name}'")
        if problems:
            raise ConfigError(problems)
        factory = spec.load()
        try:
            fn = factory(options)
        except SeethinkError:
            raise
        except Exception as e:  # a factory that rejects its options must not leak a traceback
            raise RewardError(f"reward '{ref.name}' could not be built: {type(e).__name__}: {e}") from None
        if not callable(fn):
            raise PluginError(f"reward '{ref.name}': its factory returned {fn!r}, which is not callable")
        seen[ref.name] = seen.get(ref.name, 0) + 1
        key = ref.name if seen[ref.name] == 1 else f"{ref.name}_{seen[ref.name]}"
        out.append(Component(key, float(ref.weight), fn, frozenset(spec.needs)))
    return out


def build_reward(refs: Sequence[RewardRef], registry: Registry, *, timeout: float | None = 5.0,
                 workers: int = 1) -> CombinedReward:
    """The phase's reward: each ref built from the registry, combined by weight, isolated.

    ``timeout``: seconds one reward may spend on one sample (on one chunk, for a bounded reward);
    ``None`` runs the rewards in the calling thread (exceptions are still caught, hangs are not).
    ``workers``: processes that share a batch.
    """
    return CombinedReward(build_components(refs, registry), timeout=timeout, workers=workers)


# ----------------------------------------------------------------------------------------------
# Scoring one task; shared by the inline path and the worker


def _columns(samples: Sequence[Sample]) -> dict[str, list[Any]]:
    return {c: [getattr(s, c) for s in samples] for c in COLUMNS}


def _one(fn: RewardCallable, i: int, prompts: Sequence[str], completions: Sequence[str],
         cols: dict[str, list[Any]], extra: dict[str, Any]) -> float | None:
    """Call ``fn`` on sample ``i`` alone and check what it returned. Raises on a bad result."""
    kwargs = {k: [v[i]] for k, v in cols.items()}
    kwargs.update(_extra_for(extra, i))
    result = fn([prompts[i]], [completions[i]], **kwargs)
    return _check_value(result)


def _extra_for(extra: dict[str, Any], i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tokens = extra.get("completion_tokens")
    if tokens is not None:
        out["completion_tokens"] = [tokens[i]]
    if extra.get("max_response_tokens") is not None:
        out["max_response_tokens"] = extra["max_response_tokens"]
    return out


def _check_value(result: Any) -> float | None:
    if not isinstance(result, (list, tuple)) or len(result) != 1:
        raise TypeError(f"returned {type(result).__name__} of length "
                        f"{len(result) if hasattr(result, '__len__') else '?'}; expected a list of 1")
    value = result[0]
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"returned {value!r}; expected a number or None") from None
    if not math.isfinite(value):
        raise ValueError(f"returned {value}; expected a finite number")
    return value


def _risky(fn: RewardCallable) -> bool:
    """Whether a reward may run for long (third-party rewards are, unless they say otherwise)."""
    return bool(getattr(fn, "risky", True))


def _error_text(name: str, e: BaseException) -> str:
    return f"reward '{name}' raised {type(e).__name__}: {e}"


# ----------------------------------------------------------------------------------------------
# The worker process. Started with subprocess, not multiprocessing: spawn would re-import the
# caller's __main__ (a script without a main guard would start workers recursively) and fork is
# unsafe in a process that runs torch threads.


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


_WORKER_CODE = "from seethink_core.rewarding import _worker_entry; _worker_entry()"


def _worker_entry() -> None:
    """``python -c`` entry of a worker: ``argv = [-c, socket fd, counter path]``."""
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
    conn.send(("ready",))
    seq = 0
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        _, job, tasks, prompts, completions, cols, extra = msg
        done: list[tuple[int, int, float | None, str | None]] = []
        last = time.monotonic()
        for t, (r, lo, hi) in enumerate(tasks):
            if done and done[-1][0] == t - 1 and tasks[t - 1][0] != r:
                # Another reward starts: send what is finished, so a hang from here on loses none of it.
                conn.send(("part", job, done))
                done, last = [], time.monotonic()
            seq += 1
            counter.value = seq
            done.extend((t, i, value, err) for i, value, err in _run_task(components[r], lo, hi, prompts,
                                                                          completions, cols, extra))
            now = time.monotonic()
            if now - last >= _FLUSH_S:
                conn.send(("part", job, done))
                done, last = [], now
        conn.send(("done", job, done))


def _run_task(c: Component, lo: int, hi: int, prompts: list[str], completions: list[str],
              cols: dict[str, list[Any]], extra: dict[str, Any]) -> list[tuple[int, float | None, str | None]]:
    """Samples ``lo:hi`` of one reward: one batched call, or sample by sample when that raises."""
    if hi - lo > 1:
        try:
            kwargs = {k: v[lo:hi] for k, v in cols.items()}
            if extra.get("completion_tokens") is not None:
                kwargs["completion_tokens"] = extra["completion_tokens"][lo:hi]
            if extra.get("max_response_tokens") is not None:
                kwargs["max_response_tokens"] = extra["max_response_tokens"]
            result = c.fn(prompts[lo:hi], completions[lo:hi], **kwargs)
            if isinstance(result, (list, tuple)) and len(result) == hi - lo:
                return [(lo + k, _check_value([v]), None) for k, v in enumerate(result)]
        except Exception:  # find the sample that raised
            pass
    out: list[tuple[int, float | None, str | None]] = []
    for i in range(lo, hi):
        try:
            out.append((i, _one(c.fn, i, prompts, completions, cols, extra), None))
        except Exception as e:
            out.append((i, None, _error_text(c.name, e)))
    return out


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection
    counter: _Counter
    started: float = 0.0
    ready: bool = False
    # the job in hand
    job: int = -1
    tasks: list[tuple[int, int, int]] = field(default_factory=list)  # (reward, first sample, end)
    finished: set[int] = field(default_factory=set)  # task positions with a result
    base_seq: int = 0  # the counter before the job started: task t runs as base_seq + t + 1
    seen_seq: int = 0
    seen_at: float = 0.0

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2.0)
        self.conn.close()
        self.counter.close()


def _spawn_worker(payload: bytes) -> _Worker:
    """Start a worker and hand it the pickled components; it says "ready" once they are imported."""
    mine, theirs = socket.socketpair()
    counter = _Counter()
    proc = subprocess.Popen([sys.executable, "-c", _WORKER_CODE, str(theirs.fileno()), counter.path],
                            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True)
    theirs.close()
    conn = Connection(mine.detach())
    conn.send(list(sys.path))
    conn.send_bytes(payload)
    return _Worker(proc, conn, counter, started=time.monotonic())


class CombinedReward:
    """``CombinedReward(prompts, completions, samples, completion_tokens=None, max_response_tokens=None)
    -> RewardBatch``. Safe to call from any thread (calls are serialised)."""

    def __init__(self, components: Sequence[Component], *, timeout: float | None = 5.0, workers: int = 1):
        if timeout is not None and timeout <= 0:
            raise ConfigError(f"reward timeout must be positive, not {timeout}")
        if workers < 1:
            raise ConfigError(f"reward workers must be at least 1, not {workers}")
        self.components = list(components)
        self.timeout = timeout
        self.n_workers = workers
        self.last_errors: dict[str, str] = {}  # reward -> the latest failure message, for logs
        self._lock = threading.Lock()
        self._payload: bytes | None = None
        self._workers: list[_Worker] = []
        self._spare: _Worker | None = None
        self._job = 0
        if timeout is not None and self.components:
            self._ensure_workers()  # they import their graders while the caller sets up the rest

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def weights(self) -> dict[str, float]:
        return {c.name: c.weight for c in self.components}

    # -- public ---------------------------------------------------------------------------------

    def __call__(self, prompts: Sequence[str], completions: Sequence[str], samples: Sequence[Sample],
                 completion_tokens: Sequence[int] | None = None,
                 max_response_tokens: int | None = None) -> RewardBatch:
        n = len(completions)
        if len(prompts) != n or len(samples) != n:
            raise ValueError(f"reward got {len(prompts)} prompts, {n} completions and {len(samples)} samples")
        if completion_tokens is not None and len(completion_tokens) != n:
            raise ValueError(f"reward got {len(completion_tokens)} token counts for {n} completions")
        extra = {"completion_tokens": list(completion_tokens) if completion_tokens is not None else None,
                 "max_response_tokens": max_response_tokens}
        cols = _columns(samples)
        values: list[list[float | None]] = [[None] * n for _ in self.components]
        failures = {c.name: 0 for c in self.components}
        with self._lock:
            if n and self.components:
                if self.timeout is None:
                    self._run_inline(list(prompts), list(completions), cols, extra, values, failures)
                else:
                    self._run_isolated(list(prompts), list(completions), cols, extra, values, failures)
        total = [0.0] * n
        for c, vals in zip(self.components, values, strict=True):
            for i, v in enumerate(vals):
                if v is not None:
                    total[i] += c.weight * v
        components = {c.name: vals for c, vals in zip(self.components, values, strict=True)}
        return RewardBatch(total=total, components=components,
                           failures={k: v for k, v in failures.items() if v})

    def close(self) -> None:
        """Stop the worker processes (a worker also exits when its caller does)."""
        with self._lock:
            for w in [*self._workers, *([self._spare] if self._spare else [])]:
                w.kill()  # a worker holds no state worth a graceful exit
            self._workers, self._spare = [], None

    def __enter__(self) -> CombinedReward:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- inline ---------------------------------------------------------------------------------

    def _run_inline(self, prompts: list[str], completions: list[str], cols: dict[str, list[Any]],
                    extra: dict[str, Any], values: list[list[float | None]], failures: dict[str, int]) -> None:
        """Batched calls in this thread; a batch that raises is retried sample by sample to find the culprit."""
        n = len(completions)
        for r, c in enumerate(self.components):
            try:
                result = c.fn(prompts, completions, **cols, **{k: v for k, v in extra.items() if v is not None})
                if not isinstance(result, (list, tuple)) or len(result) != n:
                    raise TypeError(f"returned {type(result).__name__}; expected a list of {n}")
                values[r] = [_check_value([v]) for v in result]
                continue
            except Exception:
                pass
            for i in range(n):
                try:
                    values[r][i] = _one(c.fn, i, prompts, completions, cols, extra)
                except Exception as e:
                    values[r][i] = None
                    failures[c.name] += 1
                    self.last_errors[c.name] = _error_text(c.name, e)

    # -- isolated -------------------------------------------------------------------------------

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

    def _ensure_workers(self) -> None:
        for w in self._workers:
            if not w.alive():
                w.kill()  # closes its pipe and removes its counter file
        self._workers = [w for w in self._workers if w.alive()]
        while len(self._workers) < self.n_workers:
            self._workers.append(self._take_worker())

    def _submit(self, w: _Worker, tasks: list[tuple[int, int, int]], payload: tuple) -> None:
        self._job += 1
        w.job, w.tasks, w.finished = self._job, tasks, set()
        w.base_seq = w.seen_seq = w.counter.value
        w.seen_at = time.monotonic()
        try:
            w.conn.send(("run", self._job, tasks, *payload))
        except (pickle.PicklingError, TypeError, AttributeError) as e:  # pickled whole before any byte is sent
            raise RewardError(f"a sample's columns cannot be sent to the reward worker: {type(e).__name__}: {e}",
                              hint="keep Sample.meta to plain data (numbers, strings, lists, dicts)") from None

    def _run_isolated(self, prompts: list[str], completions: list[str], cols: dict[str, list[Any]],
                      extra: dict[str, Any], values: list[list[float | None]], failures: dict[str, int]) -> None:
        n = len(completions)
        payload = (prompts, completions, cols, extra)
        self._ensure_workers()
        # Reward-major order keeps each worker on one reward at a time. Rewards that say they run in
        # bounded time (``risky = False``) go first, so a hang in a grader usually leaves nothing
        # behind that would wait for a fresh worker to start.
        # A risky reward is called one sample per task, so a hang or crash costs one sample; a bounded
        # one is called in chunks (one call per chunk; sample by sample only if the chunk raises).
        order = sorted(range(len(self.components)), key=lambda r: _risky(self.components[r].fn))
        tasks = [(r, lo, min(lo + step, n)) for r in order
                 for step in [1 if _risky(self.components[r].fn) else _CHUNK] for lo in range(0, n, step)]
        shard = -(-len(tasks) // len(self._workers))
        busy: dict[int, _Worker] = {}
        for k, w in enumerate(self._workers):
            part = tasks[k * shard:(k + 1) * shard]
            if part:
                self._submit(w, part, payload)
                busy[id(w)] = w

        def record(w: _Worker, results: list) -> None:
            for t, i, value, err in results:
                r = w.tasks[t][0]
                w.finished.add(t)  # a task's results always travel together
                values[r][i] = value
                if err is not None:
                    failures[self.components[r].name] += 1
                    self.last_errors[self.components[r].name] = err

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
                    values[r][lo] = None
                    failures[self.components[r].name] += 1
                    self.last_errors[self.components[r].name] = why.format(name=self.components[r].name)
            w.kill()
            busy.pop(id(w), None)
            fresh = self._take_worker()
            self._spare = self._spawn()  # warming already, should a second sample hang
            self._workers[self._workers.index(w)] = fresh
            if left:
                self._submit(fresh, left, payload)
                busy[id(fresh)] = fresh

        while busy:
            ready = wait([w.conn for w in busy.values()], timeout=_POLL_S)
            now = time.monotonic()
            for w in list(busy.values()):
                if w.conn in ready:
                    try:
                        msg = w.conn.recv()
                    except (EOFError, OSError):
                        if not w.ready:
                            w.kill()
                            raise RewardError("the reward worker process exited while importing the rewards "
                                              "(its error is printed above)") from None
                        replace(w, self._current(w), "reward '{name}' crashed its worker process")
                        continue
                    if msg[0] == "ready":
                        w.ready, w.seen_seq, w.seen_at = True, w.counter.value, now
                    elif msg[1] == w.job:
                        record(w, msg[2])
                        if msg[0] == "done":
                            busy.pop(id(w), None)
                    continue
                if not w.ready:
                    if now - w.started > _START_TIMEOUT_S:
                        w.kill()
                        raise RewardError(f"the reward worker did not start within {_START_TIMEOUT_S:.0f} s")
                    continue
                seq = w.counter.value
                if seq != w.seen_seq:
                    w.seen_seq, w.seen_at = seq, now
                elif now - w.seen_at > self.timeout:
                    replace(w, self._current(w), f"reward '{{name}}' ran past its {self.timeout:g} s timeout")
                elif not w.alive():
                    replace(w, self._current(w), "reward '{name}' crashed its worker process")
        if self._spare is None or not self._spare.alive():
            # Warmed between calls (not at start, where it would compete with the first workers for
            # the CPU), so that the next hang costs the timeout and no start-up.
            self._spare = self._spawn()

    @staticmethod
    def _current(w: _Worker) -> int | None:
        """The task position the worker is on (``None`` if it has not started the job)."""
        t = w.counter.value - w.base_seq - 1
        return t if 0 <= t < len(w.tasks) and t not in w.finished else None


# ----------------------------------------------------------------------------------------------
# Preflight: does the gold answer get the maximum and a wrong answer less?


@dataclass(frozen=True)
class RewardCheck:
    reward: str
    gold: float | None  # the component's score for a well-formed completion with the gold answer
    wrong: float | None  # ... and with a wrong answer
    problem: str | None = None  # None when the reward behaves

    @property
    def ok(self) -> bool:
        return self.problem is None


_LETTER = re.compile(r"^[(\[]?([A-Z])[)\]]?\.?$")
_BOX = re.compile(r"^\[\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\]$")


def gold_completion(answer: str) -> str:
    """A completion in the reference format that gives ``answer``."""
    return f"<think>Let me look carefully and reason step by step.</think> The answer is \\boxed{{{answer}}}."


def wrong_answer(sample: Sample) -> str:
    """An answer to ``sample`` that no grader should accept: another option, another number, a box
    beside the gold one, or the gold expression plus one."""
    gold = (sample.answer or "").strip()
    choices = sample.meta.get("choices") if isinstance(sample.meta, dict) else None
    m = _LETTER.match(gold)
    if m or (choices and gold in [str(c) for c in choices]):
        n = len(choices) if choices else 4
        k = ord(m.group(1)) - 65 if m else [str(c) for c in choices].index(gold)
        return chr(65 + (k + 1) % max(n, 2))
    b = _BOX.match(gold)
    if b:
        x1, y1, x2, y2 = (float(v) for v in b.groups())
        shift = (x2 - x1) + 1
        return f"[{x1 + shift:g}, {y1:g}, {x2 + shift:g}, {y2:g}]"
    try:
        value = float(gold.replace(",", ""))
    except ValueError:
        return f"{gold}+1" if gold else "1"
    return f"{value + 1:g}" if math.isfinite(value) else "1"


def check_reward_maximum(reward: CombinedReward, sample: Sample, *,
                         max_response_tokens: int = 2048) -> list[RewardCheck]:
    """Score the gold answer and a wrong one on ``sample`` with every component of ``reward``.

    A component that grades the answer must give the gold answer its maximum (``max_value`` when
    the reward declares one) and the wrong answer less; one that reports ``None`` for the gold
    answer cannot grade this sample's answers. The total must also prefer the gold answer.
    """
    if sample.answer is None:
        return [RewardCheck("total", None, None, f"sample '{sample.id}' has no answer to check the rewards with")]
    texts = [gold_completion(sample.answer), gold_completion(wrong_answer(sample))]
    tokens = [len(t.split()) for t in texts]
    batch = reward([sample.prompt] * 2, texts, [sample, sample], completion_tokens=tokens,
                   max_response_tokens=max_response_tokens)
    out: list[RewardCheck] = []
    for c in reward.components:
        gold, wrong = batch.components[c.name]
        problem = None
        if batch.failures.get(c.name):
            problem = reward.last_errors.get(c.name, f"reward '{c.name}' failed")
        elif "answer" in c.needs:
            best = getattr(c.fn, "max_value", None)
            if gold is None:
                problem = f"reward '{c.name}' is not applicable to the gold answer {sample.answer!r}"
            elif best is not None and abs(gold - best) > 1e-9:
                problem = (f"reward '{c.name}' gives the gold answer {sample.answer!r} {gold:g}, "
                           f"not its maximum {best:g}")
            elif wrong is not None and wrong >= gold:
                problem = (f"reward '{c.name}' gives a wrong answer ({wrong_answer(sample)!r}) {wrong:g}, "
                           f"no less than the gold answer's {gold:g}")
        out.append(RewardCheck(c.name, gold, wrong, problem))
    graded = any("answer" in c.needs for c in reward.components)
    total_problem = None
    if graded and not batch.total[1] < batch.total[0]:
        total_problem = (f"the total reward gives a wrong answer {batch.total[1]:g}, "
                         f"no less than the gold answer's {batch.total[0]:g}")
    out.append(RewardCheck("total", batch.total[0], batch.total[1], total_problem))
    return out
