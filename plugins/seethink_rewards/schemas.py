"""Option schemas of the first-party rewards. Imported by plugin.py, so nothing heavy here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from seethink_core.types.options import OptionError, opt
from seethink_rewards.backtracking import backtracking_problem

# The reference's format rule: the whole response is <think>…</think>…\boxed{…}… (dot matches newline).
REFERENCE_FORMAT = r"<think>.*</think>.*\\boxed\{.*\}.*"

Extract = Literal["boxed", "answer_tag", "last_line"]
ToleranceMode = Literal["relative", "absolute"]

_EXTRACT_DOC = "where the final answer is: the last \\boxed{}, the last <answer> tag, or the last line"
_SPACES_DOC = "remove whitespace around <, > and / first, as the reference does"
# The scores a reward gives (the compiler checks `until reward.NAME` thresholds and pass_rate thresholds
# against it). Only rewards whose every score lies in it declare one.
UNIT: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class FormatOptions:
    pattern: str = opt(REFERENCE_FORMAT, doc="regular expression the whole response must match (dot matches newline)")
    strip_tag_spaces: bool = opt(True, doc=_SPACES_DOC)
    score_range: ClassVar[tuple[float, float]] = UNIT

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern, re.DOTALL)
        except re.error as e:
            raise OptionError("pattern", f"option 'pattern' is not a valid regular expression: {e}",
                              hint="the pattern is a Python regular expression (the re module's syntax), "
                                   "matched against the whole response") from None
        problem = backtracking_problem(self.pattern, re.DOTALL)
        if problem is not None:
            # Every response of every step is matched: one long response would stall the whole run.
            raise OptionError("pattern", f"option 'pattern' can backtrack without bound: {problem}",
                              hint="rewrite it without the nested repeat or overlapping branches, or make the "
                                   "inner part atomic, (?>...), or possessive, a++ (it never gives characters "
                                   "back)")


@dataclass(frozen=True)
class AccuracyOptions:
    score_range: ClassVar[tuple[float, float]] = UNIT
    extract: Extract = opt("boxed", doc=_EXTRACT_DOC)
    grader: Literal["seethink", "mathruler", "math_verify", "any"] = opt(
        "seethink", doc="math-equivalence grader: seethink (pure Python, bounded time: labels, sets, intervals, "
                        "relations, approximations), mathruler (the reference's, sympy), math_verify (sympy), or "
                        "any of the three")
    tolerance: float = opt(0.0, min=0.0, doc="numbers within this tolerance count as equal")
    tolerance_mode: ToleranceMode = opt("relative", doc="whether the tolerance is relative or absolute")
    complexity_guard: bool = opt(True, doc="score answers too complex to grade safely 0, as the reference does")
    strip_tag_spaces: bool = opt(True, doc=_SPACES_DOC)
    strict: bool = opt(False, doc="grade exactly as the reference's math.py: mathruler's extract_boxed_content "
                                  "and grade_answer alone (no letter parsing, string or number shortcuts); "
                                  "with grader 'mathruler' (say so: the default grader is seethink) and "
                                  "extract 'boxed' only")

    def __post_init__(self) -> None:
        if self.strict and (self.grader != "mathruler" or self.extract != "boxed"):
            raise ValueError("option 'strict' grades as the reference does, with grader 'mathruler' and "
                             f"extract 'boxed'; not with grader {self.grader!r}, extract {self.extract!r} "
                             "(write accuracy(strict: true, grader: \"mathruler\"))")


@dataclass(frozen=True)
class ChoiceOptions:
    score_range: ClassVar[tuple[float, float]] = UNIT
    extract: Extract = opt("boxed", doc=_EXTRACT_DOC)
    strip_tag_spaces: bool = opt(True, doc=_SPACES_DOC)


@dataclass(frozen=True)
class NumericOptions:
    score_range: ClassVar[tuple[float, float]] = UNIT
    extract: Extract = opt("boxed", doc=_EXTRACT_DOC)
    tolerance: float = opt(1e-6, min=0.0, doc="numbers within this tolerance count as equal")
    tolerance_mode: ToleranceMode = opt("relative", doc="whether the tolerance is relative or absolute")
    strip_tag_spaces: bool = opt(True, doc=_SPACES_DOC)


@dataclass(frozen=True)
class IouOptions:
    score_range: ClassVar[tuple[float, float]] = UNIT
    extract: Extract = opt("boxed", doc=_EXTRACT_DOC)
    mode: Literal["threshold", "continuous"] = opt(
        "threshold", doc="1 when IoU reaches the threshold (else 0), or the IoU itself")
    threshold: float = opt(0.5, min=0.0, max=1.0, doc="IoU needed for a hit in threshold mode")


@dataclass(frozen=True)
class CountOptions:
    score_range: ClassVar[tuple[float, float]] = UNIT
    extract: Extract = opt("boxed", doc=_EXTRACT_DOC)
    mode: Literal["exact", "relative"] = opt(
        "exact", doc="1 for the exact count, or 1 - |error| / gold (at least 0)")


@dataclass(frozen=True)
class LengthOptions:
    mode: Literal["penalise", "target"] = opt(
        "penalise", doc="penalise: -(tokens / limit); target: 1 - |tokens - target| / target (at least 0)")
    target: int = opt(512, min=1, doc="the wanted length in tokens (target mode)")
    limit: int | None = opt(None, min=1, doc="the length scored -1 in penalise mode (default: max response tokens)")


@dataclass(frozen=True)
class OverlongOptions:
    buffer: int = opt(256, min=1, doc="tokens before the maximum where the penalty starts")
    penalty: float = opt(1.0, min=0.0, doc="the penalty at the maximum length")
    max_tokens: int | None = opt(None, min=1, doc="the maximum length (default: the phase's max response tokens)")
