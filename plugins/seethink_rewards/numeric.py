"""Numbers in answers (``1,234``, ``-3.5e2``, ``\\frac{1}{2}``, ``3/4``, ``50\\%``) and the ``numeric`` reward."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from seethink_rewards.base import Reward
from seethink_rewards.schemas import NumericOptions, ToleranceMode
from seethink_rewards.text import extract_answer, strip_tag_spaces, unwrap

_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?"
_PLAIN = re.compile(rf"^{_NUM}$")
_FRAC = re.compile(r"^([-+]?)\\[dt]?frac\{\s*([-+]?\d+(?:\.\d+)?)\s*\}\{\s*([-+]?\d+(?:\.\d+)?)\s*\}$")
_SLASH = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*/\s*([-+]?\d+(?:\.\d+)?)$")
_ANY_NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def parse_number(text: str) -> float | None:
    """The value of an answer that *is* a number (nothing else around it but ``$``, ``\\%``, ``\\text``)."""
    s = unwrap(text).replace("\\!", "").replace("\\,", "").replace(" ", "")
    s = re.sub(r"\\?%$", "", s)
    s = re.sub(r"\^\{?\\circ\}?$|°$", "", s)
    if not s or s in "+-.":
        return None
    if _PLAIN.match(s) and any(ch.isdigit() for ch in s):
        try:
            return float(s.replace(",", ""))
        except ValueError:
            return None
    m = _FRAC.match(s)
    if m:
        num, den = float(m.group(2)), float(m.group(3))
        return None if den == 0 else (-1 if m.group(1) == "-" else 1) * num / den
    m = _SLASH.match(s)
    if m:
        den = float(m.group(2))
        return None if den == 0 else float(m.group(1)) / den
    return None


def find_number(text: str) -> float | None:
    """``parse_number``, else the last number written anywhere in the text (``x = 5 cm`` → 5)."""
    value = parse_number(text)
    if value is not None:
        return value
    found = _ANY_NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def close(a: float, b: float, tolerance: float, mode: ToleranceMode) -> bool:
    if mode == "absolute":
        return abs(a - b) <= tolerance + 1e-12
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-12)


@dataclass
class Numeric(Reward):
    """1.0 when the answer's number is within tolerance of the gold number, 0.0 otherwise;
    ``None`` when the gold answer is not a number."""

    options: NumericOptions
    name: ClassVar[str] = "numeric"

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 **_: Any) -> list[float | None]:
        out: list[float | None] = []
        for text, gold in zip(completions, answer, strict=True):
            want = gold if isinstance(gold, (int, float)) and not isinstance(gold, bool) else (
                parse_number(str(gold)) if gold is not None else None)
            if want is None:
                out.append(None)
                continue
            if self.options.strip_tag_spaces:
                text = strip_tag_spaces(text)
            given = extract_answer(text, self.options.extract)
            got = find_number(given) if given is not None else None
            ok = got is not None and close(got, float(want), self.options.tolerance, self.options.tolerance_mode)
            out.append(1.0 if ok else 0.0)
        return out
