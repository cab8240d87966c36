"""How a batch travels to the reward workers: in parts cut at Sample boundaries, each in blocks written
without ever blocking the caller, so a worker that hangs with megabytes still to come is timed out like
any other, a hang in a later part costs no score of the parts before, and a batch that cannot be sent
leaves no worker holding half a job."""

from __future__ import annotations

import threading
import time

import pytest

from seethink_core.run.rewards.channel import _blocks
from seethink_core.run.rewards.combine import CombinedReward
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.parts import FIRST_PART, PART, cuts
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
    # 25 MB of text, more than the socket holds (the caller asks for 4 MB; the kernel gives up to twice
    # net.core.wmem_max): the worker hangs on the first sample while much of the batch still waits
    # to be written, and the caller must keep its clock running.
    n = 2 * BLOCK
    texts = ["hang"] + [f"{k} " + "x" * 48_000 for k in range(1, n)]  # distinct: pickle would send one copy
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


def test_parts_end_where_one_sample_gives_way_to_another() -> None:
    groups = [Sample(id=str(k), prompt="q", answer="1") for k in range(300)]
    samples = [s for s in groups for _ in range(7)]  # groups of 7: no part size is a multiple of it
    bounds = cuts(samples, firsts=2)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(samples)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert all(hi % 7 == 0 for _, hi in bounds)  # never inside a group
    sizes = [hi - lo for lo, hi in bounds]
    assert FIRST_PART <= sizes[0] < FIRST_PART + 7 and FIRST_PART <= sizes[1] < FIRST_PART + 7
    assert all(PART <= s < PART + 7 for s in sizes[2:-1])
    assert cuts([groups[0]] * 5000, firsts=1) == [(0, 5000)]  # one Sample throughout: one part


@pytest.mark.parametrize("workers", [1, 2])
def test_a_hang_in_a_later_part_loses_no_other_score(doubles, workers: int) -> None:
    # Parts go to the workers one after another, and a worker holds a finished part's results while the
    # next one waits in its pipe: a hang there must cost that sample, and no score of the parts before.
    n = FIRST_PART + 2 * PART + 10
    texts = ["ok"] * n
    texts[n - 5] = "hang"
    with CombinedReward([Component("slow", 1.0, doubles.HangsOn("hang"))], timeout=TIMEOUT,
                        workers=workers) as reward:
        reward(["q"], ["warm"], many(1))
        batch = reward(["q"] * n, texts, many(n))
    assert batch.components["slow"] == [None if k == n - 5 else 1.0 for k in range(n)]
    assert batch.failed == {"slow": [n - 5]}
