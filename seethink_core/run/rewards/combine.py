"""A phase's reward: its components built from the registry and combined by weight.

``build_reward(refs, registry)`` turns a phase's ``RewardRef`` list into one ``CombinedReward``:
``total = Σ weight × value`` over the components that are not ``None``, every component reported
on its own. The rewards run in worker processes (``pool``), or in the calling thread without a timeout.

Identical rows: a reward may declare ``deterministic = True`` (an attribute, like ``risky``): its
score of a sample depends on that sample's inputs alone, with no state kept between calls and no
randomness. Rows with the same prompt, completion and token count and the same ``Sample`` object
are then graded once, and every copy gets that score (or that failure: each copy counts as a failed
sample, as it would have without the merge). Nothing is merged for a reward that does not declare
it: a third-party reward may count its calls, sample, or depend on the order it is called in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from seethink_core.collector import collector_paused
from seethink_core.errors import ConfigError, PluginError, SeethinkError
from seethink_core.hooks.backend import RewardBatch
from seethink_core.hooks.registry import Registry, RewardSpec
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.pool import WorkerPool, _Worker
from seethink_core.run.rewards.scores import Component, _Columns, _deterministic, _run_task, _Tally
from seethink_core.types.options import validate
from seethink_core.types.plan import RewardRef
from seethink_core.types.sample import Sample


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
        self._pool = WorkerPool(self.components, timeout=timeout, workers=workers) if timeout is not None else None
        if self._pool is not None and self.components:
            self._pool.ensure_workers()  # they import their graders while the caller sets up the rest

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def weights(self) -> dict[str, float]:
        return {c.name: c.weight for c in self.components}

    @property
    def _workers(self) -> list[_Worker]:
        """The running workers (none inline): what a test or a debugger looks at to find their processes."""
        return self._pool._workers if self._pool is not None else []

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
        # The batch's bookkeeping makes thousands of small containers that die with the call: with the
        # collector paused, they do not set off passes over the caller's heap (a trainer's, torch and
        # all). Not while the rewards run: a third-party reward may make cycles, and other threads of
        # the caller go on allocating while it waits for the workers.
        with collector_paused():
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
                if self._pool is None:
                    self._run_inline(prompts, completions, cols, extra, ends, tally)
                else:
                    self._pool.run(prompts, completions, cols, extra, ends, tally)
            for name, failure in tally.errors.items():
                self.last_errors[name] = failure.line()
        with collector_paused():
            return self._batch(tally, same, n)

    def _batch(self, tally: _Tally, same: _Duplicates | None, n: int) -> RewardBatch:
        """The scores back in the caller's order, weighed and summed."""
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
            if self._pool is not None:
                self._pool.close()

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
