"""Comparing math answers without ``eval``: numbers (fractions, simple LaTeX, units), and edit distance.

MathVision's official ``is_equal`` compares lower-cased strings, then ``eval``s both sides and
accepts a difference under 1e-6, then tries ``latex2sympy``. Evaluating model output is not safe,
so here a number is parsed by rules: ``3``, ``-2.5``, ``1,000``, ``3/4``, ``\\frac{3}{4}``,
``2\\sqrt{3}``, ``45^\\circ``, ``12 cm``, ``50%``; anything else is compared as text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

TOLERANCE = 1e-6
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_FRAC = re.compile(rf"^\\[dt]?frac\{{({_NUM})\}}\{{({_NUM})\}}$")
_SLASH = re.compile(rf"^({_NUM})\s*/\s*({_NUM})$")
_SQRT = re.compile(rf"^({_NUM})?\s*\\?sqrt\{{?({_NUM})\}}?$")
_PLAIN = re.compile(rf"^{_NUM}$")
# A unit after the number: letters, a degree sign, "^\circ", a percent sign.
_UNIT = re.compile(r"\s*(?:\^\s*\{?\\circ\}?|°|\\%|%|\\,?[a-zA-Z]+(?:\^\{?\d\}?)?|\s[a-zA-Z]+.*)$")


def _clean(text: str) -> str:
    t = text.strip().strip("$").strip()
    t = t.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\ ", " ")
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # 1,000 -> 1000
    t = re.sub(r"^\\?\$", "", t)  # a leading currency sign
    t = re.sub(r"^[a-zA-Z]\s*=\s*", "", t)  # "x = 3"
    return t.strip().rstrip(".").strip()


def to_number(text: str) -> float | None:
    """The number ``text`` states, or None when it is not (only) a number."""
    t = _clean(str(text))
    for _ in range(2):  # "12 cm", "45^\circ": drop one trailing unit, then try again
        got = _number(t)
        if got is not None:
            return got
        stripped = _UNIT.sub("", t).strip()
        if stripped == t or not stripped:
            break
        t = stripped
    return None


def _number(t: str) -> float | None:
    if _PLAIN.match(t):
        return float(t)
    for pattern in (_FRAC, _SLASH):
        m = pattern.match(t)
        if m:
            den = float(m.group(2))
            return float(m.group(1)) / den if den else None
    m = _SQRT.match(t)
    if m:
        return (float(m.group(1)) if m.group(1) else 1.0) * math.sqrt(float(m.group(2)))
    return None


def normalise_text(text: str) -> str:
    """Lower case, no surrounding ``$`` or spaces, no spaces inside (``(2, 1)`` == ``(2,1)``)."""
    return re.sub(r"\s+", "", _clean(str(text)).lower())


def math_equal(pred: str | None, gold: str) -> bool:
    """MathVision's rule: the same text (lower case), or two numbers within 1e-6."""
    if pred is None:
        return False
    if str(pred).strip().lower() == str(gold).strip().lower():
        return True
    a, b = to_number(pred), to_number(gold)
    if a is not None and b is not None:
        return abs(a - b) < TOLERANCE
    return normalise_text(pred) == normalise_text(gold)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def most_similar(text: str, choices: Sequence[str]) -> str:
    """The choice nearest ``text`` by edit distance (the first of equals), as MathVista's scorer picks."""
    distances = [levenshtein(text, str(c)) for c in choices]
    return str(choices[distances.index(min(distances))])
