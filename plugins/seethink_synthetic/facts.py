"""The scene as text (gold ``facts``), and back.

``describe`` is what a model reading the facts sees; it says everything a question
needs. ``parse`` reads that text back into a ``Scene``: tests use it to show the
facts alone are enough to answer every question.
"""

from __future__ import annotations

import re

from seethink_synthetic.scene import Bar, Scene, Shape


def describe(scene: Scene) -> str:
    if scene.is_chart:
        lines = [f"A bar chart with {len(scene.bars)} bars, from left to right "
                 f"(the axis runs from 0 to {scene.bar_max}):"]
        lines += [f"- the {b.color} bar has value {b.value}" for b in scene.bars]
        return "\n".join(lines)
    # The header gives no count: how many shapes there are is for the reader to work out, as it is
    # for a model looking at the picture (textual questions about counts would otherwise be a copy).
    lines = [f"A {scene.grid} by {scene.grid} grid (row 1 is the top, column 1 is the left) with these shapes:"]
    for s in scene.shapes:
        number = f" with the number {s.number} on it" if s.number is not None else ""
        lines.append(f"- a {s.size} {s.color} {s.kind}{number} in row {s.row + 1}, column {s.col + 1}")
    return "\n".join(lines)


_GRID = re.compile(r"^A (\d+) by \d+ grid")
_SHAPE = re.compile(r"^- a (\w+) (\w+) (\w+)(?: with the number (\d+) on it)? in row (\d+), column (\d+)$")
_CHART = re.compile(r"the axis runs from 0 to (\d+)")
_BAR = re.compile(r"^- the (\w+) bar has value (\d+)$")


def parse(text: str) -> Scene:
    lines = text.splitlines()
    if m := _CHART.search(lines[0]):
        bars = tuple(Bar(b[1], int(b[2])) for b in map(_BAR.match, lines[1:]) if b)
        return Scene(grid=0, bars=bars, bar_max=int(m[1]))
    m = _GRID.match(lines[0])
    if m is None:
        raise ValueError(f"not a shape-world description: {lines[0]!r}")
    shapes = []
    for line in lines[1:]:
        s = _SHAPE.match(line)
        if s is None:
            raise ValueError(f"unreadable fact line: {line!r}")
        shapes.append(Shape(s[3], s[2], s[1], int(s[5]) - 1, int(s[6]) - 1,
                            int(s[4]) if s[4] is not None else None))
    return Scene(grid=int(m[1]), shapes=tuple(shapes))
