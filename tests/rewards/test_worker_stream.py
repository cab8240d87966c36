"""How a batch travels to a reward worker: in blocks written without ever blocking the caller, so a
worker that hangs with megabytes still to come is timed out like any other, and a batch that cannot
be sent leaves no worker holding half a job."""

from __future__ import annotations

import threading
import time

import pytest

from seethink_core.run.rewards.combine import CombinedReward
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.pool import _blocks
from seethink_core.run.rewards.scores import Component
from seethink_core.run.rewards.worker import BLOCK
from seethink_core.types.sample import Sample

TIMEOUT = 1.0


def many(n: int) -> list[Sample]:
    return [Sample(id=str(k), prompt="q", answer="1") for k in range(n)]


def test_blocks_are_sent_in_the_order_the_tasks_read_them() -> None:
    tasks = [(0, 2 * BLOCK, 3 * BLOCK), (0, 0, BLOCK), (1, 0, 1), (1, BLOCK + 5, BLOCK + 6),
             (1, 3 * BLOCK, 3 * BLOCK + 1)]
    assert _blocks(tasks) == [2, 0, 1, 3]
    assert _blocks([(0, BLOCK - 1, BLOCK + 1)]) == [0, 1]  # a task across a boundary needs both


def test_a_hang_with_megabytes_still_to_send_is_timed_out(doubles) -> None:
    # 8 MB of text, far more than a socket holds: the worker hangs on the first sample while most of
    # the batch is still waiting to be written, and the caller must keep its clock running.
    n = 2 * BLOCK
    texts = ["hang"] + [f"{k} " + "x" * 16_000 for k in range(1, n)]  # distinct: pickle would send one copy
    with CombinedReward([Component("slow", 1.0, doubles.HangsOn("hang"))], timeout=TIMEOUT) as reward:
        reward(["q"], ["warm"], many(1))
        start = time.monotonic()
        batch = reward(["q"] * n, texts, many(n))
        took = time.monotonic() - start
        assert batch.components["slow"] == [None] + [1.0] * (n - 1)
        assert "ran past its 1 s timeout" in reward.last_errors["slow"]
        assert took < TIMEOUT + 10  # the timeout and a fresh worker, never the whole hang
        assert reward(["q"], ["ok"], many(1)).total == [1.0]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_that_cannot_be_sent_past_its_first_block_leaves_no_half_job(doubles, workers: int) -> None:
    # The first block reaches the worker before the second is pickled; when the second cannot be, that
    # worker (and, with two, the other one already at work) must not be handed the next batch.
    n = 2 * BLOCK
    prompts: list = ["q"] * n
    prompts[-1] = threading.Lock()  # not a string, and not picklable
    parts = [Component("rows", 1.0, doubles.RowScore(False))]
    with CombinedReward(parts, timeout=5.0, workers=workers) as reward:
        with pytest.raises(RewardError, match="cannot be sent to the reward worker"):
            reward(prompts, [str(k) for k in range(n)], many(n))
        batch = reward(["q"] * n, [str(k) for k in range(n)], many(n))
    assert batch.components["rows"] == [float(k) for k in range(n)]
    assert batch.failures == {}
