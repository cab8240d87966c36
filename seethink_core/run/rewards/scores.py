"""Scoring one task: one reward called on samples ``lo:hi``, and what it returned checked.

Shared by the inline path and the worker process. No failure is silent: a wrong number of scores,
NaN, inf or a value that is not a number (a string, even "1") is a failure like an exception.
"""

from __future__ import annotations

import math
import numbers
import traceback
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from seethink_core.hooks.backend import RewardFailure
from seethink_core.types.sample import Sample

RewardCallable = Callable[..., list]

# Sample fields handed to rewards as columns (images stay behind: rewards grade text).
COLUMNS = ("answer", "capability", "difficulty", "facts", "meta", "id", "source")


@dataclass(frozen=True)
class Component:
    name: str  # the key in RewardBatch.components (the reward name, made unique if repeated)
    weight: float
    fn: RewardCallable
    needs: frozenset[str] = frozenset()  # the spec's columns; "answer" means it grades the answer


@dataclass(frozen=True)
class _Columns:
    """The batch's columns with each value held once per distinct ``Sample`` object, and which one each
    position holds: a GRPO batch repeats each prompt's Sample ``group`` times, so only an eighth of the
    values are read here, pickled for the worker and unpickled there."""

    values: dict[str, list[Any]]  # column -> its value for each distinct sample
    rows: list[int]  # batch position -> its sample's place in ``values``

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> _Columns:
        place: dict[int, int] = {}  # id(sample) -> its place; the samples outlive the call, so ids stay unique
        distinct: list[Sample] = []
        rows: list[int] = []
        for s in samples:
            k = place.setdefault(id(s), len(distinct))
            if k == len(distinct):
                distinct.append(s)
            rows.append(k)
        return cls({c: [getattr(s, c) for s in distinct] for c in COLUMNS}, rows)

    def slice(self, lo: int, hi: int) -> dict[str, list[Any]]:
        """Positions ``lo:hi`` as a reward receives them: one list per column."""
        rows = self.rows[lo:hi]
        return {k: [v[j] for j in rows] for k, v in self.values.items()}

    def sample_id(self, i: int) -> Any:
        return self.values["id"][self.rows[i]]

    def reordered(self, order: Sequence[int]) -> _Columns:
        return _Columns(self.values, [self.rows[i] for i in order])


def _call(fn: RewardCallable, lo: int, hi: int, prompts: Sequence[str], completions: Sequence[str],
          cols: _Columns, extra: dict[str, Any]) -> Any:
    """``fn`` called once on samples ``lo:hi``: their columns, token counts and the length limit."""
    kwargs = cols.slice(lo, hi)
    if extra.get("completion_tokens") is not None:
        kwargs["completion_tokens"] = extra["completion_tokens"][lo:hi]
    if extra.get("max_response_tokens") is not None:
        kwargs["max_response_tokens"] = extra["max_response_tokens"]
    return fn(prompts[lo:hi], completions[lo:hi], **kwargs)


class _BadScore(ValueError):
    """A reward returned something that is not a score. Raised by seethink, not by the reward, so its
    origin is the reward itself and not the line of this module that noticed."""


def _check_value(result: Any) -> float | None:
    """The score of a call on one sample (``result`` must be a list of one)."""
    if not isinstance(result, (list, tuple)) or len(result) != 1:
        raise _BadScore(_count_problem(result, 1))
    return _score(result[0])


def _count_problem(result: Any, n: int) -> str:
    what = f"{len(result)} scores" if isinstance(result, (list, tuple)) else _show(result)
    return f"returned {what} for {n} completion{'s' if n != 1 else ''}; expected a list of {n}"


def _score(value: Any) -> float | None:
    """One returned value as a score. ``None`` is "not applicable"; a bool counts as 0/1 (a predicate
    reward); numbers, numpy scalars and 0-d tensors count. A string never does, not even "1":
    ``float("1")`` would quietly accept a reward that returns its text or a label. NaN and inf are
    failures too: one of them would poison the batch's advantages."""
    if type(value) is float and math.isfinite(value):  # nearly every score: no need for the checks below
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if not _numeric(value):
        raise _BadScore(f"returned {_show(value)}; expected a number or None")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise _BadScore(f"returned {_show(value)}; expected a number or None") from None
    if not math.isfinite(x):
        raise _BadScore(f"returned {x}; expected a finite number")
    return x


def _numeric(value: Any) -> bool:
    if isinstance(value, numbers.Real):  # int, float, Fraction, numpy's integer and floating scalars
        return True
    # numpy.bool_ and 0-d numpy arrays or torch tensors: a single number that is not a Python one
    return not isinstance(value, (str, bytes)) and getattr(value, "shape", None) == () and hasattr(value, "item")


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}{'...' if len(text) > 60 else ''} ({type(value).__name__})"


def _qualname(fn: Any) -> str:
    """Where a reward lives: ``module.Class`` for a callable object, ``module.function`` for a function."""
    owner = fn if isinstance(fn, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)) else type(fn)
    return f"{getattr(owner, '__module__', '?')}.{getattr(owner, '__qualname__', type(fn).__name__)}"


def _failure(c: Component, e: BaseException, sample: Any, tracebacks: set[str] | None) -> RewardFailure:
    """``e`` as a failure of ``c`` on ``sample``; its traceback is kept only for the first failure of each
    reward (``tracebacks`` names those already kept), so thousands of failures do not travel as text."""
    if isinstance(e, _BadScore):
        return RewardFailure(c.name, str(e), _qualname(c.fn), _sample_id(sample))
    frames = traceback.extract_tb(e.__traceback__)
    origin = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else _qualname(c.fn)
    tb = None
    if tracebacks is not None and c.name not in tracebacks:
        tracebacks.add(c.name)
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip()
    return RewardFailure(c.name, _one_line(f"{type(e).__name__}: {e}"), origin, _sample_id(sample), tb)


def _one_line(text: str, limit: int = 300) -> str:
    """A reward's own message as one bounded line: it is printed among the run's notes and in the error."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _sample_id(sample: Any) -> str | None:
    return None if sample is None else str(sample)


def _risky(fn: RewardCallable) -> bool:
    """Whether a reward may run for long (third-party rewards are, unless they say otherwise)."""
    return bool(getattr(fn, "risky", True))


def _deterministic(fn: RewardCallable) -> bool:
    """Whether a reward says its score depends on its inputs alone (no reward is, unless it says so)."""
    return getattr(fn, "deterministic", False) is True


# The scores of samples lo:hi, and (position, failure) for each of them that failed.
TaskResult = tuple[list[float | None], list[tuple[int, RewardFailure]]]


def _run_task(c: Component, lo: int, hi: int, prompts: list[str], completions: list[str],
              cols: _Columns, extra: dict[str, Any], tracebacks: set[str] | None = None) -> TaskResult:
    """Samples ``lo:hi`` of one reward: one batched call, or sample by sample when that raises.

    A batch that returns the wrong number of scores fails on all its samples: no score can be matched
    to its sample. One that returns the right number has each value checked on its own."""
    if hi - lo > 1:
        try:
            result = _call(c.fn, lo, hi, prompts, completions, cols, extra)
        except Exception:  # find the sample that raised, below
            pass
        else:
            if isinstance(result, (list, tuple)) and len(result) == hi - lo:
                return _checked(c, lo, result, cols)
            bad = _failure(c, _BadScore(_count_problem(result, hi - lo)), cols.sample_id(lo), None)
            return [None] * (hi - lo), [(i, bad) for i in range(lo, hi)]
    values: list[float | None] = []
    failures: list[tuple[int, RewardFailure]] = []
    for i in range(lo, hi):
        try:
            values.append(_check_value(_call(c.fn, i, i + 1, prompts, completions, cols, extra)))
        except Exception as e:
            values.append(None)
            failures.append((i, _failure(c, e, cols.sample_id(i), tracebacks)))
    return values, failures


def _checked(c: Component, lo: int, result: Sequence[Any], cols: _Columns) -> TaskResult:
    """A batched call's values, each checked on its own (``lo``: the position of the first)."""
    values: list[float | None] = []
    failures: list[tuple[int, RewardFailure]] = []
    for k, value in enumerate(result):
        try:
            values.append(_score(value))
        except _BadScore as e:
            values.append(None)
            failures.append((lo + k, _failure(c, e, cols.sample_id(lo + k), None)))
    return values, failures


@dataclass
class _Tally:
    """One call's scores and failures, component by component."""

    values: list[list[float | None]]
    failed: list[list[int]]
    errors: dict[str, RewardFailure] = field(default_factory=dict)  # the first failure of each component

    @classmethod
    def empty(cls, k: int, n: int) -> _Tally:
        return cls([[None] * n for _ in range(k)], [[] for _ in range(k)])

    def put(self, r: int, name: str, lo: int, values: list[float | None],
            failures: list[tuple[int, RewardFailure]]) -> None:
        """Component ``r``'s scores of samples ``lo:lo + len(values)`` and their failures."""
        self.values[r][lo:lo + len(values)] = values
        for i, failure in failures:
            self.failed[r].append(i)
            self.errors.setdefault(name, failure)
