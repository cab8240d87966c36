"""Pass-rate estimation: scripted pass rates are recovered, the cache makes a re-run free, and any
change to the model, the reward spec or the estimator settings misses the cache."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from difficulty_doubles import (  # noqa: E402
    Always,
    BadShapeGenerator,
    Exact,
    ExactOptions,
    ScriptedGenerator,
    TrainOnlyBackend,
    expected_pass_rate,
    make_items,
)

from seethink_core.errors import BackendError, ConfigError  # noqa: E402
from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.hooks.registry import Registry  # noqa: E402
from seethink_core.run.difficulty import (  # noqa: E402
    DifficultyError,
    EstimateStats,
    PassRateCache,
    estimate_pass_rates,
    grading_component,
    item_key,
    model_key,
)
from seethink_core.run.rewards.combine import CombinedReward  # noqa: E402
from seethink_core.run.rewards.scores import Component  # noqa: E402
from seethink_core.types.plan import RewardRef  # noqa: E402

MODEL = Checkpoint("hub-org/some-model")
SETTINGS = dict(samples_k=4, temperature=0.7, top_p=0.9, max_new_tokens=64, prompt_template="{question} Think.")


def reward(*parts: tuple[str, float, object], answer: bool = True) -> CombinedReward:
    comps = [Component(name, weight, fn, frozenset({"answer"}) if answer and name != "always" else frozenset())
             for name, weight, fn in parts]
    return CombinedReward(comps, timeout=None)


def exact_reward(strict: bool = True, weight: float = 1.0) -> CombinedReward:
    return reward(("exact", weight, Exact(ExactOptions(strict=strict))))


def run(items, gen, rw, cache=None, stats=None, **overrides):
    kwargs = {**SETTINGS, **overrides}
    return estimate_pass_rates(items, gen, MODEL, rw, cache=cache, progress=None, stats=stats,
                               registry=Registry(), **kwargs)


def test_estimated_pass_rates_match_the_scripted_ones() -> None:
    items = make_items(20)
    gen = ScriptedGenerator()
    rates = run(items, gen, exact_reward())
    assert rates == {s.id: expected_pass_rate(s.id, 4) for s in items}
    assert sorted(set(rates.values())) == [0.0, 0.25, 0.5, 0.75, 1.0]
    # Batched: 20 items in batches of 32 is one generate call with n = k.
    assert len(gen.calls) == 1 and gen.calls[0][2] == 4 and gen.calls[0][3] == 0.7


def test_batches_of_items_and_progress() -> None:
    items = make_items(10)
    gen = ScriptedGenerator()
    seen: list[tuple[int, int]] = []
    estimate_pass_rates(items, gen, MODEL, exact_reward(), **SETTINGS, cache=None,
                        progress=lambda done, total: seen.append((done, total)), batch_items=4)
    assert [len(ids) for _, ids, _, _ in gen.calls] == [4, 4, 2]
    assert seen == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_repeated_ids_are_estimated_once() -> None:
    items = make_items(3) + make_items(3)
    gen = ScriptedGenerator()
    rates = run(items, gen, exact_reward())
    assert len(rates) == 3 and sum(len(ids) for _, ids, _, _ in gen.calls) == 3


def test_a_cache_hit_makes_the_rerun_free(tmp_path: Path) -> None:
    items = make_items(30)
    first_gen, again_gen = ScriptedGenerator(), ScriptedGenerator()
    first, again = EstimateStats(), EstimateStats()
    with PassRateCache.in_dir(tmp_path) as cache:
        rates = run(items, first_gen, exact_reward(), cache, first, batch_items=3)
    with PassRateCache.in_dir(tmp_path) as cache:  # reopened: the values live on disk
        cached = run(items, again_gen, exact_reward(), cache, again, batch_items=3)
        assert len(cache) == 30
    assert cached == rates
    assert len(first_gen.calls) == 10 and first.estimated == 30 and first.completions == 120
    assert again_gen.calls == [] and again.cached == 30 and again.estimated == 0
    assert len(first_gen.calls) >= 10 * max(1, len(again_gen.calls))


def test_only_new_items_are_generated(tmp_path: Path) -> None:
    with PassRateCache.in_dir(tmp_path) as cache:
        run(make_items(10), ScriptedGenerator(), exact_reward(), cache)
        gen = ScriptedGenerator()
        rates = run(make_items(15), gen, exact_reward(), cache)
    assert [ids for _, ids, _, _ in gen.calls] == [[f"item-{i}" for i in range(10, 15)]]
    assert rates == {f"item-{i}": expected_pass_rate(f"item-{i}", 4) for i in range(15)}


@pytest.mark.parametrize("change", [
    {"samples_k": 8}, {"temperature": 1.0}, {"top_p": 1.0}, {"max_new_tokens": 128},
    {"prompt_template": "{question}"}, {"correct_threshold": 0.9},
])
def test_changing_an_estimator_setting_misses_the_cache(tmp_path: Path, change: dict) -> None:
    with PassRateCache.in_dir(tmp_path) as cache:
        run(make_items(5), ScriptedGenerator(), exact_reward(), cache)
        gen = ScriptedGenerator()
        run(make_items(5), gen, exact_reward(), cache, **change)
        assert len(gen.calls) == 1
        again = ScriptedGenerator()  # and the changed setting is itself cached now
        run(make_items(5), again, exact_reward(), cache, **change)
        assert again.calls == []


@pytest.mark.parametrize("other", [
    lambda: exact_reward(strict=False),  # a reward option
    lambda: exact_reward(weight=0.9),  # a weight
    lambda: reward(("exact", 1.0, Exact()), ("always", 0.1, Always(1.0))),  # another component
])
def test_changing_the_reward_spec_misses_the_cache(tmp_path: Path, other) -> None:
    with PassRateCache.in_dir(tmp_path) as cache:
        run(make_items(5), ScriptedGenerator(), exact_reward(), cache)
        gen = ScriptedGenerator()
        run(make_items(5), gen, other(), cache)
    assert len(gen.calls) == 1


def test_the_reward_refs_are_part_of_the_key(tmp_path: Path) -> None:
    with PassRateCache.in_dir(tmp_path) as cache:
        run(make_items(5), ScriptedGenerator(), exact_reward(), cache, reward_spec=[RewardRef("exact", 1.0)])
        same, changed = ScriptedGenerator(), ScriptedGenerator()
        run(make_items(5), same, exact_reward(), cache, reward_spec=[RewardRef("exact", 1.0)])
        run(make_items(5), changed, exact_reward(), cache, reward_spec=[RewardRef("exact", 1.0, {"strict": False})])
    assert same.calls == [] and len(changed.calls) == 1


def test_changing_an_item_misses_the_cache(tmp_path: Path) -> None:
    items = make_items(3)
    with PassRateCache.in_dir(tmp_path) as cache:
        run(items, ScriptedGenerator(), exact_reward(), cache)
        items[1].answer = "something else"
        items[2].images = [b"\x89PNG fake bytes"]
        gen = ScriptedGenerator()
        run(items, gen, exact_reward(), cache)
    assert gen.calls[0][1] == ["item-1", "item-2"]


def test_a_retrained_checkpoint_misses_the_cache(tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text('{"hidden": 64}')
    (ckpt / "model.safetensors").write_bytes(b"\x08" + bytes(8) + bytes(range(256)) * 100)
    model = Checkpoint(str(ckpt))
    before = model_key(model)
    assert model_key(model) == before  # stable
    (ckpt / "model.safetensors").write_bytes(b"\x08" + bytes(8) + bytes(reversed(range(256))) * 100)
    after = model_key(model)
    assert after != before
    (ckpt / "config.json").write_text('{"hidden": 128}')
    assert model_key(model) != after
    with PassRateCache.in_dir(tmp_path / "cache") as cache:
        gens = [ScriptedGenerator(), ScriptedGenerator()]
        for g in gens:
            estimate_pass_rates(make_items(4), g, model, exact_reward(), cache=cache, progress=None, **SETTINGS)
        (ckpt / "model.safetensors").write_bytes(b"changed weights")
        third = ScriptedGenerator()
        estimate_pass_rates(make_items(4), third, model, exact_reward(), cache=cache, progress=None, **SETTINGS)
    assert len(gens[0].calls) == 1 and gens[1].calls == [] and len(third.calls) == 1


def test_model_keys_of_names(with_plugins) -> None:
    registry = with_plugins().registry
    assert model_key(Checkpoint("tiny_vlm"), registry) == model_key(Checkpoint("tiny-vlm"), registry)
    assert model_key(Checkpoint("tiny_vlm"), registry) != model_key(Checkpoint("tiny_vlm_10m"), registry)
    assert model_key(Checkpoint("Qwen/Qwen3-VL-8B-Instruct"), registry) == "name:Qwen/Qwen3-VL-8B-Instruct"


def test_item_key_sees_the_template_and_choices() -> None:
    s = make_items(1)[0]
    assert item_key(s, "{question}") == item_key(s, None)
    assert item_key(s, "{question} Think.") != item_key(s, None)
    s.meta["choices"] = ["1", "2"]
    assert item_key(s, "{question} {choices}") != item_key(make_items(1)[0], "{question} {choices}")


def test_a_system_prompt_is_sent_and_keys_the_cache(tmp_path: Path) -> None:
    class Recording(ScriptedGenerator):
        def __init__(self) -> None:
            super().__init__()
            self.systems: list[str | None] = []

        def generate(self, model, samples, **kwargs):  # type: ignore[override]
            self.systems.append(kwargs.pop("system_prompt", None))
            return super().generate(model, samples, **kwargs)

    s = make_items(1)[0]
    assert item_key(s, None, None) == item_key(s, None)  # items asked without one keep their keys
    assert item_key(s, None, "Think first.") != item_key(s, None)
    items, gen = make_items(4), Recording()
    with PassRateCache.in_dir(tmp_path) as cache:
        run(items, gen, exact_reward(), cache=cache)
        run(items, gen, exact_reward(), cache=cache, system_prompt="Think first.")  # a miss: asked otherwise
        run(items, gen, exact_reward(), cache=cache, system_prompt="Think first.")  # a hit
    assert gen.systems == [None, "Think first."]


def test_correctness_follows_accuracy_then_answer_graders_then_total() -> None:
    with_acc = reward(("format", 0.1, Always(1.0)), ("accuracy", 0.9, Exact()), answer=False)
    assert grading_component(with_acc) == "accuracy"
    graded = reward(("always", 0.1, Always(1.0)), ("exact", 0.9, Exact()))
    assert grading_component(graded) == "exact"
    no_answer = reward(("always", 1.0, Always(1.0)), answer=False)
    assert grading_component(no_answer) == "total"
    assert grading_component(with_acc, "format") == "format"
    with pytest.raises(ConfigError, match="component 'acc' is not a reward"):
        grading_component(with_acc, "acc")


def test_grading_by_total_uses_the_threshold() -> None:
    # exact weight 0.4 + always 0.3: a right answer totals 0.7, a wrong one 0.3.
    rw = reward(("exact", 0.4, Exact()), ("always", 0.3, Always(1.0)))
    items = make_items(5)
    by_total = run(items, ScriptedGenerator(), rw, component="total")
    assert by_total == {s.id: expected_pass_rate(s.id, 4) for s in items}
    everything = run(items, ScriptedGenerator(), rw, component="total", correct_threshold=0.25)
    assert set(everything.values()) == {1.0}
    by_always = run(items, ScriptedGenerator(), rw, component="always")
    assert set(by_always.values()) == {1.0}


def test_a_not_applicable_component_counts_as_wrong() -> None:
    rw = reward(("accuracy", 1.0, Always(None)), answer=False)
    assert set(run(make_items(5), ScriptedGenerator(), rw).values()) == {0.0}


def test_a_generator_of_the_wrong_shape_or_none_is_a_clear_error() -> None:
    with pytest.raises(BackendError, match=r"returned 2 completion lists of sizes \[4\] for 3 samples and n=4"):
        run(make_items(3), BadShapeGenerator(), exact_reward())
    with pytest.raises(DifficultyError, match="cannot generate"):
        run(make_items(3), TrainOnlyBackend(), exact_reward())
    with pytest.raises(ConfigError, match="samples must be at least 1"):
        run(make_items(3), ScriptedGenerator(), exact_reward(), samples_k=0)


def test_an_unreadable_cache_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "pass_rates.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DifficultyError, match="cannot be used|unreadable"):
        cache = PassRateCache(bad)
        run(make_items(2), ScriptedGenerator(), exact_reward(), cache)


def test_pixel_bounds_reach_the_generator_and_key_the_cache(tmp_path: Path) -> None:
    """Items are estimated as the phase trains on them: with its pixel bounds (a new cache key only then)."""
    from seethink_core.samples.images import ImageBounds

    class Recording(ScriptedGenerator):
        def __init__(self) -> None:
            super().__init__()
            self.bounds: list[object] = []

        def generate(self, model, samples, **kwargs):  # type: ignore[override]
            self.bounds.append(kwargs.pop("image_bounds", None))
            return super().generate(model, samples, **kwargs)

    s = make_items(1)[0]
    bounds = ImageBounds(262144, 4194304)
    assert item_key(s, None, None, None) == item_key(s, None)
    assert item_key(s, None, None, bounds) != item_key(s, None)
    items, gen = make_items(4), Recording()
    with PassRateCache.in_dir(tmp_path) as cache:
        run(items, gen, exact_reward(), cache=cache, image_bounds=ImageBounds())  # no bounds: the plain keys
        run(items, gen, exact_reward(), cache=cache)  # a hit
        run(items, gen, exact_reward(), cache=cache, image_bounds=bounds)  # a miss: other pixels
        run(items, gen, exact_reward(), cache=cache, image_bounds=bounds)  # a hit
    assert gen.bounds == [None, bounds]
