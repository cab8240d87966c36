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

What travels is kept small, so that the worker costs little next to a fast bounded grader: each
column value once per distinct ``Sample`` object (a GRPO batch repeats each prompt's Sample
``group`` times), images never, and the results as one list of scores per task, sent when a reward
is done and otherwise at most every ``_FLUSH_S``.

Identical rows: a reward may declare ``deterministic = True`` (an attribute, like ``risky``): its
score of a sample depends on that sample's inputs alone, with no state kept between calls and no
randomness. Rows with the same prompt, completion and token count and the same ``Sample`` object
are then graded once, and every copy gets that score (or that failure: each copy counts as a failed
sample, as it would have without the merge). Nothing is merged for a reward that does not declare
it: a third-party reward may count its calls, sample, or depend on the order it is called in.

No failure is silent: a wrong number of scores, NaN, inf or a value that is not a number (a string,
even "1") is a failure like an exception, and ``FailureWatch`` counts each component's failures over
a phase, says the first of each once and stops the run past ``max_reward_failures``.
"""

from __future__ import annotations

import contextlib
import gc
import math
import mmap
import numbers
import os
import pickle
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from seethink_core.errors import ConfigError, PluginError, SeethinkError
from seethink_core.hooks.backend import RewardBatch, RewardFailure
from seethink_core.hooks.registry import Registry, RewardSpec
from seethink_core.types.options import validate
from seethink_core.types.plan import RewardRef
from seethink_core.types.sample import Sample

RewardCallable = Callable[..., list]

# Sample fields handed to rewards as columns (images stay behind: rewards grade text).
COLUMNS = ("answer", "capability", "difficulty", "facts", "meta", "id", "source")

_POLL_S = 0.02  # how often the caller looks at a busy worker's progress counter
_START_TIMEOUT_S = 120.0  # a worker that cannot even import its rewards is a plugin problem
# A worker sends finished results at least this often. Each message wakes the caller (a context switch
# on a busy machine), and nothing is lost by waiting: a killed worker's unsent tasks are run again by
# its replacement, so this bounds the work redone after a hang, next to the timeout it already cost.
_FLUSH_S = 0.25
_CHUNK = 256  # samples per call of a bounded reward (one that is not ``risky``) in the worker


class RewardError(SeethinkError):
    """A reward could not be built or its worker could not be started."""


class RewardFailuresExceeded(RewardError):
    """A reward failed on more of a phase's samples than the phase's ``max_reward_failures`` allows."""


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


@dataclass(frozen=True)
class _Columns:
    """The batch's columns with each value held once per distinct ``Sample`` object, and which one each
    position holds: a GRPO batch repeats each prompt's Sample ``group`` times, so only an eighth of the
    values are read here, pickled for the worker and unpickled there."""

    values: dict[str, list[Any]]  # column -> its value for each distinct sample
    rows: list[int]  # batch position -> its sample's place in ``values``

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> _Columns:
        place: dict[int, int] = {}  # id(sample) -> its place; the samples outlive the call, so ids stay unique
        distinct: list[Sample] = []
        rows: list[int] = []
        for s in samples:
            k = place.setdefault(id(s), len(distinct))
            if k == len(distinct):
                distinct.append(s)
            rows.append(k)
        return cls({c: [getattr(s, c) for s in distinct] for c in COLUMNS}, rows)

    def slice(self, lo: int, hi: int) -> dict[str, list[Any]]:
        """Positions ``lo:hi`` as a reward receives them: one list per column."""
        rows = self.rows[lo:hi]
        return {k: [v[j] for j in rows] for k, v in self.values.items()}

    def sample_id(self, i: int) -> Any:
        return self.values["id"][self.rows[i]]

    def reordered(self, order: Sequence[int]) -> _Columns:
        return _Columns(self.values, [self.rows[i] for i in order])


@dataclass(frozen=True)
class _Duplicates:
    """Positions of a batch whose inputs are identical: the same prompt, completion and token count, and
    the same ``Sample`` object. A reward that declares ``deterministic = True`` grades each distinct row
    once. The batch is reordered so that the distinct rows come first (``order``: new position -> old);
    such a reward is called on the first ``unique`` rows, and sample ``i`` gets the score of new position
    ``source[i]``. Other rewards are called on every row, as before."""

    order: list[int]
    unique: int
    source: list[int]

    @classmethod
    def find(cls, prompts: Sequence[Any], completions: Sequence[Any], tokens: Sequence[Any] | None,
             rows: Sequence[int]) -> _Duplicates | None:
        """``None`` when every row is distinct (or a value cannot be hashed: then nothing is merged)."""
        first: dict[tuple, int] = {}
        firsts: list[int] = []
        repeats: list[int] = []
        source: list[int] = []
        try:
            for i, key in enumerate(zip(prompts, completions, tokens or [None] * len(rows), rows, strict=True)):
                j = first.setdefault(key, len(firsts))
                (firsts if j == len(firsts) else repeats).append(i)
                source.append(j)
        except TypeError:
            return None
        if not repeats:
            return None
        return cls(firsts + repeats, len(firsts), source)

    def put_back(self, values: list[float | None], failed: list[int], deterministic: bool
                 ) -> tuple[list[float | None], list[int]]:
        """One component's scores and failed positions, from the new order back to the caller's."""
        if deterministic:  # every copy of a row gets its score, and fails with it
            bad = set(failed)
            return [values[j] for j in self.source], [i for i, j in enumerate(self.source) if j in bad] if bad else []
        out: list[float | None] = [None] * len(values)
        for j, i in enumerate(self.order):
            out[i] = values[j]
        return out, [self.order[j] for j in failed]


def _one(fn: RewardCallable, i: int, prompts: Sequence[str], completions: Sequence[str],
         cols: _Columns, extra: dict[str, Any]) -> float | None:
    """Call ``fn`` on sample ``i`` alone and check what it returned. Raises on a bad result."""
    kwargs = cols.slice(i, i + 1)
    kwargs.update(_extra_for(extra, i))
    result = fn([prompts[i]], [completions[i]], **kwargs)
    return _check_value(result)


class _BadScore(ValueError):
    """A reward returned something that is not a score. Raised by seethink, not by the reward, so its
    origin is the reward itself and not the line of this module that noticed."""


def _extra_for(extra: dict[str, Any], i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tokens = extra.get("completion_tokens")
    if tokens is not None:
        out["completion_tokens"] = [tokens[i]]
    if extra.get("max_response_tokens") is not None:
        out["max_response_tokens"] = extra["max_response_tokens"]
    return out


def _check_value(result: Any) -> float | None:
    """The score of a call on one sample (``result`` must be a list of one)."""
    if not isinstance(result, (list, tuple)) or len(result) != 1:
        raise _BadScore(_count_problem(result, 1))
    return _score(result[0])


def _count_problem(result: Any, n: int) -> str:
    what = f"{len(result)} scores" if isinstance(result, (list, tuple)) else _show(result)
    return f"returned {what} for {n} completion{'s' if n != 1 else ''}; expected a list of {n}"


def _score(value: Any) -> float | None:
    """One returned value as a score. ``None`` is "not applicable"; a bool counts as 0/1 (a predicate
    reward); numbers, numpy scalars and 0-d tensors count. A string never does, not even "1":
    ``float("1")`` would quietly accept a reward that returns its text or a label. NaN and inf are
    failures too: one of them would poison the batch's advantages."""
    if type(value) is float and math.isfinite(value):  # nearly every score: no need for the checks below
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if not _numeric(value):
        raise _BadScore(f"returned {_show(value)}; expected a number or None")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise _BadScore(f"returned {_show(value)}; expected a number or None") from None
    if not math.isfinite(x):
        raise _BadScore(f"returned {x}; expected a finite number")
    return x


def _numeric(value: Any) -> bool:
    if isinstance(value, numbers.Real):  # int, float, Fraction, numpy's integer and floating scalars
        return True
    # numpy.bool_ and 0-d numpy arrays or torch tensors: a single number that is not a Python one
    return not isinstance(value, (str, bytes)) and getattr(value, "shape", None) == () and hasattr(value, "item")


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}{'...' if len(text) > 60 else ''} ({type(value).__name__})"


def _qualname(fn: Any) -> str:
    """Where a reward lives: ``module.Class`` for a callable object, ``module.function`` for a function."""
    owner = fn if isinstance(fn, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)) else type(fn)
    return f"{getattr(owner, '__module__', '?')}.{getattr(owner, '__qualname__', type(fn).__name__)}"


def _failure(c: Component, e: BaseException, sample: Any, tracebacks: set[str] | None) -> RewardFailure:
    """``e`` as a failure of ``c`` on ``sample``; its traceback is kept only for the first failure of each
    reward (``tracebacks`` names those already kept), so thousands of failures do not travel as text."""
    if isinstance(e, _BadScore):
        return RewardFailure(c.name, str(e), _qualname(c.fn), _sample_id(sample))
    frames = traceback.extract_tb(e.__traceback__)
    origin = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else _qualname(c.fn)
    tb = None
    if tracebacks is not None and c.name not in tracebacks:
        tracebacks.add(c.name)
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip()
    return RewardFailure(c.name, _one_line(f"{type(e).__name__}: {e}"), origin, _sample_id(sample), tb)


def _one_line(text: str, limit: int = 300) -> str:
    """A reward's own message as one bounded line: it is printed among the run's notes and in the error."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _sample_id(sample: Any) -> str | None:
    return None if sample is None else str(sample)


def _risky(fn: RewardCallable) -> bool:
    """Whether a reward may run for long (third-party rewards are, unless they say otherwise)."""
    return bool(getattr(fn, "risky", True))


def _deterministic(fn: RewardCallable) -> bool:
    """Whether a reward says its score depends on its inputs alone (no reward is, unless it says so)."""
    return getattr(fn, "deterministic", False) is True


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


_WORKER_CODE = "from seethink_core.run.rewarding import _worker_entry; _worker_entry()"


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
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        _, job, tasks, prompts, completions, cols, extra = msg
        done: list[tuple[int, int, list[float | None], list[tuple[int, RewardFailure]]]] = []
        last = time.monotonic()
        for t, (r, lo, hi) in enumerate(tasks):
            if done and done[-1][0] == t - 1 and tasks[t - 1][0] != r:
                # Another reward starts: send what is finished, so a hang from here on loses none of it.
                conn.send(("part", job, done))
                done, last = [], time.monotonic()
            seq += 1
            counter.value = seq
            # One entry per task (its scores as one list): a batch's results pickle as a few lists of floats.
            done.append((t, lo, *_run_task(components[r], lo, hi, prompts, completions, cols, extra, tracebacks)))
            now = time.monotonic()
            if now - last >= _FLUSH_S:
                conn.send(("part", job, done))
                done, last = [], now
        conn.send(("done", job, done))


# The scores of samples lo:hi, and (position, failure) for each of them that failed.
TaskResult = tuple[list[float | None], list[tuple[int, RewardFailure]]]


def _run_task(c: Component, lo: int, hi: int, prompts: list[str], completions: list[str],
              cols: _Columns, extra: dict[str, Any], tracebacks: set[str] | None = None) -> TaskResult:
    """Samples ``lo:hi`` of one reward: one batched call, or sample by sample when that raises.

    A batch that returns the wrong number of scores fails on all its samples: no score can be matched
    to its sample. One that returns the right number has each value checked on its own."""
    if hi - lo > 1:
        try:
            kwargs = cols.slice(lo, hi)
            if extra.get("completion_tokens") is not None:
                kwargs["completion_tokens"] = extra["completion_tokens"][lo:hi]
            if extra.get("max_response_tokens") is not None:
                kwargs["max_response_tokens"] = extra["max_response_tokens"]
            result = c.fn(prompts[lo:hi], completions[lo:hi], **kwargs)
        except Exception:  # find the sample that raised, below
            pass
        else:
            if isinstance(result, (list, tuple)) and len(result) == hi - lo:
                return _checked(c, lo, result, cols)
            bad = _failure(c, _BadScore(_count_problem(result, hi - lo)), cols.sample_id(lo), None)
            return [None] * (hi - lo), [(i, bad) for i in range(lo, hi)]
    values: list[float | None] = []
    failures: list[tuple[int, RewardFailure]] = []
    for i in range(lo, hi):
        try:
            values.append(_one(c.fn, i, prompts, completions, cols, extra))
        except Exception as e:
            values.append(None)
            failures.append((i, _failure(c, e, cols.sample_id(i), tracebacks)))
    return values, failures


def _checked(c: Component, lo: int, result: Sequence[Any], cols: _Columns) -> TaskResult:
    """A batched call's values, each checked on its own (``lo``: the position of the first)."""
    values: list[float | None] = []
    failures: list[tuple[int, RewardFailure]] = []
    for k, value in enumerate(result):
        try:
            values.append(_score(value))
        except _BadScore as e:
            values.append(None)
            failures.append((lo + k, _failure(c, e, cols.sample_id(lo + k), None)))
    return values, failures


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
    # Its own session: a Ctrl-C at the terminal goes to the foreground process group, and a worker in
    # it would die with a KeyboardInterrupt traceback; the caller stops it instead (close, or the
    # orphan watch once the caller is gone).
    proc = subprocess.Popen([sys.executable, "-c", _WORKER_CODE, str(theirs.fileno()), counter.path],
                            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True,
                            start_new_session=True)
    theirs.close()
    conn = Connection(mine.detach())
    conn.send(list(sys.path))
    conn.send_bytes(payload)
    return _Worker(proc, conn, counter, started=time.monotonic())


@dataclass
class _Tally:
    """One call's scores and failures, component by component."""

    values: list[list[float | None]]
    failed: list[list[int]]
    errors: dict[str, RewardFailure] = field(default_factory=dict)  # the first failure of each component

    @classmethod
    def empty(cls, k: int, n: int) -> _Tally:
        return cls([[None] * n for _ in range(k)], [[] for _ in range(k)])

    def put(self, r: int, name: str, lo: int, values: list[float | None],
            failures: list[tuple[int, RewardFailure]]) -> None:
        """Component ``r``'s scores of samples ``lo:lo + len(values)`` and their failures."""
        self.values[r][lo:lo + len(values)] = values
        for i, failure in failures:
            self.failed[r].append(i)
            self.errors.setdefault(name, failure)


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
        self._tracebacks: set[str] = set()  # rewards whose first traceback the inline path has kept
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
        prompts, completions, cols = list(prompts), list(completions), _Columns.of(samples)
        same = None
        if any(_deterministic(c.fn) for c in self.components):
            same = _Duplicates.find(prompts, completions, extra["completion_tokens"], cols.rows)
        if same is not None:  # distinct rows first; a deterministic reward grades only those
            prompts, completions = [prompts[i] for i in same.order], [completions[i] for i in same.order]
            cols = cols.reordered(same.order)
            if extra["completion_tokens"] is not None:
                extra["completion_tokens"] = [extra["completion_tokens"][i] for i in same.order]
        ends = [same.unique if same is not None and _deterministic(c.fn) else n for c in self.components]
        tally = _Tally.empty(len(self.components), n)
        with self._lock:
            if n and self.components:
                if self.timeout is None:
                    self._run_inline(prompts, completions, cols, extra, ends, tally)
                else:
                    self._run_isolated(prompts, completions, cols, extra, ends, tally)
            for name, failure in tally.errors.items():
                self.last_errors[name] = failure.line()
        if same is not None:
            for r, c in enumerate(self.components):
                tally.values[r], tally.failed[r] = same.put_back(tally.values[r], tally.failed[r],
                                                                 _deterministic(c.fn))
        total = [0.0] * n
        for c, vals in zip(self.components, tally.values, strict=True):
            for i, v in enumerate(vals):
                if v is not None:
                    total[i] += c.weight * v
        components = {c.name: vals for c, vals in zip(self.components, tally.values, strict=True)}
        failed = {c.name: sorted(f) for c, f in zip(self.components, tally.failed, strict=True) if f}
        return RewardBatch(total=total, components=components, failures={k: len(v) for k, v in failed.items()},
                           failed=failed, errors=tally.errors)

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

    def _run_inline(self, prompts: list[str], completions: list[str], cols: _Columns, extra: dict[str, Any],
                    ends: list[int], tally: _Tally) -> None:
        """Batched calls in this thread; a batch that raises is retried sample by sample to find the culprit.
        Component ``r`` grades samples ``0:ends[r]``."""
        for r, c in enumerate(self.components):
            if ends[r]:
                tally.put(r, c.name, 0, *_run_task(c, 0, ends[r], prompts, completions, cols, extra, self._tracebacks))

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

    def _run_isolated(self, prompts: list[str], completions: list[str], cols: _Columns, extra: dict[str, Any],
                      ends: list[int], tally: _Tally) -> None:
        payload = (prompts, completions, cols, extra)
        self._ensure_workers()
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
            selector.register(w.conn, selectors.EVENT_READ, w)

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

        with selector:
            for k, w in enumerate(self._workers):
                part = tasks[k * shard:(k + 1) * shard]
                if part:
                    start(w, part)
            while busy:
                ready = {id(key.data) for key, _ in selector.select(timeout=_POLL_S)}
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
# Watching failures over a phase: no reward failure is silent (docs/architecture.md §8)

def debug_enabled() -> bool:
    """``seethink --debug`` (which sets ``SEETHINK_DEBUG=1``) or ``SEETHINK_DEBUG`` set by hand: tracebacks too."""
    return os.environ.get("SEETHINK_DEBUG", "") not in ("", "0")


def rollout_samples(algorithm: Any, total_steps: int) -> int:
    """Completions graded in a phase's first rollout: ``group`` × its prompts (``rollout_batch_size``, or
    fewer when the whole phase needs fewer). The failure limit waits for this many, so one unlucky
    sample cannot stop a run, and a reward that fails on every sample stops right after the first batch."""
    group = int(getattr(algorithm, "group", 1))
    rollout = int(getattr(algorithm, "rollout_batch_size", 1))
    per_step = int(getattr(algorithm, "batch_size", rollout))
    epochs = max(1, int(getattr(algorithm, "update_epochs", 1)))
    return max(1, group * min(rollout, per_step * max(1, math.ceil(total_steps / epochs))))


def resume_note(resume_dir: Path | None) -> str:
    """What re-running does after a stop: continue from the phase's last in-phase checkpoint, or start it again."""
    from seethink_core.run.checkpointing import latest_checkpoint

    found = latest_checkpoint(resume_dir) if resume_dir is not None and resume_dir.is_dir() else None
    if found is not None:
        return f"re-running the same command resumes this phase from its checkpoint at step {found.step}"
    return "re-running the same command starts this phase again (it has no checkpoint yet)"


class FailureWatch:
    """Failures of each reward component, counted over a phase.

    The first failure of each component is said once through ``note`` (the runner's console, or the
    OpenRLHF bridge's stderr), with its traceback when debugging. Once ``min_samples`` samples are
    graded, a component that has failed on more than ``limit`` of them stops the run with
    ``RewardFailuresExceeded`` (``limit`` 1 never stops). ``resume`` says what re-running does then.
    """

    def __init__(self, phase: str, *, limit: float, min_samples: int, note: Callable[[str], None],
                 resume: Callable[[], str] | None = None, debug: bool | None = None):
        self.phase = phase
        self.limit = limit
        self.min_samples = max(1, min_samples)
        self.note = note
        self.resume = resume
        self.debug = debug_enabled() if debug is None else debug
        self.graded: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.first: dict[str, RewardFailure] = {}

    def record(self, batch: RewardBatch) -> None:
        """Count ``batch`` (every component grades every sample), say new first failures, apply the limit."""
        n = len(batch.total)
        for name in batch.components:
            self.graded[name] = self.graded.get(name, 0) + n
            self.failed[name] = self.failed.get(name, 0) + int((batch.failures or {}).get(name, 0))
        for name, failure in (getattr(batch, "errors", None) or {}).items():
            if name not in self.first:
                self.first[name] = failure
                self._say(failure)
        self.check()

    def _say(self, failure: RewardFailure) -> None:
        self.note(f"phase {self.phase}: {failure.line()}; its later failures are only counted "
                  f"(metric reward_failures.{failure.reward})")
        if self.debug and failure.traceback:
            self.note(failure.traceback)

    def check(self) -> None:
        for name, bad in self.failed.items():
            graded = self.graded[name]
            if bad and graded >= self.min_samples and bad > self.limit * graded:
                raise RewardFailuresExceeded(self.message(name), hint=self.hint())

    def message(self, name: str) -> str:
        bad, graded = self.failed[name], self.graded[name]
        first = self.first.get(name)
        said = f"; the first: {first.message} (at {first.origin})" if first else ""
        return (f"phase '{self.phase}': reward '{name}' failed on {bad} of the {graded} samples graded so far "
                f"({bad / graded:.0%}), more than max_reward_failures ({self.limit:g}) allows{said}")

    def hint(self) -> str:
        after = f"; {self.resume()}" if self.resume is not None else ""
        debug = "" if self.debug else " (--debug shows its traceback)"
        return (f"fix the reward{debug}, or allow more with `max_reward_failures: 0.5` in the phase's algorithm "
                f"options (1 never stops; changing it resumes the same run); finished phases "
                f"are kept{after}")


class WatchedReward:
    """A phase's reward with its failures watched (``FailureWatch``); everything else is the reward's own."""

    def __init__(self, reward: Any, watch: FailureWatch):
        self.reward = reward
        self.watch = watch

    def __call__(self, *args: Any, **kwargs: Any) -> RewardBatch:
        batch = self.reward(*args, **kwargs)
        self.watch.record(batch)
        return batch

    def __getattr__(self, name: str) -> Any:  # names, weights, components, last_errors, close
        return getattr(self.reward, name)


def watch_reward(reward: Any, phase: Any, total_steps: int, *, note: Callable[[str], None],
                 resume: Callable[[], str] | None = None) -> WatchedReward:
    """``reward`` watched with the phase's ``max_reward_failures`` (an SFT phase, which has none, never stops)."""
    limit = float(getattr(phase.algorithm, "max_reward_failures", 1.0))
    watch = FailureWatch(phase.name, limit=limit, min_samples=rollout_samples(phase.algorithm, total_steps),
                         note=note, resume=resume)
    return WatchedReward(reward, watch)


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
    if not math.isfinite(value):
        return "1"
    # Every digit written out: ``:g`` keeps six, so 1,000,000 + 1 printed as 1e+06, the gold itself.
    return str(int(value) + 1) if value.is_integer() and abs(value) < 1e15 else repr(value + 1)


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
