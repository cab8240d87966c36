"""Where a run is while it runs (for a Ctrl-C's one line), and what it did with each phase."""

from __future__ import annotations

from dataclasses import dataclass

from seethink_core.run.run_state import PhaseState
from seethink_core.types.plan import Phase


@dataclass
class RunPosition:
    """Where a run is, kept up to date by the runner, so that a Ctrl-C can say it in one line."""

    phases: int = 0  # how many the plan has
    phase: Phase | None = None
    step: int = 0  # the last optimizer step finished
    activity: str = "starting"  # starting | training | evaluating | evaluating the base model

    def at(self, phase: Phase | None, *, step: int = 0, activity: str = "training") -> None:
        self.phase, self.step, self.activity = phase, step, activity

    def describe(self) -> str:
        """``at phase 2/4 (reasoning), step 37``: phases counted from 1, as "N of M" reads."""
        if self.phase is None:
            return "while evaluating the base model" if self.activity == "evaluating the base model" else \
                "before the first phase started"
        where = f"at phase {self.phase.index + 1}/{self.phases} ({self.phase.name}), step {self.step}"
        return where + (" (evaluating)" if self.activity == "evaluating" else "")


@dataclass
class PhaseReport:
    phase: Phase
    state: PhaseState
    skipped: bool
