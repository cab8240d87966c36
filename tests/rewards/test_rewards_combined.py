"""The combined reward: weights, None, failures, and isolation from rewards that raise, hang or crash."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from seethink_core.errors import ConfigError
from seethink_core.hooks.manager import load_plugins
from seethink_core.run.rewards.checks import check_reward_maximum, wrong_answer
from seethink_core.run.rewards.combine import CombinedReward, build_reward
from seethink_core.run.rewards.errors import RewardError
from seethink_core.run.rewards.scores import Component
from seethink_core.types.plan import RewardRef
from seethink_core.types.sample import Sample

TIMEOUT = 1.0



@pytest.fixture(scope="module")
def registry():
    return load_plugins().registry


def samples(*answers: str | None, meta: dict | None = None) -> list[Sample]:
    return [Sample(id=str(k), prompt="q", answer=a, meta=dict(meta or {})) for k, a in enumerate(answers)]


def test_reference_reward_weighs_accuracy_and_format(registry) -> None:
    refs = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]
    with build_reward(refs, registry, timeout=5.0) as reward:
        batch = reward(["q"] * 4, [
            "<think>half</think> \\boxed{\\frac{1}{2}}",  # right, well formed
            "\\boxed{0.5}",  # right, no think block
            "<think>hm</think> \\boxed{2}",  # wrong, well formed
            "<think>hm</think> \\boxed{B}",  # MCQ right
        ], samples("0.5", "1/2", "3", "B"))
    assert batch.total == pytest.approx([1.0, 0.9, 0.1, 1.0])
    assert batch.components == {"accuracy": [1.0, 1.0, 0.0, 1.0], "format": [1.0, 0.0, 1.0, 1.0]}
    assert batch.failures == {}


def test_none_contributes_nothing_and_each_component_is_reported(doubles) -> None:
    parts = [Component("a", 2.0, doubles.Constant(0.5, "a")), Component("b", 3.0, doubles.Constant(None, "b"))]
    for timeout in (None, 5.0):
        with CombinedReward(parts, timeout=timeout) as reward:
            batch = reward(["q"] * 2, ["x", "y"], samples("1", "2"))
        assert batch.total == [1.0, 1.0]
        assert batch.components == {"a": [0.5, 0.5], "b": [None, None]}


def test_columns_and_token_counts_reach_the_reward(doubles) -> None:
    parts = [Component("echo", 1.0, doubles.EchoColumns())]
    for timeout in (None, 5.0):
        with CombinedReward(parts, timeout=timeout) as reward:
            batch = reward(["q"] * 2, ["x", "y"], samples("x", "y"), completion_tokens=[3, 7],
                           max_response_tokens=100)
        assert batch.components["echo"] == [3.5, 7.0]


@pytest.mark.parametrize("risky", [True, False])  # one call per sample, or chunks split on error
def test_a_raising_reward_fails_only_its_samples(doubles, risky: bool) -> None:
    parts = [Component("fragile", 1.0, doubles.RaisesOn("bad", risky)), Component("const", 1.0, doubles.Constant(0.25))]
    for timeout in (None, 5.0):
        with CombinedReward(parts, timeout=timeout) as reward:
            batch = reward(["q"] * 3, ["ok", "bad", "ok"], samples("1", "2", "3"))
            assert batch.components["fragile"] == [1.0, None, 1.0]
            assert batch.total == [1.25, 0.25, 1.25]
            assert batch.failures == {"fragile": 1}
            assert "RuntimeError: cannot grade 'bad'" in reward.last_errors["fragile"]


def test_a_broken_result_counts_as_a_failure(doubles) -> None:
    with CombinedReward([Component("broken", 1.0, doubles.WrongLength())], timeout=None) as reward:
        batch = reward(["q"] * 2, ["a", "b"], samples("1", "2"))
    assert batch.components["broken"] == [None, None] and batch.failures == {"broken": 2}


def test_a_hanging_reward_times_out_and_the_batch_goes_on(doubles) -> None:
    parts = [Component("slow", 1.0, doubles.HangsOn("hang")), Component("const", 1.0, doubles.Constant(0.5))]
    with CombinedReward(parts, timeout=TIMEOUT) as reward:
        reward(["q"], ["warm"], samples("1"))  # wait for the worker to start
        start = time.monotonic()
        batch = reward(["q"] * 4, ["ok", "hang", "ok", "hang"], samples("1", "2", "3", "4"))
        took = time.monotonic() - start
        assert batch.components["slow"] == [1.0, None, 1.0, None]
        assert batch.components["const"] == [0.5] * 4
        assert batch.failures == {"slow": 2}
        assert "ran past its 1 s timeout" in reward.last_errors["slow"]
        assert took < 2 * TIMEOUT + 1.5  # two hangs, each cut at the timeout; a warm spare takes over
        assert reward(["q"], ["ok"], samples("1")).components["slow"] == [1.0]  # the spare took over


def test_a_crashing_reward_is_a_failure_not_a_dead_run(doubles) -> None:
    parts = [Component("crashy", 1.0, doubles.ExitsOn("die")), Component("const", 1.0, doubles.Constant(1.0))]
    with CombinedReward(parts, timeout=5.0) as reward:
        batch = reward(["q"] * 3, ["ok", "die", "ok"], samples("1", "2", "3"))
    assert batch.components["crashy"] == [1.0, None, 1.0]
    assert batch.failures == {"crashy": 1}


def test_power_tower_returns_within_the_timeout_from_a_worker_thread(registry) -> None:
    # math-verify spins on 9^{9^{9^9}} and cannot use its signal timeout off the main thread.
    refs = [RewardRef("accuracy", 0.9, {"grader": "math_verify"}), RewardRef("format", 0.1)]
    with build_reward(refs, registry, timeout=TIMEOUT) as reward:
        reward(["q"], [r"\boxed{1}"], samples("1"))  # started and warm
        result: dict = {}

        def call() -> None:
            start = time.monotonic()
            result["batch"] = reward(["q"], ["<think>big</think> \\boxed{9^{9^{9^9}}}"], samples("1"))
            result["took"] = time.monotonic() - start

        thread = threading.Thread(target=call)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert result["took"] < TIMEOUT + 0.5
        assert result["batch"].components == {"accuracy": [None], "format": [1.0]}
        assert result["batch"].failures == {"accuracy": 1}
        assert result["batch"].total == pytest.approx([0.1])


def test_several_workers_share_a_batch(registry) -> None:
    refs = [RewardRef("numeric", 1.0)]
    with build_reward(refs, registry, timeout=5.0, workers=2) as reward:
        texts = [f"\\boxed{{{k}}}" for k in range(50)]
        batch = reward(["q"] * 50, texts, samples(*[str(k if k % 2 else k + 1) for k in range(50)]))
    assert batch.components["numeric"] == [0.0 if k % 2 == 0 else 1.0 for k in range(50)]


def test_bad_arguments_are_errors(doubles) -> None:
    with pytest.raises(ConfigError, match="timeout must be positive"):
        CombinedReward([], timeout=0)
    with CombinedReward([Component("c", 1.0, doubles.Constant(1.0))], timeout=None) as reward:
        with pytest.raises(ValueError, match="2 prompts, 1 completions"):
            reward(["q", "q"], ["a"], samples("1"))


def test_an_unpicklable_reward_is_a_clear_error() -> None:
    with pytest.raises(RewardError, match="must be picklable"):
        CombinedReward([Component("lam", 1.0, lambda prompts, completions, **_: [1.0])], timeout=5.0)


def test_empty_batch_and_no_rewards(doubles) -> None:
    assert CombinedReward([], timeout=5.0)(["q"], ["a"], samples("1")).total == [0.0]
    with CombinedReward([Component("c", 1.0, doubles.Constant(1.0))], timeout=5.0) as reward:
        assert reward([], [], []).total == []


@pytest.mark.parametrize("answer, meta, wrong", [
    ("B", {}, "C"), ("D", {"choices": ["a", "b", "c", "d"]}, "A"), ("cat", {"choices": ["dog", "cat"]}, "A"),
    ("12", {}, "13"), ("2.5", {}, "3.5"), ("[0, 0, 10, 10]", {}, "[11, 0, 21, 10]"),
    ("1,000,000", {}, "1000001"), ("1234567.5", {}, "1234568.5"),
    (r"\frac{1}{2}", {}, r"\frac{1}{2}+1"),
])
def test_wrong_answer_is_really_wrong(answer: str, meta: dict, wrong: str) -> None:
    assert wrong_answer(Sample(id="1", prompt="q", answer=answer, meta=meta)) == wrong


def test_check_reward_maximum_passes_for_matching_rewards(registry) -> None:
    refs = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1), RewardRef("overlong", 0.1)]
    with build_reward(refs, registry, timeout=5.0) as reward:
        for sample in [*samples("B", r"\frac{1}{2}", "7"), *samples("cat", meta={"choices": ["dog", "cat"]})]:
            checks = check_reward_maximum(reward, sample)
            assert [c.reward for c in checks] == ["accuracy", "format", "overlong", "total"]
            assert all(c.ok for c in checks), [c.problem for c in checks]
            assert checks[0].gold == 1.0 and checks[0].wrong == 0.0


def test_check_reward_maximum_finds_a_reward_that_cannot_grade_the_data(registry) -> None:
    refs = [RewardRef("iou", 1.0), RewardRef("numeric", 1.0)]
    with build_reward(refs, registry, timeout=None) as reward:
        checks = check_reward_maximum(reward, samples("B")[0])
    problems = {c.reward: c.problem for c in checks}
    assert problems["iou"] == "reward 'iou' is not applicable to the gold answer 'B'"
    assert problems["numeric"] == "reward 'numeric' is not applicable to the gold answer 'B'"
    assert "total reward gives a wrong answer 0, no less than the gold answer's 0" in problems["total"]


def test_unpicklable_sample_data_is_a_clear_error(doubles) -> None:
    with CombinedReward([Component("c", 1.0, doubles.Constant(1.0))], timeout=5.0) as reward:
        bad = samples("1", meta={"handle": threading.Lock()})
        with pytest.raises(RewardError, match="cannot be sent to the reward worker"):
            reward(["q"], ["a"], bad)
        assert reward(["q"], ["a"], samples("1")).total == [1.0]  # the worker is still fine


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_stuck_worker_does_not_outlive_a_killed_caller() -> None:
    import subprocess

    here = str(Path(__file__).parent)
    script = (
        "import os, signal, sys, threading, time\n"
        f"sys.path.insert(0, {here!r})\n"
        "import rewards_doubles\n"
        "from seethink_core.run.rewards.combine import CombinedReward, Component\n"
        "from seethink_core.types.sample import Sample\n"
        "r = CombinedReward([Component('h', 1.0, rewards_doubles.HangsOn('hang'))], timeout=600)\n"
        "s = [Sample(id='1', prompt='q', answer='1')]\n"
        "threading.Thread(target=r, args=(['q'], ['hang'], s), daemon=True).start()\n"
        "while r._workers[0].counter.value == 0: time.sleep(0.01)\n"
        "print(r._workers[0].process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    pid = int(out.stdout.strip())
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(pid)


def test_a_bounded_reward_that_hangs_is_found_inside_its_chunk(doubles) -> None:
    # It claims bounded time, so the worker calls it on the whole chunk; the chunk times out,
    # is retried sample by sample, and only the hanging sample fails.
    parts = [Component("liar", 1.0, doubles.HangsOn("hang", risky=False))]
    with CombinedReward(parts, timeout=TIMEOUT) as reward:
        reward(["q"], ["warm"], samples("1"))
        batch = reward(["q"] * 5, ["ok", "ok", "hang", "ok", "ok"], samples(*"12345"))
    assert batch.components["liar"] == [1.0, 1.0, None, 1.0, 1.0]
    assert batch.failures == {"liar": 1}
