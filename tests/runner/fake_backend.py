"""A fake backend and toy plugins for runner tests (a test double: it trains nothing).

It pulls batches from the runner's stream, "answers" with a scripted policy whose accuracy grows
with the step, scores with the runner's reward, logs, honours transitions, and writes a small
checkpoint folder that records where it started from.
"""

from __future__ import annotations

import json
import os
import types
from dataclasses import dataclass
from pathlib import Path

from seethink_core.hooks.backend import Checkpoint, PhaseContext, PhaseResult
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec, DataSourceSpec, RewardSpec
from seethink_core.types.methods import METHODS
from seethink_core.types.options import opt
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_core.types.sample import Sample


@dataclass(frozen=True)
class FakeOptions:
    fail_in_phase: str = opt("", doc="raise inside this phase (tests crash handling)")
    fail_at_step: int = opt(0, doc="step at which to raise")


class FakeBackend:
    calls: list[tuple[str, str]] = []  # (phase, init path) of every run_phase, across instances

    def __init__(self, options: FakeOptions):
        self.options = options
        self.prepared = False

    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None:
        self.prepared = True

    def run_phase(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> PhaseResult:
        FakeBackend.calls.append((phase.name, init.path))
        step = 0
        seen = 0
        stopped = "budget"
        metrics: dict[str, float] = {}
        while step < ctx.total_steps:
            batch = ctx.data.next_batch(phase.algorithm.batch_size, step)
            seen += len(batch)
            if self.options.fail_in_phase == phase.name and step == self.options.fail_at_step:
                raise RuntimeError("injected failure")
            # Scripted policy: right on the first `step` samples of each batch, so accuracy climbs.
            completions = [s.answer if i < step + 1 else "wrong" for i, s in enumerate(batch)]
            scores = ctx.reward([s.prompt for s in batch], completions, batch)
            step += 1
            metrics = {"loss": 1.0 / step, "reward.total": sum(scores.total) / len(batch), "samples_seen": seen}
            for name, values in scores.components.items():
                vals = [v for v in values if v is not None]
                metrics[f"reward.{name}"] = sum(vals) / max(1, len(vals))
            ctx.log(step, metrics)
            ctx.progress(step, metrics)
            ctx.dump_rollouts(step, [{"prompt": batch[0].prompt, "completion": completions[0]}])
            reason = ctx.should_stop(step, metrics)
            if reason:
                stopped = reason
                break
        ctx.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        (ctx.checkpoint_dir / "weights.json").write_text(json.dumps({"phase": phase.name, "init": init.path,
                                                                      "steps": step}))
        return PhaseResult(Checkpoint(str(ctx.checkpoint_dir), phase.name), steps=step, samples_seen=seen,
                           stopped_by=stopped, metrics=metrics)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class ToyOptions:
    count: int = opt(40, min=1)
    capability: str = "perception"


class ToySource:
    columns = frozenset({"prompt", "answer", "capability", "difficulty"})

    def __init__(self, options: ToyOptions, *, seed: int, mapping: dict[str, str] | None = None):
        self.options = options

    def __iter__(self):
        for i in range(self.options.count):
            yield Sample(id=f"toy-{i}", prompt=f"what is {i}?", answer=str(i), capability=self.options.capability,
                         difficulty=(i % 10) / 9, source="toy")

    def size(self) -> int:
        return self.options.count


class ExactReward:
    __name__ = "exact"

    def __init__(self, options: object):
        pass

    def __call__(self, prompts, completions, answer, **columns):
        return [1.0 if c == a else 0.0 for c, a in zip(completions, answer)]


def fake_plugin() -> types.SimpleNamespace:
    def register_backends(register):
        register(BackendSpec(name="fake", options=FakeOptions, factory=FakeBackend, methods=frozenset(METHODS)))

    def register_data_sources(register):
        register(DataSourceSpec(name="toy", options=ToyOptions, factory=ToySource, columns=ToySource.columns))

    def register_rewards(register):
        register(RewardSpec(name="exact", factory=ExactReward, needs=frozenset({"answer"})))

    ns = types.SimpleNamespace(__name__="fake_test_plugin")
    for fn in (register_backends, register_data_sources, register_rewards):
        setattr(ns, fn.__name__, hookimpl(fn))
    return ns


def tree_hashes(root: Path) -> dict[str, int]:
    """File sizes and mtimes under ``root`` — enough to show nothing was rewritten."""
    return {str(p.relative_to(root)): os.stat(p).st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file()}
