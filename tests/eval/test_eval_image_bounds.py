"""Evaluation of a phase bounds its images as the phase trains on them; an unbounded one calls as before."""

from __future__ import annotations

import json

from eval_doubles import ScriptedGenerator

from seethink_core.hooks.backend import Checkpoint
from seethink_core.run.eval_types import EvalSettings
from seethink_core.run.evaluation import run_eval
from seethink_core.samples.images import ImageBounds
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import Budget, DataRef, EvalSpec, Phase, RewardRef


class BoundsRecorder(ScriptedGenerator):
    """The scripted generator, noting the ``image_bounds`` of every call (absent: not passed at all)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.bounds: list[object] = []

    def generate(self, model, samples, **kw):  # type: ignore[override]
        self.bounds.append(kw.pop("image_bounds", "absent"))
        return super().generate(model, samples, **kw)


def phase(**algo) -> Phase:
    return Phase(index=0, name="p", stages=["p"], capabilities=["perception"], model="m", init_from="base",
                 method="grpo", algorithm=GRPOOptions(**algo), data=[], rewards=[RewardRef("accuracy", 1.0)],
                 budget=Budget(steps=1), eval=EvalSpec(sets=[DataRef("evaltoy", {"count": 6})]))


def run(registry, gen, tmp_path, p: Phase) -> dict:
    out = tmp_path / f"{p.algorithm.max_pixels}.json"
    run_eval(None, p, Checkpoint("m"), gen, registry, out, label="x", settings=EvalSettings(reward_timeout=None))
    return json.loads(out.read_text())


def test_a_phase_with_bounds_evaluates_with_them(eval_plugins, tmp_path):
    gen = BoundsRecorder()
    data = run(eval_plugins.registry, gen, tmp_path, phase(min_pixels=1000, max_pixels=9000))
    image_calls = [b for b, c in zip(gen.bounds, gen.calls) if not c["use_facts"]]
    assert image_calls and all(b == ImageBounds(1000, 9000) for b in image_calls)
    assert data["settings"]["min_pixels"] == 1000 and data["settings"]["max_pixels"] == 9000


def test_a_phase_without_bounds_calls_the_generator_as_before(eval_plugins, tmp_path):
    gen = BoundsRecorder()
    data = run(eval_plugins.registry, gen, tmp_path, phase())
    assert gen.bounds and set(gen.bounds) == {"absent"}  # a generator that predates image_bounds keeps working
    assert "min_pixels" not in data["settings"] and "max_pixels" not in data["settings"]
