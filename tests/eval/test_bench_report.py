"""`seethink report` shows suites side by side: `seethink eval --suite` results of two checkpoints and a
run directory whose evaluations ran the suite, one table row per (run, evaluation), in points."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import test_bench_suite as bench

from seethink_core.cli.main import main
from seethink_core.cli.report import make_report
from seethink_core.report.suites import suite_tables
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import BackendRef, Budget, DataRef, Phase, TrainingPlan

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench_fixtures import write_suite  # noqa: E402

COLUMNS = ["mathvista", "mathvision", "mathverse", "wemath", "visual_math average",
           "aokvqa", "realworldqa", "mmstar", "pope", "perception average", "overall"]


@pytest.fixture
def results(with_plugins, tmp_path, monkeypatch):
    with_plugins(("benchgen", bench.bench_backend()))
    data = write_suite(tmp_path / "bench")
    staged, merged = tmp_path / "staged.json", tmp_path / "merged.json"
    assert main(["eval", "ckpt/staged", "--suite", "reference", "--suite-dir", str(data), "-b", "benchgen",
                 "--out", str(staged)]) == 0
    monkeypatch.setattr(bench, "WRONG", set())  # the other checkpoint answers everything right
    assert main(["eval", "ckpt/merged", "--suite", "reference", "--suite-dir", str(data), "-b", "benchgen",
                 "--out", str(merged)]) == 0
    return staged, merged


def run_dir(root: Path, metrics: dict[str, float]) -> Path:
    """A one-phase run directory whose phase evaluation wrote ``metrics``."""
    phase = Phase(index=0, name="perception", stages=["perception"], capabilities=["perception"], model="m",
                  init_from="base", method="grpo", algorithm=GRPOOptions(), data=[DataRef("synthetic")],
                  rewards=[], budget=Budget(steps=1))
    plan = TrainingPlan("paper", "m", BackendRef("local"), [phase])
    (root / "phases" / "00-perception").mkdir(parents=True)
    (root / "plan.json").write_text(plan.to_json())
    (root / "phases" / "00-perception" / "eval.json").write_text(json.dumps({"metrics": metrics}))
    return root


def test_report_shows_the_suite_of_several_results_side_by_side(results, tmp_path, capsys):
    staged, merged = results
    run_metrics = {"suite.reference.pope": 0.5, "suite.reference.perception": 0.5, "suite.reference.overall": 0.5}
    run = run_dir(tmp_path / "run", run_metrics)
    files = make_report([staged, merged, run], tmp_path / "report", plots=False)
    data = json.loads(files.data["suites"].read_text())["suites"]["reference"]
    assert data["columns"] == COLUMNS
    rows = {(r["run"], r["title"]): r["values"] for r in data["rows"]}
    assert set(rows) == {("staged", "staged"), ("merged", "merged"), ("paper", "1 perception")}
    staged_row = rows[("staged", "staged")]
    assert staged_row[COLUMNS.index("mathvista")] == 75.0 and staged_row[COLUMNS.index("pope")] == 85.71
    assert rows[("merged", "merged")] == [100.0] * len(COLUMNS)
    assert rows[("paper", "1 perception")][COLUMNS.index("pope")] == 50.0
    assert rows[("paper", "1 perception")][COLUMNS.index("mathvista")] is None
    page = files.html.read_text()
    assert "Benchmark suites" in page and "perception average" in page and "85.71" in page
    tables = suite_tables(files.tables["suites"])
    assert len(tables) == 1 and tables[0].row_count == 3


def test_a_report_without_suites_says_nothing_of_them(results, tmp_path):
    run = run_dir(tmp_path / "plain", {"accuracy": 0.5})
    files = make_report([run], tmp_path / "r", plots=False)
    assert json.loads(files.data["suites"].read_text())["suites"] == {}
    assert "Benchmark suites" not in files.html.read_text()


def test_a_file_that_is_not_an_eval_result_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    assert main(["report", str(bad), "--no-plots"]) != 0
    assert "neither a run directory nor a `seethink eval` result" in capsys.readouterr().err


def test_the_report_command_prints_the_suite_table(results, tmp_path, capsys):
    from seethink_core.cli.main import main

    staged, merged = results
    assert main(["report", str(staged), str(merged), "--out", str(tmp_path / "r"), "--no-plots", "--no-html"]) == 0
    out = capsys.readouterr().out
    assert "reference" in out and "85.71" in out and "overall" in out
