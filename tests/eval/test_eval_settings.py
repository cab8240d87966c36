"""Eval settings reach the generator as written, and eval.json records what generation really used."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from eval_doubles import ScriptedGenerator

from seethink_core.hooks.backend import Checkpoint, Completion
from seethink_core.run.eval_types import EvalError, EvalSettings
from seethink_core.run.evaluation import run_eval
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import Budget, DataRef, EvalSpec, Phase, RewardRef
from seethink_core.types.sample import Sample

INLINE = EvalSettings(reward_timeout=None)
REWARDS = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]
SET = DataRef("evaltoy", {"count": 9})


def run(registry, gen, tmp_path, spec: EvalSpec, phase: Phase | None = None, **kw) -> dict:
    out = tmp_path / "eval.json"
    run_eval(None, phase, Checkpoint("m"), gen, registry, out, label="x", spec=spec, rewards=REWARDS,
             settings=INLINE, **kw)
    return json.loads(out.read_text())["settings"]


def phase(prompt: str | None, system: str | None = None) -> Phase:
    return Phase(index=0, name="p", stages=["p"], capabilities=[], model="m", init_from="base", method="grpo",
                 algorithm=GRPOOptions(), data=[], rewards=REWARDS, budget=Budget(steps=1), prompt=prompt,
                 system=system)


def test_sampling_settings_and_the_system_prompt_reach_the_generator(eval_plugins, tmp_path):
    gen = ScriptedGenerator()
    spec = EvalSpec(sets=[SET], greedy=False, n=3, temperature=0.6, top_p=0.95, system="Sys: {question|trim}",
                    prompt="{question} Go.")
    settings = run(eval_plugins.registry, gen, tmp_path, spec)
    image, facts = [c for c in gen.calls if not c["use_facts"]], [c for c in gen.calls if c["use_facts"]]
    assert [(c["n"], c["temperature"], c["top_p"], c["system"], c["template"]) for c in image] == [
        (3, 0.6, 0.95, "Sys: {question|trim}", "{question} Go.")]
    # the facts pass is greedy whatever the settings, and asked the same way
    assert [(c["n"], c["temperature"], c["top_p"], c["system"]) for c in facts] == [(1, 0.0, 1.0,
                                                                                     "Sys: {question|trim}")]
    assert {k: settings[k] for k in ("greedy", "n", "temperature", "top_p", "system", "template")} == {
        "greedy": False, "n": 3, "temperature": 0.6, "top_p": 0.95, "system": "Sys: {question|trim}",
        "template": "{question} Go."}


def test_greedy_uses_one_completion_at_temperature_zero_and_records_that(eval_plugins, tmp_path):
    gen = ScriptedGenerator()
    spec = EvalSpec(sets=[SET], greedy=True, n=4, temperature=0.6, top_p=0.9)  # a hand-written plan
    settings = run(eval_plugins.registry, gen, tmp_path, spec)
    assert {(c["n"], c["temperature"], c["top_p"], c["system"]) for c in gen.calls} == {(1, 0.0, 1.0, None)}
    assert (settings["n"], settings["temperature"], settings["top_p"], settings["system"]) == (1, 0.0, 1.0, None)


@pytest.mark.parametrize("spec_prompt, template, used", [
    (None, None, "P {question}"),  # a plan written before eval prompts: the phase's
    ("E {question}", None, "E {question}"),
    ("E {question}", "X {question}", "X {question}"),  # `seethink eval --prompt`
])
def test_which_template_evaluation_uses(eval_plugins, tmp_path, spec_prompt, template, used):
    gen = ScriptedGenerator()
    settings = run(eval_plugins.registry, gen, tmp_path, EvalSpec(sets=[SET], prompt=spec_prompt),
                   phase=phase("P {question}", system="train system"), template=template)
    assert {c["template"] for c in gen.calls} == {used} and settings["template"] == used
    assert {c["system"] for c in gen.calls} == {None}  # the spec's (the compiler fills in the phase's)


class NoSystemGenerator:
    """A generator plugin written before system prompts: no ``system_prompt`` parameter."""

    def generate(self, model: Checkpoint, samples: Sequence[Sample], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256, prompt_template: str | None = None,
                 use_facts: bool = False) -> list[list[Completion]]:
        return [[Completion(f"<think>x</think> \\boxed{{{s.answer}}}", 5)] * n for s in samples]


def test_a_generator_without_system_prompts_still_evaluates_without_one(eval_plugins, tmp_path):
    settings = run(eval_plugins.registry, NoSystemGenerator(), tmp_path, EvalSpec(sets=[SET]))
    assert settings["system"] is None
    with pytest.raises(EvalError, match="system_prompt"):
        run(eval_plugins.registry, NoSystemGenerator(), tmp_path, EvalSpec(sets=[SET], system="S"))
