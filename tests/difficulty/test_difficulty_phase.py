"""A phase's difficulty: its sources opened as the stream opens them, graded by its rewards, with
the estimator options of ``difficulty pass_rate(...)``; the result orders the phase's stream."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from difficulty_doubles import ScriptedGenerator, difficulty_plugin, expected_pass_rate  # noqa: E402

from seethink_core.errors import ConfigError  # noqa: E402
from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.run.difficulty import (  # noqa: E402
    DifficultyError,
    EstimateStats,
    difficulty_for_phase,
    estimator_options,
)
from seethink_core.types.methods import GRPOOptions  # noqa: E402
from seethink_core.types.plan import BackendRef, Budget, DataRef, Difficulty, Phase, RewardRef, TrainingPlan  # noqa: E402
from seethink_core.types.settings import PassRateOptions  # noqa: E402


def make_plan(estimator: dict | None = None, rewards=(RewardRef("exact", 1.0),), order="easy_to_hard",
              data=(DataRef("items", {"count": 10}), DataRef("items", {"count": 5, "start": 10}))) -> TrainingPlan:
    phase = Phase(index=0, name="reasoning", stages=["reasoning"], capabilities=["textual_reasoning"],
                  model="base-model", init_from="base", method="grpo", algorithm=GRPOOptions(batch_size=5, group=2),
                  data=list(data), rewards=list(rewards), budget=Budget(steps=3), prompt="{question} Answer.",
                  difficulty=Difficulty(source="pass_rate", order=order,
                                        estimator=estimator if estimator is not None else {"samples": 4}))
    return TrainingPlan("c", "base-model", BackendRef("scripted"), [phase])


@pytest.fixture
def registry(with_plugins):
    return with_plugins(("difficulty_test", difficulty_plugin())).registry


def test_the_estimator_defaults_are_the_reference_recipe() -> None:
    opts = estimator_options(Difficulty(source="pass_rate"))
    assert (opts.samples, opts.temperature, opts.top_p, opts.max_tokens, opts.model) == (16, 0.7, 0.9, 1024, "base")
    assert opts == PassRateOptions()


def test_bad_estimator_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown option 'sample'") as e:
        estimator_options(Difficulty(source="pass_rate", estimator={"sample": 8, "model": "latest"}))
    assert "did you mean 'samples'" in str(e.value) and "option 'model' must be one of" in str(e.value)
    with pytest.raises(ConfigError, match="top_p"):
        estimator_options(Difficulty(source="pass_rate", estimator={"top_p": 0}))


def test_every_item_of_every_source_gets_one_minus_its_pass_rate(registry, tmp_path: Path) -> None:
    plan = make_plan()
    gen = ScriptedGenerator()
    values = difficulty_for_phase(plan, plan.phases[0], Checkpoint("base-model"), gen, registry, tmp_path,
                                  reward_timeout=None)
    assert values == {f"item-{i}": 1.0 - expected_pass_rate(f"item-{i}", 4) for i in range(15)}
    assert all(path == "base-model" and n == 4 and t == 0.7 for path, _, n, t in gen.calls)


def test_rewards_run_isolated_by_default_and_the_cache_is_shared(registry, tmp_path: Path) -> None:
    plan = make_plan()
    stats = EstimateStats()
    first = difficulty_for_phase(plan, plan.phases[0], Checkpoint("base-model"), ScriptedGenerator(), registry,
                                 tmp_path, stats=stats)  # reward worker process
    assert stats.estimated == 15 and stats.graded_by == "exact"
    gen, again = ScriptedGenerator(), EstimateStats()
    second = difficulty_for_phase(plan, plan.phases[0], Checkpoint("base-model"), gen, registry, tmp_path,
                                  stats=again, reward_timeout=None)
    assert second == first and gen.calls == [] and again.cached == 15


def test_phase_init_estimates_with_the_starting_checkpoint(registry, tmp_path: Path) -> None:
    plan = make_plan({"samples": 2, "model": "phase_init", "temperature": 1.0})
    gen = ScriptedGenerator()
    difficulty_for_phase(plan, plan.phases[0], Checkpoint("runs/c/phases/00-x/checkpoint", "x"), gen, registry,
                         None, reward_timeout=None)
    assert {path for path, _, _, _ in gen.calls} == {"runs/c/phases/00-x/checkpoint"}
    assert {(n, t) for _, _, n, t in gen.calls} == {(2, 1.0)}


def test_the_phase_reward_spec_decides_correctness(registry) -> None:
    # Graded by the total when no reward grades the answer: always_one makes every item easy.
    plan = make_plan(rewards=(RewardRef("always_one", 1.0),))
    values = difficulty_for_phase(plan, plan.phases[0], Checkpoint("base-model"), ScriptedGenerator(), registry,
                                  None, reward_timeout=None)
    assert set(values.values()) == {0.0}
    plan = make_plan({"samples": 4, "component": "exact"},
                     rewards=(RewardRef("always_one", 0.1), RewardRef("exact", 0.9)))
    values = difficulty_for_phase(plan, plan.phases[0], Checkpoint("base-model"), ScriptedGenerator(), registry,
                                  None, reward_timeout=None)
    assert values["item-0"] == 1.0 and values["item-4"] == 0.0


def test_missing_rewards_or_generate_are_clear_errors(registry) -> None:
    plan = make_plan(rewards=())
    with pytest.raises(DifficultyError, match="has no rewards"):
        difficulty_for_phase(plan, plan.phases[0], Checkpoint("m"), ScriptedGenerator(), registry, None)
    plan = make_plan()
    with pytest.raises(DifficultyError, match="cannot generate"):
        difficulty_for_phase(plan, plan.phases[0], Checkpoint("m"), object(), registry, None)


def test_the_estimates_order_the_phase_stream_easy_first(registry) -> None:
    from seethink_core.run.stream import build_stream

    plan = make_plan()
    phase = plan.phases[0]
    values = difficulty_for_phase(plan, phase, Checkpoint("base-model"), ScriptedGenerator(), registry, None,
                                  reward_timeout=None)
    stream = build_stream(phase, registry, seed=phase.seed, difficulties=values)
    order = [s.difficulty for s in stream.next_batch(15, 0)]
    assert order == sorted(order) and order[0] == 0.0 and order[-1] == 1.0
    # The reference's "filtered" variant: drop pass rate 1 (difficulty 0).
    filtered = replace(phase, difficulty=replace(phase.difficulty, min=0.01))
    kept = build_stream(filtered, registry, seed=phase.seed, difficulties=values)
    assert kept.total_samples() == 12


def test_sources_are_read_in_chunks_and_ids_estimated_once(registry, monkeypatch) -> None:
    import seethink_core.run.difficulty as difficulty

    monkeypatch.setattr(difficulty, "READ_CHUNK", 4)
    # The second source repeats items 5..9 of the first: each id is estimated once.
    plan = make_plan(data=(DataRef("items", {"count": 10}), DataRef("items", {"count": 8, "start": 5})))
    gen, seen, stats = ScriptedGenerator(), [], EstimateStats()
    values = difficulty_for_phase(plan, plan.phases[0], Checkpoint("base-model"), gen, registry, None,
                                  reward_timeout=None, stats=stats, progress=lambda d, t: seen.append((d, t)))
    assert sorted(values) == sorted(f"item-{i}" for i in range(13))
    ids = [i for _, batch, _, _ in gen.calls for i in batch]
    assert len(ids) == len(set(ids)) == 13 and max(len(b) for _, b, _, _ in gen.calls) <= 4
    assert stats.estimated == 13 and stats.items == 13
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == 13
    assert all(t == 18 for _, t in seen)  # the sources' sizes, known up front
