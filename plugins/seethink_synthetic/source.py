"""The ``synthetic`` data source: samples of the shape world, generated on demand.

Sample ``i`` depends only on (seed, i): its own RNG is seeded from both, so the
source has random access (``get``), its difficulty is known without drawing the
image (``difficulty_at``), and any sample is reproduced byte for byte.

Draw order inside one sample's RNG: task unit, level, MCQ coin, then the scene
and question. ``difficulty_at`` replays only the first two draws.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from seethink_core.errors import DataError
from seethink_core.types.sample import Sample
from seethink_synthetic import facts as facts_mod
from seethink_synthetic.families import Family, families, format_choices, multiple_choice
from seethink_synthetic.levels import LEVELS, difficulty_of
from seethink_synthetic.options import LEVEL_COUNT, SyntheticOptions
from seethink_synthetic.render import render
from seethink_synthetic.scene import Scene

SOURCE_NAME = "synthetic"
COLUMNS = frozenset({"id", "prompt", "images", "answer", "capability", "difficulty", "facts", "source", "meta"})

assert LEVEL_COUNT == len(LEVELS), "options.LEVEL_COUNT must match levels.LEVELS"


@dataclass(frozen=True)
class Problem:
    """Everything sample ``i`` is made of, before it is drawn and worded."""

    index: int
    family: Family
    capability: str
    level: int
    mcq: bool
    scene: Scene
    params: dict[str, str]
    rng: random.Random  # positioned after the scene draws; used for MCQ options


class SyntheticSource:
    columns = COLUMNS

    def __init__(self, options: SyntheticOptions, seed: int):
        self.options = options
        self.seed = options.seed if options.seed is not None else seed
        known = families()
        wanted = options.families or sorted(known)
        unknown = [f for f in wanted if f not in known]
        if unknown:
            raise DataError(f"synthetic: unknown famil{'ies' if len(unknown) > 1 else 'y'} "
                            f"{', '.join(repr(u) for u in unknown)}", hint=f"known: {', '.join(sorted(known))}")
        # A unit is one (family, capability) pair; reasoning families give two.
        self.units = [(known[f], cap) for f in wanted for cap in known[f].capabilities
                      if options.capability in (None, cap)]
        if not self.units:
            raise DataError(f"synthetic: none of the families {', '.join(wanted)} gives capability "
                            f"'{options.capability}'")
        self.mcq_fraction = float(options.mcq)

    def size(self) -> int:
        return self.options.count

    def __len__(self) -> int:
        return self.options.count

    def __iter__(self) -> Iterator[Sample]:
        for i in range(self.options.count):
            yield self.get(i)

    def _head(self, i: int) -> tuple[random.Random, int, int]:
        rng = random.Random(f"seethink-synthetic:{self.seed}:{i}")
        unit = rng.randrange(len(self.units))
        level = self.options.level if isinstance(self.options.level, int) else rng.randrange(LEVEL_COUNT)
        return rng, unit, level

    def id_at(self, i: int) -> str:
        return f"synthetic-{self.seed}-{i}"

    def difficulty_at(self, i: int) -> float:
        return difficulty_of(self._head(i)[2])

    def problem_at(self, i: int) -> Problem:
        if not 0 <= i < self.options.count:
            raise IndexError(i)
        rng, unit, level = self._head(i)
        family, capability = self.units[unit]
        mcq = rng.random() < self.mcq_fraction
        scene, params = family.make(rng, LEVELS[level])
        return Problem(i, family, capability, level, mcq, scene, params, rng)

    def get(self, i: int) -> Sample:
        p = self.problem_at(i)
        question = p.family.question(p.params)
        value = p.family.answer(p.scene, p.params)
        meta: dict[str, Any] = {"family": p.family.name, "level": p.level, "params": dict(p.params),
                                "value": value, "scene_kind": "chart" if p.scene.is_chart else "shapes",
                                "reasoning": p.family.reasoning(p.scene, p.params)}
        answer = value
        if p.mcq:
            choices = multiple_choice(value, p.family.answer_kind, p.rng)
            question = format_choices(question, choices.options)
            meta["choices"] = choices.options
            answer = choices.letter
        facts = facts_mod.describe(p.scene)
        if p.capability == "textual_reasoning":
            # Exactly what the facts pass asks of its visual twin (facts, then the question), so "reasoning
            # from the gold facts" is measured on the prompt textual reasoning was trained on.
            prompt, images = f"{facts}\n{question}", []
        else:
            prompt, images = question, [render(p.scene, self.options.image_size)]
        return Sample(id=self.id_at(i), prompt=prompt, images=images, answer=answer,
                      capability=p.capability, difficulty=difficulty_of(p.level), facts=facts,
                      source=SOURCE_NAME, meta=meta)


def in_words(facts: str) -> str:
    # The tokenizer corpus's framing of a scene in words (corpus.py); the samples no longer use it.
    return "Consider this picture, described in words.\n" + facts


def open_synthetic(options: SyntheticOptions, *, seed: int, mapping: dict[str, str] | None = None) -> SyntheticSource:
    if mapping:
        raise DataError("synthetic: this source generates its own fields; it takes no field mapping")
    return SyntheticSource(options, seed)
