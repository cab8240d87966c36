"""In-process doubles for the local backend: a list-backed sample stream, a metrics recorder, and one
call that runs a phase of the tiny model on text-only samples."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from seethink_local.backend import LocalBackend
from seethink_local.options import LocalOptions

from seethink_core.hooks.backend import Checkpoint, PhaseContext
from seethink_core.types.methods import OptimizerOptions
from seethink_core.types.plan import BackendRef, Budget, Phase, TrainingPlan, Transition
from seethink_core.types.sample import Sample

sys.path.insert(0, str(Path(__file__).parents[1]))
from streams import ListStream  # noqa: E402  (the shared double)

WALL_CLOCK = ("time.",)


@dataclass
class Logs:
    rows: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.rows.append((step, dict(metrics)))

    def without_wall_clock(self) -> list[tuple[int, dict[str, float]]]:
        return [(s, {k: v for k, v in m.items() if not k.startswith(WALL_CLOCK) and not k.endswith("tokens_per_s")})
                for s, m in self.rows]


def text_samples(n: int = 30) -> list[Sample]:
    return [Sample(id=f"s{i}", prompt=f"What is {i} plus one?", answer=str(i + 1)) for i in range(n)]


@dataclass
class Outcome:
    logs: Logs
    ctx: PhaseContext
    steps: int
    stopped_by: str


def run_phase(tiny: Path, tmp: Path, method: str, algo: OptimizerOptions, reward: Any, steps: int, *,
              options: LocalOptions | None = None, transition: Transition | None = None,
              should_stop: Callable[[int, dict[str, float]], str | None] = lambda s, m: None,
              resume_from: Path | None = None) -> Outcome:
    """One phase of the tiny model; in-phase checkpoints go to ``tmp/p/resume``."""
    phase = Phase(index=0, name="p", stages=["p"], capabilities=["textual_reasoning"], model="tiny-vlm",
                  init_from="base", method=method, algorithm=algo, data=[], rewards=[], budget=Budget(steps=steps),
                  transition=transition)
    plan = TrainingPlan(curriculum="t", model="tiny-vlm", backend=BackendRef("local"), phases=[phase])
    logs = Logs()
    ctx = PhaseContext(plan=plan, run_dir=tmp, phase_dir=tmp / "p", checkpoint_dir=tmp / "p" / "ckpt",
                       data=ListStream(text_samples()), reward=reward, total_steps=steps, reference=None, log=logs.log,
                       should_stop=should_stop, dump_rollouts=lambda s, rows: None, resume_dir=tmp / "p" / "resume",
                       resume_from=resume_from)
    options = options or LocalOptions(device="cpu", threads=1, memory_estimate=False, rollout_dump_every=0,
                                      checkpoint_every=0)
    result = LocalBackend(options).run_phase(phase, Checkpoint(str(tiny)), ctx)
    return Outcome(logs, ctx, result.steps, result.stopped_by)
