"""Rewards for the reward-layer tests: misbehaving ones for isolation, and ones that show how a batch
is cut and merged. Imported by its plain name (the ``doubles`` fixture in conftest.py puts this folder
on sys.path) so the reward worker process can unpickle them."""

from __future__ import annotations

import os
import time
from typing import Any


class Constant:
    """Gives the same value to every sample (None included)."""

    def __init__(self, value: float | None, name: str = "constant"):
        self.value = value
        self.__name__ = name

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        return [self.value] * len(completions)


class RaisesOn:
    """Raises for completions containing ``marker``; 1.0 for the others. ``risky=False`` claims
    bounded time, so the worker calls it in chunks."""

    __name__ = "raises_on"

    def __init__(self, marker: str, risky: bool = True):
        self.marker = marker
        self.risky = risky

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        if any(self.marker in c for c in completions):
            raise RuntimeError(f"cannot grade {self.marker!r}")
        return [1.0] * len(completions)


class HangsOn:
    """Sleeps (for good) on completions containing ``marker``; 1.0 for the others."""

    __name__ = "hangs_on"

    def __init__(self, marker: str, risky: bool = True):
        self.marker = marker
        self.risky = risky

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        if any(self.marker in c for c in completions):
            time.sleep(3600)
        return [1.0] * len(completions)


class ExitsOn:
    """Kills its own process on completions containing ``marker`` (a crashing native grader)."""

    __name__ = "exits_on"

    def __init__(self, marker: str):
        self.marker = marker

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        if any(self.marker in c for c in completions):
            os._exit(3)
        return [1.0] * len(completions)


class WrongLength:
    """Returns one value too many: a broken reward, not a crash."""

    __name__ = "wrong_length"

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        return [1.0] * (len(completions) + 1)


class EchoColumns:
    """Returns the completion token count; proves the columns reach the worker."""

    __name__ = "echo_columns"

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 completion_tokens: list[int] | None = None, max_response_tokens: int | None = None,
                 **_: Any) -> list[float | None]:
        assert max_response_tokens == 100
        return [float(t) + (0.5 if a == "x" else 0.0) for t, a in zip(completion_tokens or [], answer, strict=True)]


class AlwaysRaises:
    """Raises on every sample: a grader broken from the start."""

    __name__ = "always_raises"

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        raise RuntimeError("the grader is broken")


class FailsFromCall:
    """Scores 1.0 on its first ``ok_calls`` calls, then raises: a grader that breaks in the middle of a
    run. ``risky=False`` makes each batch one call (the worker keeps its state between batches)."""

    __name__ = "fails_from_call"
    risky = False

    def __init__(self, ok_calls: int):
        self.ok_calls = ok_calls
        self.calls = 0

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        self.calls += 1
        if self.calls > self.ok_calls:
            raise RuntimeError("the grader broke mid-run")
        return [1.0] * len(completions)


class Opaque:
    """Not a number: what a reward returns when it forgets to unpack its grader's result."""

    def __repr__(self) -> str:
        return "<Opaque>"


class CallSize:
    """Scores every sample with the number of samples in the call it came in: how many rows the
    reward was called on. Bounded (one call per chunk)."""

    __name__ = "call_size"
    risky = False

    def __init__(self, deterministic: bool):
        self.deterministic = deterministic

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        return [float(len(completions))] * len(completions)


class RowScore:
    """A score that tells the whole row apart: the completion's number, its token count and whether the
    answer is "x". ``nan`` completions give NaN (a failure); ``bad`` ones make the call raise."""

    __name__ = "row_score"

    def __init__(self, deterministic: bool, risky: bool = False):
        self.deterministic = deterministic
        self.risky = risky

    def __call__(self, prompts: list[str], completions: list[str], *, answer: list[Any],
                 completion_tokens: list[int] | None = None, **_: Any) -> list[float | None]:
        if "bad" in completions:
            raise RuntimeError("cannot grade 'bad'")
        tokens = completion_tokens or [0] * len(completions)
        return [float(c) + t / 100 + (0.5 if a == "x" else 0.0)
                for c, t, a in zip(completions, tokens, answer, strict=True)]


class CollectorState:
    """1.0 where Python's cyclic garbage collector is running while the reward is called, else 0.0."""

    __name__ = "collector_state"

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        import gc

        return [1.0 if gc.isenabled() else 0.0] * len(completions)
