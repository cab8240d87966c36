"""A batch as the rewards see it: parts of it, each with its identical rows found and its columns read.

Identical rows: a reward may declare ``deterministic = True`` (an attribute, like ``risky``): its
score of a sample depends on that sample's inputs alone, with no state kept between calls and no
randomness. Rows with the same prompt, completion and token count and the same ``Sample`` object
are then graded once, and every copy gets that score (or that failure: each copy counts as a failed
sample, as it would have without the merge). Nothing is merged for a reward that does not declare
it: a third-party reward may count its calls, sample, or depend on the order it is called in.

Parts: through the workers, a batch goes as consecutive stretches, cut only where one ``Sample``
object gives way to another. Identical rows share their ``Sample``, and a trainer hands a prompt's
group together, so a group is never cut and no identical rows fall into two parts (should a
``Sample`` come back later in the batch, its rows there are graded again: the same scores). The
first parts are small: a worker starts grading once they are prepared, while the caller prepares
the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from seethink_core.collector import collector_paused
from seethink_core.hooks.backend import RewardBatch, RewardFailure
from seethink_core.run.rewards.scores import Component, _Columns, _deterministic, _Tally
from seethink_core.types.sample import Sample

FIRST_PART = 256  # rows of each worker's first part: it starts grading after this much bookkeeping
PART = 1024  # rows of the parts after it


@dataclass(frozen=True)
class _Duplicates:
    """Positions of a batch whose inputs are identical: the same prompt, completion and token count, and
    the same ``Sample`` object. A reward that declares ``deterministic = True`` grades each distinct row
    once. The batch is reordered so that the distinct rows come first (``order``: new position -> old);
    such a reward is called on the first ``unique`` rows, and sample ``i`` gets the score of new position
    ``source[i]``. Other rewards are called on every row, as before."""

    order: list[int]
    unique: int
    source: list[int]

    @classmethod
    def find(cls, prompts: Sequence[Any], completions: Sequence[Any], tokens: Sequence[Any] | None,
             rows: Sequence[int]) -> _Duplicates | None:
        """``None`` when every row is distinct (or a value cannot be hashed: then nothing is merged)."""
        first: dict[tuple, int] = {}
        firsts: list[int] = []
        repeats: list[int] = []
        source: list[int] = []
        try:
            for i, key in enumerate(zip(prompts, completions, tokens or [None] * len(rows), rows, strict=True)):
                j = first.setdefault(key, len(firsts))
                (firsts if j == len(firsts) else repeats).append(i)
                source.append(j)
        except TypeError:
            return None
        if not repeats:
            return None
        return cls(firsts + repeats, len(firsts), source)

    def put_back(self, values: list[float | None], failed: list[int], deterministic: bool
                 ) -> tuple[list[float | None], list[int]]:
        """One component's scores and failed positions, from the new order back to the caller's."""
        if deterministic:  # every copy of a row gets its score, and fails with it
            bad = set(failed)
            return [values[j] for j in self.source], [i for i, j in enumerate(self.source) if j in bad] if bad else []
        out: list[float | None] = [None] * len(values)
        for j, i in enumerate(self.order):
            out[i] = values[j]
        return out, [self.order[j] for j in failed]




@dataclass
class _Part:
    """Rows ``lo:lo + n`` of the caller's batch, distinct rows first when a reward is deterministic."""

    lo: int
    n: int
    prompts: list[str]
    completions: list[str]
    cols: _Columns
    extra: dict[str, Any]
    ends: list[int]  # component r grades rows 0:ends[r] (a deterministic one only the distinct rows)
    same: _Duplicates | None
    tally: _Tally

    @classmethod
    def of(cls, components: Sequence[Component], lo: int, prompts: Sequence[str], completions: Sequence[str],
           samples: Sequence[Sample], tokens: Sequence[int] | None, max_response_tokens: int | None) -> _Part:
        """Rows ``lo:lo + len(completions)``. Their bookkeeping makes thousands of small containers that
        die with the call: with the collector paused, they do not set off passes over the caller's heap
        (a trainer's, torch and all)."""
        with collector_paused():
            n = len(completions)
            extra = {"completion_tokens": list(tokens) if tokens is not None else None,
                     "max_response_tokens": max_response_tokens}
            prompts, completions, cols = list(prompts), list(completions), _Columns.of(samples)
            same = None
            if any(_deterministic(c.fn) for c in components):
                same = _Duplicates.find(prompts, completions, extra["completion_tokens"], cols.rows)
            if same is not None:  # distinct rows first; a deterministic reward grades only those
                prompts, completions = [prompts[i] for i in same.order], [completions[i] for i in same.order]
                cols = cols.reordered(same.order)
                if extra["completion_tokens"] is not None:
                    extra["completion_tokens"] = [extra["completion_tokens"][i] for i in same.order]
            ends = [same.unique if same is not None and _deterministic(c.fn) else n for c in components]
            return cls(lo, n, prompts, completions, cols, extra, ends, same, _Tally.empty(len(components), n))


def cuts(samples: Sequence[Sample], firsts: int) -> list[tuple[int, int]]:
    """The parts' bounds: ``firsts`` parts of about ``FIRST_PART`` rows, then of about ``PART``, each
    ending where one ``Sample`` object gives way to another (or at the batch's end)."""
    n = len(samples)
    out: list[tuple[int, int]] = []
    lo = 0
    while lo < n:
        hi = min(n, lo + (FIRST_PART if len(out) < firsts else PART))
        while hi < n and samples[hi] is samples[hi - 1]:
            hi += 1
        out.append((lo, hi))
        lo = hi
    return out


def prepared(components: Sequence[Component], prompts: Sequence[str], completions: Sequence[str],
             samples: Sequence[Sample], tokens: Sequence[int] | None, max_response_tokens: int | None,
             bounds: list[tuple[int, int]], into: list[_Part]) -> Iterator[_Part]:
    """The parts one by one, each made when it is asked for (and kept in ``into``)."""
    for lo, hi in bounds:
        part = _Part.of(components, lo, prompts[lo:hi], completions[lo:hi], samples[lo:hi],
                        tokens[lo:hi] if tokens is not None else None, max_response_tokens)
        into.append(part)
        yield part


def combined(components: Sequence[Component], parts: Sequence[_Part], n: int) -> RewardBatch:
    """The parts' scores back in the caller's order, weighed and summed."""
    with collector_paused():
        values: list[list[float | None]] = [[None] * n for _ in components]
        failed: list[list[int]] = [[] for _ in components]
        errors: dict[str, RewardFailure] = {}
        for part in parts:
            for r, c in enumerate(components):
                vals, bad = part.tally.values[r], part.tally.failed[r]
                if part.same is not None:
                    vals, bad = part.same.put_back(vals, bad, _deterministic(c.fn))
                values[r][part.lo:part.lo + part.n] = vals
                failed[r].extend(part.lo + i for i in bad)
            for name, failure in part.tally.errors.items():
                errors.setdefault(name, failure)  # the first in batch order
        total = [0.0] * n
        for c, vals in zip(components, values, strict=True):
            for i, v in enumerate(vals):
                if v is not None:
                    total[i] += c.weight * v
        scores = {c.name: vals for c, vals in zip(components, values, strict=True)}
        fails = {c.name: sorted(f) for c, f in zip(components, failed, strict=True) if f}
        return RewardBatch(total=total, components=scores, failures={k: len(v) for k, v in fails.items()},
                           failed=fails, errors=errors)
