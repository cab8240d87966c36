"""Helpers for the DSL tests: golden files and a readable summary of a plan."""

from __future__ import annotations

import dataclasses
import os
import shlex
from pathlib import Path
from typing import Any

import yaml

from seethink_core.types import plan as P
from seethink_core.types.methods import METHODS

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
UPDATE = bool(os.environ.get("SEETHINK_UPDATE_GOLDEN"))


def compare_golden(path: Path, actual: str) -> None:
    """``actual`` must equal the golden file; SEETHINK_UPDATE_GOLDEN=1 rewrites it."""
    if UPDATE or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            raise AssertionError(f"golden file {path} was missing; written now, check it in")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs (SEETHINK_UPDATE_GOLDEN=1 rewrites it):\n{actual}"


def _changed(obj: Any, default: Any) -> dict[str, Any]:
    """The fields of a dataclass instance that differ from ``default``."""
    out = {}
    for f in dataclasses.fields(obj):
        v, d = getattr(obj, f.name), getattr(default, f.name)
        if v != d:
            out[f.name] = P.to_data(v)
    return out


def summarize(plan: P.TrainingPlan) -> dict[str, Any]:
    """A plan as a golden file shows it: every phase, options only where they differ from defaults."""
    phases = []
    for p in plan.phases:
        row: dict[str, Any] = {"name": p.name, "stages": p.stages, "init_from": p.init_from, "method": p.method}
        algo = _changed(p.algorithm, METHODS[p.method]())
        if algo:
            row["algorithm"] = algo
        if p.capabilities:
            row["capabilities"] = p.capabilities
        if p.model != plan.model:
            row["model"] = p.model
        row["data"] = []
        for d in p.data:
            item = {"source": d.source, "weight": d.weight}
            if d.name:
                item["name"] = d.name
            if d.capability:
                item["capability"] = d.capability
            if d.options:
                item["options"] = P.to_data(d.options)
            if d.mapping:
                item["mapping"] = P.to_data(d.mapping)
            row["data"].append(item)
        row["rewards"] = [{"name": r.name, "weight": r.weight,
                           **({"options": P.to_data(r.options)} if r.options else {})} for r in p.rewards]
        row["budget"] = {k: v for k, v in dataclasses.asdict(p.budget).items() if v is not None}
        if p.transition is not None:
            row["transition"] = P.to_data(p.transition)
        diff = _changed(p.difficulty, P.Difficulty())
        if diff:
            row["difficulty"] = diff
        if p.freeze:
            row["freeze"] = p.freeze
        handoff = _changed(p.handoff, P.HandOff())
        if handoff:
            row["handoff"] = handoff
        if p.prompt is not None:
            row["prompt"] = p.prompt
        if p.system is not None:
            row["system"] = p.system
        if p.eval is not None:
            row["eval"] = P.to_data(p.eval)
        if p.seed != plan.seed:
            row["seed"] = p.seed
        phases.append(row)
    return {"curriculum": plan.curriculum, "model": plan.model, "backend": P.to_data(plan.backend),
            "seed": plan.seed, "phases": phases}


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def compile_lines(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """``# compile: NAME [--backend B] [--set K=V]...`` header lines of a golden plan file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# compile:"):
            continue
        words = shlex.split(line[len("# compile:"):])
        kwargs: dict[str, Any] = {"curriculum": None if words[0] == "-" else words[0], "overrides": {}}
        rest = words[1:]
        while rest:
            flag, value = rest[0], rest[1]
            rest = rest[2:]
            if flag == "--backend":
                kwargs["backend"] = value
            elif flag == "--set":
                k, _, v = value.partition("=")
                kwargs["overrides"][k] = v
            else:
                raise ValueError(f"{path.name}: unknown flag {flag}")
        out.append((line[len("# compile:"):].strip(), kwargs))
    return out
