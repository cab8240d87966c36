"""Run directories → the data behind every report plot, as plain JSON-able dicts.

Each plot of ``seethink report`` is drawn from one of these dicts, and the same dict is written
as JSON next to the PNG, so the numbers can be tested and reused without reading pixels:

- ``curves``: training reward and response length per step, phases laid end to end;
- ``eval``: eval accuracy, length and format rate after each phase (row 0 = the base model);
- ``matrix``: the phase × capability accuracy matrix, with each cell's change from the row
  above (gains) and each capability's drop from its best earlier value (forgetting);
- ``split``: perception vs reasoning errors after each phase.

Several runs (staged vs merged) become several entries of the same dicts, side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import RunError
from seethink_core.evaluation import base_eval_path
from seethink_core.metrics import read_metrics
from seethink_core.plan import CAPABILITIES, TrainingPlan

REPORT_FORMAT = 1
REWARD_KEY = "reward.total"
# The local backend logs response_length.mean, the OpenRLHF bridge length.mean.
LENGTH_KEYS = ("response_length.mean", "length.mean")
CAP_PREFIX = "accuracy.capability."


@dataclass
class EvalRow:
    label: str  # "base" or the phase name
    phase: str | None
    metrics: dict[str, float]
    path: str


@dataclass
class PhaseInfo:
    index: int
    name: str
    capabilities: list[str]
    status: str
    steps: int


@dataclass
class RunData:
    name: str
    root: Path
    curriculum: str
    plan_hash: str
    phases: list[PhaseInfo]
    train: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # phase -> kind=train rows
    evals: list[EvalRow] = field(default_factory=list)  # base first, then phases in plan order


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunError(f"{path} is unreadable ({e})") from None


def load_run(root: Path | str, name: str | None = None) -> RunData:
    """Read one run directory (plan.json, state.json, phases/*/metrics.jsonl and eval.json)."""
    root = Path(root)
    plan_path = root / "plan.json"
    if not plan_path.exists():
        raise RunError(f"{root} is not a seethink run directory (no plan.json)",
                       hint="pass the folder `seethink run` wrote, e.g. runs/<curriculum>")
    try:
        plan = TrainingPlan.from_json(plan_path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as e:
        raise RunError(f"{plan_path} is not a readable plan ({e})") from None
    state = (_read_json(root / "state.json") or {}).get("phases", {})
    run = RunData(name or plan.curriculum, root, plan.curriculum, plan.hash(), [])
    base = _read_json(base_eval_path(root))
    if base is not None:
        run.evals.append(EvalRow("base", None, _metrics(base), str(base_eval_path(root))))
    for phase in plan.phases:
        ps = state.get(phase.name, {})
        run.phases.append(PhaseInfo(phase.index, phase.name, list(phase.capabilities), ps.get("status", "pending"),
                                    int(ps.get("steps", 0) or 0)))
        phase_dir = root / "phases" / f"{phase.index:02d}-{phase.name}"
        run.train[phase.name] = [r for r in read_metrics(phase_dir / "metrics.jsonl")
                                 if r.get("kind", "train") == "train"]
        ev = _read_json(phase_dir / "eval.json")
        if ev is not None:
            run.evals.append(EvalRow(phase.name, phase.name, _metrics(ev), str(phase_dir / "eval.json")))
    return run


def _metrics(data: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in (data.get("metrics") or {}).items() if isinstance(v, (int, float))}


def load_runs(roots: list[Path | str]) -> list[RunData]:
    """Several runs, each named after its curriculum (the folder name breaks ties)."""
    if not roots:
        raise RunError("no run directories given")
    runs = [load_run(r) for r in roots]
    names = [r.curriculum for r in runs]
    for run in runs:
        if names.count(run.curriculum) > 1:
            run.name = f"{run.curriculum} ({run.root.name})"
    if len({r.name for r in runs}) != len(runs):
        for i, run in enumerate(runs):
            run.name = f"{run.name} #{i + 1}"
    return runs


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for k in keys:
        v = row.get(k)
        if isinstance(v, (int, float)):
            return float(v)
    return None


def curves_data(runs: list[RunData]) -> dict[str, Any]:
    """Reward and length per step; each phase's steps continue from the previous phase's last step."""
    out = []
    for run in runs:
        offset = 0
        phases = []
        for phase in run.phases:
            rows = sorted(run.train.get(phase.name, []), key=lambda r: r.get("step", 0))
            steps = [offset + int(r.get("step", 0)) for r in rows]
            phases.append({"phase": phase.name, "start": offset, "steps": steps,
                           "reward": [_first(r, (REWARD_KEY,)) for r in rows],
                           "length": [_first(r, LENGTH_KEYS) for r in rows]})
            last = max((int(r.get("step", 0)) for r in rows), default=0)
            offset += max(last, phase.steps)
        out.append({"run": run.name, "phases": phases, "total_steps": offset})
    return {"format": REPORT_FORMAT, "runs": out}


def eval_data(runs: list[RunData]) -> dict[str, Any]:
    """Eval accuracy, length and format rate after each phase (row 0 = base)."""
    out = []
    for run in runs:
        out.append({"run": run.name, "rows": [{
            "label": e.label, "accuracy": e.metrics.get("accuracy"), "length_mean": e.metrics.get("length.mean"),
            "length_median": e.metrics.get("length.median"), "format_rate": e.metrics.get("format_rate"),
        } for e in run.evals]})
    return {"format": REPORT_FORMAT, "runs": out}


def capabilities_of(runs: list[RunData]) -> list[str]:
    """Every capability any eval row reports, the known ones in curriculum order first."""
    found = {k[len(CAP_PREFIX):] for run in runs for e in run.evals for k in e.metrics if k.startswith(CAP_PREFIX)}
    return [c for c in CAPABILITIES if c in found] + sorted(found - set(CAPABILITIES))


def matrix_data(runs: list[RunData]) -> dict[str, Any]:
    """The phase × capability matrix per run. ``delta[i][j]`` is cell (i, j) minus the row above
    (None for row 0); ``forgetting[j]`` is the best value of column j before the last row minus its
    last value, when positive (0 otherwise)."""
    caps = capabilities_of(runs)
    out = []
    for run in runs:
        cells = [[e.metrics.get(CAP_PREFIX + c) for c in caps] for e in run.evals]
        overall = [e.metrics.get("accuracy") for e in run.evals]
        delta: list[list[float | None]] = []
        for i, row in enumerate(cells):
            if i == 0:
                delta.append([None] * len(caps))
            else:
                delta.append([None if v is None or p is None else v - p for v, p in zip(row, cells[i - 1])])
        forgetting = []
        for j in range(len(caps)):
            column = [row[j] for row in cells]
            last = column[-1] if column else None
            earlier = [v for v in column[:-1] if v is not None]
            forgetting.append(max(0.0, max(earlier) - last) if earlier and last is not None else 0.0)
        out.append({"run": run.name, "rows": [e.label for e in run.evals], "cells": cells, "overall": overall,
                    "delta": delta, "forgetting": forgetting})
    return {"format": REPORT_FORMAT, "capabilities": caps, "runs": out}


def split_data(runs: list[RunData]) -> dict[str, Any]:
    """Perception and reasoning error counts and shares after each phase."""
    out = []
    for run in runs:
        rows = []
        for e in run.evals:
            m = e.metrics
            if "split.samples" not in m:
                continue
            rows.append({"label": e.label, "samples": m["split.samples"],
                         "perception_errors": m.get("split.perception_errors", 0.0),
                         "reasoning_errors": m.get("split.reasoning_errors", 0.0),
                         "perception_share": m.get("split.perception_share"),
                         "reasoning_share": m.get("split.reasoning_share")})
        out.append({"run": run.name, "rows": rows})
    return {"format": REPORT_FORMAT, "runs": out}


PLOTS = {"curves": curves_data, "eval": eval_data, "matrix": matrix_data, "split": split_data}


def report_data(runs: list[RunData]) -> dict[str, dict[str, Any]]:
    """Every plot's data, by plot name."""
    return {name: fn(runs) for name, fn in PLOTS.items()}


def runs_summary(runs: list[RunData]) -> list[dict[str, Any]]:
    return [{"run": r.name, "root": str(r.root), "curriculum": r.curriculum, "plan": r.plan_hash[:12],
             "phases": [{"name": p.name, "status": p.status, "steps": p.steps, "capabilities": p.capabilities}
                        for p in r.phases]} for r in runs]
