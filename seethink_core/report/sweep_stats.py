"""What a sweep's runs say beyond mean ± std: paired differences against a baseline curriculum, and
each curriculum's phase × capability matrix averaged over seeds (where forgetting shows)."""

from __future__ import annotations

import statistics
from typing import Any, Sequence

from seethink_core.errors import RunError
from seethink_core.report.data import load_run, matrix_data
from seethink_core.report.paired import fmt_paired, paired
from seethink_core.report.sweep import DEFAULT_COLUMNS, RunSpec, final_eval


def per_seed(specs: Sequence[RunSpec], key: str) -> dict[str, dict[int, float]]:
    """curriculum -> seed -> the final evaluation's ``key``, for the runs that have it."""
    out: dict[str, dict[int, float]] = {}
    for spec in specs:
        metrics = final_eval(spec.run_dir)
        value = (metrics or {}).get(key)
        out.setdefault(spec.curriculum, {})
        if isinstance(value, (int, float)):
            out[spec.curriculum][spec.seed] = float(value)
    return out


def comparisons(specs: Sequence[RunSpec], baseline: str,
                columns: Sequence[tuple[str, str]] = DEFAULT_COLUMNS) -> list[dict[str, Any]]:
    """One row per other curriculum: each column as the paired difference (curriculum − baseline)."""
    by_column = {label: per_seed(specs, key) for label, key in columns}
    curricula = list(dict.fromkeys(s.curriculum for s in specs))
    rows = []
    for c in curricula:
        if c == baseline:
            continue
        row: dict[str, Any] = {"curriculum": c, "baseline": baseline}
        for label, _ in columns:
            values = by_column[label]
            result = paired(values.get(c, {}), values.get(baseline, {}))
            row[label] = result.as_dict() if result else None
        rows.append(row)
    return rows


def comparisons_markdown(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]] = DEFAULT_COLUMNS) -> str:
    from seethink_core.report.paired import Paired

    if not rows:
        return ""
    head = ["curriculum − " + rows[0]["baseline"], *[c for c, _ in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["curriculum"]]
        for label, _ in columns:
            cell = row[label]
            cells.append(fmt_paired(Paired(**cell) if cell else None, 1 if label == "length" else 3))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def forgetting(specs: Sequence[RunSpec]) -> list[dict[str, Any]]:
    """Per curriculum: the phase × capability accuracy matrix, each cell the mean over seeds, and each
    capability's forgetting (best value before the last evaluation minus the last, mean over seeds)."""
    runs_of: dict[str, list[Any]] = {}
    for spec in specs:
        try:
            run = load_run(spec.run_dir, name=f"{spec.curriculum}/seed-{spec.seed}")
        except RunError:
            continue
        if run.evals:
            runs_of.setdefault(spec.curriculum, []).append(run)
    out = []
    for curriculum, runs in runs_of.items():
        data = matrix_data(runs)
        caps = data["capabilities"]
        rows = data["runs"][0]["rows"]
        same = [r for r in data["runs"] if r["rows"] == rows]  # runs that evaluated at the same points
        cells = [[_mean([r["cells"][i][j] for r in same]) for j in range(len(caps))] for i in range(len(rows))]
        lost = [_mean([r["forgetting"][j] for r in same]) for j in range(len(caps))]
        out.append({"curriculum": curriculum, "seeds": len(same), "capabilities": caps,
                    "rows": rows, "cells": cells, "forgetting": lost})
    return out


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.fmean(vals) if vals else None


def forgetting_markdown(matrices: Sequence[dict[str, Any]]) -> str:
    parts = []
    for m in matrices:
        caps = [c.replace("_reasoning", "") for c in m["capabilities"]]
        lines = [f"**{m['curriculum']}** ({m['seeds']} seeds): accuracy after each phase, mean over seeds", "",
                 "| after | " + " | ".join(caps) + " |", "|" + "---|" * (len(caps) + 1)]
        for label, row in zip(m["rows"], m["cells"]):
            lines.append(f"| {label} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in row) + " |")
        lines.append("| forgetting | " + " | ".join("–" if v is None else f"{v:.3f}" for v in m["forgetting"]) + " |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)
