"""Evaluation (docs/architecture.md §13): score a checkpoint on a plan's eval sets and write ``eval.json``.

One evaluation is: open each eval set, generate ``n`` completions per sample with the image
(greedy or sampled), and — when an evaluator needs ``facts`` — one greedy completion with the
gold facts as text; grade every completion with the phase's rewards; hand the per-sample
``EvalRecord`` list to each named evaluator (plugins) and merge the metrics they return.

The runner calls ``run_eval`` before training (row 0 = the base model; ``eval settings before:
false`` skips it), after every phase, and (through ``step_evaluator``) every ``every_steps`` of
each phase's own spec; ``seethink eval`` calls it alone.

This module sets an evaluation up and writes ``eval.json``; the parts live beside it:
``eval_types`` (settings, records, evaluators), ``eval_sets`` (reading the eval sets) and
``eval_scoring`` (generating, grading, scoring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seethink_core.hooks.backend import Checkpoint, Completion, Generator
from seethink_core.hooks.registry import Registry
from seethink_core.run.atomic import write_json_atomic
from seethink_core.run.eval_scoring import decoding, evaluate, max_new_tokens
from seethink_core.run.eval_sets import eval_seed, load_eval_samples, set_label
from seethink_core.run.eval_types import EvalError, EvalRecord, EvalSettings, build_evaluators
from seethink_core.run.run_state import stored_path
from seethink_core.samples.images import ImageBounds
from seethink_core.types.plan import EvalSpec, Phase, RewardRef, TrainingPlan
from seethink_core.types.sample import Sample

EVAL_FORMAT = 1
# The reference recipe's rewards; used when no phase supplies its own (``seethink eval --data``).
DEFAULT_REWARDS = (RewardRef("accuracy", 0.9), RewardRef("format", 0.1))


def run_eval(plan: TrainingPlan | None, phase: Phase | None, checkpoint: Checkpoint, generator: Generator,
             registry: Registry, out_path: Path, *, label: str, spec: EvalSpec | None = None,
             rewards: Sequence[RewardRef] | None = None, template: str | None = None, step: int | None = None,
             settings: EvalSettings = EvalSettings(), log: Callable[[int, dict[str, float]], None] | None = None,
             progress: Callable[[str, int], None] | None = None, run_root: Path | None = None,
             on_answers: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Evaluate ``checkpoint`` on the eval spec of ``phase`` (or ``spec``), write ``out_path`` (eval.json)
    and return its metrics. Returns ``{}`` and writes nothing when there is nothing to evaluate.

    ``run_root``: the run directory ``out_path`` belongs to; a checkpoint inside it is recorded relative
    to it, so the run directory can be moved (``seethink_core.run.rundir.stored_path``).

    ``rewards`` default to the phase's, ``template`` to the spec's eval prompt (the compiler puts the
    phase's there unless ``eval settings prompt:`` names one), else the phase's; the system prompt is
    the spec's. ``log(step, metrics)`` receives the metrics (the runner writes them as ``kind="eval"`` rows).
    ``on_answers(done, total)`` follows generation (the runner's progress display).
    """
    spec = spec if spec is not None else (phase.eval if phase is not None else None)
    if spec is None or not spec.sets:
        return {}
    if not callable(getattr(generator, "generate", None)):
        raise EvalError("this backend cannot generate, so it cannot evaluate",
                        hint="evaluate its checkpoints with `seethink eval CHECKPOINT --backend local`")
    from seethink_core.run.rewards.combine import build_reward

    refs = list(rewards if rewards is not None else (phase.rewards if phase is not None and phase.rewards
                                                     else DEFAULT_REWARDS))
    if template is None:
        template = spec.prompt if spec.prompt is not None else phase.prompt if phase is not None else None
    # The phase's own pixel bounds (no separate eval setting): the model is scored on images prepared as it
    # is trained on them. The base model's row uses the phase the runner evaluates it for (the first
    # phase with eval sets), so row 0 and that phase's row see the same pixels.
    bounds = ImageBounds.of(phase.algorithm) if phase is not None else ImageBounds()
    seed = eval_seed(plan)
    sets: dict[str, list[Sample]] = {}
    for ref in spec.sets:
        name = set_label(ref)
        if name in sets:  # the same source twice with other options: keep both, numbered
            name = next(f"{name}_{i}" for i in range(2, len(sets) + 3) if f"{name}_{i}" not in sets)
        sets[name] = load_eval_samples(ref, registry, seed=seed, max_samples=spec.max_samples)
    evaluators = build_evaluators(spec.evaluators, registry)
    tokens = max_new_tokens(spec, phase, settings, plan)
    with build_reward(refs, registry, timeout=settings.reward_timeout) as reward:
        outcome = evaluate(checkpoint, generator, sets, reward, evaluators, spec=spec, template=template,
                           max_tokens=tokens, settings=settings, progress=progress, image_bounds=bounds,
                           on_answers=on_answers)
    total = len(outcome.records)
    used_n, used_temperature, used_top_p = decoding(spec)
    write_json_atomic(out_path, {
        "format": EVAL_FORMAT,
        "label": label,
        "phase": checkpoint.phase,  # None for the base model (row 0 of the matrix)
        "phase_index": _phase_index(plan, checkpoint.phase),
        "checkpoint": stored_path(run_root, checkpoint.path) if run_root is not None else checkpoint.path,
        "step": step,
        # What generation really used (greedy: one completion, temperature 0, top_p 1), not the spec as written.
        "settings": {"greedy": spec.greedy, "n": used_n, "temperature": used_temperature, "top_p": used_top_p,
                     "system": spec.system, "max_new_tokens": tokens,
                     "correctness": settings.correctness, "threshold": settings.threshold,
                     "rewards": [r.name for r in refs], "evaluators": [e.name for e in evaluators],
                     "seed": seed, "template": template,
                     # only when set: eval.json of an unbounded phase is as before
                     **({"min_pixels": bounds.min_pixels, "max_pixels": bounds.max_pixels} if bounds.active else {})},
        "sets": [{"name": name, "samples": len(samples)} for name, samples in sets.items()],
        "metrics": outcome.metrics,
        "examples": example_rows(outcome.records, settings.examples),
        "samples": total,
        "wall_s": round(outcome.wall_s, 3),
        "samples_per_s": round(total / outcome.wall_s, 3) if outcome.wall_s > 0 else None,
    })
    if log is not None:
        log(step or 0, dict(outcome.metrics))
    return outcome.metrics


def _phase_index(plan: TrainingPlan | None, name: str | None) -> int | None:
    if plan is None or name is None:
        return None
    return next((p.index for p in plan.phases if p.name == name), None)


def example_rows(records: Sequence[EvalRecord], k: int) -> list[dict[str, Any]]:
    """Up to ``k`` records, taken in turn from each set, as plain rows for eval.json."""
    by_set: dict[str, list[EvalRecord]] = {}
    for r in records:
        by_set.setdefault(r.set_name, []).append(r)
    picked: list[EvalRecord] = []
    depth = 0
    while len(picked) < k and any(depth < len(v) for v in by_set.values()):
        for recs in by_set.values():
            if depth < len(recs) and len(picked) < k:
                picked.append(recs[depth])
        depth += 1
    rows = []
    for r in picked:
        first = r.completions[0] if r.completions else Completion("", 0)
        rows.append({
            "id": r.sample.id, "set": r.set_name, "capability": r.capability, "prompt": r.sample.prompt,
            "answer": r.sample.answer, "completion": first.text, "tokens": first.tokens,
            "correct": bool(r.correct[0]) if r.correct else False,
            "facts_completion": r.facts_completion.text if r.facts_completion else None,
            "facts_correct": r.facts_correct, "error_kind": r.error_kind(),
        })
    return rows


def eval_due(spec: EvalSpec | None, step: int) -> bool:
    """Whether an in-phase evaluation is due after optimizer step ``step``."""
    return bool(spec and spec.sets and spec.every_steps and step > 0 and step % spec.every_steps == 0)


def step_evaluator(plan: TrainingPlan, phase: Phase, generator: Generator, registry: Registry, phase_dir: Path,
                   *, log: Callable[[int, dict[str, float]], None] | None = None,
                   settings: EvalSettings = EvalSettings(), run_root: Path | None = None
                   ) -> Callable[..., dict[str, float]]:
    """A callback for backends that can hand over an intermediate checkpoint: ``fn(step, checkpoint)``
    evaluates when ``eval_due`` says so, writes ``phase_dir/eval/step-NNNNNN.json`` and logs; an optional
    third argument is ``run_eval``'s ``on_answers``."""

    def fn(step: int, checkpoint: Checkpoint,
           on_answers: Callable[[int, int], None] | None = None) -> dict[str, float]:
        if not eval_due(phase.eval, step):
            return {}
        return run_eval(plan, phase, checkpoint, generator, registry, phase_dir / "eval" / f"step-{step:06d}.json",
                        label=f"{phase.name}@{step}", step=step, settings=settings, log=log, run_root=run_root,
                        on_answers=on_answers)

    return fn


def base_eval_path(run_root: Path) -> Path:
    """Where the base model's evaluation (row 0 of the matrix) lives in a run directory."""
    return run_root / "eval" / "00-base.json"
