"""How the reward layer moves a batch (docs/architecture.md §8): identical rows graded once for rewards
that declare ``deterministic = True``, scores back on their own samples, failures counted on every copy,
results of many chunks and workers put together; the same inline and through the worker."""

from __future__ import annotations

import math

import pytest

from seethink_core.run.rewards.combine import CombinedReward
from seethink_core.run.rewards.pool import _CHUNK
from seethink_core.run.rewards.scores import Component
from seethink_core.types.sample import Sample

PATHS = pytest.mark.parametrize("timeout", [None, 5.0], ids=["inline", "worker"])



def group(answer: str, k: int, size: int = 8) -> list[Sample]:
    """A prompt's Sample repeated ``size`` times, as the trainer hands a GRPO group to the reward."""
    sample = Sample(id=f"p{k}", prompt=f"question {k}", answer=answer)
    return [sample] * size


@PATHS
def test_a_deterministic_reward_grades_each_distinct_row_once(doubles, timeout) -> None:
    samples = group("1", 0) + group("2", 1)
    texts = ["3", "3", "4", "3", "4", "4", "3", "3"] + ["3"] * 8  # 2 distinct rows, then 1 (another sample)
    parts = [Component("once", 1.0, doubles.CallSize(True)), Component("each", 1.0, doubles.CallSize(False))]
    with CombinedReward(parts, timeout=timeout) as reward:
        batch = reward([s.prompt for s in samples], texts, samples)
    assert batch.components == {"once": [3.0] * 16, "each": [16.0] * 16}
    assert batch.failures == {}


@PATHS
def test_rows_that_differ_in_anything_are_graded_apart(doubles, timeout) -> None:
    twins = [Sample(id="p", prompt="q", answer="1"), Sample(id="p", prompt="q", answer="1")]  # equal, not one
    samples = [twins[0], twins[1], twins[0], twins[0], twins[0]]
    prompts = ["q", "q", "q", "another prompt", "q"]
    with CombinedReward([Component("once", 1.0, doubles.CallSize(True))], timeout=timeout) as reward:
        batch = reward(prompts, ["3", "3", "3", "3", "3"], samples, completion_tokens=[5, 5, 5, 5, 6])
    # rows 0 and 2 are the same row; 1 has another Sample object, 3 another prompt, 4 another length
    assert batch.components["once"] == [4.0] * 5


@PATHS
@pytest.mark.parametrize("risky", [False, True], ids=["chunks", "one_per_task"])
def test_scores_go_back_to_their_own_samples(doubles, timeout, risky: bool) -> None:
    samples = [s for k in range(40) for s in group("x" if k % 3 else "y", k)]
    texts = [str((k * 7) % 3) for k in range(len(samples))]  # 3 answers repeat inside every group
    tokens = [10 + k % 2 for k in range(len(samples))]
    expected = [float(t) + n / 100 + (0.5 if s.answer == "x" else 0.0)
                for t, n, s in zip(texts, tokens, samples, strict=True)]
    parts = [Component("deduped", 1.0, doubles.RowScore(True, risky)), Component("all", 1.0, doubles.RowScore(False))]
    with CombinedReward(parts, timeout=timeout) as reward:
        batch = reward([s.prompt for s in samples], texts, samples, completion_tokens=tokens)
    assert batch.components["deduped"] == pytest.approx(expected)
    assert batch.components["all"] == pytest.approx(expected)
    assert batch.total == pytest.approx([2 * e for e in expected])


@PATHS
def test_a_duplicated_row_that_fails_fails_on_every_copy(doubles, timeout) -> None:
    samples = group("1", 0, size=6)
    texts = ["1", "bad", "nan", "bad", "1", "nan"]
    with CombinedReward([Component("row", 1.0, doubles.RowScore(True))], timeout=timeout) as reward:
        batch = reward(["q"] * 6, texts, samples)
    assert batch.components["row"] == [1.0, None, None, None, 1.0, None]
    assert batch.failures == {"row": 4} and batch.failed == {"row": [1, 2, 3, 5]}
    assert batch.errors["row"].sample == "p0"
    assert "RuntimeError: cannot grade 'bad'" in reward.last_errors["row"]  # the first failure in batch order


@pytest.mark.parametrize("workers", [1, 2])
def test_many_chunks_and_workers_come_back_in_place(doubles, workers: int) -> None:
    n = 3 * _CHUNK + 17  # chunk boundaries, a short last chunk, and (with 2 workers) a split batch
    samples = [Sample(id=str(k), prompt="q", answer="x" if k % 2 else "y") for k in range(n)]
    texts = ["nan" if k in (0, _CHUNK - 1, _CHUNK, n - 1) else str(k) for k in range(n)]
    parts = [Component("row", 1.0, doubles.RowScore(False)), Component("size", 1.0, doubles.CallSize(False))]
    with CombinedReward(parts, timeout=5.0, workers=workers) as reward:
        batch = reward(["q"] * n, texts, samples)
    bad = [0, _CHUNK - 1, _CHUNK, n - 1]
    assert batch.failed == {"row": bad} and batch.failures == {"row": 4}
    for k, value in enumerate(batch.components["row"]):
        assert value is None if k in bad else value == k + (0.5 if k % 2 else 0.0)
    sizes = [_CHUNK] * (3 * _CHUNK) + [17] * 17
    assert batch.components["size"] == [float(s) for s in sizes]
    assert all(math.isfinite(t) for t in batch.total)


def test_the_collector_runs_while_the_rewards_do_and_after_the_call(doubles) -> None:
    # The batch's bookkeeping runs with the collector paused; a reward's own code never does (it may
    # make cycles), and the caller gets it back running.
    import gc

    samples = [s for k in range(3) for s in group("1", k)]
    with CombinedReward([Component("gc", 1.0, doubles.CollectorState())], timeout=None) as reward:
        batch = reward([s.prompt for s in samples], ["a"] * len(samples), samples)
    assert batch.components["gc"] == [1.0] * len(samples)
    assert gc.isenabled()
