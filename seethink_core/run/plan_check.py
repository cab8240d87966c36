"""Why a run directory refuses a plan: the fields that differ from the plan it holds (``PlanMismatch``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from seethink_core.errors import RunError
from seethink_core.types.plan import TrainingPlan, hashed_data


class PlanMismatch(RunError):
    """A run directory holds another plan. Says which fields differ (execution-only options never do:
    they are not hashed) and, when the plan came from another file, which one; ``seethink run`` adds
    the command that starts the new plan beside it (``with_command``)."""

    def __init__(self, root: Path, old: TrainingPlan, new: TrainingPlan, command: str | None = None):
        self.root, self.old, self.new = root, old, new
        changes = plan_changes(old, new)
        shown = "".join(f"\n    {c}" for c in changes[:MAX_CHANGES_SHOWN])
        more = f"\n    and {len(changes) - MAX_CHANGES_SHOWN} more" if len(changes) > MAX_CHANGES_SHOWN else ""
        made = ""
        if old.source and new.source and not _same_file(old.source, new.source):
            made = (f" (it was made from {old.source}, another file with a curriculum '{old.curriculum}'; "
                    "two files must not share a run directory)")
        start = f"start it beside the old run (finished phases of an identical prefix are reused): {command}" \
            if command else "use another --run-dir"
        super().__init__(f"run directory {root} holds a different plan{made}:{shown}{more}",
                         hint=f"{start}; or undo the change to resume")

    def with_command(self, command: str) -> "PlanMismatch":
        return PlanMismatch(self.root, self.old, self.new, command)


MAX_CHANGES_SHOWN = 4


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is gone or was moved: the recorded path is all there is
        return os.path.abspath(a) == os.path.abspath(b)


def plan_changes(old: TrainingPlan, new: TrainingPlan) -> list[str]:
    """The hashed fields that differ, as ``phase 'p': budget.steps 4 → 5``, in plan order."""
    a, b = hashed_data(old), hashed_data(new)
    out: list[str] = []
    names_a = [p["name"] for p in a.pop("phases")]
    names_b = [p["name"] for p in b.pop("phases")]
    _changes(a, b, "", out)
    if names_a != names_b:
        out.append(f"phases {', '.join(names_a) or '-'} → {', '.join(names_b) or '-'}")
        return out
    for name, pa, pb in zip(names_a, hashed_data(old)["phases"], hashed_data(new)["phases"]):
        found: list[str] = []
        _changes(pa, pb, "", found)
        out.extend(f"phase '{name}': {c}" for c in found)
    return out


def _changes(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            _changes(a.get(key), b.get(key), f"{path}.{key}" if path else str(key), out)
    elif a != b:
        out.append(f"{path or 'plan'} {_short(a)} → {_short(b)}")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
