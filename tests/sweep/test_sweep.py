"""`seethink sweep`'s table: final evaluations as mean ± std over seeds, per curriculum."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "eval"))
from report_fixtures import build_run, fixture_plugins, make_plan  # noqa: E402

from seethink_core.report.sweep import RunSpec, mean_std, results_table, table_markdown  # noqa: E402


def test_mean_std():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_std([0.5]) == (0.5, 0.0)
    assert all(math.isnan(v) for v in mean_std([]))


def test_results_table_over_seeds(tmp_path, with_plugins):
    plugins = with_plugins(*fixture_plugins())
    staged = make_plan("staged", [("perception", ["perception"]), ("reasoning", ["textual_reasoning",
                                                                                  "visual_reasoning"])])
    merged = make_plan("merged", [("all", ["perception", "textual_reasoning", "visual_reasoning"])])
    specs = []
    for seed in (0, 1):
        for plan in (staged, merged):
            d = tmp_path / plan.curriculum / f"seed-{seed}"
            build_run(d, plugins, plan)
            specs.append(RunSpec(plan.curriculum, seed, d))
    specs.append(RunSpec("merged", 2, tmp_path / "merged" / "seed-2"))  # a run that never happened
    rows = {r["curriculum"]: r for r in results_table(specs)}
    # The scripted model: staged ends right on reasoning and half of perception; merged on everything.
    assert rows["staged"]["seeds"] == 2 and rows["merged"]["seeds"] == 2
    assert rows["staged"]["perception"] == {"mean": 0.5, "std": 0.0, "n": 2}
    assert rows["staged"]["visual"]["mean"] == 1.0 and rows["merged"]["perception"]["mean"] == 1.0
    md = table_markdown(list(rows.values()))
    assert "| staged | 2 | " in md and "0.500 ± 0.000" in md
    json.dumps(list(rows.values()))  # the table is plain data


def test_runs_of_a_seed_reuse_the_phases_earlier_runs_of_that_seed_finished(tmp_path, monkeypatch):
    """A shared warm-up is trained once per seed: later curricula get `--reuse` of the same seed's
    earlier runs (the runner takes a phase only when the plan prefix is identical)."""
    import seethink_core.report.sweep as sweep

    calls: list[tuple[str, int, list[str]]] = []

    def fake_run_one(file, spec, overrides, threads, extra_args):
        calls.append((spec.curriculum, spec.seed, list(extra_args)))
        return sweep.RunOutcome(spec, 0, 0.0, tmp_path / "log")

    monkeypatch.setattr(sweep, "_run_one", fake_run_one)
    monkeypatch.setattr(sweep, "results_table", lambda specs: [])
    sweep.run_sweep("x.curr", ["a", "b", "c"], [0, 1], tmp_path, extra_args=["--no-progress"])
    by = {(c, s): args for c, s, args in calls}
    assert by[("a", 0)] == ["--no-progress"]
    assert by[("b", 1)] == ["--no-progress", "--reuse", str(tmp_path / "a" / "seed-1")]
    assert by[("c", 0)] == ["--no-progress", "--reuse", str(tmp_path / "a" / "seed-0"),
                            "--reuse", str(tmp_path / "b" / "seed-0")]
    calls.clear()
    sweep.run_sweep("x.curr", ["a", "b"], [0], tmp_path, share=False)
    assert [args for _, _, args in calls] == [[], []]
