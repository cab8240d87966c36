"""The one list-backed ``SampleStream`` double the backend tests share (local, resume, OpenRLHF).

Imported by path (``sys.path`` gets ``tests/``), since test modules cannot import each other's
conftest under ``--import-mode=importlib``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seethink_core.types.sample import Sample


@dataclass
class ListStream:
    """A ``SampleStream`` over a fixed list, repeated as epochs (the runner's order is the list order);
    ``calls`` records each ``(n, step)`` pulled, to check a backend draws step by step."""

    samples: list[Sample]
    pos: int = 0
    calls: list[tuple[int, int]] = field(default_factory=list)

    def next_batch(self, n: int, step: int) -> list[Sample]:
        self.calls.append((n, step))
        out = [self.samples[(self.pos + i) % len(self.samples)] for i in range(n)]
        self.pos += n
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pos = state["pos"]

    def total_samples(self) -> int | None:
        return len(self.samples)
