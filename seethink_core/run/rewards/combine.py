"""A phase's reward: its components built from the registry and combined by weight.

``build_reward(refs, registry)`` turns a phase's ``RewardRef`` list into one ``CombinedReward``:
``total = Σ weight × value`` over the components that are not ``None``, every component reported
on its own. The rewards run in worker processes (``pool``), or in the calling thread without a timeout.
A reward that declares ``deterministic = True`` grades each distinct row once (``parts``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from seethink_core.errors import ConfigError, PluginError, SeethinkError
from seethink_core.hooks.backend import RewardBatch
from seethink_core.hooks.registry import Registry, RewardSpec
from seethink_core.run.rewards.channel import Worker
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.parts import _Part, combined, cuts, prepared
from seethink_core.run.rewards.pool import WorkerPool
from seethink_core.run.rewards.scores import Component, _run_task
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
    def _workers(self) -> list[Worker]:
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
        parts: list[_Part] = []
        with self._lock:
            if n and self.components:
                if self._pool is None:
                    parts.append(_Part.of(self.components, 0, prompts, completions, samples, completion_tokens,
                                          max_response_tokens))
                    self._run_inline(parts[0])
                else:  # in parts: a worker grades one while the next is prepared (parts.py)
                    bounds = cuts(samples, self._pool.n_workers)
                    self._pool.run(prepared(self.components, prompts, completions, samples, completion_tokens,
                                            max_response_tokens, bounds, parts))
            batch = combined(self.components, parts, n)
            for name, failure in batch.errors.items():
                self.last_errors[name] = failure.line()
        return batch

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

    def _run_inline(self, part: _Part) -> None:
        """Batched calls in this thread; a batch that raises is retried sample by sample to find the culprit.
        The rewards' own code runs with the garbage collector on: a third-party reward may make cycles."""
        for r, c in enumerate(self.components):
            if part.ends[r]:
                part.tally.put(r, c.name, 0, *_run_task(c, 0, part.ends[r], part.prompts, part.completions,
                                                        part.cols, part.extra, self._tracebacks))
