"""The ``count`` reward: "how many ...?" answers, in digits or number words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from seethink_rewards.base import Reward
from seethink_rewards.numeric import find_number
from seethink_rewards.schemas import CountOptions
from seethink_rewards.text import extract_answer, unwrap

_WORDS = {w: k for k, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


def parse_count(value: Any) -> int | None:
    """A whole, non-negative count from ``3``, ``"3"``, ``"three"``, ``"There are 3 circles."``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if not isinstance(value, str):
        return None
    text = unwrap(value)
    number = find_number(text)
    if number is not None:
        return int(number) if float(number).is_integer() and number >= 0 else None
    words = _WORD.findall(text)
    return _WORDS[words[-1].lower()] if words else None


@dataclass
class Count(Reward):
    """Exact mode: 1.0 for the right count, else 0.0. Relative mode: 1 - |given - gold| / max(gold, 1),
    at least 0. ``None`` when the gold answer is not a count."""

    options: CountOptions
    name: ClassVar[str] = "count"

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 **_: Any) -> list[float | None]:
        out: list[float | None] = []
        for text, gold in zip(completions, answer, strict=True):
            want = parse_count(gold)
            if want is None:
                out.append(None)
                continue
            given = extract_answer(text, self.options.extract)
            got = parse_count(given) if given is not None else None
            if got is None:
                out.append(0.0)
            elif self.options.mode == "exact":
                out.append(1.0 if got == want else 0.0)
            else:
                out.append(max(0.0, 1.0 - abs(got - want) / max(want, 1)))
        return out
