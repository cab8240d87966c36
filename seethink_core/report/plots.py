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
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


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


# The training-curve panels, top to bottom: (data key, y label). A panel without data is left out.
CURVE_PANELS = (("reward", "reward (train)"), ("length", "response length (tokens)"), ("loss", "SFT loss"))


def _has(values: list[float | None]) -> bool:
    return any(v is not None for v in values)


def curve_panels(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The panels of the training curves that have at least one logged value."""
    return [(key, label) for key, label in CURVE_PANELS
            if any(_has(p[key]) for run in data["runs"] for p in run["phases"] if key in p)]


# Width of one 8 pt character as a share of the curves' axes (10 in figure, ~78% of it axes), for
# placing phase labels; an estimate is enough: it only decides when a label moves to the next row.
_CHAR_SHARE = 0.0088


def label_lanes(labels: list[tuple[float, str]], span: float) -> list[int]:
    """A text row for each (x, text) label so that no two labels in a row overlap: the first row whose
    last label ends before this one starts. ``span`` is the x-axis length."""
    ends: list[float] = []  # per row, where its last label ends (axes fraction)
    lanes = []
    for x, text in labels:
        left = x / span if span else 0.0
        lane = next((i for i, end in enumerate(ends) if end < left), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = left + (len(text) + 1) * _CHAR_SHARE
        lanes.append(lane)
    return lanes


def _phase_labels(ax: Any, data: dict[str, Any]) -> int:
    """Each phase's "N name" ("run / N name" for several runs) above the top panel at its start step,
    in as many text rows as needed so none overlap; returns the number of rows."""
    several = len(data["runs"]) > 1
    items = [(float(phase["start"]), f"{run['run']} / {phase.get('title', phase['phase'])}" if several
              else phase.get("title", phase["phase"]), COLORS[r % len(COLORS)])
             for r, run in enumerate(data["runs"]) for phase in run["phases"]]
    items.sort(key=lambda item: item[0])
    span = max([1.0, *(float(run["total_steps"]) for run in data["runs"])]) * 1.05  # matplotlib's margin
    lanes = label_lanes([(x, text) for x, text, _ in items], span)
    for (x, text, color), lane in zip(items, lanes):
        ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 4 + 11 * lane),
                    textcoords="offset points", fontsize=8, color=color, clip_on=False)
    return max(lanes, default=-1) + 1


def plot_curves(data: dict[str, Any], path: Path) -> Path:
    """Training reward, response length and SFT loss per step, one panel each that has data; dashed
    lines mark phase starts, each labelled with its phase number and name."""
    plt = _pyplot()
    panels = curve_panels(data)
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.2 + 2.6 * len(panels)), sharex=True, squeeze=False)
    axes = axes[:, 0]
    several = len(data["runs"]) > 1
    for r, run in enumerate(data["runs"]):
        color = COLORS[r % len(COLORS)]
        for p, phase in enumerate(run["phases"]):
            for ax, (key, _) in zip(axes, panels):
                # Each later run a little thinner, so where two runs coincide (a shared warm-up) both show.
                ax.plot(phase["steps"], _clean(phase.get(key, [])), color=color, lw=max(0.8, 2.4 - 0.5 * r),
                        label=run["run"] if p == 0 and key == panels[0][0] else None)
            if p > 0:  # where a phase hands over to the next
                for ax in axes:
                    ax.axvline(phase["start"], color=color, ls="--", lw=0.8, alpha=0.6)
    rows = _phase_labels(axes[0], data)
    axes[-1].set_xlim(left=0)  # phase names are written at their start step; the first starts at 0
    from matplotlib.ticker import MaxNLocator

    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole: no "step 2.5" tick
    for ax, (_, label) in zip(axes, panels):
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("optimizer step (phases end to end; each phase's steps count from 1)")
    axes[0].set_title("Training curves", pad=10 + 11 * rows)
    if several:  # outside the axes, so it never covers a curve
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return _save(fig, path)


def row_label(run: str, title: str, several: bool) -> str:
    """A row's axis label: ``2 perception`` for one run, ``demo / 2 perception`` for several."""
    return f"{run} / {title}" if several else title


def _grouped_positions(runs: list[dict[str, Any]]) -> tuple[list[list[float]], list[float], list[str]]:
    """x positions of every run's rows, one cluster per run with a gap between clusters."""
    positions, ticks, labels = [], [], []
    x = 0.0
    for run in runs:
        xs = []
        for row in run["rows"]:
            xs.append(x)
            ticks.append(x)
            labels.append(row_label(run["run"], row.get("title") or row["label"], len(runs) > 1))
            x += 1
        positions.append(xs)
        x += 0.8
    return positions, ticks, labels


def _row_ticks(ax: Any, ticks: list[float], labels: list[str]) -> None:
    # Slanted and anchored at their right end, so long "run / phase" labels sit under their bar.
    ax.set_xticks(ticks, labels, rotation=30, ha="right", rotation_mode="anchor", fontsize=8)


def _run_legend(ax: Any, runs: list[dict[str, Any]]) -> None:
    """Which colour is which run, outside the axes (only needed for several runs)."""
    if len(runs) < 2:
        return
    plt = _pyplot()
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[r % len(COLORS)]) for r in range(len(runs))]
    ax.legend(handles, [run["run"] for run in runs], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False)


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
        _row_ticks(ax, ticks, labels)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylim(0, 1.05)
    _run_legend(axes[1], runs)
    return _save(fig, path)


def plot_sets(data: dict[str, Any], path: Path) -> Path:
    """Accuracy on each eval set (by its name) after each phase: one panel per run, one line per set."""
    plt = _pyplot()
    runs, names = data["runs"], data["sets"]
    fig, axes = plt.subplots(1, len(runs), figsize=(max(5.5, 0.9 * max(len(r["rows"]) for r in runs) + 3) * len(runs),
                                                    4.2), squeeze=False, sharey=True)
    for ax, run in zip(axes[0], runs):
        xs = list(range(len(run["rows"])))
        for j, name in enumerate(names):
            ys = _clean([row[j] for row in run["cells"]])
            # Each set nudged sideways with its own marker, so sets with equal accuracy do not hide each other.
            shift = (j - (len(names) - 1) / 2) * min(0.08, 0.4 / max(1, len(names)))
            ax.plot([x + shift for x in xs], ys, marker=MARKERS[j % len(MARKERS)], lw=1.4,
                    color=COLORS[j % len(COLORS)], label=name)
        _row_ticks(ax, xs, run["titles"])
        ax.set_title(run["run"], fontsize=10)
        ax.set_ylim(-0.03, 1.05)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("eval accuracy")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="eval set")
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
        ax.set_title(f"{run['run']}: accuracy per capability\n(second line: change from the row above)", fontsize=9)
        if not run["rows"] or not caps:
            ax.text(0.5, 0.5, "no evaluations", transform=ax.transAxes, ha="center", color="#888")
            ax.set_axis_off()
            continue
        grid = np.array([_clean(row) for row in run["cells"]], dtype=float).reshape(len(run["rows"]), len(caps))
        image = ax.imshow(np.ma.masked_invalid(grid), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(caps)), [c.replace("_", "\n") for c in caps], fontsize=8)
        ax.set_yticks(range(len(run["rows"])), run.get("titles") or run["rows"], fontsize=8)
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
    # No figure title: one wide enough to explain the cells overhangs a one-run figure and touches the
    # panels' titles; the explanation is in each panel's title and the page's caption.
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
    _row_ticks(ax, ticks, labels)
    ax.set_ylabel("errors on samples with gold facts")
    ax.set_title("Error split (label: perception share of errors)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # never over a bar
    return _save(fig, path)


PLOTTERS: dict[str, Callable[[dict[str, Any], Path], Path]] = {
    "curves": plot_curves, "eval": plot_eval, "sets": plot_sets, "matrix": plot_matrix, "split": plot_split,
}


def _rows(data: dict[str, Any]) -> bool:
    return any(run["rows"] for run in data["runs"])


# Why a plot would be empty, per plot: it is then not drawn, and the report says why instead.
_EMPTY: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "curves": lambda d: None if curve_panels(d) else "no phase logged a reward, a response length or an SFT loss",
    "eval": lambda d: None if _rows(d) else "no evaluation ran (no eval sets, or the backend cannot generate)",
    "sets": lambda d: None if d["sets"] and _rows(d) else "no evaluation reported a per-set accuracy",
    "matrix": lambda d: None if d["capabilities"] and _rows(d) else "no evaluation reported a per-capability accuracy",
    "split": lambda d: None if _rows(d) else "no eval set has gold facts, so errors cannot be split",
}


def empty_reason(name: str, data: dict[str, Any]) -> str | None:
    """Why plot ``name`` has nothing to show, or None when it has data."""
    check = _EMPTY.get(name)
    return check(data) if check else None


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


def plot_paired(comparisons: list[list[dict[str, Any]]], path: Path,
                columns: tuple[tuple[str, str], ...] = (("accuracy", "all"), ("perception", "perception"),
                                                         ("textual", "textual reasoning"),
                                                         ("visual", "visual reasoning"))) -> Path:
    """`seethink sweep`'s paired comparisons as intervals: for each baseline a panel, for each other
    curriculum and capability the mean difference over seeds with its 95% bootstrap interval; an
    interval that crosses 0 is no evidence of a difference."""
    plt = _pyplot()
    panels = [c for c in comparisons if c]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 0.55 * max(len(c) for c in panels) + 2.2),
                             squeeze=False)
    height = 0.8 / len(columns)
    for ax, rows in zip(axes[0], panels):
        for j, (key, label) in enumerate(columns):
            for i, row in enumerate(rows):
                cell = row.get(key)
                if not cell:
                    continue
                y = i + (j - (len(columns) - 1) / 2) * height
                ax.errorbar(cell["mean"], y, xerr=[[cell["mean"] - cell["low"]], [cell["high"] - cell["mean"]]],
                            fmt="o", color=COLORS[j % len(COLORS)], capsize=3, label=label if i == 0 else None)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(rows)), [r["curriculum"] for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"final accuracy − {rows[0]['baseline']} (paired over seeds)")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("paired differences, mean and 95% bootstrap interval")
    return _save(fig, path)
