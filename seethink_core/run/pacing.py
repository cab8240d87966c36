"""The arithmetic of a stream's epoch: how many places each source gets, and how much of the
difficulty range pacing admits at a step (rules 2 and 4 of ``run.stream``)."""

from __future__ import annotations

import math

from seethink_core.types.plan import Difficulty, Pacing


def admitted_share(pacing: Pacing | None, step: int, total_steps: int | None) -> float:
    """The fraction of the difficulty range admitted at ``step`` (1.0 = everything)."""
    if pacing is None or not total_steps:
        return 1.0
    progress = min(1.0, max(0.0, step / max(1e-9, pacing.full_at * total_steps)))
    if pacing.kind == "linear":
        grown = progress
    elif pacing.kind == "root":
        grown = math.sqrt(progress)
    else:  # "step": `stages` equal jumps, the last one at full_at
        grown = math.floor(progress * pacing.stages + 1e-9) / pacing.stages
    return min(1.0, pacing.start + (1.0 - pacing.start) * grown)


def admitted_range(difficulty: Difficulty, step: int, total_steps: int | None) -> tuple[float, float]:
    """The difficulty interval pacing admits at ``step``, inside the phase's ``[min, max]``."""
    share = admitted_share(difficulty.pacing, step, total_steps)
    width = (difficulty.max - difficulty.min) * share
    if difficulty.order == "hard_to_easy":
        return difficulty.max - width, difficulty.max
    return difficulty.min, difficulty.min + width


def mixture_quotas(sizes: list[int], weights: list[float]) -> list[int]:
    total = sum(n for n, w in zip(sizes, weights, strict=True) if w > 0)  # weight 0 = left out
    mass = [w * n for w, n in zip(weights, sizes, strict=True)]
    if total == 0 or sum(mass) <= 0:
        return [0] * len(sizes)
    exact = [total * m / sum(mass) for m in mass]
    quotas = [math.floor(x) for x in exact]
    # Largest remainders get the places rounding left over, lowest index first on ties.
    for j in sorted(range(len(exact)), key=lambda j: (quotas[j] - exact[j], j))[: total - sum(quotas)]:
        quotas[j] += 1
    return quotas


def epoch_length(sizes: list[int], weights: list[float]) -> int:
    return sum(mixture_quotas(sizes, weights))
