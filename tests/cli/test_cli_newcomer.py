"""The first hour's commands: plugin and method options, completion, ``python -m seethink``, re-running a
changed plan (the exact ``--reuse`` command), and a dry run followed by an edit."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from seethink_core.cli.main import main
from seethink_core.cli.plugins_cmd import dsl_value
from seethink_core.cli.run import beside_command
from seethink_core.dsl.parser import parse_literal
from seethink_core.run.rundir import RunDir
from seethink_core.types.methods import SFTOptions
from seethink_core.types.plan import BackendRef, Budget, DataRef, Phase, TrainingPlan


def out_of(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_options_of_one_method_wrap_and_show_defaults_as_written(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = out_of(capsys, "plugins", "--options", "dapo")
    assert code == 0
    joined = out.replace("\n      ", " ").replace("\n  ", " ")  # undo the wrapping
    assert "method dapo GRPO + clip-higher, token-level loss, dynamic sampling and overlong shaping." in joined
    assert "loss_agg: seq_mean_token_mean | token_mean | seq_mean_token_sum_norm = \"token_mean\"" in joined
    assert max(len(line) for line in out.splitlines()) <= 60
    code, out, _ = out_of(capsys, "plugins", "--options", "format")
    assert "needs columns:" in out and "evaluator format" in out and "reward format" in out
    pattern = next(line for line in out.splitlines() if line.startswith("  pattern:"))
    literal = pattern.split(" = ", 1)[1]
    assert "\\\\\\\\" not in literal  # never Python's doubled repr
    from seethink_rewards.schemas import REFERENCE_FORMAT
    assert parse_literal(literal).value == REFERENCE_FORMAT


def test_a_missing_name_suggests_the_nearest(capsys):
    code, _, err = out_of(capsys, "plugins", "--options", "gpro")
    assert code == 2 and "no plugin, registered thing or method is named 'gpro'" in err and "'grpo'" in err


@pytest.mark.parametrize("value", ['put in \\boxed{}', 'a\\\\b', 'say "hi"\n', "\\", ["x", 1, None, True]])
def test_defaults_are_dsl_literals_that_read_back(value):
    assert parse_literal(dsl_value(value)).value == value


def test_completion_scripts(capsys):
    code, out, _ = out_of(capsys, "completion", "bash")
    assert code == 0 and "complete" in out and "plugins" in out and "--dry-run" in out
    code, out, _ = out_of(capsys, "completion", "zsh")
    assert code == 0 and out.startswith("#compdef seethink")


def test_python_dash_m_seethink():
    out = subprocess.run([sys.executable, "-m", "seethink", "--version"], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0 and out.stdout.startswith("seethink ")


def test_the_beside_command_takes_the_next_free_name(tmp_path):
    (tmp_path / "demo-2").mkdir()
    args = argparse.Namespace(file="demo.curr", curriculum=None, backend=None, overrides=["algorithm.lr=1e-4"],
                              reuse=[], dry_run=False)
    assert beside_command(args, tmp_path / "demo") == (
        f"seethink run demo.curr --set algorithm.lr=1e-4 --run-dir {tmp_path}/demo-3 --reuse {tmp_path}/demo")


def _plan(steps: int) -> TrainingPlan:
    phase = Phase(index=0, name="warm", stages=["warm"], capabilities=[], model="m", init_from="base",
                  method="sft", algorithm=SFTOptions(), data=[DataRef("toy")], rewards=[], budget=Budget(steps=steps))
    return TrainingPlan("t", "m", BackendRef("fake"), [phase])


def test_a_dry_run_directory_takes_a_changed_plan(tmp_path):
    run_dir = RunDir(tmp_path / "r")
    run_dir.open_for(_plan(3))
    (run_dir.phase_dir(_plan(3).phases[0])).mkdir(parents=True)
    (run_dir.phase_dir(_plan(3).phases[0]) / "dry_run.json").write_text("{}")
    state = run_dir.open_for(_plan(4))  # what a dry run leaves is no run to protect
    assert state.plan_hash == _plan(4).hash() and run_dir.load_plan().phases[0].budget.steps == 4
    (run_dir.phase_dir(_plan(4).phases[0])).mkdir(parents=True)
    (run_dir.phase_dir(_plan(4).phases[0]) / "metrics.jsonl").write_text("")
    with pytest.raises(Exception, match="holds a different plan:\n    phase 'warm': budget.steps 4 → 5"):
        run_dir.open_for(_plan(5))
