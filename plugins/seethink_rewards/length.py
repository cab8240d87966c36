"""Length-based rewards: ``length`` (penalise or aim at a length) and ``overlong`` (DAPO's soft
overlong penalty). Both read ``completion_tokens``; they grade no answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from seethink_rewards.base import Reward
from seethink_rewards.schemas import LengthOptions, OverlongOptions


def _tokens(name: str, completions: Sequence[str], completion_tokens: Sequence[int] | None) -> Sequence[int]:
    if completion_tokens is None:
        raise ValueError(f"reward '{name}' needs completion_tokens (the length of each completion in tokens)")
    if len(completion_tokens) != len(completions):
        raise ValueError(f"reward '{name}' got {len(completion_tokens)} token counts for "
                         f"{len(completions)} completions")
    return completion_tokens


def _limit(name: str, option: int | None, max_response_tokens: int | None) -> int:
    limit = option if option is not None else max_response_tokens
    if limit is None or limit <= 0:
        raise ValueError(f"reward '{name}' needs max_response_tokens or its own limit option")
    return int(limit)


@dataclass
class Length(Reward):
    """penalise: -(tokens / limit), in [-1, 0]; target: 1 - |tokens - target| / target, in [0, 1]."""

    options: LengthOptions
    name: ClassVar[str] = "length"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.max_value = 1.0 if self.options.mode == "target" else 0.0

    def __call__(self, prompts: list[str], completions: list[str], *,
                 completion_tokens: Sequence[int] | None = None, max_response_tokens: int | None = None,
                 **_: Any) -> list[float | None]:
        tokens = _tokens(self.name, completions, completion_tokens)
        if self.options.mode == "target":
            t = self.options.target
            return [max(0.0, 1.0 - abs(n - t) / t) for n in tokens]
        limit = _limit(self.name, self.options.limit, max_response_tokens)
        return [-min(1.0, n / limit) for n in tokens]


@dataclass
class Overlong(Reward):
    """DAPO's soft overlong punishment: 0 up to ``max - buffer`` tokens, then linear down to
    ``-penalty`` at ``max`` (and beyond)."""

    options: OverlongOptions
    name: ClassVar[str] = "overlong"
    max_value: ClassVar[float | None] = 0.0

    def __call__(self, prompts: list[str], completions: list[str], *,
                 completion_tokens: Sequence[int] | None = None, max_response_tokens: int | None = None,
                 **_: Any) -> list[float | None]:
        tokens = _tokens(self.name, completions, completion_tokens)
        top = _limit(self.name, self.options.max_tokens, max_response_tokens)
        buffer = min(self.options.buffer, top)
        start = top - buffer
        return [0.0 if n <= start else -self.options.penalty * min(1.0, (n - start) / buffer) for n in tokens]
