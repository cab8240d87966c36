"""Finding the final answer in a completion. Pure string work: no graders, nothing heavy."""

from __future__ import annotations

import re
from typing import Literal

Extract = Literal["boxed", "answer_tag", "last_line"]

# Two passes that start on a rare character are faster than the reference's r"\s*(<|>|/)\s*",
# which tries an empty \s* at every position; they remove the same whitespace (tested).
_SPACE_AFTER_TAG = re.compile(r"([<>/])\s+")
_SPACE_BEFORE_TAG = re.compile(r"\s+(?=[<>/])")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_BOXED = "\\boxed{"
_ANSWER_PREFIX = re.compile(r"^(?:the\s+)?(?:final\s+)?answer\s*(?:is)?\s*[:：]?\s*", re.IGNORECASE)


def strip_tag_spaces(text: str) -> str:
    """The reference's clean-up before grading: whitespace around ``<``, ``>`` and ``/`` removed
    (some models write ``< think >``)."""
    return _SPACE_BEFORE_TAG.sub("", _SPACE_AFTER_TAG.sub(r"\1", text))


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``, nested braces balanced; ``None`` if there is none
    or it is never closed."""
    start = text.rfind(_BOXED)
    if start < 0:
        return None
    depth = 0
    body = start + len(_BOXED)
    for j in range(body, len(text)):
        ch = text[j]
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return text[body:j].strip()
            depth -= 1
    return None


def answer_tag(text: str) -> str | None:
    """The content of the last ``<answer>...</answer>``; a ``\\boxed{}`` inside it is unwrapped."""
    found = _ANSWER_TAG.findall(text)
    if not found:
        return None
    inner = found[-1].strip()
    boxed = last_boxed(inner)
    return boxed if boxed is not None else inner


def last_line(text: str) -> str | None:
    """The last non-empty line, after any ``</think>``; a leading "Answer:" is dropped."""
    tail = text.rsplit("</think>", 1)[-1]
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
    if not lines:
        return None
    line = lines[-1]
    boxed = last_boxed(line)
    if boxed is not None:
        return boxed
    return _ANSWER_PREFIX.sub("", line).strip() or None


def extract_answer(text: str, how: Extract = "boxed") -> str | None:
    """The completion's final answer by the chosen rule, or ``None`` when it gave none."""
    if how == "boxed":
        return last_boxed(text)
    if how == "answer_tag":
        return answer_tag(text)
    return last_line(text)


_WRAPPERS = [
    re.compile(r"^\\text(?:bf|rm|normal)?\{(.*)\}$", re.DOTALL),
    re.compile(r"^\\mathrm\{(.*)\}$", re.DOTALL),
    re.compile(r"^\*\*(.*)\*\*$", re.DOTALL),
    re.compile(r"^\$+(.*?)\$+$", re.DOTALL),
]


def unwrap(answer: str) -> str:
    """Drop presentation around an answer: ``$...$``, ``\\text{...}``, ``**...**``, a final period."""
    s = answer.strip()
    changed = True
    while changed:
        changed = False
        for pat in _WRAPPERS:
            m = pat.match(s)
            if m:
                s, changed = m.group(1).strip(), True
    return s.rstrip(".").strip()
