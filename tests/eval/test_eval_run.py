"""``run_eval`` end to end with a scripted generator: the split, lengths, pass@k, eval.json, errors."""

from __future__ import annotations

import json
import statistics

import pytest
from eval_doubles import CAPS, ScriptedGenerator

from seethink_core.errors import PluginError
from seethink_core.hooks.backend import Checkpoint
from seethink_core.run.eval_types import EvalError, EvalSettings
from seethink_core.run.evaluation import run_eval
from seethink_core.types.plan import DataRef, EvalSpec, RewardRef

INLINE = EvalSettings(reward_timeout=None)  # grade in this thread: fast and deterministic
REWARDS = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]


def spec(count=30, **kw) -> EvalSpec:
    return EvalSpec(sets=[DataRef("evaltoy", {"count": count})], **kw)


def evaluate(registry, gen, tmp_path, s=None, **kw):
    return run_eval(None, None, Checkpoint("model-a"), gen, registry, tmp_path / "eval.json", label="x",
                    spec=s or spec(), rewards=REWARDS, settings=INLINE, **kw)


def test_right_from_facts_random_from_images_gives_exactly_the_perception_split(eval_plugins, tmp_path):
    gen = ScriptedGenerator()  # always right from the facts, a seeded coin from the image
    metrics = evaluate(eval_plugins.registry, gen, tmp_path)
    ids_with_facts = [f"e7919-{i}" for i in range(30) if CAPS[i % 3] != "textual_reasoning"]
    wrong = [i for i in ids_with_facts if not gen.decisions[("model-a", i, False, 0)]]
    assert 0 < len(wrong) < len(ids_with_facts)  # the coin gives both outcomes
    assert metrics["split.samples"] == len(ids_with_facts) == 20
    assert metrics["split.perception_errors"] == len(wrong)
    assert metrics["split.reasoning_errors"] == 0
    assert metrics["split.perception_share"] == 1.0 and metrics["split.facts_accuracy"] == 1.0
    # the facts pass ran once, greedy, only on the samples with facts
    facts_calls = [c for c in gen.calls if c["use_facts"]]
    assert [(c["count"], c["temperature"], c["n"]) for c in facts_calls] == [(20, 0.0, 1)]


def test_mixed_errors_split_by_what_the_facts_pass_got(eval_plugins, tmp_path):
    gen = ScriptedGenerator(image_right=lambda m, s, j: False, facts_right=lambda s: int(s.answer) % 2 == 0)
    metrics = evaluate(eval_plugins.registry, gen, tmp_path)
    with_facts = [i for i in range(30) if CAPS[i % 3] != "textual_reasoning"]
    perception = sum(i % 2 == 0 for i in with_facts)
    assert metrics["split.perception_errors"] == perception == 10
    assert metrics["split.reasoning_errors"] == len(with_facts) - perception == 10
    assert metrics["split.perception_share"] == 0.5
    assert metrics["accuracy"] == 0.0 and metrics["format_rate"] == 1.0


def test_known_lengths_give_the_known_statistics(eval_plugins, tmp_path):
    gen = ScriptedGenerator(length=lambda s, j: 3 * int(s.answer) + 1)
    metrics = evaluate(eval_plugins.registry, gen, tmp_path)
    lengths = [3 * i + 1 for i in range(30)]
    assert metrics["length.mean"] == statistics.mean(lengths) == 44.5
    assert metrics["length.median"] == statistics.median(lengths) == 44.5
    assert metrics["length.max"] == 88
    perception = [3 * i + 1 for i in range(0, 30, 3)]
    assert metrics["length.capability.perception"] == statistics.mean(perception)


def test_accuracy_per_capability_and_set_match_the_decisions(eval_plugins, tmp_path):
    gen = ScriptedGenerator()
    metrics = evaluate(eval_plugins.registry, gen, tmp_path)
    right = {i: gen.decisions[("model-a", f"e7919-{i}", False, 0)] for i in range(30)}
    assert metrics["accuracy"] == pytest.approx(sum(right.values()) / 30)
    for k, cap in enumerate(CAPS):
        share = sum(right[i] for i in range(k, 30, 3)) / 10
        assert metrics[f"accuracy.capability.{cap}"] == pytest.approx(share)
    assert metrics["accuracy.set.evaltoy"] == metrics["accuracy"]


def test_sampled_eval_reports_pass_at_k(eval_plugins, tmp_path):
    gen = ScriptedGenerator(image_right=lambda m, s, j: j == 0 and int(s.answer) % 2 == 0)
    metrics = evaluate(eval_plugins.registry, gen, tmp_path, s=spec(count=10, greedy=False, n=4, temperature=0.7))
    assert gen.calls[0]["n"] == 4 and gen.calls[0]["temperature"] == 0.7
    assert metrics["pass@4"] == 0.5  # half the samples have one right completion of four
    assert metrics["pass@1"] == pytest.approx(0.5 * 0.25)
    assert metrics["mean@4"] == metrics["accuracy"] == pytest.approx(0.125)


def test_eval_json_holds_metrics_settings_and_examples(eval_plugins, tmp_path):
    gen = ScriptedGenerator()
    logged = []
    metrics = evaluate(eval_plugins.registry, gen, tmp_path, s=spec(max_samples=9, max_response_tokens=64),
                       step=5, log=lambda step, m: logged.append((step, m)))
    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["metrics"] == metrics and data["samples"] == 9 and data["step"] == 5
    assert data["sets"] == [{"name": "evaltoy", "samples": 9}]
    assert data["settings"]["max_new_tokens"] == 64 and gen.calls[0]["max_new_tokens"] == 64
    assert data["settings"]["rewards"] == ["accuracy", "format"] and data["phase"] is None
    assert len(data["examples"]) == 8
    ex = data["examples"][1]
    assert ex["id"] == "e7919-1" and ex["answer"] == "1" and ex["completion"].startswith("<think>")
    assert ex["error_kind"] in (None, "perception")
    assert logged == [(5, metrics)]


def test_nothing_to_evaluate_writes_nothing(eval_plugins, tmp_path):
    assert run_eval(None, None, Checkpoint("m"), ScriptedGenerator(), eval_plugins.registry, tmp_path / "e.json",
                    label="x", spec=EvalSpec()) == {}
    assert not (tmp_path / "e.json").exists()


def test_a_backend_that_returns_the_wrong_shape_is_named(eval_plugins, tmp_path):
    class Short(ScriptedGenerator):
        def generate(self, model, samples, **kw):
            return super().generate(model, samples, **kw)[:-1]

    with pytest.raises(EvalError, match=r"returned 29 completion lists of sizes \[1\] for 30 samples and n=1"):
        evaluate(eval_plugins.registry, Short(), tmp_path)


def test_an_unknown_evaluator_gets_did_you_mean(eval_plugins, tmp_path):
    with pytest.raises(PluginError, match="unknown evaluator 'acuracy'") as e:
        evaluate(eval_plugins.registry, ScriptedGenerator(), tmp_path, s=spec(evaluators=["acuracy"]))
    assert "did you mean 'accuracy'" in str(e.value)


def test_only_named_evaluators_run_and_facts_pass_is_skipped_without_the_split(eval_plugins, tmp_path):
    gen = ScriptedGenerator()
    metrics = evaluate(eval_plugins.registry, gen, tmp_path, s=spec(evaluators=["length"]))
    assert set(metrics) == {"length.mean", "length.median", "length.max"} | {
        f"length.capability.{c}" for c in CAPS}
    assert not any(c["use_facts"] for c in gen.calls)


def test_correctness_needs_a_known_component(eval_plugins, tmp_path):
    with pytest.raises(EvalError, match="no reward component 'exact'"):
        run_eval(None, None, Checkpoint("m"), ScriptedGenerator(), eval_plugins.registry, tmp_path / "e.json",
                 label="x", spec=spec(), rewards=REWARDS, settings=EvalSettings(correctness="exact",
                                                                                reward_timeout=None))


def test_the_same_source_twice_is_reported_as_two_sets(eval_plugins, tmp_path):
    s = EvalSpec(sets=[DataRef("evaltoy", {"count": 3}), DataRef("evaltoy", {"count": 6})])
    metrics = evaluate(eval_plugins.registry, ScriptedGenerator(), tmp_path, s=s)
    assert metrics["samples.set.evaltoy"] == 3 and metrics["samples.set.evaltoy_2"] == 6
    assert json.loads((tmp_path / "eval.json").read_text())["sets"] == [{"name": "evaltoy", "samples": 3},
                                                                         {"name": "evaltoy_2", "samples": 6}]


def test_eval_sets_are_the_same_items_for_every_checkpoint(eval_plugins, tmp_path):
    """Row 0 and every phase row score the same items: the seed is the plan's, not the phase's."""
    gen = ScriptedGenerator()
    for model in ("base", "after-phase"):
        run_eval(None, None, Checkpoint(model), gen, eval_plugins.registry, tmp_path / f"{model}.json",
                 label=model, spec=spec(count=4), rewards=REWARDS, settings=INLINE)
    ids = {m: sorted(i for (mm, i, facts, _j) in gen.decisions if mm == m and not facts)
           for m in ("base", "after-phase")}
    assert ids["base"] == ids["after-phase"] == [f"e7919-{i}" for i in range(4)]


def test_in_phase_evaluation_runs_only_when_due(eval_plugins, tmp_path):
    from seethink_core.run.evaluation import eval_due, step_evaluator
    from seethink_core.types.methods import GRPOOptions
    from seethink_core.types.plan import BackendRef, Budget, Phase, TrainingPlan

    every = spec(count=3, every_steps=5)
    phase = Phase(index=0, name="p", stages=["p"], capabilities=["perception"], model="m", init_from="base",
                  method="grpo", algorithm=GRPOOptions(max_response_tokens=24), data=[DataRef("evaltoy")],
                  rewards=REWARDS, budget=Budget(steps=10), eval=every)
    plan = TrainingPlan("c", "m", BackendRef("scripted"), [phase])
    assert [s for s in range(0, 16) if eval_due(every, s)] == [5, 10, 15]
    assert not eval_due(spec(count=3), 5) and not eval_due(None, 5)
    logged = []
    fn = step_evaluator(plan, phase, ScriptedGenerator(), eval_plugins.registry, tmp_path,
                        log=lambda step, m: logged.append(step), settings=INLINE)
    assert fn(4, Checkpoint("mid")) == {}
    assert fn(5, Checkpoint("mid", "p"))["samples"] == 3
    data = json.loads((tmp_path / "eval" / "step-000005.json").read_text())
    assert (data["label"], data["step"], data["phase"], data["phase_index"]) == ("p@5", 5, "p", 0)
    assert data["settings"]["max_new_tokens"] == 24 and logged == [5]


def test_the_generation_limit_falls_back_to_the_plans_not_a_default():
    from seethink_core.run.eval_scoring import max_new_tokens
    from seethink_core.types.methods import GRPOOptions, SFTOptions
    from seethink_core.types.plan import BackendRef, Budget, Phase, TrainingPlan

    def phase(i, method, algo):
        return Phase(index=i, name=f"p{i}", stages=[f"p{i}"], capabilities=[], model="m", init_from="base",
                     method=method, algorithm=algo, data=[DataRef("evaltoy")], rewards=[], budget=Budget(steps=1))

    warm, rl = phase(0, "sft", SFTOptions(max_tokens=24)), phase(1, "grpo", GRPOOptions(max_response_tokens=32))
    plan = TrainingPlan("c", "m", BackendRef("local"), [warm, rl])
    # The base model is evaluated for the SFT warm-up: the RL stages' limit, not the 256-token default.
    assert max_new_tokens(spec(), warm, INLINE, plan) == 32
    assert max_new_tokens(spec(max_response_tokens=12), warm, INLINE, plan) == 12  # eval settings win
    assert max_new_tokens(spec(), warm, INLINE, TrainingPlan("c", "m", BackendRef("local"), [warm])) == 24
    assert max_new_tokens(spec(), None, INLINE) == INLINE.max_new_tokens


def test_a_set_without_capabilities_is_reported_under_its_own_name():
    from seethink_core.run.eval_types import EvalRecord
    from seethink_core.types.sample import Sample

    assert EvalRecord(Sample(id="g-1", prompt="q"), "geometry3k", [], [], []).capability == "geometry3k"
    assert EvalRecord(Sample(id="g-1", prompt="q", capability="perception"), "geo", [], [], []).capability \
        == "perception"
