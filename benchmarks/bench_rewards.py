"""Reward throughput on 10,000 mixed completions (docs/architecture.md §8; issue 5).

Run: ``pytest benchmarks/bench_rewards.py --benchmark-columns=mean,rounds`` (the file is collected
because it is named explicitly). Each benchmark's ``extra_info`` holds completions per second;
``test_accuracy_vs_mathruler`` also holds the ratio of seethink's ``accuracy`` to calling
``mathruler.grader.grade_answer`` directly on the same inputs (> 1 means seethink is faster).
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from seethink_core.options import validate
from seethink_core.plan import RewardRef
from seethink_core.plugins import load_plugins
from seethink_core.rewarding import build_reward
from seethink_core.sample import Sample

N = 10_000
CHOICES = ["a red cube", "a blue ball", "a green cone", "a yellow star"]
REASONING = ("<think>First I look at the figure. The triangle has sides 3 and 4, so by Pythagoras the "
             "hypotenuse is 5. Then the area is half the base times the height.</think> ")


def _mixed(n: int = N, seed: int = 0) -> tuple[list[str], list[Sample], list[int]]:
    """Completions as a policy writes them: right and wrong, LaTeX and plain, MCQ, boxes, counts,
    a missing box, tag spaces; gold answers as the data sets spell them."""
    rng = random.Random(seed)
    completions, samples = [], []
    for k in range(n):
        kind = k % 10
        meta: dict[str, Any] = {}
        right = rng.random() < 0.5
        if kind in (0, 1):  # integers
            gold = str(rng.randint(0, 500))
            given = gold if right else str(int(gold) + rng.randint(1, 9))
        elif kind == 2:  # fractions: LaTeX vs plain
            a, b = rng.randint(1, 9), rng.randint(10, 19)
            gold = f"\\frac{{{a}}}{{{b}}}"
            given = f"{a}/{b}" if right else f"\\frac{{{a + 1}}}{{{b}}}"
        elif kind == 3:  # decimals
            gold = f"{rng.uniform(0, 100):.2f}"
            given = gold if right else f"{float(gold) + 1:.2f}"
        elif kind == 4:  # symbolic
            c = rng.randint(1, 9)
            gold = f"x^2+{2 * c}x+{c * c}"
            given = f"(x+{c})^2" if right else f"(x+{c + 1})^2"
        elif kind in (5, 6):  # multiple choice, in several spellings
            meta = {"choices": CHOICES}
            gold = "ABCD"[rng.randrange(4)]
            letter = gold if right else "ABCD"[("ABCD".index(gold) + 1) % 4]
            given = rng.choice([letter, f"({letter})", f"{letter}.", f"{letter}: {CHOICES['ABCD'.index(letter)]}"])
        elif kind == 7:  # boxes
            x, y = rng.randint(0, 50), rng.randint(0, 50)
            gold = f"[{x}, {y}, {x + 20}, {y + 20}]"
            given = gold if right else f"[{x + 15}, {y}, {x + 35}, {y + 20}]"
        elif kind == 8:  # counts in words or digits
            gold = str(rng.randint(1, 12))
            given = gold if right else ["zero", "one", "two"][rng.randrange(3)]
        else:  # no box, or a square-root form
            gold = "\\sqrt{2}"
            given = None if right else "\\frac{\\sqrt{8}}{2}"
        text = REASONING + (f"The answer is \\boxed{{{given}}}." if given is not None else "I give up.")
        if k % 7 == 0:
            text = text.replace("<think>", "< think >")
        completions.append(text)
        samples.append(Sample(id=str(k), prompt="q", answer=gold, meta=meta))
    tokens = [len(t.split()) * 2 for t in completions]
    return completions, samples, tokens


COMPLETIONS, SAMPLES, TOKENS = _mixed()
PROMPTS = ["q"] * N
COLUMNS = {"answer": [s.answer for s in SAMPLES], "meta": [s.meta for s in SAMPLES]}
REGISTRY = load_plugins().registry


def _reward(name: str):
    spec = REGISTRY.get("reward", name)
    fn = spec.load()(validate(spec.options, {})[0])
    if hasattr(fn, "warmup"):
        fn.warmup()
    return fn


def _per_second(benchmark, n: int = N) -> None:
    benchmark.extra_info["completions_per_s"] = round(n / benchmark.stats.stats.mean)


@pytest.mark.parametrize("name", ["format", "choice", "numeric", "iou", "count", "length", "overlong"])
def test_reward_throughput(benchmark, name: str) -> None:
    """Each reward called directly, in process (accuracy: see test_accuracy_vs_mathruler)."""
    fn = _reward(name)
    out = benchmark.pedantic(fn, args=(PROMPTS, COMPLETIONS), rounds=3,
                             kwargs={**COLUMNS, "completion_tokens": TOKENS, "max_response_tokens": 2048})
    assert len(out) == N
    _per_second(benchmark)


def test_accuracy_vs_mathruler(benchmark) -> None:
    """seethink's accuracy (cheap rules first, then mathruler) against mathruler alone, same inputs."""
    from mathruler.grader import extract_boxed_content, grade_answer

    fn = _reward("accuracy")
    start = time.perf_counter()
    direct = [grade_answer(extract_boxed_content(c), s.answer) for c, s in zip(COMPLETIONS, SAMPLES, strict=True)]
    direct_s = time.perf_counter() - start
    ours = benchmark.pedantic(fn, args=(PROMPTS, COMPLETIONS), kwargs=COLUMNS, rounds=1)
    _per_second(benchmark)
    benchmark.extra_info["mathruler_completions_per_s"] = round(N / direct_s)
    benchmark.extra_info["speed_ratio_vs_mathruler"] = round(direct_s / benchmark.stats.stats.mean, 2)
    agree = sum((o == 1.0) == d for o, d in zip(ours, direct, strict=True)) / N
    benchmark.extra_info["agreement_with_mathruler"] = round(agree, 4)


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_isolation_overhead(benchmark, timeout: float | None) -> None:
    """format + choice + numeric (cheap rules) in the calling thread vs through a worker process:
    the price of isolation (one round trip per batch, one call per sample)."""
    refs = [RewardRef("format", 0.1), RewardRef("choice", 0.45), RewardRef("numeric", 0.45)]
    with build_reward(refs, REGISTRY, timeout=timeout) as reward:
        reward(PROMPTS[:8], COMPLETIONS[:8], SAMPLES[:8])  # started and warm
        batch = benchmark.pedantic(reward, args=(PROMPTS, COMPLETIONS, SAMPLES), rounds=3)
    assert not batch.failures
    _per_second(benchmark)


@pytest.mark.parametrize("workers", [1, 2])
def test_isolated_reference_reward(benchmark, workers: int) -> None:
    """The reference reward (0.9 accuracy + 0.1 format) through the isolating worker processes."""
    refs = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]
    with build_reward(refs, REGISTRY, timeout=5.0, workers=workers) as reward:
        reward(PROMPTS[:8], COMPLETIONS[:8], SAMPLES[:8])  # started and warm
        batch = benchmark.pedantic(reward, args=(PROMPTS, COMPLETIONS, SAMPLES), rounds=1)
    assert not batch.failures
    _per_second(benchmark)
