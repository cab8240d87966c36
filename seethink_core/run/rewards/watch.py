"""Watching reward failures over a phase: no reward failure is silent (docs/architecture.md §8).

``FailureWatch`` counts each component's failures over a phase, says the first of each once and
stops the run past ``max_reward_failures``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seethink_core.hooks.backend import RewardBatch, RewardFailure
from seethink_core.run.rewards.errors import RewardFailuresExceeded


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
