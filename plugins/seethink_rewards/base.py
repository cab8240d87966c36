"""What every first-party reward shares: its options and a ``__name__`` (TRL logs rewards by it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass
class Reward:
    """A small picklable callable: ``reward(prompts, completions, **columns) -> list[float | None]``."""

    options: Any
    name: ClassVar[str] = "reward"
    # The best score a completion can get (preflight checks the gold answer gets it); None = unbounded.
    max_value: ClassVar[float | None] = 1.0
    # Whether one sample may keep it busy for long (a sympy grader). The reward worker scores the
    # bounded rewards first, so a grader that times out leaves no other work behind.
    risky: ClassVar[bool] = False
    # A pure function of its inputs: the reward layer grades each distinct row of a batch once (a GRPO
    # group often repeats a completion) and hands every copy the score. True of every first-party reward.
    deterministic: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.__name__ = self.name
