"""Paired comparisons over seeds (report/paired.py) and the sweep's comparison and forgetting tables
(report/sweep_stats.py), against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethink_core.report import sweep_stats
from seethink_core.report.data import EvalRow, RunData
from seethink_core.report.paired import bootstrap_interval, fmt_paired, paired, sign_flip_p
from seethink_core.report.sweep import RunSpec


def test_the_sign_flip_test_is_exact_for_few_seeds():
    # Of the 8 sign patterns of (1, 1, 1) only +++ and --- reach |sum| 3.
    assert sign_flip_p([1.0, 1.0, 1.0]) == pytest.approx(2 / 8)
    # Ten seeds all in favour: 2 of 1,024 patterns are as extreme.
    assert sign_flip_p([float(i) for i in range(1, 11)]) == pytest.approx(2 / 1024)
    # (1, -1): patterns give sums 0, 2, -2, 0; the observed |sum| is 0, so every pattern counts.
    assert sign_flip_p([1.0, -1.0]) == 1.0
    assert sign_flip_p([0.0, 0.0, 0.0]) == 1.0


def test_the_sign_flip_test_samples_patterns_beyond_sixteen_seeds():
    p = sign_flip_p([1.0] * 20)
    assert 0 < p < 1e-3  # exact value 2 / 2**20; Monte Carlo cannot go below 1 / 100,001


def test_the_bootstrap_interval_brackets_the_mean_and_is_seeded():
    diffs = [0.1, 0.2, -0.05, 0.3, 0.0, 0.15, 0.05, 0.25, -0.1, 0.2]
    low, high = bootstrap_interval(diffs)
    assert low < sum(diffs) / len(diffs) < high
    assert (low, high) == bootstrap_interval(diffs)
    assert bootstrap_interval([0.2] * 5) == (pytest.approx(0.2), pytest.approx(0.2))


def test_paired_uses_only_the_seeds_both_curricula_have():
    c = paired({0: 0.5, 1: 0.7, 2: 0.9}, {0: 0.4, 1: 0.9, 5: 0.0})
    assert c is not None
    assert c.n == 2 and c.mean == pytest.approx(-0.05) and (c.wins, c.losses, c.ties) == (1, 1, 0)
    assert c.std == pytest.approx(((0.1 + 0.05) ** 2 + (-0.2 + 0.05) ** 2) ** 0.5)
    assert paired({0: 1.0}, {1: 1.0}) is None
    assert fmt_paired(None) == "–"
    assert fmt_paired(paired({0: 0.5, 1: 0.6}, {0: 0.4, 1: 0.4})).startswith("+0.150 [+0.100, +0.200] p=0.50 (2/0/0)")


def _specs(tmp_path: Path) -> list[RunSpec]:
    return [RunSpec(c, s, tmp_path / c / f"seed-{s}") for c in ("merged", "staged") for s in (0, 1, 2)]


FINAL = {("merged", 0): 0.8, ("merged", 1): 0.7, ("merged", 2): 0.9,
         ("staged", 0): 0.6, ("staged", 1): 0.8, ("staged", 2): 0.5}


def test_comparisons_pair_each_curriculum_with_the_baseline(tmp_path, monkeypatch):
    def final(run_dir: Path):
        return {"accuracy": FINAL[(run_dir.parent.name, int(run_dir.name.split("-")[1]))]}

    monkeypatch.setattr(sweep_stats, "final_eval", final)
    rows = sweep_stats.comparisons(_specs(tmp_path), "merged", columns=(("accuracy", "accuracy"),))
    assert [r["curriculum"] for r in rows] == ["staged"]
    cell = rows[0]["accuracy"]
    assert cell["n"] == 3 and cell["mean"] == pytest.approx((-0.2 + 0.1 - 0.4) / 3)
    assert (cell["wins"], cell["losses"]) == (1, 2)
    md = sweep_stats.comparisons_markdown(rows, columns=(("accuracy", "accuracy"),))
    assert "| curriculum − merged | accuracy |" in md and "| staged | -0.167 [" in md


def test_the_forgetting_matrix_is_the_mean_over_seeds(tmp_path, monkeypatch):
    def run(run_dir: Path, name: str | None = None) -> RunData:
        seed = int(run_dir.name.split("-")[1])
        r = RunData(name or "x", run_dir, "staged", "h", [])
        # perception learnt in phase a, then lost in phase b (by 0.4 on seed 0, 0.2 on seed 1)
        r.evals = [EvalRow("a", "a", {"accuracy.capability.perception": 0.9}, ""),
                   EvalRow("b", "b", {"accuracy.capability.perception": 0.5 + 0.2 * seed}, "")]
        return r

    monkeypatch.setattr(sweep_stats, "load_run", run)
    specs = [RunSpec("staged", s, tmp_path / "staged" / f"seed-{s}") for s in (0, 1)]
    (m,) = sweep_stats.forgetting(specs)
    assert m["rows"] == ["a", "b"] and m["seeds"] == 2
    assert m["cells"] == [[pytest.approx(0.9)], [pytest.approx(0.6)]]
    assert m["forgetting"] == [pytest.approx(0.3)]
    md = sweep_stats.forgetting_markdown([m])
    assert "| after | perception |" in md and "| b | 0.600 |" in md and "| forgetting | 0.300 |" in md
