"""What the runner tells whoever watches a run: notes, a phase's steps, evaluation progress.

The runner talks only to this protocol; the CLI passes the rich display of ``seethink_core.report.progress``
(bars on a terminal, plain lines elsewhere). Without one, a run prints its notes and nothing else: resumes,
reuse, skips and warnings must always be said, but drawing progress is the caller's choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from seethink_core.run.run_state import PhaseState, RunState
    from seethink_core.types.plan import Phase, TrainingPlan


class RunObserver(Protocol):
    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> None: ...

    def note(self, text: str) -> None: ...

    def start(self, phase: Phase, total: int) -> Any: ...  # a task handle, passed back to update and finish

    def update(self, task: Any, step: int, metrics: dict[str, float]) -> None: ...

    def finish(self, task: Any, phase: Phase, ps: PhaseState) -> None: ...

    def eval_progress(self, label: str) -> Callable[[int, int], None]: ...


# The observer of one run, made once the run's state is open (a display shows what is left of the run).
ObserverFactory = Callable[["TrainingPlan", "RunState"], RunObserver]


class PrintedNotes:
    """The default observer: notes printed as lines, no progress drawn."""

    def __enter__(self) -> "PrintedNotes":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def note(self, text: str) -> None:
        print(text, flush=True)

    def start(self, phase: Phase, total: int) -> None:
        return None

    def update(self, task: Any, step: int, metrics: dict[str, float]) -> None:
        pass

    def finish(self, task: Any, phase: Phase, ps: PhaseState) -> None:
        pass

    def eval_progress(self, label: str) -> Callable[[int, int], None]:
        return lambda done, total: None


def printed_notes(plan: TrainingPlan, state: RunState) -> RunObserver:
    return PrintedNotes()
