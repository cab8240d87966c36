"""Rewards for the worker tests (``test_worker_*.py``). Not a test module: it is imported by its plain
name (the tests put this folder on sys.path) so the reward worker process can unpickle them; its name
only keeps it beside the tests that use it."""

from __future__ import annotations

from typing import Any


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
