"""How a number's or a string's text becomes its value: one definition for both parsers (Lark's tree
builder and the fast reader), so the two read every literal alike."""

from __future__ import annotations

import math
import re
from typing import Iterable

MAX_LIST_DEPTH = 32

_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r'\\([\\"nt])')


def unescape(body: str) -> str:
    """``\\\\``, ``\\"``, ``\\n`` and ``\\t`` are escapes; any other backslash stays (LaTeX: ``\\boxed``)."""
    if "\\" not in body:
        return body
    # One regular-expression pass: a loop over the characters took a second per 200,000 of them.
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], body)


def string_value(tokens: Iterable[str]) -> str:
    """The value of adjacent string tokens (``"a" "b"``), quotes included in each token's text."""
    return "".join(unescape(t[1:-1]) for t in tokens)


def number_value(text: str) -> int | float | None:
    """A NUMBER token's value, or None when it is too large to be one (see ``number_too_large``)."""
    if "." in text or "e" in text or "E" in text:
        value = float(text)
        return value if math.isfinite(value) else None
    if len(text) > 30:
        return None
    return int(text)


def number_too_large(text: str) -> str:
    """The message for a number ``number_value`` refuses."""
    if "." in text or "e" in text or "E" in text:
        return f"number {text} is too large"
    return f"number {text[:20]}... is too large"


def list_depth(value: list) -> int:
    inner = [list_depth(v) for v in value if isinstance(v, list)]
    return 1 + max(inner, default=0)
