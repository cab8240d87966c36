"""The ``iou`` reward: a predicted box ``[x1, y1, x2, y2]`` against the gold box."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from seethink_rewards.base import Reward
from seethink_rewards.schemas import IouOptions
from seethink_rewards.text import extract_answer

Box = tuple[float, float, float, float]
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_BOX = re.compile(rf"[\[(]\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*[\])]")


def parse_box(value: Any) -> Box | None:
    """The last ``[x1, y1, x2, y2]`` in a string, or a 4-number list; ``None`` if none or degenerate."""
    if isinstance(value, (list, tuple)) and len(value) == 4:
        try:
            box = tuple(float(v) for v in value)
        except (TypeError, ValueError):
            return None
    elif isinstance(value, str):
        found = _BOX.findall(value)
        if not found:
            return None
        box = tuple(float(v) for v in found[-1])
    else:
        return None
    x1, y1, x2, y2 = box
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Iou(Reward):
    """Threshold mode: 1.0 when IoU ≥ threshold, else 0.0. Continuous mode: the IoU itself.
    ``None`` when the gold answer is not a box."""

    options: IouOptions
    name: ClassVar[str] = "iou"

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 **_: Any) -> list[float | None]:
        out: list[float | None] = []
        for text, gold in zip(completions, answer, strict=True):
            want = parse_box(gold)
            if want is None:
                out.append(None)
                continue
            given = extract_answer(text, self.options.extract)
            got = parse_box(given) if given is not None else None
            score = iou(got, want) if got is not None else 0.0
            if self.options.mode == "threshold":
                score = 1.0 if score >= self.options.threshold else 0.0
            out.append(score)
        return out
