"""Evaluation speed: eval samples per second.

- ``scripted``: the orchestration alone (open the set, grade with the real accuracy + format rewards,
  the facts pass, every evaluator) with a generator that answers instantly;
- ``tiny_vlm``: the local backend's batched generation on the built-in tiny model, synthetic suite
  (images, facts pass included), 32 new tokens.

Run: ``pytest benchmarks/bench_eval.py --benchmark-only`` (``--benchmark-json FILE`` keeps it);
``extra_info["samples_per_s"]`` counts eval samples (the facts pass is part of the cost).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from seethink_core.hooks.backend import Checkpoint
from seethink_core.hooks.manager import load_plugins
from seethink_core.run.eval_types import EvalSettings
from seethink_core.run.evaluation import run_eval
from seethink_core.types.plan import DataRef, EvalSpec, RewardRef

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "eval"))
from eval_doubles import ScriptedGenerator, eval_plugin  # noqa: E402

REWARDS = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]
SCRIPTED_SAMPLES = 600
TINY_SAMPLES = 32


def test_eval_samples_per_second_scripted(benchmark, tmp_path):
    plugins = load_plugins(extra=[("evaltoy", eval_plugin())])
    spec = EvalSpec(sets=[DataRef("evaltoy", {"count": SCRIPTED_SAMPLES})])
    settings = EvalSettings(reward_timeout=None)

    def once() -> dict:
        return run_eval(None, None, Checkpoint("m"), ScriptedGenerator(), plugins.registry, tmp_path / "e.json",
                        label="bench", spec=spec, rewards=REWARDS, settings=settings)

    assert benchmark(once)["samples"] == SCRIPTED_SAMPLES
    benchmark.extra_info["samples_per_s"] = SCRIPTED_SAMPLES / benchmark.stats.stats.mean


def test_eval_samples_per_second_tiny_vlm(benchmark, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from seethink_local.backend import LocalBackend

    plugins = load_plugins()
    backend = LocalBackend()
    spec = EvalSpec(sets=[DataRef("synthetic", {"count": TINY_SAMPLES, "level": "mixed"})],
                    max_response_tokens=32)
    settings = EvalSettings(reward_timeout=None, batch=TINY_SAMPLES)
    run_eval(None, None, Checkpoint("tiny_vlm"), backend, plugins.registry, tmp_path / "warm.json", label="warm",
             spec=spec, rewards=REWARDS, settings=settings)  # builds and loads the model once

    def once() -> dict:
        return run_eval(None, None, Checkpoint("tiny_vlm"), backend, plugins.registry, tmp_path / "e.json",
                        label="bench", spec=spec, rewards=REWARDS, settings=settings)

    result = benchmark.pedantic(once, rounds=3, iterations=1)
    assert result["samples"] == TINY_SAMPLES
    benchmark.extra_info["samples_per_s"] = TINY_SAMPLES / benchmark.stats.stats.mean
    benchmark.extra_info["device"] = str(backend.device)
