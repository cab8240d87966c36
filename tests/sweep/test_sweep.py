"""`seethink sweep`'s table: final evaluations as mean ± std over seeds, per curriculum."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "eval"))
from report_fixtures import build_run, fixture_plugins, make_plan  # noqa: E402

from seethink_core.sweep import RunSpec, mean_std, results_table, table_markdown  # noqa: E402


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
