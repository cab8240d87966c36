"""A two-phase run directory built the real way: the fake backend trains through ``Runner``, then
``run_eval`` scores the base model and each phase's checkpoint with a scripted generator — exactly
the calls the runner makes — so the matrix has cells known in advance."""

from __future__ import annotations

import sys
from pathlib import Path

from eval_doubles import ScriptedGenerator, eval_plugin

from seethink_core.hooks.backend import Checkpoint
from seethink_core.run.eval_types import EvalSettings
from seethink_core.run.evaluation import base_eval_path, run_eval
from seethink_core.run.rundir import RunDir
from seethink_core.run.runner import Runner
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import BackendRef, Budget, DataRef, EvalSpec, Phase, RewardRef, TrainingPlan

sys.path.insert(0, str(Path(__file__).parents[1] / "runner"))
from fake_backend import fake_plugin  # noqa: E402

# Training uses the fake plugin's `exact` reward; evaluation grades like the reference recipe.
EVAL_REWARDS = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]
EVAL = EvalSpec(sets=[DataRef("evaltoy", {"count": 30})])
# Expected phase × capability cells (perception, textual_reasoning, visual_reasoning).
STAGED_CELLS = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, 1.0, 1.0]]
MERGED_CELLS = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]


def knows(model: str, sample, j: int) -> bool:
    """Base: knows nothing. After perception: perception only. After reasoning: reasoning, and only
    the even-numbered perception items (it forgot half). Merged: everything."""
    cap, i = sample.capability, int(sample.answer)
    if "00-perception" in model:
        return cap == "perception"
    if "01-reasoning" in model:
        return cap != "perception" or i % 2 == 0
    return "all" in model


def make_plan(name: str, phases: list[tuple[str, list[str]]]) -> TrainingPlan:
    out = []
    for i, (phase, caps) in enumerate(phases):
        out.append(Phase(index=i, name=phase, stages=[phase], capabilities=caps, model="base-model",
                         init_from="base" if i == 0 else phases[i - 1][0], method="grpo",
                         algorithm=GRPOOptions(batch_size=4, group=2, max_response_tokens=32),
                         data=[DataRef("toy", {"count": 40})], rewards=[RewardRef("exact")],
                         budget=Budget(steps=3 + i), eval=EVAL, seed=i))
    return TrainingPlan(name, "base-model", BackendRef("fake"), out)


def build_run(root: Path, plugins, plan: TrainingPlan) -> Path:
    """Train with the fake backend, then evaluate as the runner will: base, then after every phase."""
    reports = Runner(plan, RunDir(root), plugins=plugins).run()
    gen = ScriptedGenerator(image_right=knows, facts_right=lambda s: s.capability == "perception",
                            length=lambda s, j: 40 if "base" in s.id else 20)
    settings = EvalSettings(reward_timeout=None)  # grade in this thread: no worker process to start
    run_eval(plan, plan.phases[0], Checkpoint(plan.model), gen, plugins.registry, base_eval_path(root),
             label="base", settings=settings, rewards=EVAL_REWARDS)
    for r in reports:
        ckpt = Checkpoint(str(RunDir(root).checkpoint_dir(r.phase)), r.phase.name)
        run_eval(plan, r.phase, ckpt, gen, plugins.registry, RunDir(root).phase_dir(r.phase) / "eval.json",
                 label=r.phase.name, settings=settings, rewards=EVAL_REWARDS)
    return root


def fixture_plugins() -> list[tuple[str, object]]:
    """The in-process plugins these runs need: the fake backend (with its toy data and reward) and the
    toy eval set."""
    return [("fake", fake_plugin()), ("evaltoy", eval_plugin())]


def staged_and_merged(tmp: Path, plugins) -> tuple[Path, Path]:
    staged = build_run(tmp / "staged", plugins, make_plan("staged", [
        ("perception", ["perception"]), ("reasoning", ["visual_reasoning", "textual_reasoning"])]))
    merged = build_run(tmp / "merged", plugins, make_plan("merged", [
        ("all", ["perception", "visual_reasoning", "textual_reasoning"])]))
    return staged, merged
