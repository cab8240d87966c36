"""No reward failure is silent (docs/architecture.md §8): every way a reward can fail is counted per
component, the first failure of each is said once, metrics.jsonl counts them every step, and too many
stop the run with one message that keeps the checkpoints and says how to go on."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from seethink_core.hooks.backend import RewardBatch
from seethink_core.run.rewards.combine import CombinedReward
from seethink_core.run.rewards.errors import RewardFailuresExceeded
from seethink_core.run.rewards.scores import Component
from seethink_core.run.rewards.watch import FailureWatch
from seethink_core.types.sample import Sample


def samples(n: int) -> list[Sample]:
    return [Sample(id=f"s{k}", prompt="q", answer="1") for k in range(n)]


def raise_line(doubles: Any) -> str:
    """Where AlwaysRaises raises: the origin its failure must name."""
    import inspect

    lines, start = inspect.getsourcelines(doubles.AlwaysRaises.__call__)
    at = start + next(k for k, line in enumerate(lines) if "raise RuntimeError" in line)
    return f"{doubles.__file__}:{at} in __call__"


# -- every kind of failure counts, inline and in the worker ----------------------------------------

BAD = {  # double -> its failure's message (inline: one batched call; worker: one call per sample)
    "raises": ("AlwaysRaises", (), "RuntimeError: the grader is broken", None),
    "wrong count": ("WrongLength", (), "returned 3 scores for 2 completions; expected a list of 2",
                    "returned 2 scores for 1 completion; expected a list of 1"),
    "nan": ("Constant", (math.nan,), "returned nan; expected a finite number", None),
    "inf": ("Constant", (math.inf,), "returned inf; expected a finite number", None),
    "string one": ("Constant", ("1",), "returned '1' (str); expected a number or None", None),
    "object": ("Constant", ("opaque",), "returned <Opaque> (Opaque); expected a number or None", None),
}


@pytest.mark.parametrize("timeout", [None, 5.0], ids=["inline", "worker"])
@pytest.mark.parametrize("case", list(BAD))
def test_every_kind_of_bad_result_is_a_failure_of_its_samples(doubles, case: str, timeout: float | None) -> None:
    cls, args, message, worker_message = BAD[case]
    args = tuple(doubles.Opaque() if a == "opaque" else a for a in args)
    parts = [Component("bad", 1.0, getattr(doubles, cls)(*args)), Component("good", 1.0, doubles.Constant(0.5))]
    with CombinedReward(parts, timeout=timeout) as reward:
        batch = reward(["q"] * 2, ["a", "b"], samples(2))
    assert batch.components == {"bad": [None, None], "good": [0.5, 0.5]}
    assert batch.total == [0.5, 0.5]  # the failed component adds nothing; the other still counts
    assert batch.failures == {"bad": 2} and batch.failed == {"bad": [0, 1]}
    error = batch.errors["bad"]
    assert (error.reward, error.sample) == ("bad", "s0")
    assert error.message == (worker_message if timeout and worker_message else message)
    if case == "raises":
        assert error.origin == raise_line(doubles) and "Traceback" in (error.traceback or "")
    else:  # seethink noticed a bad value: the origin is the reward, not seethink's own line
        assert error.origin == f"rewards_doubles.{cls}" and error.traceback is None


def test_bools_and_numpy_scalars_are_still_scores(doubles) -> None:
    np = pytest.importorskip("numpy")
    parts = [Component("flag", 1.0, doubles.Constant(True)), Component("np", 1.0, doubles.Constant(np.float32(0.5)))]
    with CombinedReward(parts, timeout=None) as reward:
        batch = reward(["q"], ["a"], samples(1))
    assert batch.components == {"flag": [1.0], "np": [0.5]} and batch.failures == {}


# -- the first failure is said once; too many stop -------------------------------------------------

def failing_batch(n: int, failed: int, name: str = "bad") -> RewardBatch:
    from seethink_core.hooks.backend import RewardFailure

    error = RewardFailure(name, "RuntimeError: boom", "grader.py:3 in __call__", "s0",
                          "Traceback ...\nRuntimeError: boom")
    return RewardBatch(total=[0.0] * n, components={name: [None] * n, "good": [1.0] * n},
                       failures={name: failed} if failed else {}, failed={name: list(range(failed))} if failed else {},
                       errors={name: error} if failed else {})


def test_the_first_failure_of_each_reward_is_said_once(doubles) -> None:
    notes: list[str] = []
    watch = FailureWatch("rl", limit=1.0, min_samples=1, note=notes.append, debug=False)
    with CombinedReward([Component("broken", 1.0, doubles.AlwaysRaises())], timeout=5.0) as reward:
        for _ in range(3):
            watch.record(reward(["q"] * 2, ["a", "b"], samples(2)))
    assert notes == [f"phase rl: reward 'broken' failed on sample 's0': RuntimeError: the grader is broken "
                     f"(at {raise_line(doubles)}); its later failures are only counted (metric reward_failures.broken)"]
    assert (watch.graded, watch.failed) == ({"broken": 6}, {"broken": 6})


def test_debug_adds_the_traceback_once() -> None:
    notes: list[str] = []
    watch = FailureWatch("rl", limit=1.0, min_samples=1, note=notes.append, debug=True)
    watch.record(failing_batch(2, 2))
    watch.record(failing_batch(2, 2))
    assert notes[1:] == ["Traceback ...\nRuntimeError: boom"] and len(notes) == 2


def test_the_limit_waits_for_a_rollout_batch_then_stops_naming_the_reward() -> None:
    watch = FailureWatch("rl", limit=0.5, min_samples=4, note=lambda text: None, debug=False,
                         resume=lambda: "re-running the same command resumes this phase from its checkpoint at step 2")
    watch.record(failing_batch(2, 2))  # 2 of 2, but fewer than a rollout batch graded
    watch.record(failing_batch(2, 0))  # 2 of 4: at the limit, not above it
    with pytest.raises(RewardFailuresExceeded) as caught:
        watch.record(failing_batch(2, 2))  # 4 of 6
    (diag,) = caught.value.diagnostics
    assert diag.message == ("phase 'rl': reward 'bad' failed on 4 of the 6 samples graded so far (67%), more than "
                            "max_reward_failures (0.5) allows; the first: RuntimeError: boom "
                            "(at grader.py:3 in __call__)")
    assert diag.hint == ("fix the reward (--debug shows its traceback), or allow more with `max_reward_failures: 0.5` "
                         "in the phase's algorithm options (1 never stops; changing it resumes the same run); "
                         "finished phases are kept; re-running the same command resumes this phase from its "
                         "checkpoint at step 2")


def test_a_limit_of_one_never_stops() -> None:
    watch = FailureWatch("rl", limit=1.0, min_samples=1, note=lambda text: None, debug=False)
    for _ in range(3):
        watch.record(failing_batch(4, 4))
    assert watch.failed == {"bad": 12, "good": 0}


# -- a real run on the local backend ----------------------------------------------------------------

CURRICULUM = """
curriculum failing {
    model   "tiny-vlm"
    backend local(device: "cpu", threads: 1, memory_estimate: false, rollout_dump_every: 0, checkpoint_every: 1)
    stage rl {
        capability perception
        algorithm grpo(lr: 1e-3, batch_size: 2, rollout_batch_size: 2, group: 2, max_response_tokens: 4, kl: 0%s)
        data    synthetic(capability: "perception", count: 8)
        reward  %s weight 1
        reward  length(mode: "target", target: 2) weight 0.5
        steps   %d
    }
}
"""


@pytest.fixture
def run(doubles, with_plugins, tmp_path, capsys):
    """``run(reward, steps, options)`` trains the curriculum above in process: (exit code, stdout, the error
    printed on stderr, phase dir)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from seethink_core.cli.main import main
    from seethink_core.hooks.hookspecs import hookimpl
    from seethink_core.hooks.registry import RewardSpec

    class FailingRewards:
        @staticmethod
        @hookimpl
        def register_rewards(register: Any) -> None:
            register(RewardSpec(name="always_raises", factory=lambda options: doubles.AlwaysRaises()))
            register(RewardSpec(name="breaks_later", factory=lambda options: doubles.FailsFromCall(1)))

    with_plugins(("failing_rewards", FailingRewards()))

    def go(reward: str, steps: int, options: str = "") -> tuple[int, str, str, Path]:
        curr = tmp_path / "failing.curr"
        curr.write_text(CURRICULUM % (options, reward, steps))
        capsys.readouterr()
        code = main(["run", str(curr), "--run-dir", str(tmp_path / "run"), "--no-progress"])
        out = capsys.readouterr()
        at = out.err.find("phase 'rl'")  # the error, after the model loader's progress bar
        return code, out.out, out.err[at:] if at >= 0 else out.err, tmp_path / "run" / "phases" / "00-rl"

    return go


def rows(phase_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (phase_dir / "metrics.jsonl").read_text().splitlines()]


def test_failures_are_counted_every_step_and_said_once(run, doubles) -> None:
    code, out, _, phase_dir = run("always_raises", 2, ", max_reward_failures: 1")
    assert code == 0
    first = (f"phase rl: reward 'always_raises' failed on sample 'synthetic-0-0': RuntimeError: the grader is broken "
             f"(at {raise_line(doubles)}); its later failures are only counted (metric reward_failures.always_raises)")
    assert [line for line in out.splitlines() if "failed on sample" in line] == [first]
    for row in rows(phase_dir):
        assert row["reward_failures.always_raises"] == 4 and row["reward_failure_rate.always_raises"] == 1.0
        assert row["reward_failures.length"] == 0 and row["reward_failure_rate.length"] == 0.0
    assert [r["step"] for r in rows(phase_dir)] == [1, 2]


def test_a_reward_failing_on_the_whole_first_batch_stops_right_after_it(run) -> None:
    code, _, err, phase_dir = run("always_raises", 3)
    assert code == 2
    assert err.splitlines()[0].startswith("phase 'rl': reward 'always_raises' failed on 4 of the 4 samples graded "
                                          "so far (100%), more than max_reward_failures (0.1) allows; the first: "
                                          "RuntimeError: the grader is broken (at ")
    assert err.splitlines()[1].endswith("finished phases are kept; re-running the same command starts this phase "
                                        "again (it has no checkpoint yet)")
    assert not (phase_dir / "metrics.jsonl").read_text()  # no step was trained on the failed scores


def test_a_reward_that_breaks_mid_run_stops_it_and_keeps_the_checkpoint(run, doubles) -> None:
    code, _, err, phase_dir = run("breaks_later", 3)
    assert code == 2
    assert err == (
        "phase 'rl': reward 'breaks_later' failed on 4 of the 8 samples graded so far (50%), more than "
        "max_reward_failures (0.1) allows; the first: RuntimeError: the grader broke mid-run (at "
        f"{doubles.__file__}:{_line(doubles.FailsFromCall.__call__, 'raise RuntimeError')} in __call__)\n"
        "    hint: fix the reward (--debug shows its traceback), or allow more with `max_reward_failures: 0.5` in the "
        "phase's algorithm options (1 never stops; changing it resumes the same run); finished phases are kept; "
        "re-running the same command resumes this phase from its checkpoint at step 1\n")
    assert [r["step"] for r in rows(phase_dir)] == [1] and rows(phase_dir)[0]["reward_failures.breaks_later"] == 0
    from seethink_core.run.checkpointing import latest_checkpoint

    assert latest_checkpoint(phase_dir / "resume").step == 1
    state = json.loads((phase_dir.parents[1] / "state.json").read_text())
    assert state["phases"]["rl"]["status"] == "running"  # resumable, not done


def _line(fn: Any, text: str) -> int:
    import inspect

    lines, start = inspect.getsourcelines(fn)
    return start + next(k for k, line in enumerate(lines) if text in line)
