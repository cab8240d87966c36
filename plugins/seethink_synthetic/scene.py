"""The scene graph of the shape world: what is drawn, as plain data.

Everything a question is about lives here, so answers are computed from the
scene and never from pixels. Two kinds of scene: shapes placed on a grid
(with an optional number written on each), and bar charts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COLORS = ("red", "blue", "green", "yellow", "purple", "orange")
KINDS = ("circle", "square", "triangle", "diamond")
SIZES = ("small", "large")


@dataclass(frozen=True)
class Shape:
    kind: str  # one of KINDS
    color: str  # one of COLORS
    size: str  # one of SIZES
    row: int  # grid cell, 0 = top
    col: int  # grid cell, 0 = left
    number: int | None = None  # written on the shape, when the scene has numbers

    @property
    def name(self) -> str:
        """How questions refer to it: colour and kind are unique within a scene."""
        return f"{self.color} {self.kind}"


@dataclass(frozen=True)
class Bar:
    color: str
    value: int


@dataclass(frozen=True)
class Scene:
    grid: int  # shapes: a grid x grid board
    shapes: tuple[Shape, ...] = ()
    bars: tuple[Bar, ...] = ()
    bar_max: int = 0  # the chart's y axis runs 0..bar_max

    @property
    def is_chart(self) -> bool:
        return bool(self.bars)

    def find(self, color: str, kind: str) -> Shape:
        for s in self.shapes:
            if s.color == color and s.kind == kind:
                return s
        raise KeyError(f"{color} {kind}")

    def bar(self, color: str) -> Bar:
        for b in self.bars:
            if b.color == color:
                return b
        raise KeyError(color)


@dataclass(frozen=True)
class ShapeSpec:
    """What a family asks of a shapes scene; ``n`` objects, each a distinct (colour, kind)."""

    n: int
    grid: int
    number_range: tuple[int, int] | None = None  # inclusive; None = no numbers written
    colors: tuple[str, ...] = COLORS
    kinds: tuple[str, ...] = KINDS


def random_shapes(rng: random.Random, spec: ShapeSpec) -> Scene:
    """``spec.n`` shapes with distinct (colour, kind) pairs in distinct grid cells.

    Distinct pairs make "the red circle" a unique referent, which every question relies on.
    """
    pairs = [(c, k) for c in spec.colors for k in spec.kinds]
    return _place(rng, spec, rng.sample(pairs, spec.n))


def shapes_with_counts(rng: random.Random, spec: ShapeSpec, attr: str, counts: dict[str, int]) -> Scene:
    """Like ``random_shapes``, with exactly ``counts[v]`` shapes whose ``attr`` ("kind" or "color")
    is ``v``. Counting questions draw their answer first and build the scene to match, so the
    answer is spread evenly instead of following whatever random scenes happen to give."""
    at = 1 if attr == "kind" else 0
    pairs = [(c, k) for c in spec.colors for k in spec.kinds]
    chosen: list[tuple[str, str]] = []
    for value, n in counts.items():
        chosen += rng.sample([p for p in pairs if p[at] == value], n)
    rest = [p for p in pairs if p[at] not in counts]
    chosen += rng.sample(rest, spec.n - len(chosen))
    rng.shuffle(chosen)
    return _place(rng, spec, chosen)


def _place(rng: random.Random, spec: ShapeSpec, chosen: list[tuple[str, str]]) -> Scene:
    cells = rng.sample([(r, c) for r in range(spec.grid) for c in range(spec.grid)], len(chosen))
    shapes = []
    for (color, kind), (row, col) in zip(chosen, cells, strict=True):
        number = rng.randint(*spec.number_range) if spec.number_range else None
        shapes.append(Shape(kind, color, rng.choice(SIZES), row, col, number))
    # Reading order (top-to-bottom, left-to-right) so facts read naturally and deterministically.
    shapes.sort(key=lambda s: (s.row, s.col))
    return Scene(grid=spec.grid, shapes=tuple(shapes))


def random_chart(rng: random.Random, n_bars: int, bar_max: int) -> Scene:
    colors = rng.sample(COLORS, n_bars)
    bars = tuple(Bar(c, rng.randint(1, bar_max)) for c in colors)
    return Scene(grid=0, bars=bars, bar_max=bar_max)
