"""Kill a run at every fault point, run it again: it ends exactly as an uninterrupted run.

A two-phase curriculum (SFT warm-up, then GRPO) on the tiny model and the synthetic world runs once
without faults by ``python -m seethink_core.cli.main run`` (the reference). Each test runs it with
``SEETHINK_FAULT`` set (in a process forked from a server that imported torch once: forkrun.py),
checks that the process died by SIGKILL, hashes the files of the phases that had finished, runs it
again without the fault and compares: every phase's metrics (to 1e-6; wall-clock fields aside),
the data order, the dumped rollouts, the final weights (bit for bit), and the finished phases'
files (unchanged).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).parent))
from forkrun import ForkRunner  # noqa: E402

# RL: 2 optimizer steps per rollout (4 prompts, batch 2), so rollout boundaries are at steps 0, 2, 4
# and checkpoints (every 2 steps) at 2 and 4. SFT: checkpoint at step 2 of 3.
CURRICULUM = """
curriculum resume_check {
    model   "tiny-vlm"
    backend local(device: "cpu", threads: 1, memory_estimate: false, rollout_dump_every: 2,
                  checkpoint_every: 2, keep_checkpoints: 2, deterministic: true)
    seed    3
    reward  accuracy weight 0.5
    reward  length(mode: "target", target: 2) weight 0.5
    stage warm {
        capability perception
        method  sft(lr: 5e-3, batch_size: 2, target: "answer")
        data    synthetic(capability: "perception", count: 16)
        steps   3
    }
    stage rl {
        capability perception
        algorithm grpo(lr: 1e-3, batch_size: 2, rollout_batch_size: 4, group: 2, max_response_tokens: 4,
                       kl: 0.05)
        data    synthetic(capability: "perception", count: 16)
        steps   6
    }
}
"""
PHASES = ("00-warm", "01-rl")
WALL_CLOCK = ("time.",)


class World:
    def __init__(self, root: Path, runner: ForkRunner):
        self.root = root
        self.runner = runner
        self.curr = root / "resume_check.curr"
        self.curr.write_text(CURRICULUM)

    def run(self, name: str, *, fault: str | None = None, progress: bool = False) -> tuple[int, str]:
        return self.runner.run(self.curr, self.root / name, fault=fault, progress=progress)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("resume")
    runner = ForkRunner({"SEETHINK_CACHE": str(root / "cache"), "HF_HUB_OFFLINE": "1",
                         "TOKENIZERS_PARALLELISM": "false"})
    try:
        yield World(root, runner)
    finally:
        runner.close()


@pytest.fixture(scope="module")
def reference(world: World) -> Path:
    """The uninterrupted run, by the plain command (the fork server imports meanwhile)."""
    ref = world.root / "reference"
    cmd = [sys.executable, "-m", "seethink_core.cli.main", "run", str(world.curr), "--run-dir", str(ref),
           "--no-progress"]
    done = subprocess.run(cmd, env=world.runner.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return ref


def _metrics(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith(WALL_CLOCK) and not k.endswith("tokens_per_s")}
            for r in rows]


def _assert_same_metrics(got: Path, want: Path) -> None:
    a, b = _metrics(got), _metrics(want)
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):
        assert ra.keys() == rb.keys(), ra["step"]
        for k, v in rb.items():
            if isinstance(v, (int, float)):
                assert math.isclose(ra[k], v, rel_tol=0, abs_tol=1e-6), (ra["step"], k, ra[k], v)
            else:
                assert ra[k] == v


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _finished_files(run: Path) -> dict[str, str]:
    """Hashes of the checkpoint folders and optimizer states of the phases marked done."""
    state = json.loads((run / "state.json").read_text())
    out: dict[str, str] = {}
    for name, ps in state["phases"].items():
        if ps["status"] == "done":
            for rel, h in _hashes(run / ps["checkpoint"]).items():  # stored relative to the run directory
                out[f"{name}/checkpoint/{rel}"] = h
            out[f"{name}/optimizer.pt"] = hashlib.sha256((run / ps["optimizer_state"]).read_bytes()).hexdigest()
    return out


def _assert_same_run(got: Path, want: Path) -> None:
    for phase in PHASES:
        g, w = got / "phases" / phase, want / "phases" / phase
        _assert_same_metrics(g / "metrics.jsonl", w / "metrics.jsonl")
        assert (g / "data_order.jsonl").read_text() == (w / "data_order.jsonl").read_text()
        assert (g / "rollouts.jsonl").read_text() == (w / "rollouts.jsonl").read_text()
        data_g, data_w = json.loads((g / "data.json").read_text()), json.loads((w / "data.json").read_text())
        assert (data_g["order_sha256"], data_g["samples_drawn"]) == (data_w["order_sha256"], data_w["samples_drawn"])
        assert _hashes(g / "checkpoint") == _hashes(w / "checkpoint")  # the weights, bit for bit


def _kill(world: World, name: str, fault: str) -> dict[str, str]:
    """Run with the fault; it must die by SIGKILL. The hashes of the phases it had finished."""
    rc, out = world.run(name, fault=fault)
    assert rc == -9, f"expected death by SIGKILL at {fault}, got {rc}:\n{out}"
    return _finished_files(world.root / name)


def _resume(world: World, name: str, before: dict[str, str]) -> str:
    """Run again without a fault (with progress on, so the runner's notes are printed)."""
    rc, out = world.run(name, progress=True)
    assert rc == 0, out
    after = _finished_files(world.root / name)
    assert {k: after[k] for k in before} == before  # finished phases were neither re-run nor rewritten
    return " ".join(out.split())


@pytest.fixture(scope="module")
def killed_after_rollout(world: World) -> tuple[Path, dict[str, str]]:
    """A run killed after the rollout of steps 5-6 (checkpoints of steps 2 and 4 on disk), kept as a
    template: each test resumes its own copy."""
    return world.root / "after_rollout-5", _kill(world, "after_rollout-5", "after_rollout@5")


def _copy_of(world: World, killed: Path, name: str) -> Path:
    dst = world.root / name
    shutil.copytree(killed, dst)  # state.json names the run's own files relative to it: a copy just works
    return dst


def test_killed_after_a_rollout_resumes_to_the_same_result(world, reference, killed_after_rollout):
    killed, before = killed_after_rollout
    run = _copy_of(world, killed, "after_rollout")
    assert {k.split("/")[0] for k in before} == {"warm"}
    out = _resume(world, run.name, before)
    assert "resuming phase 2 (rl) from step 4 (checkpoint at step 4); nothing to redo" in out
    _assert_same_run(run, reference)


@pytest.mark.parametrize("fault,finished", [
    ("mid_update@3", set()),  # SFT warm-up, gradients of step 3 computed; resumes from step 2
    ("mid_update@4", {"warm"}),  # GRPO, second minibatch of a rollout; resumes from step 2
    ("checkpoint_write@4", {"warm"}),  # inside the write of step 4's checkpoint; resumes from step 2
    ("between_phases@0", {"warm"}),  # after the warm-up finished
    ("handoff@1", {"warm"}),  # while handing the warm-up's weights to GRPO
])
def test_a_killed_run_resumes_to_the_same_result(world, reference, fault, finished):
    name = fault.replace("@", "-")
    before = _kill(world, name, fault)
    assert {k.split("/")[0] for k in before} == finished
    out = _resume(world, name, before)
    if fault.startswith(("mid_update", "checkpoint_write")):
        assert "from step 2 (checkpoint at step 2)" in out
    if fault == "checkpoint_write@4":  # steps 3 and 4 were done, the checkpoint of step 4 never completed
        assert "resuming phase 2 (rl) from step 2 (checkpoint at step 2); redoing 2 steps done after it" in out
    _assert_same_run(world.root / name, reference)


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(world, reference, killed_after_rollout):
    killed, before = killed_after_rollout
    run = _copy_of(world, killed, "corrupt")
    newest = sorted((run / "phases/01-rl/resume").glob("step-*"))[-1]
    assert newest.name == "step-00000004"
    weights = newest / "trainable.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    text = _resume(world, run.name, before)
    assert "step-00000004: trainable.safetensors has 100 bytes" in text and "falling back" in text
    assert "resuming phase 2 (rl) from step 2 (checkpoint at step 2); redoing 2 steps done after it" in text
    _assert_same_run(world.root / "corrupt", reference)


def test_a_checkpoint_of_another_plan_is_not_used(world, reference, killed_after_rollout):
    killed, before = killed_after_rollout
    run = _copy_of(world, killed, "foreign")
    marker = run / "phases/01-rl/resume/step-00000004/COMPLETE.json"
    info = json.loads(marker.read_text())
    info["meta"]["plan_hash"] = "0" * 64  # same files, same sizes: only the plan differs
    marker.write_text(json.dumps(info))
    text = _resume(world, run.name, before)
    assert "step-00000004 belongs to a different plan or phase; not used" in text
    assert "resuming phase 2 (rl) from step 2 (checkpoint at step 2)" in text
    rewritten = json.loads((world.root / "foreign/phases/01-rl/resume/step-00000004/COMPLETE.json").read_text())
    assert rewritten["meta"]["plan_hash"] != "0" * 64  # the resumed run wrote its own step 4
    _assert_same_run(world.root / "foreign", reference)


def test_checkpoints_written_before_an_upgrade_that_rehashes_the_plan_are_used(world, reference,
                                                                                killed_after_rollout):
    """An older seethink hashed the same plan differently (an option added since is in the hash): the
    run directory still opens (plan.json is re-hashed by this code), and its in-phase checkpoints carry
    the hash state.json recorded at the start, so they are this plan's, not another's."""
    killed, before = killed_after_rollout
    run = _copy_of(world, killed, "upgraded")
    older = "1" * 64
    state_path = run / "state.json"
    state = json.loads(state_path.read_text())
    state["plan_hash"] = older
    state_path.write_text(json.dumps(state))
    for marker in (run / "phases/01-rl/resume").glob("step-*/COMPLETE.json"):
        info = json.loads(marker.read_text())
        info["meta"]["plan_hash"] = older
        marker.write_text(json.dumps(info))
    text = _resume(world, run.name, before)
    assert "belongs to a different plan" not in text
    assert "resuming phase 2 (rl) from step 4 (checkpoint at step 4); nothing to redo" in text
    _assert_same_run(run, reference)


def test_checkpoints_hold_the_whole_loop_state_and_only_the_last_k_are_kept(reference):
    resume = reference / "phases/01-rl/resume"
    assert sorted(p.name for p in resume.iterdir()) == ["step-00000002", "step-00000004"]
    ckpt = resume / "step-00000004"
    assert {p.name for p in ckpt.iterdir()} == {"COMPLETE.json", "trainable.safetensors", "optimizer.pt",
                                                "state.pt", "loop.json", "data.json"}
    info = json.loads((ckpt / "COMPLETE.json").read_text())
    plan_hash = json.loads((reference / "state.json").read_text())["plan_hash"]
    assert info["meta"] == {"plan_hash": plan_hash, "phase": "rl", "method": "grpo", "samples_seen": 8}
    loop = json.loads((ckpt / "loop.json").read_text())
    assert loop["step"] == 4 and loop["samples_seen"] == 8 and loop["metrics"]["samples_seen"] == 8.0
    assert set(loop["rng"]) == {"python", "numpy"}
    data = json.loads((ckpt / "data.json").read_text())
    assert data["served"] == 8  # two rollouts of four prompts

