"""The table ``seethink run`` prints at the end: one row per phase, 100 columns wide at most.

Training metrics are the mean over the first and the last 20% of a phase's steps (``0.12 → 0.41``); a
phase with a single logged step has nothing to compare, so it shows that one value rather than a blank.
How a phase stopped is said under the table when it is not its budget (an ``until`` reason or a reused
run's path is too long for a column).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from seethink_core.report.progress import fmt_duration

if TYPE_CHECKING:
    from rich.table import Table

    from seethink_core.run.outcome import PhaseReport
    from seethink_core.run.rundir import RunDir

Trend = tuple[float, float] | float | None  # (first 20%, last 20%), one value, or not logged
TREND_SHARE = 0.2
CAPTION = ("reward … length: mean over the first → last 20% of a phase's steps (one number: too few steps to "
           "compare; -: not logged); eval: eval-set accuracy after the phase")


def trend_or_value(rows: list[dict[str, Any]], key: str) -> Trend:
    """``seethink_core.run.metrics.trend`` of ``key``, or its only value when the phase logged it once."""
    from seethink_core.run.metrics import trend

    pair = trend(rows, key, TREND_SHARE)
    if pair is not None:
        return pair
    values = [r[key] for r in rows if r.get("kind", "train") == "train" and isinstance(r.get(key), (int, float))]
    return float(values[0]) if values else None


def summary_rows(reports: Sequence[PhaseReport], run_dir: RunDir) -> list[dict[str, Any]]:
    """One row per phase: reward, accuracy, loss and length over its first and last 20% of steps."""
    from seethink_core.run.metrics import read_metrics

    rows = []
    for r in reports:
        metrics = read_metrics(run_dir.phase_dir(r.phase) / "metrics.jsonl")
        eval_path = run_dir.phase_dir(r.phase) / "eval.json"
        evaluation = json.loads(eval_path.read_text()).get("metrics", {}) if eval_path.exists() else {}
        rows.append({
            "phase": r.phase.name, "method": r.phase.method, "steps": r.state.steps,
            "stopped_by": "skipped (done earlier)" if r.skipped else (r.state.stopped_by or ""),
            "reward": trend_or_value(metrics, "reward.total"), "accuracy": trend_or_value(metrics, "reward.accuracy"),
            "loss": trend_or_value(metrics, "loss"), "length": trend_or_value(metrics, "response_length.mean"),
            "eval_accuracy": evaluation.get("accuracy"), "wall_s": r.state.wall_s,
        })
    return rows


def fmt_trend(value: Trend, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return f"{value[0]:.{digits}f} → {value[1]:.{digits}f}"
    return f"{value:.{digits}f}"


def fmt_number(value: object, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}" if isinstance(value, (int, float)) else str(value)


def summary_table(curriculum: str, rows: Sequence[dict[str, Any]]) -> Table:
    """The rows as a rich table of at most 100 columns (no vertical rules; long phase names fold)."""
    from rich import box
    from rich.table import Table

    table = Table(title=f"{curriculum}: summary", caption=CAPTION, box=box.SIMPLE_HEAD, show_edge=False,
                  collapse_padding=True, pad_edge=False, caption_justify="left")
    table.add_column("phase", overflow="fold", max_width=24)
    table.add_column("method")
    for col in ("steps", "reward", "accuracy", "loss", "length", "eval", "time"):
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(row["phase"], row["method"], str(row["steps"]), fmt_trend(row["reward"]),
                      fmt_trend(row["accuracy"]), fmt_trend(row["loss"]), fmt_trend(row["length"], 1),
                      fmt_number(row["eval_accuracy"]), fmt_duration(row["wall_s"]) if row["wall_s"] else "-")
    return table


def stop_notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per phase that did not simply run out its budget: stopped by ``until``, reused, skipped."""
    return [f"{row['phase']}: {row['stopped_by']}" for row in rows if row["stopped_by"] not in ("", "budget")]
