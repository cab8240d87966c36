"""Continuing an interrupted phase: how far it got, the in-phase checkpoint to go on from (with the logs
cut back to it), and what a re-run says when it has to start the phase again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from seethink_core.run.atomic import write_atomic
from seethink_core.run.checkpointing import (
    Found,
    checkpoint_steps,
    discard_after,
    foreign_entries,
    latest_checkpoint,
    remove_folder,
)
from seethink_core.run.metrics import read_metrics
from seethink_core.run.run_state import PhaseState
from seethink_core.run.rundir import RunDir
from seethink_core.types.plan import Phase, TrainingPlan


def steps_done(run_dir: RunDir, phase: Phase) -> int:
    """How far an interrupted phase got: its last training row in metrics.jsonl (every step with the
    default ``log_every: 1``), or its newest in-phase checkpoint if that is further."""
    phase_dir = run_dir.phase_dir(phase)
    steps = [int(r["step"]) for r in read_metrics(phase_dir / "metrics.jsonl")
             if r.get("kind", "train") == "train" and isinstance(r.get("step"), int)]
    return max([0, *steps, *checkpoint_steps(phase_dir / "resume")])


def restart_note(run_dir: RunDir, phase: Phase, done: int, *, own_checkpoints: bool) -> str:
    """What a re-run says about an interrupted phase it cannot continue from a seethink checkpoint."""
    name = f"phase {phase.index + 1} ({phase.name})"
    resume_dir = run_dir.phase_dir(phase) / "resume"
    if own_checkpoints and foreign_entries(resume_dir):  # e.g. OpenRLHF's --ckpt.load_enable
        return f"resuming {name} from the backend's own checkpoints in {resume_dir} ({_steps(done)} done before)"
    if done == 0:
        return f"restarting {name} from step 0: it had not finished a step"
    return f"restarting {name} from step 0: no checkpoint inside it; {_steps(done)} will be redone"


def resume_point(run_dir: RunDir, plan: TrainingPlan, phase: Phase, ps: PhaseState, note: Callable[[str], None], *,
                 in_phase: bool, done: int = 0, recorded_hash: str | None = None) -> Found | None:
    """The in-phase checkpoint to continue an interrupted phase from, with the logs cut back to it;
    ``done`` is how many steps the interrupted attempt had finished (for the note); ``in_phase``: whether
    the phase's backend resumes inside a phase at all; ``recorded_hash``: the plan's hash as the run
    recorded it when it was made (state.json), which names the same plan where an older seethink hashed
    it differently (a hashed option added since): its checkpoints are this plan's too."""
    if ps.status != "running" or not in_phase:
        return None
    phase_dir = run_dir.phase_dir(phase)
    resume_dir = phase_dir / "resume"
    while True:
        found = latest_checkpoint(resume_dir)
        for why in found.skipped if found else []:
            note(f"phase {phase.name}: checkpoint {why}; falling back to an earlier one")
        if found is None:
            return None
        if found.meta.get("plan_hash") not in (None, plan.hash(), recorded_hash) or \
                found.meta.get("phase") not in (None, phase.name):
            note(f"phase {phase.name}: {found.path.name} belongs to a different plan or phase; not used")
            remove_folder(found.path)
            continue
        break
    discard_after(resume_dir, found.step)
    truncate_jsonl(phase_dir / "metrics.jsonl", found.step, inclusive=True)
    truncate_jsonl(phase_dir / "data_order.jsonl", found.step, inclusive=True)  # rows name the step they feed
    truncate_jsonl(phase_dir / "rollouts.jsonl", found.step, inclusive=True)
    redo = done - found.step
    note(f"resuming phase {phase.index + 1} ({phase.name}) from step {found.step} (checkpoint at step "
         f"{found.step}); " + (f"redoing {_steps(redo)} done after it" if redo > 0 else "nothing to redo"))
    return found


def truncate_jsonl(path: Path, step: int, *, inclusive: bool) -> None:
    """Keep the rows logged up to ``step`` (rows of later steps were written after the checkpoint)."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row_step = json.loads(line)["step"]
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line
        if row_step < step or (inclusive and row_step == step):
            keep.append(line)
    write_atomic(path, "".join(k + "\n" for k in keep))


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"
