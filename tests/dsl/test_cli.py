"""``seethink check`` and ``seethink plan`` as a user types them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seethink_core.cli.main import main
from seethink_core.types.plan import TrainingPlan

HERE = Path(__file__).parent
PAPER = HERE / "curricula" / "paper.curr"
HEAVY = ("torch", "transformers", "datasets", "ray", "vllm")


def test_check_ok(fakes, capsys):
    assert main(["check", str(PAPER)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"ok: {PAPER} (3 curricula, 7 phases)"


def test_check_reports_every_error_and_fails(fakes, capsys, tmp_path):
    bad = tmp_path / "bad.curr"
    bad.write_text('curriculum c {\n  model "tiny_vlm"\n  reward acuracy\n  stage s { data synthetic  steps 0 }\n}\n')
    assert main(["check", str(PAPER), str(bad)]) == 2
    captured = capsys.readouterr()
    assert f"ok: {PAPER}" in captured.out
    err = captured.err
    assert f"{bad}:3:10: unknown reward 'acuracy'" in err
    assert f"{bad}:4:35: steps must be positive, not 0" in err
    assert "    hint: did you mean 'accuracy'?" in err
    assert f"failed: {bad} (2 errors)" in err
    assert "Traceback" not in err


def test_check_syntax_error(fakes, capsys, tmp_path):
    bad = tmp_path / "syntax.curr"
    bad.write_text("curriculum c {\n  stage s {\n    epochs\n  }\n}\n")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:3: missing value after 'epochs'" in err and "RBRACE" not in err


def test_plan_table(fakes, capsys):
    assert main(["plan", str(PAPER), "--curriculum", "merged"]) == 0
    out = capsys.readouterr().out
    for word in ("curriculum merged", "all", "perception", "grpo", "capcurriculum_text", "accuracy", "16 epochs",
                 "base", "plan hash"):
        assert word in out


def test_plan_json_and_yaml(fakes, capsys):
    assert main(["plan", str(PAPER), "--format", "json", "--set", "stage.perception.epochs=2",
                 "--backend", "local"]) == 0
    plan = TrainingPlan.from_json(capsys.readouterr().out)
    assert plan.phases[0].budget.epochs == 2 and plan.backend.name == "local"
    assert main(["plan", str(PAPER), "-c", "capability_x_difficulty", "--format", "yaml"]) == 0
    plan = TrainingPlan.from_yaml(capsys.readouterr().out)
    assert plan.phases[2].difficulty.order == "easy_to_hard"


def test_plan_errors(fakes, capsys):
    assert main(["plan", str(PAPER), "--set", "seed"]) == 2
    assert "--set expects KEY=VALUE" in capsys.readouterr().err
    assert main(["plan", str(PAPER), "--set", "stage.nope.steps=1"]) == 2
    err = capsys.readouterr().err
    assert "--set:1:7: --set names an unknown stage 'nope'" in err and "stage.nope.steps=1" in err


SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
if {fakes}:
    import fakes
    from seethink_core.hooks import manager as plugins
    plugins.set_plugins(fakes.fake_plugins())
from seethink_core.cli.main import main
codes = [main(["check", {paper!r}]), main(["plan", {paper!r}, "--format", "json"])]
print(json.dumps({{"codes": codes, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


@pytest.mark.parametrize("use_fakes", [True, False], ids=["fake plugins", "installed plugins"])
def test_check_and_plan_import_nothing_heavy(use_fakes, tmp_path):
    code = textwrap.dedent(SCRIPT.format(tests=str(HERE), fakes=use_fakes, paper=str(PAPER), heavy=HEAVY))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"seethink check/plan imported {result['heavy']}"
    if use_fakes:
        assert result["codes"] == [0, 0]
    else:  # the installed plugins may not register the reference's names; any result but a crash
        assert set(result["codes"]) <= {0, 2}
