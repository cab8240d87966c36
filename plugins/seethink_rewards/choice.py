"""Multiple-choice letters in their usual spellings, and the ``choice`` reward."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from seethink_rewards.base import Reward
from seethink_rewards.schemas import ChoiceOptions
from seethink_rewards.text import extract_answer, strip_tag_spaces, unwrap

_BARE = re.compile(r"^[(\[]?([A-Za-z])[)\]]?$")  # "B", "(B)", "[b]"
_WITH_TEXT = re.compile(r"^[(\[]?([A-Z])[)\].:：]\s*(.*)$", re.DOTALL)  # "B.", "B)", "B: text", "(B) text"
_PHRASE = re.compile(r"^(?:the\s+)?(?:correct\s+)?(?:answer|option|choice)\s*(?:is\s*)?[:：]?\s*"
                     r"[(\[]?([A-Z])[)\]]?\.?$", re.IGNORECASE)  # "Option B", "The answer is (B)"


def letters(choices: Sequence[Any] | None, fallback: int = 26) -> str:
    count = len(choices) if choices else fallback
    return "".join(chr(65 + k) for k in range(min(count, 26)))


@functools.lru_cache(maxsize=4096)  # option texts repeat on every sample of a data set
def _norm_text(s: str) -> str:
    return re.sub(r"\s+", " ", unwrap(s)).strip().casefold()


def parse_letter(answer: str, choices: Sequence[Any] | None = None) -> str | None:
    """The option letter an answer names, or ``None``. With ``choices`` the option text itself counts,
    and a letter outside the options is not one."""
    s = unwrap(answer)
    if not s:
        return None
    valid = letters(choices)
    if choices:
        target = _norm_text(s)
        for k, c in enumerate(choices[:26]):
            if _norm_text(str(c)) == target:
                return valid[k]
    letter, rest = None, ""
    for pat in (_BARE, _WITH_TEXT, _PHRASE):
        m = pat.match(s)
        if m:
            letter = m.group(1).upper()
            rest = m.group(2).strip() if pat is _WITH_TEXT else ""
            break
    if letter is None or letter not in valid:
        return None
    if choices and rest:
        # "B: <text of option C>" contradicts itself: no credit either way
        k = valid.index(letter)
        named = [j for j, c in enumerate(choices[:26]) if _norm_text(str(c)) == _norm_text(rest)]
        if named and k not in named:
            return None
    return letter


def gold_letter(answer: Any, meta: Any) -> str | None:
    """The correct letter from the gold answer (a letter, or the option text when choices are known)."""
    if answer is None:
        return None
    choices = meta.get("choices") if isinstance(meta, dict) else None
    return parse_letter(str(answer), choices)


@dataclass
class Choice(Reward):
    """1.0 when the chosen option is the gold one, 0.0 otherwise, ``None`` without a gold letter."""

    options: ChoiceOptions
    name: ClassVar[str] = "choice"

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 meta: list[Any] | None = None, **_: Any) -> list[float | None]:
        metas = meta or [None] * len(completions)
        out: list[float | None] = []
        for text, gold, m in zip(completions, answer, metas, strict=True):
            want = gold_letter(gold, m)
            if want is None:
                out.append(None)
                continue
            if self.options.strip_tag_spaces:
                text = strip_tag_spaces(text)
            given = extract_answer(text, self.options.extract)
            choices = m.get("choices") if isinstance(m, dict) else None
            got = parse_letter(given, choices) if given is not None else None
            out.append(1.0 if got == want else 0.0)
        return out
