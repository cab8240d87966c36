"""Task families: the registry, the base class, and multiple-choice options.

A family is one small class: it builds a scene for a difficulty level, picks
question parameters, states the question from a template, and computes the
answer from the scene graph. Because questions come from templates, the same
templates parse a question back into parameters, so a solver that reads the
facts can answer without ever seeing the generator's internals.

Adding a family: subclass ``Family`` in any module, decorate it with
``@register_family``, and add that module to ``ALL_MODULES`` below.
"""

from __future__ import annotations

import importlib
import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from seethink_synthetic.levels import Level
from seethink_synthetic.scene import COLORS, KINDS, Scene

Params = dict[str, str]

DIRECTIONS = ("left", "right", "above", "below")
ANSWER_KINDS = ("number", "color", "kind", "direction")


class Family(ABC):
    """One kind of question. Subclasses set the class attributes and implement ``make`` and ``answer``."""

    name: ClassVar[str]
    capabilities: ClassVar[tuple[str, ...]]  # "perception", or the reasoning pair
    answer_kind: ClassVar[str]  # one of ANSWER_KINDS: decides multiple-choice distractors
    templates: ClassVar[tuple[str, ...]]  # question text with {param} fields

    @abstractmethod
    def make(self, rng: random.Random, level: Level) -> tuple[Scene, Params]:
        """A scene for ``level`` and the parameters of a question about it (template index in "t")."""

    @abstractmethod
    def answer(self, scene: Scene, params: Params) -> str:
        """The answer, computed from the scene graph alone."""

    def reasoning(self, scene: Scene, params: Params) -> str:
        """A short worked solution (what was read, then the computation): the `<think>` text of a
        supervised warm-up, so a tiny model learns a brief, checkable trace. Default: the answer."""
        return self.answer(scene, params)

    # -- shared behaviour --------------------------------------------------------------------

    def question(self, params: Params) -> str:
        t = int(params["t"])
        return self.templates[t].format(**{k: v for k, v in params.items() if k != "t"})

    def parse(self, text: str) -> Params | None:
        """The parameters of the question found in ``text``, or ``None``."""
        for t, pattern in enumerate(_patterns(type(self))):
            if m := pattern.search(text):
                return {"t": str(t), **m.groupdict()}
        return None

    def solve(self, scene: Scene, text: str) -> str | None:
        params = self.parse(text)
        return None if params is None else self.answer(scene, params)


_PATTERN_CACHE: dict[type, list[re.Pattern[str]]] = {}


def _field_regex(name: str, seen: set[str]) -> str:
    """A field's group: the closed vocabularies (kinds, colours) match only their own words, so
    "How many shapes are there?" is not read as a count of kind "shape"; a field named again in the
    same template must repeat what it matched the first time ("a {side} by {side} grid")."""
    if name in seen:
        return f"(?P={name})"
    seen.add(name)
    for prefix, words in (("kind", KINDS), ("color", COLORS)):
        if name.startswith(prefix):
            return f"(?P<{name}>{'|'.join(words)})"
    return f"(?P<{name}>\\w+?)"


def _patterns(cls: type[Family]) -> list[re.Pattern[str]]:
    if cls not in _PATTERN_CACHE:
        pats = []
        for template in cls.templates:
            # Fields become named word groups; everything else is literal text.
            parts = re.split(r"\{(\w+)\}", template)
            seen: set[str] = set()
            regex = "".join(re.escape(p) if i % 2 == 0 else _field_regex(p, seen) for i, p in enumerate(parts))
            pats.append(re.compile("^" + regex + "$", re.MULTILINE))
        _PATTERN_CACHE[cls] = pats
    return _PATTERN_CACHE[cls]


FAMILIES: dict[str, Family] = {}


def register_family(cls: type[Family]) -> type[Family]:
    if cls.name in FAMILIES:
        raise ValueError(f"synthetic family '{cls.name}' is defined twice")
    FAMILIES[cls.name] = cls()
    return cls


# Modules whose import registers families; a new module goes here.
ALL_MODULES = ("seethink_synthetic.perception", "seethink_synthetic.reasoning")


def families() -> dict[str, Family]:
    for module in ALL_MODULES:
        importlib.import_module(module)
    return FAMILIES


@dataclass(frozen=True)
class Choices:
    options: list[str]
    letter: str


LETTERS = "ABCD"


def multiple_choice(answer: str, kind: str, rng: random.Random) -> Choices:
    """Four options: the answer and three plausible distractors, the answer at a random letter."""
    if kind == "number":
        value = int(answer)
        near = [value + d for d in (-4, -3, -2, -1, 1, 2, 3, 4) if value + d >= 0]
        wrong = [str(v) for v in rng.sample(near, 3)]
    else:
        pool = {"color": COLORS, "kind": KINDS, "direction": DIRECTIONS}[kind]
        wrong = rng.sample([v for v in pool if v != answer], 3)
    options = wrong[:]
    at = rng.randrange(4)
    options.insert(at, answer)
    return Choices(options, LETTERS[at])


def format_choices(question: str, options: list[str]) -> str:
    lines = [question, "Options:"] + [f"{LETTERS[i]}: {o}" for i, o in enumerate(options)]
    lines.append("Answer with the letter of the correct option.")
    return "\n".join(lines)
