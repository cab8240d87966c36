"""One evaluation's work: generate completions for the eval sets, grade them with the rewards,
and hand the records to the evaluators (``evaluate``); ``run.evaluation`` sets it up and writes it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from seethink_core.errors import PluginError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, Completion, Generator, checked_generate
from seethink_core.run.eval_types import EvalError, EvalOutcome, EvalRecord, EvalSettings, LoadedEvaluator
from seethink_core.samples.images import ImageBounds
from seethink_core.samples.prompting import render_prompt
from seethink_core.types.plan import EvalSpec, Phase, TrainingPlan
from seethink_core.types.sample import Sample

if TYPE_CHECKING:  # rewards.combine starts worker processes; import it only when grading
    from seethink_core.run.rewards.combine import CombinedReward


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



def has_facts_pass(sample: Sample) -> bool:
    """A sample is answered a second time from its gold facts only when it has a picture to perceive: a
    text-only sample already states its facts, so every error it makes is a reasoning error, and asking
    it again with the facts prepended would only repeat them."""
    return bool(sample.facts and sample.images)


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
    total = sum(len(s) + (sum(1 for x in s if has_facts_pass(x)) if wants_facts else 0) for s in sets.values())
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
        with_facts = [r for r in recs if has_facts_pass(r.sample)]
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

