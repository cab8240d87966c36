"""`seethink sweep curricula/miniature.curr`, shortened: all eight curricula of the miniature experiment
run for real on the CPU (a few steps each, two at a time), the warm-up is trained once and reused by the other seven,
and the results table and report are written. The full sweep's numbers are in docs/results.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CURRICULA = ["staged", "merged", "staged_kl", "staged_replay", "difficulty_only", "staged_difficulty", "reversed",
             "caption_sft"]
SHORT = ["stage.warmup.steps=8", "stage.perception.steps=1", "stage.textual_reasoning.steps=1",
         "stage.visual_reasoning.steps=1", "eval.max_samples=2"]


@pytest.mark.slow
def test_the_miniature_sweep_runs_every_curriculum_and_shares_the_warm_up(tmp_path):
    root = tmp_path / "sweep"
    env = {**os.environ, "SEETHINK_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "seethink_core.cli.main", "sweep", str(ROOT / "curricula" / "miniature.curr"),
           "--seeds", "0", "--jobs", "2", "--run-root", str(root)]
    for s in SHORT:
        cmd += ["--set", s]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for c in CURRICULA:
        state = json.loads((root / c / "seed-0" / "state.json").read_text())
        assert all(p["status"] == "done" for p in state["phases"].values()), c
        reused = state["phases"]["warmup"].get("stopped_by") or ""
        assert (c == "staged") == ("reused" not in reused), (c, reused)  # trained once, then reused
    rows = json.loads((root / "sweep.json").read_text())
    table = rows["table"] if isinstance(rows, dict) else rows
    assert sorted(r["curriculum"] for r in table) == sorted(CURRICULA)
    md = (root / "sweep.md").read_text()
    assert md.count("|") > 20
    assert "| curriculum − staged |" in md and "| forgetting |" in md  # paired with the first; the matrices
    assert len(rows["comparisons"][0]) == len(CURRICULA) - 1
    assert (root / "report" / "report.html").exists() and (root / "sweep.png").exists()
    assert (root / "paired.png").exists()
