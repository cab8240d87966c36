"""``seethink sweep``: every curriculum of a file × every seed, each its own resumable run, then one
table of the final evaluations (mean ± std over seeds) and a side-by-side report.

Each run is a ``seethink run`` subprocess, so runs are isolated (a crash loses one run, not the
sweep) and ``--jobs`` can run several at once; a run that already finished is skipped by the runner
itself. With several jobs each subprocess gets an equal share of the CPU threads, and the first run
of each seed finishes before the other runs of that seed start, so that they reuse its warm-up
instead of all training it at once.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from seethink_core.errors import RunError
from seethink_core.report.data import load_run
from seethink_core.run.atomic import write_atomic, write_json_atomic

# What the results table shows, from the last evaluation of each run (the final checkpoint).
DEFAULT_COLUMNS = (
    ("accuracy", "accuracy"),
    ("perception", "accuracy.capability.perception"),
    ("textual", "accuracy.capability.textual_reasoning"),
    ("visual", "accuracy.capability.visual_reasoning"),
    ("length", "length.mean"),
    ("perception errors", "split.perception_share"),
    # The reference's split is of visual-reasoning errors; perception items' facts pass asks another question.
    ("visual perception errors", "split.perception_share.visual_reasoning"),
)


@dataclass
class RunSpec:
    curriculum: str
    seed: int
    run_dir: Path


@dataclass
class RunOutcome:
    spec: RunSpec
    returncode: int
    wall_s: float
    log: Path


@dataclass
class SweepResult:
    outcomes: list[RunOutcome]
    table: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    specs: list[RunSpec] = field(default_factory=list)
    comparisons: list[list[dict[str, Any]]] = field(default_factory=list)  # one list per baseline
    forgetting: list[dict[str, Any]] = field(default_factory=list)


def plan_runs(curricula: Sequence[str], seeds: Sequence[int], root: Path) -> list[RunSpec]:
    return [RunSpec(c, s, root / c / f"seed-{s}") for c in curricula for s in seeds]


def reuse_sources(spec: RunSpec, specs: Sequence[RunSpec]) -> list[Path]:
    """The runs of the same seed planned before ``spec``: the runner takes any finished phase from them
    whose plan prefix is identical (a shared warm-up is trained once per seed, not once per curriculum)."""
    earlier = specs[:specs.index(spec)]
    return [s.run_dir for s in earlier if s.seed == spec.seed]


def _run_one(file: str, spec: RunSpec, overrides: Sequence[str], threads: int | None,
             extra_args: Sequence[str]) -> RunOutcome:
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    log = spec.run_dir.parent / f"seed-{spec.seed}.log"
    cmd = [sys.executable, "-m", "seethink_core.cli.main", "run", file, "--curriculum", spec.curriculum,
           "--run-dir", str(spec.run_dir), "--set", f"seed={spec.seed}", "--no-progress", *extra_args]
    for o in overrides:
        cmd += ["--set", o]
    env = dict(os.environ)
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "SEETHINK_THREADS"):
            env[var] = str(threads)
    start = time.time()
    with log.open("a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    return RunOutcome(spec, proc.returncode, time.time() - start, log)


def _is_first(spec: RunSpec, specs: Sequence[RunSpec]) -> bool:
    return next(s for s in specs if s.seed == spec.seed) is spec


def _after(first: Any, file: str, spec: RunSpec, overrides: Sequence[str], threads: int | None,
           extra_args: Sequence[str]) -> RunOutcome:
    if first is not None:
        first.result()  # its finished phases are what this run reuses
    return _run_one(file, spec, overrides, threads, extra_args)


def run_sweep(file: str, curricula: Sequence[str], seeds: Sequence[int], root: Path, *, jobs: int = 1,
              overrides: Sequence[str] = (), extra_args: Sequence[str] = (), share: bool = True,
              on_done: Callable[[RunOutcome], None] | None = None) -> SweepResult:
    specs = plan_runs(curricula, seeds, root)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    start = time.time()
    outcomes: list[RunOutcome] = []

    def args_for(spec: RunSpec) -> list[str]:
        reuse = [a for d in reuse_sources(spec, specs) for a in ("--reuse", str(d))] if share else []
        return [*extra_args, *reuse]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        # The first run of each seed trains what the others reuse (the shared warm-up): with several jobs
        # the others start once it is done, else they would all train it at the same time. Firsts are
        # submitted before any waiter, so a waiting worker only ever waits on a run already taken.
        firsts: dict[int, Any] = {}
        for spec in specs:
            if spec.seed not in firsts:
                firsts[spec.seed] = pool.submit(_run_one, file, spec, overrides, threads, args_for(spec))
        futures = [firsts[spec.seed] if _is_first(spec, specs)
                   else pool.submit(_after, firsts[spec.seed] if share else None,
                                    file, spec, overrides, threads, args_for(spec))
                   for spec in specs]
        for fut in futures:
            outcome = fut.result()
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    result = SweepResult(outcomes, wall_s=time.time() - start, specs=specs)
    result.table = results_table(specs)
    return result


def final_eval(run_dir: Path) -> dict[str, float] | None:
    """The last evaluation of a run (its final checkpoint), or None if it has none."""
    try:
        run = load_run(run_dir)
    except RunError:
        return None
    return run.evals[-1].metrics if run.evals and run.evals[-1].label != "base" else None


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def results_table(specs: Sequence[RunSpec], columns: Sequence[tuple[str, str]] = DEFAULT_COLUMNS
                  ) -> list[dict[str, Any]]:
    """One row per curriculum: each column as mean and std over the seeds that finished."""
    by_curriculum: dict[str, list[dict[str, float]]] = {}
    for spec in specs:
        metrics = final_eval(spec.run_dir)
        by_curriculum.setdefault(spec.curriculum, [])
        if metrics is not None:
            by_curriculum[spec.curriculum].append(metrics)
    rows = []
    for curriculum, runs in by_curriculum.items():
        row: dict[str, Any] = {"curriculum": curriculum, "seeds": len(runs)}
        for label, key in columns:
            vals = [m[key] for m in runs if isinstance(m.get(key), (int, float))]
            mean, std = mean_std(vals)
            row[label] = {"mean": mean, "std": std, "n": len(vals)}
        rows.append(row)
    return rows


def fmt_cell(cell: dict[str, Any], digits: int = 3) -> str:
    if not cell["n"] or math.isnan(cell["mean"]):
        return "–"
    return f"{cell['mean']:.{digits}f} ± {cell['std']:.{digits}f}"


def table_markdown(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]] = DEFAULT_COLUMNS) -> str:
    head = ["curriculum", "seeds", *[c for c, _ in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["curriculum"], str(row["seeds"])]
        cells += [fmt_cell(row[c], 1 if c == "length" else 3) for c, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(result: SweepResult, root: Path, *, baselines: Sequence[str] = ()) -> tuple[Path, Path]:
    """sweep.json and sweep.md: the mean ± std table, the paired comparisons with each of ``baselines``,
    and every curriculum's phase × capability matrix (mean over seeds)."""
    from seethink_core.report.sweep_stats import comparisons, comparisons_markdown, forgetting, forgetting_markdown

    result.comparisons = [rows for b in baselines if (rows := comparisons(result.specs, b))]
    result.forgetting = forgetting(result.specs)
    data = {
        "wall_s": round(result.wall_s, 1),
        "runs": [{"curriculum": o.spec.curriculum, "seed": o.spec.seed, "run_dir": str(o.spec.run_dir),
                  "returncode": o.returncode, "wall_s": round(o.wall_s, 1)} for o in result.outcomes],
        "table": result.table,
        "comparisons": result.comparisons,
        "forgetting": result.forgetting,
    }
    json_path, md_path = root / "sweep.json", root / "sweep.md"
    write_json_atomic(json_path, json.loads(json.dumps(data, default=str).replace("NaN", "null")))
    parts = [table_markdown(result.table), *map(comparisons_markdown, result.comparisons)]
    if result.forgetting:
        parts.append(forgetting_markdown(result.forgetting))
    write_atomic(md_path, "\n".join(parts))
    return json_path, md_path
