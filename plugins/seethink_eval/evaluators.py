"""The built-in evaluators: each turns eval records into a few named metrics.

Metric names are dotted and flat so they fit ``metrics.jsonl`` and TensorBoard:
``accuracy``, ``accuracy.capability.<c>``, ``accuracy.set.<s>``, ``pass@<k>``, ``mean@<n>``,
``format_rate``, ``length.mean``, ``length.median``, ``length.capability.<c>``, ``split.*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seethink_core.run.eval_types import EvalRecord
from seethink_core.types.options import NoOptions
from seethink_eval import metrics as m


@dataclass(frozen=True)
class Accuracy:
    """Mean correctness over every completion, overall, per capability and per eval set."""

    options: NoOptions = NoOptions()

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        if not records:
            return {}
        out = {"accuracy": m.mean(m.sample_accuracy(r) for r in records), "samples": float(len(records))}
        for key, label in (("capability", "capability"), ("set", "set")):
            for name, recs in m.grouped(records, key).items():
                out[f"accuracy.{label}.{name}"] = m.mean(m.sample_accuracy(r) for r in recs)
                out[f"samples.{label}.{name}"] = float(len(recs))
        return out


@dataclass(frozen=True)
class PassAtK:
    """pass@k (unbiased estimator) and mean@n when each sample has n > 1 completions."""

    options: NoOptions = NoOptions()

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        n = min((len(r.completions) for r in records), default=0)
        if n < 2:
            return {}
        out = {}
        for k in m.k_values(n):
            out[f"pass@{k}"] = m.mean(m.pass_at_k(n, sum(r.correct[:n]), k) for r in records)
        out[f"mean@{n}"] = m.mean(m.mean(1.0 if c else 0.0 for c in r.correct[:n]) for r in records)
        return out


@dataclass(frozen=True)
class FormatRate:
    """The share of completions whose ``format`` reward is at least 0.5 (absent without that reward)."""

    options: NoOptions = NoOptions()

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        values = [v for r in records for v in r.format if v is not None]
        return {"format_rate": m.mean(1.0 if v >= 0.5 else 0.0 for v in values)} if values else {}


@dataclass(frozen=True)
class Length:
    """Response length in tokens (the reference's trace-length claim): mean, median, max, per capability."""

    options: NoOptions = NoOptions()

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        out = {f"length.{k}": v for k, v in m.length_stats([c.tokens for r in records for c in r.completions]).items()}
        for name, recs in m.grouped(records, "capability").items():
            stats = m.length_stats([c.tokens for r in recs for c in r.completions])
            if stats:
                out[f"length.capability.{name}"] = stats["mean"]
        return out


@dataclass(frozen=True)
class PerceptionSplit:
    """Perception vs reasoning errors: needs samples with gold ``facts`` (a second, text-only pass)."""

    options: NoOptions = NoOptions()

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        out = m.error_split(records)
        for name, recs in m.grouped(records, "capability").items():
            split = m.error_split(recs)
            if "split.perception_share" in split:
                out[f"split.perception_share.{name}"] = split["split.perception_share"]
            # Per capability, so that "reasoning from the facts beats reasoning from the picture" can be
            # read for visual reasoning alone (the premise check of docs/results.md).
            for key in ("split.image_accuracy", "split.facts_accuracy"):
                if key in split:
                    out[f"{key}.{name}"] = split[key]
        return out
