"""PNG plots of the report, drawn from ``report_data`` dicts with matplotlib's Agg backend.

matplotlib is imported on first use (it is the ``report`` extra), never at module import, so the
rest of the report (JSON, terminal table) works without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seethink_core.errors import ConfigError

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
PERCEPTION_COLOR = "#4c9be8"
REASONING_COLOR = "#f28e2b"


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("the report's plots need matplotlib",
                          hint="pip install 'seethink[report]', or pass --no-plots") from None
    matplotlib.use("Agg", force=True)  # files only: never open a window, works without a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def _clean(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def plot_curves(data: dict[str, Any], path: Path) -> Path:
    """Training reward (top) and response length (bottom) per step; dashed lines mark phase starts."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for r, run in enumerate(data["runs"]):
        color = COLORS[r % len(COLORS)]
        for p, phase in enumerate(run["phases"]):
            label = run["run"] if p == 0 else None
            for ax, key in zip(axes, ("reward", "length")):
                ax.plot(phase["steps"], _clean(phase[key]), color=color, label=label, lw=1.6)
            if p > 0:  # where a phase hands over to the next
                for ax in axes:
                    ax.axvline(phase["start"], color=color, ls="--", lw=0.8, alpha=0.6)
            axes[0].annotate(phase["phase"], (phase["start"], 1.0), xycoords=("data", "axes fraction"),
                             xytext=(3, -12 - 11 * r), textcoords="offset points", fontsize=8, color=color)
    for ax, key in zip(axes, ("reward", "length")):
        if not any(v is not None for run in data["runs"] for p in run["phases"] for v in p[key]):
            ax.text(0.5, 0.5, f"no {key} was logged", transform=ax.transAxes, ha="center", color="#888")
    axes[1].set_xlim(left=0)  # phase names are written at their start step; the first starts at 0
    axes[0].set_ylabel("reward (train)")
    axes[1].set_ylabel("response length (tokens)")
    axes[1].set_xlabel("optimizer step (phases end to end)")
    axes[0].set_title("Training curves")
    for ax in axes:
        ax.grid(alpha=0.3)
    if data["runs"]:
        axes[0].legend(loc="lower right", fontsize=9)
    return _save(fig, path)


def _grouped_positions(runs: list[dict[str, Any]]) -> tuple[list[list[float]], list[float], list[str]]:
    """x positions of every run's rows, one cluster per run with a gap between clusters."""
    positions, ticks, labels = [], [], []
    x = 0.0
    for run in runs:
        xs = []
        for row in run["rows"]:
            xs.append(x)
            ticks.append(x)
            labels.append(row["label"])
            x += 1
        positions.append(xs)
        x += 0.8
    return positions, ticks, labels


def _run_names(ax: Any, runs: list[dict[str, Any]], positions: list[list[float]]) -> None:
    for r, (run, xs) in enumerate(zip(runs, positions)):
        if xs:
            ax.annotate(run["run"], ((xs[0] + xs[-1]) / 2, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, -34), textcoords="offset points", ha="center", fontsize=9,
                        color=COLORS[r % len(COLORS)], fontweight="bold")


def plot_eval(data: dict[str, Any], path: Path) -> Path:
    """Eval accuracy and mean response length after each phase, per run (row 0 = base)."""
    plt = _pyplot()
    runs = data["runs"]
    positions, ticks, labels = _grouped_positions(runs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, title in ((axes[0], "accuracy", "eval accuracy"), (axes[1], "length_mean", "mean length (tokens)")):
        for r, (run, xs) in enumerate(zip(runs, positions)):
            values = _clean([row[key] for row in run["rows"]])
            bars = ax.bar(xs, [0 if math.isnan(v) else v for v in values], color=COLORS[r % len(COLORS)], alpha=0.85)
            for bar, v in zip(bars, values):
                if not math.isnan(v):
                    ax.annotate(f"{v:.2f}" if key == "accuracy" else f"{v:.0f}", (bar.get_x() + bar.get_width() / 2,
                                bar.get_height()), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
        ax.set_xticks(ticks, labels, rotation=20, fontsize=8)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
        _run_names(ax, runs, positions)
    axes[0].set_ylim(0, 1.05)
    return _save(fig, path)


def plot_matrix(data: dict[str, Any], path: Path) -> Path:
    """One heat map per run: rows = base and each phase, columns = capabilities; cells show the
    accuracy and its change from the row above."""
    plt = _pyplot()
    import numpy as np

    caps = data["capabilities"]
    runs = data["runs"]
    n = max(1, len(runs))
    height = max(2.6, 0.55 * max((len(r["rows"]) for r in runs), default=1) + 1.6)
    fig, axes = plt.subplots(1, n, figsize=(max(4.5, 1.9 * len(caps) + 1.5) * n, height), squeeze=False)
    image = None
    for ax, run in zip(axes[0], runs):
        ax.set_title(run["run"], fontsize=10)
        if not run["rows"] or not caps:
            ax.text(0.5, 0.5, "no evaluations", transform=ax.transAxes, ha="center", color="#888")
            ax.set_axis_off()
            continue
        grid = np.array([_clean(row) for row in run["cells"]], dtype=float).reshape(len(run["rows"]), len(caps))
        image = ax.imshow(np.ma.masked_invalid(grid), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(caps)), [c.replace("_", "\n") for c in caps], fontsize=8)
        ax.set_yticks(range(len(run["rows"])), run["rows"], fontsize=8)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                v = grid[i, j]
                if math.isnan(v):
                    continue
                d = run["delta"][i][j]
                text = f"{v:.2f}" + (f"\n{d:+.2f}" if d is not None else "")
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="accuracy")
    fig.suptitle("Phase × capability accuracy (row 0 = base; second line = change from the row above)", fontsize=10)
    return _save(fig, path)


def plot_split(data: dict[str, Any], path: Path) -> Path:
    """Stacked bars: perception errors (wrong from the image, right from the facts) under reasoning
    errors (wrong from both), after each phase, per run."""
    plt = _pyplot()
    runs = data["runs"]
    positions, ticks, labels = _grouped_positions(runs)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(ticks) + 2), 4.2))
    for r, (run, xs) in enumerate(zip(runs, positions)):
        perception = [row["perception_errors"] for row in run["rows"]]
        reasoning = [row["reasoning_errors"] for row in run["rows"]]
        ax.bar(xs, perception, color=PERCEPTION_COLOR, label="perception" if r == 0 else None)
        ax.bar(xs, reasoning, bottom=perception, color=REASONING_COLOR, label="reasoning" if r == 0 else None)
        for x, row, p, q in zip(xs, run["rows"], perception, reasoning):
            share = row["perception_share"]
            ax.annotate(f"{share:.0%}" if share is not None else "no errors", (x, p + q), xytext=(0, 2),
                        textcoords="offset points", ha="center", fontsize=8)
    ax.set_xticks(ticks, labels, rotation=20, fontsize=8)
    ax.set_ylabel("errors on samples with gold facts")
    ax.set_title("Error split (label: perception share of errors)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9)
    _run_names(ax, runs, positions)
    return _save(fig, path)


PLOTTERS: dict[str, Callable[[dict[str, Any], Path], Path]] = {
    "curves": plot_curves, "eval": plot_eval, "matrix": plot_matrix, "split": plot_split,
}


def plot_sweep(table: list[dict[str, Any]], path: Path,
               columns: tuple[tuple[str, str], ...] = (("perception", "perception"), ("textual", "textual reasoning"),
                                                        ("visual", "visual reasoning"), ("accuracy", "all"))) -> Path:
    """`seethink sweep`'s table as grouped bars: final accuracy per capability for each curriculum,
    mean over seeds with ±1 std error bars and each seed count in the label."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(7.0, 1.5 * len(table) + 2), 4.2))
    width = 0.8 / len(columns)
    for j, (key, label) in enumerate(columns):
        means = [row[key]["mean"] if row[key]["n"] else math.nan for row in table]
        stds = [row[key]["std"] if row[key]["n"] else 0.0 for row in table]
        xs = [i + (j - (len(columns) - 1) / 2) * width for i in range(len(table))]
        ax.bar(xs, means, width, yerr=stds, capsize=3, label=label, color=COLORS[j % len(COLORS)])
    ax.set_xticks(range(len(table)), [f"{row['curriculum']}\n({row['seeds']} seeds)" for row in table], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("final eval accuracy")
    ax.set_title("final evaluation per curriculum (mean ± std over seeds)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=len(columns), loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return _save(fig, path)
