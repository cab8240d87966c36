"""Run directories → the data behind every report plot, as plain JSON-able dicts.

Each plot of ``seethink report`` is drawn from one of these dicts, and the same dict is written
as JSON next to the PNG, so the numbers can be tested and reused without reading pixels:

- ``curves``: training reward, response length and (SFT phases) loss per step, phases laid end to end;
- ``eval``: eval accuracy, length and format rate after each phase (row 0 = the base model);
- ``sets``: accuracy on each eval set, by its name, after each phase;
- ``matrix``: the phase × capability accuracy matrix, with each cell's change from the row
  above (gains) and each capability's drop from its best earlier value (forgetting);
- ``split``: perception vs reasoning errors after each phase;
- ``rollouts`` (a table, no plot): the best and worst dumped training rollouts of each phase by reward;
- ``suites`` (a table, no plot): each suite's table (the reference's eight benchmarks, averages,
  overall) per evaluation row (``report/suites.py``).

A "run" may also be one ``seethink eval`` result file (eval/<checkpoint>.json): a run of one row, so
checkpoints scored alone stand side by side with runs.

Several runs (staged vs merged) become several entries of the same dicts, side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import RunError
from seethink_core.report.suites import suites_data
from seethink_core.run.evaluation import base_eval_path
from seethink_core.run.metrics import read_metrics
from seethink_core.types.plan import CAPABILITIES, TrainingPlan

REPORT_FORMAT = 1
REWARD_KEY = "reward.total"
# The local backend logs response_length.mean, the OpenRLHF bridge length.mean.
LENGTH_KEYS = ("response_length.mean", "length.mean")
CAP_PREFIX = "accuracy.capability."
SET_PREFIX = "accuracy.set."
LOSS_KEY = "loss"
# Only SFT's loss is a curve worth reading: an RL phase's loss is a policy-gradient surrogate whose
# level says nothing about progress (TRL and torchtune plot SFT loss and RL reward the same way).
LOSS_METHODS = ("sft",)
ROLLOUT_EXAMPLES = 3  # best and worst rollouts shown per phase


@dataclass
class EvalRow:
    label: str  # "base" or the phase name
    phase: str | None
    metrics: dict[str, float]
    path: str
    title: str = ""  # what plots and tables show: "base" or "2 perception" (phases counted from 1)


@dataclass
class PhaseInfo:
    index: int
    name: str
    capabilities: list[str]
    status: str
    steps: int
    method: str = ""

    @property
    def title(self) -> str:
        """``2 perception``: counted from 1, as `seethink run` counts phases ("phase 2/4")."""
        return f"{self.index + 1} {self.name}"


@dataclass
class RunData:
    name: str
    root: Path
    curriculum: str
    plan_hash: str
    phases: list[PhaseInfo]
    train: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # phase -> kind=train rows
    evals: list[EvalRow] = field(default_factory=list)  # base first, then phases in plan order
    rollouts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # phase -> dumped rollout rows


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunError(f"{path} is unreadable ({e})") from None


def load_run(root: Path | str, name: str | None = None) -> RunData:
    """Read one run directory (plan.json, state.json, phases/*/metrics.jsonl and eval.json), or one
    ``seethink eval`` result file."""
    root = Path(root)
    if root.is_file():
        return load_eval_file(root, name)
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
        run.evals.append(EvalRow("base", None, _metrics(base), str(base_eval_path(root)), "base"))
    for phase in plan.phases:
        ps = state.get(phase.name, {})
        info = PhaseInfo(phase.index, phase.name, list(phase.capabilities), ps.get("status", "pending"),
                         int(ps.get("steps", 0) or 0), phase.method)
        run.phases.append(info)
        phase_dir = root / "phases" / f"{phase.index:02d}-{phase.name}"
        run.train[phase.name] = [r for r in read_metrics(phase_dir / "metrics.jsonl")
                                 if r.get("kind", "train") == "train"]
        run.rollouts[phase.name] = _read_rollouts(phase_dir)
        ev = _read_json(phase_dir / "eval.json")
        if ev is not None:
            run.evals.append(EvalRow(phase.name, phase.name, _metrics(ev), str(phase_dir / "eval.json"), info.title))
    return run


def load_eval_file(path: Path, name: str | None = None) -> RunData:
    """A ``seethink eval`` JSON as a run of one evaluation row, named after its label."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise RunError(f"{path} is neither a run directory nor a `seethink eval` result (no metrics)")
    label = str(data.get("label") or path.stem)
    run = RunData(name or label, path, label, "", [])
    run.evals.append(EvalRow(label, None, _metrics(data), str(path), label))
    return run


def _read_rollouts(phase_dir: Path) -> list[dict[str, Any]]:
    """Every row of the phase's ``rollouts*.jsonl`` (a backend may split them over several files)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(phase_dir.glob("rollouts*.jsonl")):
        rows.extend(r for r in read_metrics(path) if isinstance(r, dict))  # torn lines skipped, like metrics
    return rows


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
    """Reward, length and SFT loss per step; each phase's steps continue from the previous phase's last
    step (its first step is the previous phase's last plus 1: steps count from 1)."""
    out = []
    for run in runs:
        offset = 0
        phases = []
        for phase in run.phases:
            rows = sorted(run.train.get(phase.name, []), key=lambda r: r.get("step", 0))
            steps = [offset + int(r.get("step", 0)) for r in rows]
            sft = phase.method in LOSS_METHODS
            phases.append({"phase": phase.name, "title": phase.title, "method": phase.method, "start": offset,
                           "steps": steps, "reward": [_first(r, (REWARD_KEY,)) for r in rows],
                           "length": [_first(r, LENGTH_KEYS) for r in rows],
                           "loss": [_first(r, (LOSS_KEY,)) if sft else None for r in rows]})
            last = max((int(r.get("step", 0)) for r in rows), default=0)
            offset += max(last, phase.steps)
        out.append({"run": run.name, "phases": phases, "total_steps": offset})
    return {"format": REPORT_FORMAT, "runs": out}


def eval_data(runs: list[RunData]) -> dict[str, Any]:
    """Eval accuracy, length and format rate after each phase (row 0 = base)."""
    out = []
    for run in runs:
        out.append({"run": run.name, "rows": [{
            "label": e.label, "title": e.title, "accuracy": e.metrics.get("accuracy"),
            "length_mean": e.metrics.get("length.mean"),
            "length_median": e.metrics.get("length.median"), "format_rate": e.metrics.get("format_rate"),
        } for e in run.evals]})
    return {"format": REPORT_FORMAT, "runs": out}


def sets_of(runs: list[RunData]) -> list[str]:
    """Every eval set any row reports, by the name it is reported under, in first-seen order."""
    found: dict[str, None] = {}
    for run in runs:
        for e in run.evals:
            found.update((k[len(SET_PREFIX):], None) for k in e.metrics if k.startswith(SET_PREFIX))
    return list(found)


def sets_data(runs: list[RunData]) -> dict[str, Any]:
    """Accuracy on each eval set after each phase: ``cells[i][j]`` is row i (base, then phases) on set j."""
    names = sets_of(runs)
    return {"format": REPORT_FORMAT, "sets": names, "runs": [{
        "run": run.name, "rows": [e.label for e in run.evals], "titles": [e.title for e in run.evals],
        "cells": [[e.metrics.get(SET_PREFIX + n) for n in names] for e in run.evals]} for run in runs]}


def _reward_of(row: dict[str, Any]) -> float | None:
    return _first(row, (REWARD_KEY, "reward"))


def rollouts_data(runs: list[RunData], k: int = ROLLOUT_EXAMPLES) -> dict[str, Any]:
    """The ``k`` best and ``k`` worst dumped rollouts of each phase by total reward (ties: the earlier
    step first). When every row has the same reward (``reward``), or none (a backend that dumps none),
    the first ``k`` rows are listed unranked (``ranked`` false)."""
    out = []
    for run in runs:
        phases = []
        for phase in run.phases:
            rows = run.rollouts.get(phase.name, [])
            if not rows:
                continue
            ranked = sorted((r for r in rows if _reward_of(r) is not None),
                            key=lambda r: (-(_reward_of(r) or 0.0), r.get("step", 0)))
            # Best and worst only mean something when the rewards differ; else the first rows are shown.
            spread = len({_reward_of(r) for r in ranked}) > 1
            best = ranked[:k] if spread else rows[:k]
            # The worst are taken from what is left, so a phase with few rows never shows one row twice.
            worst = sorted(ranked[k:], key=lambda r: (_reward_of(r) or 0.0, r.get("step", 0)))[:k] if spread else []
            phases.append({"phase": phase.name, "title": phase.title, "rows": len(rows), "ranked": spread,
                           "reward": None if spread or not ranked else _reward_of(ranked[0]),
                           "best": [_rollout_row(r) for r in best], "worst": [_rollout_row(r) for r in worst]})
        out.append({"run": run.name, "phases": phases})
    return {"format": REPORT_FORMAT, "k": k, "runs": out}


def _rollout_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"step": row.get("step"), "id": row.get("id"), "reward": _reward_of(row), "prompt": row.get("prompt"),
            "completion": row.get("completion"), "answer": row.get("answer")}


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
        out.append({"run": run.name, "rows": [e.label for e in run.evals], "titles": [e.title for e in run.evals],
                    "cells": cells, "overall": overall,
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
            rows.append({"label": e.label, "title": e.title, "samples": m["split.samples"],
                         "perception_errors": m.get("split.perception_errors", 0.0),
                         "reasoning_errors": m.get("split.reasoning_errors", 0.0),
                         "perception_share": m.get("split.perception_share"),
                         "reasoning_share": m.get("split.reasoning_share")})
        out.append({"run": run.name, "rows": rows})
    return {"format": REPORT_FORMAT, "runs": out}


PLOTS = {"curves": curves_data, "eval": eval_data, "sets": sets_data, "matrix": matrix_data, "split": split_data,
         "rollouts": rollouts_data, "suites": suites_data}


def report_data(runs: list[RunData]) -> dict[str, dict[str, Any]]:
    """Every plot's data, by plot name."""
    return {name: fn(runs) for name, fn in PLOTS.items()}


def runs_summary(runs: list[RunData]) -> list[dict[str, Any]]:
    return [{"run": r.name, "root": str(r.root), "curriculum": r.curriculum, "plan": r.plan_hash[:12],
             "phases": [{"name": p.name, "title": p.title, "method": p.method, "status": p.status, "steps": p.steps,
                         "capabilities": p.capabilities}
                        for p in r.phases]} for r in runs]
