"""The perception benchmarks' scoring rules: multiple choice (MMStar, A-OKVQA, RealWorldQA) and POPE.

- Multiple choice (VLMEvalKit ``ImageMCQDataset`` with exact matching): the option letter the
  response names (``seethink_eval.extraction.choice_letter``) against the gold letter. RealWorldQA
  also has open questions (a number, "Downhill"): the answer, lower case and without a final full
  stop, against the gold (lmms-eval ``realworldqa``).
- POPE (VLMEvalKit ``POPE_rating``): yes or no per response; per split (adversarial, popular,
  random) and over all rows: accuracy, and precision, recall and F1 with "yes" as the positive
  class; an answer that is neither counts as wrong, and as "no" for F1. The yes ratio is lmms-eval's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from seethink_core.types.sample import Sample
from seethink_eval.extraction import LETTERS, Extraction
from seethink_eval.scoring_math import Scored


def _is_letter(gold: str, choices: Sequence[str]) -> bool:
    return len(gold) == 1 and gold in LETTERS and (not choices or LETTERS.index(gold) < len(choices))


def score_choice(sample: Sample, response: str, ex: Extraction) -> Scored:
    gold = str(sample.answer or "").strip()
    choices = [str(c) for c in sample.meta.get("choices") or []]
    if _is_letter(gold.upper(), choices):
        letter = ex.letter(sample.prompt, response, choices)
        return Scored(letter == gold.upper(), letter)
    text = ex.answer(sample.prompt, response).strip().lower().rstrip(".").strip()
    return Scored(text == gold.lower(), text)


def score_pope(sample: Sample, response: str, ex: Extraction) -> Scored:
    said = ex.yes_no(sample.prompt, response)
    return Scored(said is not None and said == str(sample.answer or "").strip().lower(), said)


@dataclass(frozen=True)
class PopeRow:
    split: str
    gold: str  # "yes" / "no"
    said: str | None  # "yes", "no", or None (neither)


def _rates(rows: Sequence[PopeRow]) -> dict[str, float]:
    tp = sum(r.gold == "yes" and r.said == "yes" for r in rows)
    fp = sum(r.gold != "yes" and r.said == "yes" for r in rows)
    fn = sum(r.gold == "yes" and r.said != "yes" for r in rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": sum(r.said == r.gold for r in rows) / len(rows), "precision": precision,
            "recall": recall, "f1": f1, "yes_ratio": sum(r.said == "yes" for r in rows) / len(rows),
            "unknown": float(sum(r.said is None for r in rows)), "samples": float(len(rows))}


def pope_metrics(rows: Sequence[PopeRow]) -> dict[str, float]:
    """``<metric>`` over all rows and ``<split>.<metric>`` per split; a row of several splits (VLMEvalKit
    splits ``"adversarial,popular"``) counts in each."""
    if not rows:
        return {}
    out = _rates(rows)
    by_split: dict[str, list[PopeRow]] = {}
    for r in rows:
        for split in (s.strip() for s in re.split(r",", r.split or "")):
            if split:
                by_split.setdefault(split, []).append(r)
    for split, group in sorted(by_split.items()):
        out.update({f"{split}.{k}": v for k, v in _rates(group).items()})
    return out
