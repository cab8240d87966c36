"""Difficulty levels: each level changes measured properties of the scene.

Level 0 is the easiest. A sample's ``difficulty`` is its level scaled to [0, 1]
(docs/architecture.md §2: 1 = hardest), so a phase's difficulty filters and ordering work on
synthetic data exactly as on pass rates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    index: int
    objects: int  # shapes on the board (more = harder to count and to find the referent)
    grid: int  # board side, in cells
    number_max: int  # numbers written on shapes run 1..number_max (digits grow with level)
    bars: int  # bars in a chart
    bar_max: int  # the chart's axis top: finer divisions are harder to read


LEVELS: tuple[Level, ...] = (
    Level(0, objects=3, grid=3, number_max=9, bars=3, bar_max=5),
    Level(1, objects=5, grid=4, number_max=9, bars=4, bar_max=8),
    Level(2, objects=7, grid=4, number_max=20, bars=5, bar_max=12),
    Level(3, objects=9, grid=5, number_max=99, bars=6, bar_max=16),
)


def difficulty_of(level: int) -> float:
    return level / (len(LEVELS) - 1)
