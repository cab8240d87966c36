"""A run directory can be moved or copied: its files point inside it by relative paths.

A two-phase run (SFT warm-up, GRPO, with evaluation) is killed inside its second phase, moved with
``shutil.move``, and resumed, reported and evaluated where it now is. state.json and eval.json
name the run's own checkpoints relative to the run directory; old files with absolute paths are
still read.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from seethink_core.run.run_state import PhaseState, RunState, read_stored_path, stored_path
from seethink_core.run.rundir import RunDir

# GRPO: 2 optimizer steps per rollout, checkpoints at steps 2 and 4; killed inside step 6 (step 5 done),
# resumed from 4.
CURRICULUM = """
curriculum move_check {
    model   "tiny-vlm"
    backend local(device: "cpu", threads: 1, memory_estimate: false, checkpoint_every: 2, keep_checkpoints: 2)
    seed    3
    reward  accuracy weight 0.5
    reward  length(mode: "target", target: 2) weight 0.5
    eval    synthetic(capability: "perception", count: 2)
    eval    settings max_response_tokens: 4, before: false
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
        steps   6
    }
}
"""


def _strings(data: object) -> list[str]:
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return [data] if isinstance(data, str) else []


@pytest.fixture(scope="module")
def moved(tmp_path_factory, fork_runner) -> tuple[Path, Path, str]:
    """(where the run was, where it is now, the output of the resume there)."""
    root = tmp_path_factory.mktemp("move")
    curr = root / "m.curr"
    curr.write_text(CURRICULUM)
    old, new = root / "before" / "run", root / "after" / "run"
    old.parent.mkdir()
    rc, out = fork_runner.run(curr, old, fault="mid_update@6")  # the warm-up has 2 steps: step 6 is GRPO's
    assert rc == -9, out
    new.parent.mkdir()
    shutil.move(old, new)
    rc, out = fork_runner.run(curr, new)
    assert rc == 0, out
    return old, new, " ".join(out.split())


def test_a_moved_run_resumes_where_it_now_is(moved):
    old, new, out = moved
    assert "phase warm: done earlier, skipped" in out
    assert "resuming phase 2 (rl) from step 4 (checkpoint at step 4); redoing 1 step done after it" in out
    state = json.loads((new / "state.json").read_text())
    assert state["format"] == 2
    for ps in state["phases"].values():
        assert ps["status"] == "done"
        assert not Path(ps["checkpoint"]).is_absolute() and (new / ps["checkpoint"]).is_dir()
        assert not Path(ps["optimizer_state"]).is_absolute() and (new / ps["optimizer_state"]).is_file()
    assert state["phases"]["rl"]["steps"] == 6
    texts = _strings(state) + [s for p in new.rglob("eval*.json") for s in _strings(json.loads(p.read_text()))]
    assert not [s for s in texts if str(old) in s or str(new) in s]  # no absolute path into either place
    ev = json.loads((new / "phases/01-rl/eval.json").read_text())
    assert ev["checkpoint"] == "phases/01-rl/checkpoint"


def test_report_and_eval_work_on_the_moved_copy(moved, fork_runner, tmp_path):
    _, new, _ = moved
    copy = tmp_path / "copied"
    shutil.copytree(new, copy)  # and once more, copied this time
    rc, out = fork_runner.main(["report", str(copy), "--no-plots"], tmp_path / "report.log")
    assert rc == 0, out
    assert (copy / "report").is_dir() and not (new / "report").exists()
    out_json = copy / "phases/01-rl/eval-again.json"
    rc, out = fork_runner.main(["eval", str(copy / "phases/01-rl/checkpoint"), "--max-samples", "2",
                                "--out", str(out_json), "--json"], tmp_path / "eval.log")
    assert rc == 0, out
    assert json.loads(out_json.read_text())["checkpoint"] == "phases/01-rl/checkpoint"


def test_paths_are_stored_relative_inside_the_run_directory_only(tmp_path):
    root = tmp_path / "run"
    (root / "phases/00-a/checkpoint").mkdir(parents=True)
    external = tmp_path / "elsewhere"
    external.mkdir()
    assert stored_path(root, str(root / "phases/00-a/checkpoint")) == "phases/00-a/checkpoint"
    assert stored_path(root, str(external)) == str(external)
    assert stored_path(root, "tiny-vlm") == "tiny-vlm"  # a model name is no path
    cwd = os.getcwd()
    try:  # a relative path is taken from the working directory, and stored relative to the run
        os.chdir(tmp_path)
        assert stored_path(Path("run"), "run/phases/00-a/checkpoint") == "phases/00-a/checkpoint"
    finally:
        os.chdir(cwd)
    assert read_stored_path(root, "phases/00-a/checkpoint") == str(root / "phases/00-a/checkpoint")
    assert read_stored_path(root, str(external)) == str(external)


def test_an_old_state_json_with_absolute_paths_is_read_from_the_new_place(tmp_path):
    """Format 1 stored absolute paths: one that no longer exists (moved), or that names the original
    (copied), resolves to the same file under the run directory."""
    old, new = tmp_path / "old", tmp_path / "new"
    (new / "phases/00-a/checkpoint").mkdir(parents=True)
    (new / "phases/00-a/optimizer.pt").write_bytes(b"x")
    (old / "phases/00-a/checkpoint").mkdir(parents=True)  # the original of a copy, still there
    state = {"format": 1, "plan_hash": "h", "phases": {
        "a": {**PhaseState(status="done").__dict__, "checkpoint": str(old / "phases/00-a/checkpoint"),
              "optimizer_state": str(old / "phases/00-a/optimizer.pt")},
        "b": {**PhaseState().__dict__, "checkpoint": "/nowhere/phases/01-b/checkpoint"}}}
    (new / "state.json").write_text(json.dumps(state))
    loaded = RunDir(new).load_state()
    assert loaded is not None
    assert loaded.phases["a"].checkpoint == str(new / "phases/00-a/checkpoint")
    assert loaded.phases["a"].optimizer_state == str(new / "phases/00-a/optimizer.pt")
    assert loaded.phases["b"].checkpoint == "/nowhere/phases/01-b/checkpoint"  # nothing there: kept
    RunDir(new).save_state(RunState("h", loaded.phases))
    saved = json.loads((new / "state.json").read_text())["phases"]["a"]
    assert (saved["checkpoint"], saved["optimizer_state"]) == ("phases/00-a/checkpoint", "phases/00-a/optimizer.pt")
