"""Answer extraction for the benchmark scorers: rules first, an optional judge where they fail.

A response in the reference's format is ``<think> … </think> \\boxed{answer}``; the rules take the
part after the reasoning, then the last ``\\boxed{…}``, else the last "the answer is …", else the
whole text. A multiple-choice answer is a letter found as VLMEvalKit's ``can_infer`` finds it (a
lone option letter near the end, else the one option text the answer contains); a yes/no answer is
"yes" or "no" when exactly one of the two words occurs (VLMEvalKit's ``YOrN_Extraction``).

Where the rules find nothing, an ``AnswerExtractor`` — an LLM judge, say — may be asked; the scorers
then read its reply with the same rules. No extractor configured means rules only. An extractor is
named by ``SEETHINK_JUDGE=module:factory`` (a zero-argument factory returning one), so a run's
evaluators and ``seethink eval --judge`` find the same one; its answers are cached per evaluation.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from seethink_core.errors import PluginError

JUDGE_ENV = "SEETHINK_JUDGE"
LETTERS = "ABCDEFGHIJ"


class AnswerExtractor(Protocol):
    """Extracts the final answer of ``response`` to ``question`` (``choices``: the option texts, A
    first, for a multiple-choice question), or ``None`` when it finds none."""

    def __call__(self, question: str, response: str, choices: Sequence[str] = ()) -> str | None: ...


_THINK_END = re.compile(r"</think(?:ing)?>", re.I)
_ANSWER_IS = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*[:\s]*(.+)", re.I)
_PUNCT = ".()[],:;!*#{}"


def after_reasoning(response: str) -> str:
    """The text after the last closed ``</think>`` (the training template's ``</thinking>`` too); an
    unclosed reasoning block keeps the whole text (a cut-off answer may still hold a box)."""
    parts = _THINK_END.split(response)
    tail = parts[-1] if len(parts) > 1 else response
    return tail.strip()


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{…}`` (or ``\\fbox{…}``), braces balanced; None without one."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth, j = 1, i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j].strip()
        j += 1
    return None  # an unclosed box: the answer was cut off


def answer_text(response: str) -> str:
    """The final-answer part of a response: its last box, else what follows the last "answer is",
    else the text after the reasoning."""
    tail = after_reasoning(response)
    boxed = last_boxed(tail)
    if boxed is not None:
        return _unwrap(boxed)
    found = [m for m in _ANSWER_IS.finditer(tail) if m.group(1).strip()]
    if found:
        line = found[-1].group(1).strip().splitlines()[0]
        return _unwrap(line.rstrip(". ").strip())
    boxed = last_boxed(response)  # a box inside the reasoning only: the last one it wrote
    return _unwrap(boxed) if boxed is not None else tail


def _unwrap(text: str) -> str:
    """``\\text{B}`` → ``B``; surrounding ``$`` and ``**`` dropped."""
    text = re.sub(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}", r"\1", text).strip()
    return text.strip("$* ").strip()


def choice_letter(text: str, choices: Sequence[str]) -> str | None:
    """The option letter ``text`` (an answer, not a whole response) names, or None.

    ``B``, ``(B)``, ``B.``, ``B: 8/11`` are B; otherwise VLMEvalKit's rules: one option letter among
    the words (near the end, so that an article "A" early in a sentence does not count), else the
    option the answer is, else the one option whose text the answer contains (when the answer is not
    much longer than the options).
    """
    letters = LETTERS[:len(choices)] if choices else LETTERS[:4]
    head = re.match(r"^\s*(?:\(([A-J])\)|([A-J])(?:[.:)]|$))", text)  # "(B) ...", "B.", "B: ...", "B"
    if head and (head.group(1) or head.group(2)) in letters:
        return head.group(1) or head.group(2)
    mod = text
    for c in _PUNCT:
        mod = mod.replace(c, " ")
    words = mod.split()
    named = [w for w in words if w in letters]
    if len(set(named)) == 1:
        letter = named[-1]
        last = len(words) - 1 - words[::-1].index(letter)
        if last > len(words) - 5:
            return letter
    if choices:
        low = text.lower().strip()
        exact = [LETTERS[i] for i, c in enumerate(choices) if str(c).strip() and str(c).lower().strip() == low]
        if len(exact) == 1:  # the option itself ("2√3" among "2", "2√3", "√3")
            return exact[0]
        if len(low) <= 2 * sum(len(str(c)) for c in choices):
            hits = [LETTERS[i] for i, c in enumerate(choices) if str(c).strip() and str(c).lower().strip() in low]
            if len(hits) == 1:
                return hits[0]
    return None


def yes_no(text: str) -> str | None:
    """``yes`` or ``no`` when exactly one of the two words occurs, else None."""
    words = set(re.sub(r"[^\w\s]", " ", text.lower()).split())
    if ("yes" in words) != ("no" in words):
        return "yes" if "yes" in words else "no"
    return None


@dataclass
class Extraction:
    """Rules, then the configured extractor (cached: two evaluators of one set ask it once)."""

    extractor: AnswerExtractor | None = None
    asked: int = 0  # how often the extractor was called (cache misses)
    _cache: dict[tuple[str, str, tuple[str, ...]], str | None] = field(default_factory=dict)

    def fallback(self, question: str, response: str, choices: Sequence[str] = ()) -> str | None:
        """What the extractor makes of ``response``; None without an extractor or when it fails."""
        if self.extractor is None:
            return None
        key = (question, response, tuple(str(c) for c in choices))
        if key not in self._cache:
            self.asked += 1
            try:
                got = self.extractor(question, response, tuple(key[2]))
            except Exception as e:  # a judge that fails is one clear message, not a traceback
                raise PluginError(f"answer extractor failed: {type(e).__name__}: {e}") from None
            self._cache[key] = got.strip() if isinstance(got, str) and got.strip() else None
        return self._cache[key]

    def letter(self, question: str, response: str, choices: Sequence[str]) -> str | None:
        """The option letter a response picks: rules on its answer, else the extractor's reply."""
        found = choice_letter(answer_text(response), choices)
        if found is not None:
            return found
        reply = self.fallback(question, response, choices)
        return choice_letter(reply, choices) if reply is not None else None

    def answer(self, question: str, response: str) -> str:
        """A free-form answer: the rules' answer text; the extractor's when the rules found no box and
        no "answer is" (the whole tail would be a guess)."""
        tail = after_reasoning(response)
        text = answer_text(response)
        if text == tail and last_boxed(response) is None:
            reply = self.fallback(question, response)
            if reply is not None:
                return reply
        return text

    def yes_no(self, question: str, response: str) -> str | None:
        found = yes_no(answer_text(response))
        if found is not None:
            return found
        reply = self.fallback(question, response, ("yes", "no"))
        return yes_no(reply) if reply is not None else None


_LOADED: dict[str, AnswerExtractor] = {}


def configured_extractor() -> AnswerExtractor | None:
    """The extractor ``SEETHINK_JUDGE`` names (``module:factory``), built once per process; None unset."""
    name = os.environ.get(JUDGE_ENV, "").strip()
    if not name:
        return None
    if name not in _LOADED:
        module, sep, attr = name.partition(":")
        if not sep or not module or not attr:
            raise PluginError(f"{JUDGE_ENV}='{name}' must be 'module:factory'")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise PluginError(f"{JUDGE_ENV}='{name}' cannot be loaded: {e}") from None
        _LOADED[name] = CachedExtractor(factory())
    return _LOADED[name]


@dataclass
class CachedExtractor:
    """An extractor whose answers are kept: every evaluator of a run (each benchmark's and the suite's)
    asks it about the same responses, and a judge call is slow and may cost money."""

    inner: AnswerExtractor
    calls: int = 0
    _seen: dict[tuple[str, str, tuple[str, ...]], str | None] = field(default_factory=dict)

    def __call__(self, question: str, response: str, choices: Sequence[str] = ()) -> str | None:
        key = (question, response, tuple(str(c) for c in choices))
        if key not in self._seen:
            self.calls += 1
            self._seen[key] = self.inner(question, response, key[2])
        return self._seen[key]
