"""Difficulty from pass rates: k samples per item through a backend's ``generate``, graded by the
phase's rewards, cached on disk (docs/architecture.md §2: difficulty = 1 - pass rate, 1 = hardest).

An item-sample is *correct* when the grading component (``accuracy`` by default; see
``PassRateOptions.component``) is at least ``threshold``; a component that gives ``None`` (not
applicable, or the reward failed) counts as wrong. The pass rate is the mean over the k samples.
What the cache is keyed by: ``seethink_core.run.difficulty_cache``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from seethink_core.errors import BackendError, ConfigError, DataError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, Completion, checked_generate
from seethink_core.hooks.registry import Registry
from seethink_core.run.difficulty_cache import (
    CachedRate,
    DifficultyError,
    PassRateCache,
    default_cache_dir,
    folder_fingerprint,
    item_key,
    model_key,
    reward_fingerprint,
    settings_key,
)
from seethink_core.samples.images import ImageBounds
from seethink_core.samples.prompting import render_prompt
from seethink_core.types.options import validate
from seethink_core.types.plan import Difficulty, Phase, RewardRef, TrainingPlan
from seethink_core.types.sample import Sample
from seethink_core.types.settings import PassRateOptions

BATCH_ITEMS = 32  # items per generate() call: a crash loses at most one batch of estimates

Progress = Callable[[int, int], None]  # (items done, items in all)


def estimator_options(difficulty: Difficulty) -> PassRateOptions:
    """The phase's ``pass_rate(...)`` options, validated (a bad one is a ConfigError)."""
    options, problems = validate(PassRateOptions, dict(difficulty.estimator), what="difficulty pass_rate")
    if problems:
        raise ConfigError(problems)
    return options


@dataclass
class EstimateStats:
    """What one estimation did (filled in by ``estimate_pass_rates`` when given)."""

    items: int = 0
    cached: int = 0
    estimated: int = 0
    generator_calls: int = 0
    completions: int = 0
    seconds: float = 0.0
    graded_by: str = ""

    @property
    def items_per_second(self) -> float:
        return self.estimated / self.seconds if self.seconds > 0 else math.inf


# ------------------------------------------------------------------------------------------------
# Estimation


def grading_component(reward: Any, component: str = "auto") -> str:
    """The component name that decides correctness, or ``"total"``."""
    names = list(getattr(reward, "names", []))
    if component == "total":
        return "total"
    if component != "auto":
        if component not in names:
            raise ConfigError(f"difficulty pass_rate: component '{component}' is not a reward of this phase",
                              hint=f"its rewards: {', '.join(names) or 'none'}; or use 'total'")
        return component
    if "accuracy" in names:
        return "accuracy"
    for c in getattr(reward, "components", []):
        if "answer" in c.needs:
            return c.name
    return "total"


def estimate_pass_rates(samples: Sequence[Sample], generator: Any, model: Checkpoint, reward: Any, *,
                        samples_k: int, temperature: float, top_p: float, max_new_tokens: int,
                        prompt_template: str | None, correct_threshold: float = 0.5,
                        cache: PassRateCache | None = None, progress: Progress | None = None,
                        component: str = "auto", reward_spec: Sequence[RewardRef] | None = None,
                        batch_items: int = BATCH_ITEMS, registry: Registry | None = None,
                        stats: EstimateStats | None = None, model_id: str | None = None,
                        system_prompt: str | None = None, image_bounds: ImageBounds | None = None
                        ) -> dict[str, float]:
    """Sample id -> pass rate in [0, 1] (mean correctness of ``samples_k`` completions).

    Items found in ``cache`` cost nothing; the rest go through ``generator.generate`` in batches of
    ``batch_items`` items (``n=samples_k``), are graded by ``reward`` and stored batch by batch.
    A repeated id is estimated once (the first sample with it). ``model_id``: the model's cache key
    when the caller computed it already (``model_key``); ``stats`` accumulates over calls.
    ``system_prompt``: the phase's system prompt template, sent with every item (part of its cache key).
    ``image_bounds``: the phase's pixel bounds, so items are seen as the phase trains on them (part of
    the cache key when set).
    """
    if samples_k < 1:
        raise ConfigError(f"difficulty pass_rate: samples must be at least 1, not {samples_k}")
    if batch_items < 1:
        raise ConfigError(f"difficulty pass_rate: batch must be at least 1, not {batch_items}")
    stats = stats if stats is not None else EstimateStats()
    started = time.perf_counter()
    unique: dict[str, Sample] = {}
    for s in samples:
        unique.setdefault(s.id, s)
    items = list(unique.values())
    graded_by = grading_component(reward, component)
    stats.items += len(items)
    stats.graded_by = graded_by
    bounds = image_bounds if image_bounds is not None and image_bounds.active else None
    keys = {s.id: item_key(s, prompt_template, system_prompt, bounds) for s in items}
    rates: dict[str, float] = {}
    todo = items
    mkey = skey = ""
    if cache is not None:
        mkey = model_id or model_key(model, registry)
        skey = settings_key(reward, reward_spec=reward_spec, graded_by=graded_by, threshold=correct_threshold,
                            samples_k=samples_k, temperature=temperature, top_p=top_p,
                            max_new_tokens=max_new_tokens, prompt_template=prompt_template)
        hits = cache.get_many(mkey, skey, list(keys.values()))
        rates = {s.id: hits[keys[s.id]].pass_rate for s in items if keys[s.id] in hits}
        todo = [s for s in items if s.id not in rates]
    stats.cached += len(rates)
    if progress:
        progress(len(rates), len(items))
    if todo and not callable(getattr(generator, "generate", None)):
        raise DifficultyError(f"{type(generator).__name__} cannot generate completions, so pass rates "
                              "cannot be estimated with it")
    for start in range(0, len(todo), batch_items):
        chunk = todo[start:start + batch_items]
        completions = _generate(generator, model, chunk, samples_k=samples_k, temperature=temperature,
                                top_p=top_p, max_new_tokens=max_new_tokens, prompt_template=prompt_template,
                                system_prompt=system_prompt, image_bounds=bounds)
        stats.generator_calls += 1
        stats.completions += sum(len(c) for c in completions)
        correct = _grade(reward, chunk, completions, graded_by, correct_threshold, prompt_template,
                         max_new_tokens)
        for s, n_right in zip(chunk, correct, strict=True):
            rates[s.id] = n_right / samples_k
        if cache is not None:
            cache.put_many(mkey, skey, [(keys[s.id], n_right, samples_k)
                                        for s, n_right in zip(chunk, correct, strict=True)])
        stats.estimated += len(chunk)
        if progress:
            progress(len(rates), len(items))
    stats.seconds += time.perf_counter() - started
    return rates


def _generate(generator: Any, model: Checkpoint, chunk: list[Sample], *, samples_k: int, temperature: float,
              top_p: float, max_new_tokens: int, prompt_template: str | None,
              system_prompt: str | None = None, image_bounds: ImageBounds | None = None
              ) -> list[list[Completion]]:
    return checked_generate(generator, model, chunk, n=samples_k, temperature=temperature, top_p=top_p,
                            max_new_tokens=max_new_tokens, prompt_template=prompt_template, use_facts=False,
                            error=BackendError, what="completions to estimate pass rates",
                            system_prompt=system_prompt, image_bounds=image_bounds)


def _grade(reward: Any, chunk: list[Sample], completions: list[list[Completion]], graded_by: str,
           threshold: float, prompt_template: str | None, max_new_tokens: int) -> list[int]:
    """Correct completions per item."""
    prompts, texts, samples, tokens = [], [], [], []
    for s, group in zip(chunk, completions, strict=True):
        prompt = render_prompt(prompt_template, s)
        for c in group:
            prompts.append(prompt)
            texts.append(c.text)
            samples.append(s)
            tokens.append(int(c.tokens))
    batch = reward(prompts, texts, samples, completion_tokens=tokens, max_response_tokens=max_new_tokens)
    values = batch.total if graded_by == "total" else batch.components[graded_by]
    out, i = [], 0
    for group in completions:
        right = 0
        for _ in group:
            v = values[i]
            if v is not None and v >= threshold:
                right += 1
            i += 1
        out.append(right)
    return out


# ------------------------------------------------------------------------------------------------
# A phase


READ_CHUNK = 1024  # items read from the sources at a time: memory stays bounded on large data sets


def open_phase_sources(phase: Phase, registry: Registry) -> list[Any]:
    """The phase's sources, opened exactly as the runner's stream opens them (source k gets seed
    ``phase.seed + k``, so the sample ids match what the stream serves)."""
    from seethink_core.run.sources import open_source

    if not phase.data:
        raise DataError(f"phase '{phase.name}' has no data")
    return [open_source(ref, registry, seed=phase.seed + k) for k, ref in enumerate(phase.data)]


def iter_items(phase: Phase, sources: Sequence[Any]) -> Iterator[Sample]:
    for ref, source in zip(phase.data, sources, strict=True):
        try:
            yield from source
        except SeethinkError:
            raise
        except Exception as e:
            raise DataError(f"data source '{ref.source}' failed while reading: {type(e).__name__}: {e}") from None


def phase_items(phase: Phase, registry: Registry) -> list[Sample]:
    """Every sample of the phase's sources, before any difficulty filter."""
    return list(iter_items(phase, open_phase_sources(phase, registry)))


def estimation_model(phase: Phase, init: Checkpoint, options: PassRateOptions) -> Checkpoint:
    return Checkpoint(phase.model) if options.model == "base" else init


def difficulty_for_phase(plan: TrainingPlan, phase: Phase, init: Checkpoint, generator: Any, registry: Registry,
                         cache_dir: str | os.PathLike[str] | None, *, progress: Progress | None = None,
                         stats: EstimateStats | None = None, reward_timeout: float | None = 5.0,
                         samples: Sequence[Sample] | None = None, batch_items: int = BATCH_ITEMS) -> dict[str, float]:
    """Sample id -> difficulty (1 - pass rate) for every item of ``phase``'s sources.

    ``init``: the phase's starting checkpoint (used when the estimator says ``model: phase_init``).
    ``cache_dir``: where the cache lives (``None``: no cache). ``samples``: the items, when the
    caller has them already (default: read from the sources, ``READ_CHUNK`` at a time).
    """
    del plan  # the phase is fully resolved; the plan is taken for symmetry with the runner's calls
    options = estimator_options(phase.difficulty)
    if not phase.rewards:
        raise DifficultyError(f"phase '{phase.name}' has no rewards, so pass rates cannot be graded")
    if not callable(getattr(generator, "generate", None)):
        raise DifficultyError(f"phase '{phase.name}': the backend cannot generate completions, so pass rates "
                              "cannot be estimated with it", hint="use a backend with the 'generate' feature "
                              "(e.g. local), or a difficulty column")
    if samples is not None:
        items: Iterable[Sample] = samples
        total: int | None = len(samples)
    else:
        sources = open_phase_sources(phase, registry)
        sizes = [s.size() if callable(getattr(s, "size", None)) else None for s in sources]
        total = sum(sizes) if all(n is not None for n in sizes) else None  # type: ignore[misc]
        items = iter_items(phase, sources)
    from seethink_core.run.rewards.combine import build_reward

    model = estimation_model(phase, init, options)
    reward = build_reward(phase.rewards, registry, timeout=reward_timeout)
    cache = PassRateCache.in_dir(cache_dir) if cache_dir is not None else None
    rates: dict[str, float] = {}
    try:
        model_id = model_key(model, registry) if cache is not None else None
        for chunk in _chunks(items, READ_CHUNK):
            base = len(rates)

            def report(done: int, of: int, base: int = base) -> None:
                if progress:
                    progress(base + done, max(total or 0, base + of))

            fresh = [s for s in chunk if s.id not in rates]
            rates.update(estimate_pass_rates(
                fresh, generator, model, reward, samples_k=options.samples, temperature=options.temperature,
                top_p=options.top_p, max_new_tokens=options.max_tokens, prompt_template=phase.prompt,
                correct_threshold=options.threshold, cache=cache, progress=report, component=options.component,
                reward_spec=phase.rewards, batch_items=batch_items, registry=registry, stats=stats,
                model_id=model_id, system_prompt=phase.system, image_bounds=ImageBounds.of(phase.algorithm)))
    finally:
        reward.close()
        if cache is not None:
            cache.close()
    return {sid: round(1.0 - p, 12) for sid, p in rates.items()}  # 1 - 0.9 is 0.1, not 0.0999…


def _chunks(items: Iterable[Sample], size: int) -> Iterator[list[Sample]]:
    chunk: list[Sample] = []
    for s in items:
        chunk.append(s)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ------------------------------------------------------------------------------------------------
# Histogram


def histogram(values: Iterable[float], bins: int = 10) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1]; 1.0 falls in the last bin."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    counts = [0] * bins
    for v in values:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"difficulty {v} is outside [0, 1]")
        counts[min(int(v * bins + 1e-9), bins - 1)] += 1  # 0.3 * 10 is bin 3 despite rounding
    return counts


_EIGHTHS = " ▏▎▍▌▋▊▉█"


def render_histogram(counts: Sequence[int], width: int = 40, label: str = "difficulty") -> str:
    """One line per bin: its range, a bar of unicode blocks (eighth-cell resolution) and the count."""
    bins = len(counts)
    top = max(counts, default=0)
    lines = [f"{label:<11} items"]
    for i, n in enumerate(counts):
        cells = n / top * width if top else 0.0
        full, frac = int(cells), int(round((cells - int(cells)) * 8))
        if frac == 8:
            full, frac = full + 1, 0
        bar = "█" * full + (_EIGHTHS[frac] if frac else "")
        lo, hi = i / bins, (i + 1) / bins
        close = "]" if i == bins - 1 else ")"
        lines.append(f"[{lo:.2f}, {hi:.2f}{close} │{bar:<{width}}│ {n}")
    lines.append(f"{'':<14}total {sum(counts)}")
    return "\n".join(lines)


__all__ = [
    "CachedRate", "DifficultyError", "EstimateStats", "PassRateCache", "PassRateOptions", "default_cache_dir",
    "difficulty_for_phase", "estimate_pass_rates", "estimation_model", "estimator_options", "folder_fingerprint",
    "grading_component", "histogram", "item_key", "iter_items", "model_key", "open_phase_sources", "phase_items",
    "render_histogram", "reward_fingerprint", "settings_key",
]
