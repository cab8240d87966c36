"""Pass-rate estimation speed: items per second, and what the cache saves on a re-run.

Run: ``pytest benchmarks/bench_difficulty.py --benchmark-only`` (``--benchmark-json FILE`` keeps
the numbers). ``extra_info`` holds items/s and the cold/warm time ratio.

- ``overhead``: a scripted generator (no model) and an inline reward: the estimator's own cost
  (prompt rendering, grading 16 completions per item, keys, cache writes).
- ``cache``: a generator that spends 50 µs per completion (a stand-in for a model, thousands of
  times faster than a real one) — cold run vs re-run served from the cache.
- ``tiny_vlm``: the local backend's ``generate`` with the built-in tiny VLM on synthetic items,
  graded by the first-party accuracy reward (CPU): end-to-end estimation throughput.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "difficulty"))
from difficulty_doubles import Exact, ScriptedGenerator, make_items  # noqa: E402

from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.hooks.registry import Registry  # noqa: E402
from seethink_core.run.difficulty import PassRateCache, estimate_pass_rates  # noqa: E402
from seethink_core.run.rewards.combine import CombinedReward  # noqa: E402
from seethink_core.run.rewards.scores import Component  # noqa: E402

ITEMS = 1000
K = 16
SETTINGS = dict(samples_k=K, temperature=0.7, top_p=0.9, max_new_tokens=1024, prompt_template="{question} Think.")
MODEL = Checkpoint("hub-org/model")


def exact() -> CombinedReward:
    return CombinedReward([Component("exact", 1.0, Exact(), frozenset({"answer"}))], timeout=None)


class SlowGenerator(ScriptedGenerator):
    """The scripted generator plus a fixed cost per completion."""

    per_completion_s = 50e-6

    def generate(self, model, samples, **kwargs):  # type: ignore[override]
        time.sleep(self.per_completion_s * len(samples) * kwargs.get("n", 1))
        return super().generate(model, samples, **kwargs)


def test_estimation_overhead_items_per_second(benchmark, tmp_path: Path) -> None:
    items, reward = make_items(ITEMS), exact()
    counter = iter(range(10**6))

    def estimate() -> int:
        with PassRateCache.in_dir(tmp_path / f"c{next(counter)}") as cache:  # a cold cache each round
            return len(estimate_pass_rates(items, ScriptedGenerator(), MODEL, reward, cache=cache, progress=None,
                                           registry=Registry(), **SETTINGS))

    assert benchmark.pedantic(estimate, rounds=5, iterations=1) == ITEMS
    benchmark.extra_info["items_per_s"] = ITEMS / benchmark.stats.stats.mean
    benchmark.extra_info["completions_per_s"] = ITEMS * K / benchmark.stats.stats.mean


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_cache_rerun(benchmark, tmp_path: Path, warm: bool) -> None:
    items, reward = make_items(ITEMS), exact()
    counter = iter(range(10**6))
    if warm:
        with PassRateCache.in_dir(tmp_path / "warm") as cache:
            estimate_pass_rates(items, ScriptedGenerator(), MODEL, reward, cache=cache, progress=None,
                                registry=Registry(), **SETTINGS)
    gens: list[SlowGenerator] = []

    def estimate() -> int:
        gens.append(SlowGenerator())
        where = tmp_path / ("warm" if warm else f"c{next(counter)}")
        with PassRateCache.in_dir(where) as cache:
            return len(estimate_pass_rates(items, gens[-1], MODEL, reward, cache=cache, progress=None,
                                           registry=Registry(), **SETTINGS))

    assert benchmark.pedantic(estimate, rounds=5, iterations=1) == ITEMS
    calls = sum(len(g.calls) for g in gens)
    assert (calls == 0) if warm else calls > 0
    benchmark.extra_info["generator_calls"] = calls
    benchmark.extra_info["items_per_s"] = ITEMS / benchmark.stats.stats.mean
    _TIMES["warm" if warm else "cold"] = benchmark.stats.stats.mean
    if len(_TIMES) == 2:
        benchmark.extra_info["cold_over_warm"] = _TIMES["cold"] / _TIMES["warm"]
        print(f"\ncache: cold {_TIMES['cold'] * 1e3:.1f} ms, warm {_TIMES['warm'] * 1e3:.1f} ms, "
              f"ratio {_TIMES['cold'] / _TIMES['warm']:.0f}x for {ITEMS} items x {K} samples")


_TIMES: dict[str, float] = {}

TINY_ITEMS = 16
TINY_K = 4


def test_tiny_vlm_estimation_items_per_second(benchmark, tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from seethink_local.backend import LocalBackend
    from seethink_local.options import LocalOptions
    from seethink_synthetic.options import SyntheticOptions
    from seethink_synthetic.source import SyntheticSource

    from seethink_core.hooks.manager import load_plugins
    from seethink_core.run.rewards.combine import build_reward
    from seethink_core.types.plan import RewardRef

    registry = load_plugins().registry
    items = list(SyntheticSource(SyntheticOptions(count=TINY_ITEMS), seed=0))
    backend = LocalBackend(LocalOptions(cache_dir=str(tmp_path / "models"), device="cpu"))
    reward = build_reward([RewardRef("accuracy", 1.0)], registry, timeout=None)
    model = Checkpoint("tiny_vlm")
    backend.generate(model, items[:1], n=1, max_new_tokens=4)  # build and load the model once

    def estimate() -> int:
        return len(estimate_pass_rates(items, backend, model, reward, samples_k=TINY_K, temperature=0.7, top_p=0.9,
                                       max_new_tokens=32, prompt_template="{question}", cache=None, progress=None,
                                       registry=registry))

    assert benchmark.pedantic(estimate, rounds=2, iterations=1) == TINY_ITEMS
    benchmark.extra_info["items_per_s"] = TINY_ITEMS / benchmark.stats.stats.mean
