"""Ctrl-C during ``seethink run``, and what a re-run says it redoes.

A real ``seethink run`` process (forked from the server in forkrun.py, leading its own process group
as a terminal's foreground job does) trains a long GRPO phase; SIGINT goes to the whole group, as
Ctrl-C at a terminal does, reward workers included. It must print one line saying where it stopped
and how to resume, no traceback, and exit with 130. Re-runs of copies of that run directory then
say exactly how many steps they redo.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

# Long enough that a Ctrl-C always lands in the middle of the RL phase; no run here goes to its end.
CURRICULUM = """
curriculum interrupt_check {
    model   "tiny-vlm"
    backend local(device: "cpu", threads: 1, memory_estimate: false, checkpoint_every: 2, keep_checkpoints: 2)
    seed    3
    reward  accuracy weight 0.5
    reward  length(mode: "target", target: 2) weight 0.5
    stage warm {
        capability perception
        method  sft(lr: 5e-3, batch_size: 2, target: "answer")
        data    synthetic(capability: "perception", count: 16)
        steps   2
    }
    stage rl {
        capability perception
        algorithm grpo(lr: 1e-3, batch_size: 2, rollout_batch_size: 4, group: 2, max_response_tokens: 4)
        data    synthetic(capability: "perception", count: 16)
        steps   100000
    }
}
"""
RL = "phases/01-rl"


def _text(log: Path) -> str:
    return log.read_text() if log.exists() else ""  # the child creates it after the fork


def _wait_for(pid: int, check, what: str, log: Path, timeout: float = 240.0) -> None:
    """Wait until ``check()``; if it never comes, kill the run (it would train on for ever) and fail."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            raise AssertionError(f"timed out waiting for {what}:\n{_text(log)}")
        time.sleep(0.05)


def _train_steps(run: Path) -> list[int]:
    path = run / RL / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # the line being written
    return [r["step"] for r in rows if r.get("kind") == "train"]


def _interrupt(fork_runner, argv: list[str], log: Path, ready) -> tuple[int, str]:
    """Start ``seethink ARGV``, wait until ``ready()``, send SIGINT to its process group."""
    pid = fork_runner.start(argv, log)
    _wait_for(pid, ready, "the run to get going", log)
    os.killpg(pid, signal.SIGINT)
    return fork_runner.wait(), log.read_text()


def _interruption_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "interrupted" in line]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("interrupt")
    (root / "c.curr").write_text(CURRICULUM)
    return root


def _argv(world: Path, run: str) -> list[str]:
    return ["run", str(world / "c.curr"), "--run-dir", str(world / run), "--no-progress"]


@pytest.fixture(scope="module")
def interrupted(world: Path, fork_runner) -> tuple[Path, int, str]:
    """A run stopped by Ctrl-C after at least five RL steps: (run directory, exit status, output)."""
    run = world / "first"
    rc, out = _interrupt(fork_runner, _argv(world, "first"), world / "first.log",
                         lambda: len(_train_steps(run)) >= 5)
    return run, rc, out


def test_ctrl_c_prints_one_line_with_the_resume_command_and_exits_130(world, interrupted):
    run, rc, out = interrupted
    assert rc == 130, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    lines = _interruption_lines(out)
    assert len(lines) == 1, out
    step = max(_train_steps(run))
    assert lines[0] == (f"interrupted at phase 2/2 (rl), step {step}; resume with: "
                        f"seethink run {world / 'c.curr'} --run-dir {run}")
    # Nothing half-written: state.json parses and says the phase is running; every checkpoint folder
    # that looks finished is complete, and no temporary one is left.
    state = json.loads((run / "state.json").read_text())
    assert state["phases"]["warm"]["status"] == "done" and state["phases"]["rl"]["status"] == "running"
    assert not list(run.rglob(".*.tmp*")), list(run.rglob(".*.tmp*"))
    from seethink_core.run.checkpointing import validate_checkpoint

    resume = sorted((run / RL / "resume").glob("step-*"))
    assert resume and all(validate_checkpoint(c)[1] is None for c in resume)
    assert not (run / RL / "checkpoint").exists()


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_a_resume_says_how_many_steps_it_redoes_and_a_second_ctrl_c_is_quiet(world, interrupted, fork_runner):
    run = _copy(interrupted[0], world / "redo")
    checkpoints = sorted((run / RL / "resume").glob("step-*"))
    shutil.rmtree(checkpoints[-1])  # fall back to the older one, so there is work to redo
    at = int(checkpoints[-2].name.removeprefix("step-"))
    done = max(_train_steps(run))
    log = world / "redo.log"
    expected = (f"resuming phase 2 (rl) from step {at} (checkpoint at step {at}); "
                f"redoing {done - at} steps done after it")
    pid = fork_runner.start(_argv(world, "redo"), log)
    _wait_for(pid, lambda: "resuming phase 2" in _text(log), "the resume note", log)
    os.killpg(pid, signal.SIGINT)
    time.sleep(0.1)  # not at once: two signals that arrive together are one for Python
    with contextlib.suppress(ProcessLookupError):  # it may be gone already; either way the same output
        os.killpg(pid, signal.SIGINT)  # lands while the first one's shutdown runs
    rc = fork_runner.wait()
    out = log.read_text()
    assert expected in out.splitlines(), out
    assert rc == 130 and "Traceback" not in out and len(_interruption_lines(out)) == 1, out


def test_a_phase_without_a_checkpoint_inside_says_it_restarts_from_step_0(world, interrupted, fork_runner):
    run = _copy(interrupted[0], world / "restart")
    shutil.rmtree(run / RL / "resume")
    done = max(_train_steps(run))
    log = world / "restart.log"
    rc, out = _interrupt(fork_runner, _argv(world, "restart"), log,
                         lambda: "restarting phase 2" in _text(log))
    assert f"restarting phase 2 (rl) from step 0: no checkpoint inside it; {done} steps will be redone" \
        in out.splitlines(), out
    assert rc == 130 and "Traceback" not in out, out


def test_the_resume_command_repeats_what_makes_the_plan_and_drops_from_phase():
    import argparse

    from seethink_core.cli.run import resume_command

    args = argparse.Namespace(file="curricula/paper.curr", curriculum="merged", backend=None,
                              overrides=["algorithm.lr=1e-5", "prompt=think step by step"],
                              from_phase="rl", reuse=["runs/other"], dry_run=False)
    assert resume_command(args, Path("runs/x")) == (
        "seethink run curricula/paper.curr --curriculum merged --set algorithm.lr=1e-5 "
        "--set 'prompt=think step by step' --run-dir runs/x --reuse runs/other")
