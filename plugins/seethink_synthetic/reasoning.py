"""Visual-reasoning families: arithmetic or comparison over what is drawn.

Each needs perception (find and read the objects) and a computation on top. The
same problems, stated in words with the facts in the prompt and no image, are
the textual-reasoning items.
"""

from __future__ import annotations

import random
from collections import Counter

from seethink_synthetic.families import Family, Params, register_family
from seethink_synthetic.levels import Level
from seethink_synthetic.scene import COLORS, KINDS, Scene, ShapeSpec, random_chart, random_shapes, shapes_with_counts

REASONING = ("visual_reasoning", "textual_reasoning")


@register_family
class SumNumbers(Family):
    """Add numbers written on shapes: two named shapes (levels 0-1), or every shape of one colour
    (levels 2-3, which first needs finding all of them among distractors)."""

    name = "sum_numbers"
    capabilities = REASONING
    answer_kind = "number"
    templates = ("What is the sum of the numbers on the {color1} {kind1} and the {color2} {kind2}?",
                 "What is the sum of the numbers on all the {color} shapes?")

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        spec = ShapeSpec(level.objects, level.grid, (1, level.number_max))
        while True:
            scene = random_shapes(rng, spec)
            if level.index < 2:
                a, b = rng.sample(scene.shapes, 2)
                return scene, {"t": "0", "color1": a.color, "kind1": a.kind, "color2": b.color, "kind2": b.kind}
            counts = Counter(s.color for s in scene.shapes)
            groups = sorted(c for c, n in counts.items() if n >= 2)
            if groups:
                return scene, {"t": "1", "color": rng.choice(groups)}

    def answer(self, scene: Scene, params: Params) -> str:
        if params["t"] == "0":
            a = scene.find(params["color1"], params["kind1"])
            b = scene.find(params["color2"], params["kind2"])
            return str((a.number or 0) + (b.number or 0))
        return str(sum(s.number or 0 for s in scene.shapes if s.color == params["color"]))

    def reasoning(self, scene: Scene, params: Params) -> str:
        if params["t"] == "0":
            values = [scene.find(params["color1"], params["kind1"]).number or 0,
                      scene.find(params["color2"], params["kind2"]).number or 0]
        else:
            values = [s.number or 0 for s in scene.shapes if s.color == params["color"]]
        return f"{'+'.join(map(str, values))}={sum(values)}"


@register_family
class CountDifference(Family):
    name = "count_difference"
    capabilities = REASONING
    answer_kind = "number"
    templates = ("How many more {kind1}s than {kind2}s are there?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        # Draw the answer first (the difference, spread evenly), then a scene that has it.
        spec = ShapeSpec(level.objects, level.grid)
        k1, k2 = rng.sample(KINDS, 2)
        diff = rng.randint(1, min(len(COLORS), level.objects))
        small = rng.randint(0, min(len(COLORS) - diff, (level.objects - diff) // 2))
        big = small + diff
        scene = shapes_with_counts(rng, spec, "kind", {k1: big, k2: small})
        return scene, {"t": "0", "kind1": k1, "kind2": k2}

    def answer(self, scene: Scene, params: Params) -> str:
        counts = Counter(s.kind for s in scene.shapes)
        return str(counts[params["kind1"]] - counts[params["kind2"]])

    def reasoning(self, scene: Scene, params: Params) -> str:
        counts = Counter(s.kind for s in scene.shapes)
        a, b = counts[params["kind1"]], counts[params["kind2"]]
        return f"{a}-{b}={a - b}"


@register_family
class EmptyCells(Family):
    """Cells left empty: count the shapes (perception), then grid area minus the count (arithmetic).
    The question states the grid's size, since the picture draws no grid lines."""

    name = "empty_cells"
    capabilities = REASONING
    answer_kind = "number"
    templates = ("The picture is a {side} by {side} grid. How many of its cells are empty?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        n = rng.randint(1, min(level.objects + 1, level.grid * level.grid - 1))
        return random_shapes(rng, ShapeSpec(n, level.grid)), {"t": "0", "side": str(level.grid)}

    def answer(self, scene: Scene, params: Params) -> str:
        return str(scene.grid * scene.grid - len(scene.shapes))

    def reasoning(self, scene: Scene, params: Params) -> str:
        cells, n = scene.grid * scene.grid, len(scene.shapes)
        return f"{cells}-{n}={cells - n}"


@register_family
class BarDifference(Family):
    name = "bar_difference"
    capabilities = REASONING
    answer_kind = "number"
    templates = ("How much greater is the value of the {color1} bar than the value of the {color2} bar?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        while True:
            scene = random_chart(rng, level.bars, level.bar_max)
            pairs = [(a, b) for a in scene.bars for b in scene.bars if a.value > b.value]
            if pairs:
                a, b = rng.choice(pairs)
                return scene, {"t": "0", "color1": a.color, "color2": b.color}

    def answer(self, scene: Scene, params: Params) -> str:
        return str(scene.bar(params["color1"]).value - scene.bar(params["color2"]).value)

    def reasoning(self, scene: Scene, params: Params) -> str:
        a, b = scene.bar(params["color1"]).value, scene.bar(params["color2"]).value
        return f"{a}-{b}={a - b}"


@register_family
class BarTotal(Family):
    name = "bar_total"
    capabilities = REASONING
    answer_kind = "number"
    templates = ("What is the total of the values of all the bars?",)

    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        return random_chart(rng, level.bars, level.bar_max), {"t": "0"}

    def answer(self, scene: Scene, params: Params) -> str:
        return str(sum(b.value for b in scene.bars))

    def reasoning(self, scene: Scene, params: Params) -> str:
        values = [b.value for b in scene.bars]
        return f"{'+'.join(map(str, values))}={sum(values)}"
