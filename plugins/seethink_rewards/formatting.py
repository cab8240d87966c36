"""The ``format`` reward: does the whole response have the required shape?"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from seethink_rewards.base import Reward
from seethink_rewards.schemas import FormatOptions
from seethink_rewards.text import strip_tag_spaces


@dataclass
class Format(Reward):
    """1.0 when the response matches the pattern in full, else 0.0 (the reference's format reward)."""

    options: FormatOptions
    name: ClassVar[str] = "format"
    _pattern: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._pattern = re.compile(self.options.pattern, re.DOTALL)

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        out: list[float | None] = []
        for text in completions:
            if self.options.strip_tag_spaces:
                text = strip_tag_spaces(text)
            out.append(1.0 if self._pattern.fullmatch(text) else 0.0)
        return out
