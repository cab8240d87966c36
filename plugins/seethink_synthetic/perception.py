"""Perception families: what is drawn, read straight off the image."""

from __future__ import annotations

import random
from collections import Counter

from seethink_synthetic.families import Family, Params, register_family
from seethink_synthetic.levels import Level
from seethink_synthetic.scene import (
    COLORS,
    KINDS,
    Scene,
    ShapeSpec,
    random_chart,
    random_shapes,
    shapes_with_counts,
)

PERCEPTION = ("perception",)


def _board(rng: random.Random, level: Level, numbers: bool = False) -> Scene:
    spec = ShapeSpec(level.objects, level.grid, (1, level.number_max) if numbers else None)
    return random_shapes(rng, spec)


@register_family
class CountShapes(Family):
    """Count the shapes of a kind (levels 0-1) or of a colour (levels 2-3, where shapes of the
    other kinds in that colour are distractors)."""

    name = "count"
    capabilities = PERCEPTION
    answer_kind = "number"
    templates = ("How many {kind}s are there?", "How many {color} shapes are there?")

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        spec = ShapeSpec(level.objects, level.grid)
        if level.index < 2:
            kind = rng.choice(KINDS)
            n = rng.randint(0, min(level.objects, len(COLORS)))
            return shapes_with_counts(rng, spec, "kind", {kind: n}), {"t": "0", "kind": kind}
        color = rng.choice(COLORS)
        n = rng.randint(0, min(level.objects, len(KINDS)))
        return shapes_with_counts(rng, spec, "color", {color: n}), {"t": "1", "color": color}

    def answer(self, scene: Scene, params: Params) -> str:
        if params["t"] == "0":
            return str(sum(s.kind == params["kind"] for s in scene.shapes))
        return str(sum(s.color == params["color"] for s in scene.shapes))


@register_family
class CountAll(Family):
    """Count every shape on the board. No referent to find first, so it is the easiest thing to see:
    a tiny model learns it in a few hundred supervised steps (the demo's perception stage)."""

    name = "count_all"
    capabilities = PERCEPTION
    answer_kind = "number"
    templates = ("How many shapes are there?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        n = rng.randint(1, min(level.objects + 1, level.grid * level.grid))
        return random_shapes(rng, ShapeSpec(n, level.grid)), {"t": "0"}

    def answer(self, scene: Scene, params: Params) -> str:
        return str(len(scene.shapes))


@register_family
class ColorOf(Family):
    name = "color"
    capabilities = PERCEPTION
    answer_kind = "color"
    templates = ("What colour is the {kind}?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        while True:  # until one kind appears exactly once, so "the triangle" is unambiguous
            scene = _board(rng, level)
            counts = Counter(s.kind for s in scene.shapes)
            single = sorted(k for k, n in counts.items() if n == 1)
            if single:
                return scene, {"t": "0", "kind": rng.choice(single)}

    def answer(self, scene: Scene, params: Params) -> str:
        return next(s.color for s in scene.shapes if s.kind == params["kind"])


@register_family
class ShapeOf(Family):
    name = "shape"
    capabilities = PERCEPTION
    answer_kind = "kind"
    templates = ("What shape is the {color} object?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        while True:  # until one colour appears exactly once
            scene = _board(rng, level)
            counts = Counter(s.color for s in scene.shapes)
            single = sorted(c for c, n in counts.items() if n == 1)
            if single:
                return scene, {"t": "0", "color": rng.choice(single)}

    def answer(self, scene: Scene, params: Params) -> str:
        return next(s.kind for s in scene.shapes if s.color == params["color"])


@register_family
class RelativePosition(Family):
    """Two shapes in the same row (left/right) or the same column (above/below): exactly one
    of the four directions is true."""

    name = "position"
    capabilities = PERCEPTION
    answer_kind = "direction"
    templates = ("Is the {color1} {kind1} left of, right of, above or below the {color2} {kind2}?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        while True:
            scene = _board(rng, level)
            pairs = [(a, b) for a in scene.shapes for b in scene.shapes
                     if a is not b and (a.row == b.row or a.col == b.col)]
            if pairs:
                a, b = rng.choice(pairs)
                return scene, {"t": "0", "color1": a.color, "kind1": a.kind, "color2": b.color, "kind2": b.kind}

    def answer(self, scene: Scene, params: Params) -> str:
        a = scene.find(params["color1"], params["kind1"])
        b = scene.find(params["color2"], params["kind2"])
        if a.row == b.row:
            return "left" if a.col < b.col else "right"
        return "above" if a.row < b.row else "below"


@register_family
class ReadNumber(Family):
    """Read the number written on one shape; numbers grow from one digit to two with level."""

    name = "read_number"
    capabilities = PERCEPTION
    answer_kind = "number"
    templates = ("What number is written on the {color} {kind}?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        scene = _board(rng, level, numbers=True)
        s = rng.choice(scene.shapes)
        return scene, {"t": "0", "color": s.color, "kind": s.kind}

    def answer(self, scene: Scene, params: Params) -> str:
        return str(scene.find(params["color"], params["kind"]).number)


@register_family
class BarValue(Family):
    """Read one bar's height off the chart's gridlines; the axis gets finer with level."""

    name = "bar_value"
    capabilities = PERCEPTION
    answer_kind = "number"
    templates = ("What is the value of the {color} bar?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        scene = random_chart(rng, level.bars, level.bar_max)
        return scene, {"t": "0", "color": rng.choice(scene.bars).color}

    def answer(self, scene: Scene, params: Params) -> str:
        return str(scene.bar(params["color"]).value)
