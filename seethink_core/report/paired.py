"""Paired comparisons over seeds: is curriculum A better than curriculum B, seed for seed?

Two curricula run on the same seeds share their warm-up and their data order up to the point
where they differ, so their results are paired: the difference per seed removes what the seed
decides for both. Mean ± std per curriculum hides that (the seed spread of a staged run is often
larger than the difference sought). For each pair this gives the mean difference, a bootstrap
interval of it, and a two-sided sign-flip permutation test (exact up to 16 seeds: every one of
the 2**n sign patterns), which assumes nothing about the shape of the differences. Standard
library only, seeded, so the same runs give the same numbers.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

BOOTSTRAP_RESAMPLES = 10_000
EXACT_UP_TO = 16  # seeds: 2**16 sign patterns is still instant
MONTE_CARLO_PATTERNS = 100_000


@dataclass(frozen=True)
class Paired:
    """``a`` minus ``b`` over the seeds both have."""

    n: int
    mean: float  # mean difference
    std: float  # std of the differences (not of either curriculum)
    low: float  # bootstrap interval of the mean difference
    high: float
    p: float  # two-sided sign-flip permutation p-value
    wins: int  # seeds where a > b
    losses: int
    ties: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_interval(diffs: Sequence[float], *, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``diffs``."""
    if not diffs:
        return math.nan, math.nan
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(statistics.fmean(rng.choices(diffs, k=n)) for _ in range(resamples))
    tail = (1.0 - level) / 2.0
    return means[int(tail * (resamples - 1))], means[int(math.ceil((1.0 - tail) * (resamples - 1)))]


def sign_flip_p(diffs: Sequence[float], *, seed: int = 0) -> float:
    """Two-sided p-value of "the mean difference is 0": the share of sign patterns whose |mean| is at
    least the observed one. Exact up to ``EXACT_UP_TO`` differences, Monte Carlo beyond."""
    n = len(diffs)
    if n == 0:
        return math.nan
    observed = abs(sum(diffs)) - 1e-12  # ties with the observed sum count as "at least as extreme"
    if n <= EXACT_UP_TO:
        hits = sum(1 for signs in itertools.product((1, -1), repeat=n)
                   if abs(sum(s * d for s, d in zip(signs, diffs))) >= observed)
        return hits / 2 ** n
    rng = random.Random(seed)
    hits = sum(1 for _ in range(MONTE_CARLO_PATTERNS)
               if abs(sum(d if rng.random() < 0.5 else -d for d in diffs)) >= observed)
    return (hits + 1) / (MONTE_CARLO_PATTERNS + 1)


def paired(a: Mapping[int, float], b: Mapping[int, float]) -> Paired | None:
    """``a`` minus ``b`` over the seeds both have (None when they share none)."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs = [a[s] - b[s] for s in seeds]
    low, high = bootstrap_interval(diffs)
    return Paired(n=len(diffs), mean=statistics.fmean(diffs),
                  std=statistics.stdev(diffs) if len(diffs) > 1 else 0.0, low=low, high=high,
                  p=sign_flip_p(diffs), wins=sum(d > 0 for d in diffs), losses=sum(d < 0 for d in diffs),
                  ties=sum(d == 0 for d in diffs))


def fmt_paired(c: Paired | None, digits: int = 3) -> str:
    """``+0.120 [+0.010, +0.230] p=0.04 (7/2/1)``: mean difference, interval, p, wins/losses/ties."""
    if c is None:
        return "–"
    return (f"{c.mean:+.{digits}f} [{c.low:+.{digits}f}, {c.high:+.{digits}f}] p={c.p:.2f} "
            f"({c.wins}/{c.losses}/{c.ties})")
