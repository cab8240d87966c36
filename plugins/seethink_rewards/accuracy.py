"""The ``accuracy`` reward: the final answer graded against the gold one.

Cheap, decisive rules run first (multiple-choice letters, identical strings, plain numbers); only
what is left goes to a math-equivalence grader. The default, ``seethink`` (``equivalence.py``), is
pure Python and bounded in time, so the reward is not ``risky`` with it and the reward layer grades
many samples per worker call. mathruler (the reference's) and math-verify can run sympy for a very
long time: the reward layer (``seethink_core.run.rewards``) runs them one sample per task in a worker
process it kills on timeout, so here their own signal-based timeouts are switched off (they fail
off the main thread).
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from seethink_core.errors import PluginError
from seethink_rewards.base import Reward
from seethink_rewards.choice import gold_letter, parse_letter
from seethink_rewards.numeric import close, parse_number
from seethink_rewards.schemas import AccuracyOptions
from seethink_rewards.text import extract_answer, strip_tag_spaces, unwrap

_LETTER_GOLD = re.compile(r"^[(\[]?[A-Z][)\]]?\.?$")
_BIG_NUMBER = re.compile(r"\d{50,}")


def too_complex(expr: str) -> bool:
    """The reference's guard: answers that could keep sympy busy for minutes score 0 unseen."""
    return (len(expr) > 200
            or expr.count("^") + expr.count("**") > 10
            or expr.count("(") > 40 or expr.count("{") > 40
            or _BIG_NUMBER.search(expr) is not None)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", unwrap(s)).casefold()


def _seethink() -> Callable[[str, str], bool]:
    from seethink_rewards.equivalence import equivalent

    return equivalent


def _mathruler() -> Callable[[str, str], bool]:
    from mathruler.grader import grade_answer

    return grade_answer


def _math_verify() -> Callable[[str, str], bool]:
    from math_verify import parse, verify

    for name in ("math_verify", "math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).setLevel(logging.ERROR)

    def grade(given: str, gold: str) -> bool:
        # Timeouts off: they use signal.alarm, which raises off the main thread (see module doc).
        want = parse(f"${gold}$", parsing_timeout=None)
        got = parse(f"${given}$", parsing_timeout=None)
        return bool(want and got and verify(want, got, timeout_seconds=None))

    return grade


# What each grader imports (mathruler does not declare its own dependencies).
_GRADER_MODULES = {"mathruler": ("mathruler", "sympy", "pylatexenc"), "math_verify": ("math_verify", "sympy")}


def _check_installed(grader: str) -> None:
    """Fail when the reward is built, not on every sample in a worker, if a grader is missing."""
    wanted = [m for g, mods in _GRADER_MODULES.items() if grader in (g, "any") for m in mods]
    missing = [m for m in dict.fromkeys(wanted) if importlib.util.find_spec(m) is None]
    if missing:
        raise PluginError(f"reward 'accuracy' (grader {grader!r}) needs {', '.join(missing)}, which "
                          "is not installed", hint="pip install 'seethink[rewards]'")


@dataclass
class Accuracy(Reward):
    """1.0 for a correct final answer, 0.0 for a wrong, missing or too complex one; ``None`` when
    the sample has no gold answer."""

    options: AccuracyOptions
    name: ClassVar[str] = "accuracy"

    @property  # type: ignore[override]
    def risky(self) -> bool:
        """Whether one sample may keep it busy for long: only the sympy graders may (see module doc)."""
        return self.options.strict or self.options.grader != "seethink"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._graders: list[Callable[[str, str], bool]] | None = None
        _check_installed(self.options.grader)

    def warmup(self) -> None:
        """Import the graders (sympy takes a second) before the first timed sample."""
        self.graders()

    def graders(self) -> list[Callable[[str, str], bool]]:
        if self._graders is None:
            which = self.options.grader
            self._graders = ([_seethink()] if which in ("seethink", "any") else []) + (
                [_mathruler()] if which in ("mathruler", "any") else []) + (
                [_math_verify()] if which in ("math_verify", "any") else [])
        return self._graders

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 meta: list[Any] | None = None, **_: Any) -> list[float | None]:
        metas = meta or [None] * len(completions)
        return [self.score(text, gold, m) for text, gold, m in zip(completions, answer, metas, strict=True)]

    def score(self, text: str, gold: Any, meta: Any = None) -> float | None:
        if gold is None:
            return None
        gold = str(gold).strip()
        if self.options.strip_tag_spaces:
            text = strip_tag_spaces(text)
        if self.options.strict:
            return self._reference_score(text, gold)
        given = extract_answer(text, self.options.extract)
        if not given:
            return 0.0
        if self.options.complexity_guard and too_complex(given):
            return 0.0
        choices = meta.get("choices") if isinstance(meta, dict) else None
        if choices or _LETTER_GOLD.match(gold):
            want = gold_letter(gold, meta)
            if want is not None:
                return 1.0 if parse_letter(given, choices) == want else 0.0
        if _squash(given) == _squash(gold):
            return 1.0
        a, b = parse_number(given), parse_number(gold)
        if a is not None and b is not None:
            tol = self.options.tolerance
            if close(a, b, tol if tol > 0 else 1e-9, self.options.tolerance_mode):
                return 1.0
            # Without a tolerance, seethink still reads 28\% against 0.28 and 0.33 against \frac{1}{3}.
            if tol > 0 or self.options.grader not in ("seethink", "any"):
                return 0.0
        for grade in self.graders():
            try:
                if grade(given, gold):
                    return 1.0
            except Exception:  # a grader that cannot read an answer has not found it correct
                continue
        return 0.0

    def _reference_score(self, text: str, gold: str) -> float:
        """``accuracy_reward`` of the reference's ``training/reward_functions/math.py``: the last box's
        content (mathruler's extractor, which gives "None" when there is no box), empty or too complex
        scores 0, else mathruler's ``grade_answer``. A grader exception scores 0 here rather than ending
        the run (the reference would crash)."""
        from mathruler.grader import extract_boxed_content

        given = extract_boxed_content(text)
        if not given:
            return 0.0
        if self.options.complexity_guard and too_complex(given):
            return 0.0
        try:
            return 1.0 if self.graders()[0](given, gold) else 0.0
        except Exception:
            return 0.0
