"""Pure metric functions over eval records (no I/O, no torch): accuracy, pass@k, lengths, the split."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from math import comb

from seethink_core.run.eval_types import EvalRecord


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator (Chen et al., 2021): 1 - C(n-c, k) / C(n, k).

    The chance that at least one of ``k`` completions drawn without replacement from ``n``,
    of which ``c`` are correct, is correct.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def k_values(n: int) -> list[int]:
    """The k reported for n completions: 1, the powers of two below n, and n."""
    ks = {1, n}
    k = 2
    while k < n:
        ks.add(k)
        k *= 2
    return sorted(ks)


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def sample_accuracy(record: EvalRecord) -> float:
    """The share of a sample's completions that are correct (mean@n for that sample)."""
    return mean(1.0 if c else 0.0 for c in record.correct)


def grouped(records: Sequence[EvalRecord], key: str) -> dict[str, list[EvalRecord]]:
    out: dict[str, list[EvalRecord]] = {}
    for r in records:
        name = r.capability if key == "capability" else r.set_name
        out.setdefault(name, []).append(r)
    return dict(sorted(out.items()))


def length_stats(lengths: Sequence[int]) -> dict[str, float]:
    if not lengths:
        return {}
    return {"mean": float(mean(lengths)), "median": float(statistics.median(lengths)),
            "max": float(max(lengths))}


def error_split(records: Sequence[EvalRecord]) -> dict[str, float]:
    """Perception vs reasoning errors over the records that had a facts pass.

    Wrong from the image but right from the facts = a perception error; wrong from both = a
    reasoning error. Shares are of the errors from the image; they are left out when there are none.
    """
    judged = [r for r in records if r.facts_correct is not None and r.completions]
    if not judged:
        return {}
    kinds = [r.error_kind() for r in judged]
    perception = kinds.count("perception")
    reasoning = kinds.count("reasoning")
    errors = perception + reasoning
    out = {
        "split.samples": float(len(judged)),
        "split.errors": float(errors),
        "split.perception_errors": float(perception),
        "split.reasoning_errors": float(reasoning),
        "split.image_accuracy": mean(1.0 if r.correct[0] else 0.0 for r in judged),
        "split.facts_accuracy": mean(1.0 if r.facts_correct else 0.0 for r in judged),
    }
    if errors:
        out["split.perception_share"] = perception / errors
        out["split.reasoning_share"] = reasoning / errors
    return out
