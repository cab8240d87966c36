"""DAPO dynamic sampling (online filtering): train only on groups whose rewards differ.

A group whose completions all earn the same reward has zero group-normalised advantage: it adds
nothing to the policy gradient, only dilutes the batch. Such groups are dropped and more prompts
are drawn until the batch is full again. "The same" is judged by the group's reward *variance*
(≤ ``SPREAD_EPS``), not by an all-0 / all-1 mean, so graded (non-binary) rewards are filtered too.
OpenRLHF's ``--algo.dynamic_filtering_*`` filters by the group mean instead (see docs/resume.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

from seethink_core.types.sample import Sample

SPREAD_EPS = 1e-12  # a group with reward variance at most this has no spread
EXTRA_DRAWS_FACTOR = 3  # at most this many batches' worth of extra prompts per rollout

T = TypeVar("T")


def groups_with_spread(rewards: Sequence[float], group: int) -> list[bool]:
    """One flag per group of ``group`` consecutive rewards: True when they are not all equal."""
    grouped = torch.tensor(list(rewards), dtype=torch.float64).view(-1, group)
    return (grouped.var(dim=1, unbiased=False) > SPREAD_EPS).tolist()


@dataclass
class Filled(Generic[T]):
    """The scored parts that make up a filtered batch, and which prompts of each part are kept."""

    parts: list[T]
    keep: list[list[int]]  # per part: indices of its kept prompts, in order
    drawn: int  # prompts scored in all (first batch + extra)
    kept: int  # prompts with spread among them (before trimming to the batch size)
    extra: int  # prompts drawn beyond the first batch

    @property
    def size(self) -> int:
        return sum(len(k) for k in self.keep)

    def metrics(self, wanted: int) -> dict[str, float]:
        return {"dynamic_sampling.kept_fraction": self.kept / max(1, self.drawn),
                "dynamic_sampling.extra_prompts": float(self.extra),
                "dynamic_sampling.batch_fill": self.size / max(1, wanted)}


def fill_batch(first: T, wanted: int, group: int, rewards_of: Callable[[T], Sequence[float]],
               draw: Callable[[int], list[Sample]], score: Callable[[list[Sample]], T]) -> Filled[T]:
    """Keep the groups of ``first`` with spread; draw and score more prompts until ``wanted`` are kept.

    Extra draws stop after ``EXTRA_DRAWS_FACTOR * wanted`` prompts (or when the data runs out); the
    batch is then trained as it is, smaller. Kept prompts beyond ``wanted`` are not used.
    """
    cap = EXTRA_DRAWS_FACTOR * wanted
    parts, keep = [first], []
    drawn = extra = kept = 0
    part: T | None = first
    while part is not None:
        flags = groups_with_spread(rewards_of(part), group)
        drawn += len(flags)
        room = wanted - sum(len(k) for k in keep)
        idx = [i for i, ok in enumerate(flags) if ok]
        kept += len(idx)
        keep.append(idx[:max(0, room)])
        missing = wanted - sum(len(k) for k in keep)
        part = None
        if missing > 0 and extra < cap:
            samples = draw(min(missing, cap - extra))
            if samples:
                extra += len(samples)
                part = score(samples)
                parts.append(part)
    return Filled(parts, keep, drawn, kept, extra)
