"""Test doubles for evaluation: a scripted generator and a toy eval set with gold facts.

The generator answers in the reference format (``<think>…</think> \\boxed{…}``) and records every
decision it made, so tests can compute the expected metrics without the evaluation code.
"""

from __future__ import annotations

import random
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seethink_core.hooks.backend import Checkpoint, Completion
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import DataSourceSpec
from seethink_core.types.options import opt
from seethink_core.types.sample import Sample

CAPS = ("perception", "visual_reasoning", "textual_reasoning")


def coin(model: str, sample: Sample, j: int, p: float = 0.5) -> bool:
    """A seeded coin per (model, sample, completion): 'random from images', yet reproducible."""
    return random.Random(f"{model}|{sample.id}|{j}").random() < p


@dataclass
class ScriptedGenerator:
    """Right from the facts when ``facts_right`` says so (default: always); from the image when
    ``image_right`` says so (default: a fair seeded coin). Lengths come from ``length``."""

    image_right: Callable[[str, Sample, int], bool] = coin
    facts_right: Callable[[Sample], bool] = lambda s: True
    length: Callable[[Sample, int], int] = lambda s, j: 10 + j
    wellformed: bool = True

    def __post_init__(self) -> None:
        self.decisions: dict[tuple[str, str, bool, int], bool] = {}  # (model, id, use_facts, j) -> right
        self.calls: list[dict] = []

    def generate(self, model: Checkpoint, samples: Sequence[Sample], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256, prompt_template: str | None = None,
                 use_facts: bool = False, system_prompt: str | None = None) -> list[list[Completion]]:
        self.calls.append({"n": n, "temperature": temperature, "use_facts": use_facts, "count": len(samples),
                           "max_new_tokens": max_new_tokens, "template": prompt_template, "top_p": top_p,
                           "system": system_prompt})
        out = []
        for s in samples:
            group = []
            for j in range(n):
                right = self.facts_right(s) if use_facts else self.image_right(model.path, s, j)
                self.decisions[(model.path, s.id, use_facts, j)] = right
                answer = s.answer if right else f"not {s.answer}"
                text = f"<think>look</think> \\boxed{{{answer}}}" if self.wellformed else answer
                group.append(Completion(text, self.length(s, j)))
            out.append(group)
        return out


@dataclass(frozen=True)
class EvalToyOptions:
    count: int = opt(30, min=1)
    with_facts: bool = opt(True, doc="give perception and visual-reasoning items gold facts")


class EvalToySource:
    """Items i = 0..count-1; capability cycles through CAPS; textual items never have facts."""

    columns = frozenset({"prompt", "answer", "capability", "images", "facts", "source"})

    def __init__(self, options: EvalToyOptions, *, seed: int, mapping: dict[str, str] | None = None):
        self.options = options
        self.seed = seed

    def __iter__(self):
        for i in range(self.options.count):
            cap = CAPS[i % 3]
            facts = f"there are {i} dots" if self.options.with_facts and cap != "textual_reasoning" else None
            # Perception and visual items show a picture (raw bytes: the scripted backends never decode it);
            # only a sample with a picture gets a facts pass.
            images = [] if cap == "textual_reasoning" else [b"dots"]
            yield Sample(id=f"e{self.seed}-{i}", prompt=f"how many dots? ({i})", answer=str(i), capability=cap,
                         images=images, facts=facts, source="evaltoy")

    def size(self) -> int:
        return self.options.count


def eval_plugin() -> types.SimpleNamespace:
    def register_data_sources(register):
        register(DataSourceSpec(name="evaltoy", options=EvalToyOptions, factory=EvalToySource,
                                columns=EvalToySource.columns))

    ns = types.SimpleNamespace(__name__="eval_test_plugin")
    ns.register_data_sources = hookimpl(register_data_sources)
    return ns
