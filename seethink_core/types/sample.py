"""The one data type every source yields and every backend consumes (docs/architecture.md §7)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Sample:
    id: str
    prompt: str  # the question text; the phase's template wraps it
    images: list[Any] = field(default_factory=list)  # paths, bytes or PIL images
    answer: str | None = None
    capability: str | None = None  # "perception", "textual_reasoning", "visual_reasoning"
    difficulty: float | None = None  # [0, 1], 1 = hardest
    facts: str | None = None  # gold text description of what the image shows
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # choices, family, level, ...


SAMPLE_FIELDS = tuple(f.name for f in fields(Sample))

