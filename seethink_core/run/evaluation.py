"""Evaluation (docs/architecture.md §13): score a checkpoint on a plan's eval sets and write ``eval.json``.

One evaluation is: open each eval set, generate ``n`` completions per sample with the image
(greedy or sampled), and — when an evaluator needs ``facts`` — one greedy completion with the
gold facts as text; grade every completion with the phase's rewards; hand the per-sample
``EvalRecord`` list to each named evaluator (plugins) and merge the metrics they return.

The runner calls ``run_eval`` before training (row 0 = the base model; ``eval settings before:
false`` skips it), after every phase, and (through ``step_evaluator``) every ``every_steps`` of
each phase's own spec; ``seethink eval`` calls it alone.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from seethink_core.errors import PluginError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, Completion, Generator, checked_generate
from seethink_core.hooks.registry import Registry
from seethink_core.run.rundir import stored_path, write_json_atomic
from seethink_core.samples.images import ImageBounds
from seethink_core.samples.prompting import render_prompt
from seethink_core.types.options import validate
from seethink_core.types.plan import DataRef, EvalSpec, Phase, RewardRef, TrainingPlan
from seethink_core.types.sample import Sample

if TYPE_CHECKING:  # rewarding starts worker processes; import it only when grading
    from seethink_core.run.rewarding import CombinedReward

EVAL_FORMAT = 1
# Eval sets are drawn with the plan seed plus this offset, so a generated source (the synthetic
# world) used for both training (phase seed) and evaluation gives different items, and every row
# of the phase × capability matrix scores the same items.
EVAL_SEED_OFFSET = 7919
DEFAULT_EVALUATORS = ("accuracy", "pass_at_k", "format", "length", "perception_split")
# The reference recipe's rewards; used when no phase supplies its own (``seethink eval --data``).
DEFAULT_REWARDS = (RewardRef("accuracy", 0.9), RewardRef("format", 0.1))
UNKNOWN_CAPABILITY = "unknown"


class EvalError(SeethinkError):
    """An evaluation could not run: no generator, a bad eval set, a misbehaving backend."""


@dataclass(frozen=True)
class EvalSettings:
    """How correctness is judged and how much is generated; not part of the plan."""

    correctness: str = "accuracy"  # the reward component that says right or wrong
    threshold: float = 0.5  # a completion is correct when that component is >= this
    max_new_tokens: int = 256  # used when neither the eval spec nor the phase sets a limit
    batch: int = 64  # samples per generate() call: bounded memory, still batched
    examples: int = 8  # example rows kept in eval.json
    reward_timeout: float | None = 5.0  # seconds per reward call; None grades in this thread


@dataclass
class EvalRecord:
    """One eval sample's completions and grades; what evaluators read."""

    sample: Sample
    set_name: str
    completions: list[Completion]  # with the image, ``n`` of them
    correct: list[bool]
    scores: list[float | None]  # the correctness component, per completion
    format: list[float | None] = field(default_factory=list)  # the ``format`` component when present
    facts_completion: Completion | None = None  # answered from the gold facts as text
    facts_correct: bool | None = None

    @property
    def capability(self) -> str:
        """The sample's capability; for a set whose samples have none (a benchmark read from jsonl), the
        set's own name, so the matrix shows a column per such set instead of one "unknown" lumping them."""
        return self.sample.capability or self.set_name or UNKNOWN_CAPABILITY

    def error_kind(self) -> str | None:
        """``perception`` (wrong from the image, right from the facts), ``reasoning`` (wrong from
        both), or None (right from the image, or no facts pass)."""
        if self.facts_correct is None or not self.completions or self.correct[0]:
            return None
        return "perception" if self.facts_correct else "reasoning"


class Evaluator(Protocol):
    """What an ``EvaluatorSpec`` factory returns: records in, named metrics out."""

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]: ...


@dataclass
class EvalOutcome:
    metrics: dict[str, float]
    records: list[EvalRecord]
    wall_s: float


# ---------------------------------------------------------------------------------------------
# Building blocks


def set_label(ref: DataRef) -> str:
    """The name an eval set is reported under (``DataRef.label``)."""
    return ref.label


def load_eval_samples(ref: DataRef, registry: Registry, *, seed: int, max_samples: int | None) -> list[Sample]:
    """The first ``max_samples`` samples of one eval set, in the source's own order (no shuffling,
    so every evaluation of a run scores the same items)."""
    from seethink_core.run.stream import open_source  # the runner's way to open a source, options checked

    source = open_source(ref, registry, seed=seed)
    out: list[Sample] = []
    try:
        for sample in source:
            if max_samples is not None and len(out) >= max_samples:
                break
            if sample.capability is None and ref.capability is not None:
                sample.capability = ref.capability
            out.append(sample)
    except SeethinkError:
        raise
    except Exception as e:
        raise EvalError(f"eval set '{set_label(ref)}' failed while reading: {type(e).__name__}: {e}") from None
    else:
        from seethink_core.run.stream import skip_note

        # A skipped eval record changes what the accuracy is out of: say so (known after a whole pass).
        note = skip_note(set_label(ref), source)
        if note:
            print(f"eval set '{set_label(ref)}': {note}", file=sys.stderr, flush=True)
    if not out:
        raise EvalError(f"eval set '{set_label(ref)}' has no samples")
    return out


@dataclass(frozen=True)
class LoadedEvaluator:
    name: str
    fn: Evaluator
    needs: frozenset[str]


def build_evaluators(names: Sequence[str], registry: Registry) -> list[LoadedEvaluator]:
    """Each named evaluator from the registry, built with its default options."""
    out = []
    for name in names or DEFAULT_EVALUATORS:
        spec = registry.get("evaluator", name)
        options, problems = validate(spec.options, {}, what=f"evaluator '{name}'")
        if problems:
            raise PluginError(problems)
        out.append(LoadedEvaluator(name, spec.load()(options), frozenset(spec.needs)))
    return out


def max_new_tokens(spec: EvalSpec, phase: Phase | None, settings: EvalSettings,
                   plan: TrainingPlan | None = None) -> int:
    """The generation limit of an evaluation: ``eval settings max_response_tokens:``, else the phase's own
    ``max_response_tokens``, else the plan's (its first RL phase's), else an SFT phase's ``max_tokens``,
    else ``settings.max_new_tokens``.

    The plan's limit matters for the rows whose phase has none of its own: the base model is evaluated
    for the first phase with eval sets, often an SFT warm-up; scored with the 256-token default, row 0
    would be measured with another limit than every RL row of the matrix."""
    if spec.max_response_tokens:
        return spec.max_response_tokens
    phases = [phase] if phase is not None else []
    for candidate in [*phases, *(plan.phases if plan is not None else [])]:
        limit = getattr(candidate.algorithm, "max_response_tokens", None)
        if limit:
            return int(limit)
    target = getattr(phase.algorithm, "max_tokens", None) if phase is not None else None
    return int(target) if target else settings.max_new_tokens


def _generate(generator: Generator, checkpoint: Checkpoint, samples: list[Sample], *, n: int, temperature: float,
              top_p: float, max_tokens: int, template: str | None, system: str | None, use_facts: bool, batch: int,
              image_bounds: ImageBounds | None = None,
              answered: Callable[[int], None] | None = None) -> list[list[Completion]]:
    out: list[list[Completion]] = []
    for start in range(0, len(samples), batch):
        chunk = samples[start:start + batch]
        out.extend(checked_generate(generator, checkpoint, chunk, n=n, temperature=temperature, top_p=top_p,
                                    max_new_tokens=max_tokens, prompt_template=template, use_facts=use_facts,
                                    error=EvalError, what="evaluation answers", image_bounds=image_bounds,
                                    system_prompt=system))
        if answered is not None:
            answered(len(chunk))
    return out


def _grade(reward: CombinedReward, samples: list[Sample], groups: list[list[Completion]], template: str | None,
           max_tokens: int, settings: EvalSettings) -> tuple[list[list[float | None]], list[list[float | None]]]:
    """The correctness and format components for every completion, grouped like ``groups``."""
    flat_samples = [s for s, g in zip(samples, groups) for _ in g]
    flat = [c for g in groups for c in g]
    prompts = [render_prompt(template, s) for s in flat_samples]
    batch = reward(prompts, [c.text for c in flat], flat_samples,
                   completion_tokens=[c.tokens for c in flat], max_response_tokens=max_tokens)
    comps = batch.components
    key = settings.correctness
    if key not in comps:
        if len(comps) != 1:
            raise EvalError(f"no reward component '{key}' to judge correctness (the rewards are "
                            f"{', '.join(comps) or 'none'})", hint="name one with --correctness")
        key = next(iter(comps))
    scores, fmt = comps[key], comps.get("format")

    def regroup(values: list[float | None] | None) -> list[list[float | None]]:
        out, i = [], 0
        for g in groups:
            out.append(list(values[i:i + len(g)]) if values is not None else [])
            i += len(g)
        return out

    return regroup(scores), regroup(fmt)


def decoding(spec: EvalSpec) -> tuple[int, float, float]:
    """(n, temperature, top_p) that generation really uses: greedy decoding is one completion at
    temperature 0 with the whole distribution (n greedy completions would all be the same)."""
    if spec.greedy:
        return 1, 0.0, 1.0
    return spec.n, spec.temperature, spec.top_p


def evaluate(checkpoint: Checkpoint, generator: Generator, sets: dict[str, list[Sample]], reward: CombinedReward,
             evaluators: Sequence[LoadedEvaluator], *, spec: EvalSpec, template: str | None, max_tokens: int,
             settings: EvalSettings = EvalSettings(),
             progress: Callable[[str, int], None] | None = None,
             image_bounds: ImageBounds | None = None,
             on_answers: Callable[[int, int], None] | None = None) -> EvalOutcome:
    """Generate, grade and score ``sets`` (name -> samples); returns merged metrics and the records.

    ``image_bounds``: the pixel bounds the evaluated phase trains with (``run_eval`` takes the phase's).
    ``on_answers(done, total)``: prompts answered so far, after every generate call (a sample with facts
    is answered twice when an evaluator needs them: from the image and from the facts).
    """
    started = time.perf_counter()
    n, temperature, top_p = decoding(spec)
    system = spec.system
    wants_facts = any("facts" in e.needs for e in evaluators)
    records: list[EvalRecord] = []
    total = sum(len(s) + (sum(1 for x in s if x.facts) if wants_facts else 0) for s in sets.values())
    done = 0

    def answered(k: int) -> None:
        nonlocal done
        done += k
        if on_answers is not None:
            on_answers(done, total)

    for name, samples in sets.items():
        groups = _generate(generator, checkpoint, samples, n=n, temperature=temperature, top_p=top_p,
                           max_tokens=max_tokens, template=template, system=system, use_facts=False,
                           batch=settings.batch, image_bounds=image_bounds, answered=answered)
        scores, fmt = _grade(reward, samples, groups, template, max_tokens, settings)
        recs = [EvalRecord(s, name, g, [v is not None and v >= settings.threshold for v in sc], sc, f)
                for s, g, sc, f in zip(samples, groups, scores, fmt)]
        with_facts = [r for r in recs if r.sample.facts]
        if wants_facts and with_facts:
            fsamples = [r.sample for r in with_facts]
            fgroups = _generate(generator, checkpoint, fsamples, n=1, temperature=0.0, top_p=1.0,
                                max_tokens=max_tokens, template=template, system=system, use_facts=True,
                                batch=settings.batch, answered=answered)
            fscores, _ = _grade(reward, fsamples, fgroups, template, max_tokens, settings)
            for r, g, sc in zip(with_facts, fgroups, fscores):
                r.facts_completion = g[0]
                r.facts_correct = sc[0] is not None and sc[0] >= settings.threshold
        records.extend(recs)
        if progress:
            progress(name, len(samples))
    metrics: dict[str, float] = {}
    owner: dict[str, str] = {}
    for ev in evaluators:
        try:
            got = ev.fn(records)
        except SeethinkError:
            raise
        except Exception as e:
            raise PluginError(f"evaluator '{ev.name}' failed: {type(e).__name__}: {e}") from None
        for key, value in got.items():
            if key in owner:
                raise PluginError(f"evaluators '{owner[key]}' and '{ev.name}' both report metric '{key}'")
            owner[key] = ev.name
            metrics[key] = float(value)
    return EvalOutcome(metrics, records, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# What the runner and the CLI call


def eval_seed(plan: TrainingPlan | None) -> int:
    return (plan.seed if plan is not None else 0) + EVAL_SEED_OFFSET


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
    from seethink_core.run.rewarding import build_reward

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
