"""Reusing a finished phase of another run directory whose plan agrees up to and including it (--reuse)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Sequence

from seethink_core.errors import SeethinkError
from seethink_core.run.run_state import PhaseState, RunState
from seethink_core.run.rundir import RunDir
from seethink_core.types.plan import Phase, TrainingPlan, phase_prefix_hash


def try_reuse(plan: TrainingPlan, run_dir: RunDir, phase: Phase, state: RunState, reuse: Sequence[Path],
              note: Callable[[str], None]) -> PhaseState:
    """Take a finished phase from another run directory when the plans agree up to and including it."""
    want = phase_prefix_hash(plan, phase.index)
    for other_root in reuse:
        other = RunDir(other_root)
        try:
            other_plan = other.load_plan()
            other_state = other.load_state()
        except SeethinkError:
            continue
        if other_state is None or phase.index >= len(other_plan.phases):
            continue
        theirs = other_state.phases.get(phase.name)
        if theirs is None or theirs.status != "done" or not theirs.checkpoint:
            continue
        if phase_prefix_hash(other_plan, phase.index) != want:
            continue
        src = other.phase_dir(other_plan.phases[phase.index])
        dst = run_dir.phase_dir(phase)
        if dst.exists():
            shutil.rmtree(dst)
        link_tree(src, dst)
        ps = PhaseState(**{**theirs.__dict__})
        # Point at the linked copy, not the other run's files (which may be moved or deleted later).
        ps.checkpoint = rebase(theirs.checkpoint, src, dst)
        ps.optimizer_state = rebase(theirs.optimizer_state, src, dst)
        ps.stopped_by = f"reused from {other.root}"
        state.phases[phase.name] = ps
        run_dir.save_state(state)
        note(f"phase {phase.name}: reused from {other.root} (identical plan prefix)")
        return ps
    return state.phases[phase.name]


def rebase(path: str | None, src: Path, dst: Path) -> str | None:
    """``path`` inside ``src`` as the same file inside ``dst``; any other path unchanged."""
    if not path:
        return path
    target, base = Path(os.path.abspath(path)), Path(os.path.abspath(src))
    return str(dst / target.relative_to(base)) if target.is_relative_to(base) else path


def link_tree(src: Path, dst: Path) -> None:
    """Copy a phase folder by hard links where the file system allows (checkpoints are large)."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link)
