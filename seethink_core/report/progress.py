"""What ``seethink run`` shows while it runs: phase i of N, an ETA per phase and for the run, evaluation
progress, and the one-line warnings the runner raises from the metrics (no reward signal).

On a terminal it is a rich progress bar per phase with a status line under the bars; anywhere else (CI,
a log file, ``--no-progress``) a plain line every ``plain_every_s`` seconds, because rich only draws the
bars' final state when its output is not a terminal, and a log would show nothing until a phase ends.
Imports no torch; rich is imported only when bars are drawn.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from seethink_core.errors import RunError
from seethink_core.run.no_signal import NO_SIGNAL_HINT, NO_SIGNAL_STEPS, NoRewardSignal  # noqa: F401  (its old home)

if TYPE_CHECKING:
    from seethink_core.run.run_state import PhaseState, RunState
    from seethink_core.types.plan import Phase, TrainingPlan

PLAIN_EVERY_S = 30.0  # off a terminal: one line per phase at most this often (and its first and last step)


def fmt_duration(seconds: float | None) -> str:
    """``45s``, ``4m05s``, ``1h02m``; ``?`` when unknown. Whole seconds: an ETA is not more precise."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def planned_steps(phase: Phase) -> int | None:
    """A phase's step budget when it is known without opening its data; an ``epochs`` budget needs the
    data's size, known only when the phase starts (None)."""
    from seethink_core.run.phase_inputs import resolve_total_steps

    try:
        return resolve_total_steps(phase, None)
    except RunError:
        return None


@dataclass
class PhaseClock:
    """A phase's speed in steps per second, measured from its first reported step: the first step also
    pays for loading the model and warming up, which the rest of the phase does not repeat."""

    total: int
    clock: Callable[[], float] = time.monotonic
    first: tuple[float, int] | None = None  # (time, step) of the first report
    last: tuple[float, int] | None = None

    def tick(self, step: int) -> None:
        now = self.clock()
        if self.first is None:
            self.first = (now, step)
        self.last = (now, step)

    @property
    def step(self) -> int:
        return self.last[1] if self.last else 0

    def seconds_per_step(self) -> float | None:
        if self.first is None or self.last is None or self.last[1] <= self.first[1]:
            return None
        return (self.last[0] - self.first[0]) / (self.last[1] - self.first[1])

    def remaining_s(self, steps_left: int | None = None) -> float | None:
        """Time for ``steps_left`` more steps (default: the rest of this phase) at this phase's speed."""
        per = self.seconds_per_step()
        left = max(0, self.total - self.step) if steps_left is None else steps_left
        return None if per is None else left * per


def run_steps_left(plan: TrainingPlan, state: RunState | None, current: Phase, clock: PhaseClock) -> int | None:
    """Steps left in the run: the rest of ``current`` plus every later phase not done yet; None when a
    later phase's step count is not known before it starts."""
    left = max(0, clock.total - clock.step)
    for phase in plan.phases[current.index + 1:]:
        ps = state.phases.get(phase.name) if state is not None else None
        if ps is not None and ps.status == "done":
            continue
        steps = planned_steps(phase)
        if steps is None:
            return None
        left += steps
    return left


def metrics_text(metrics: dict[str, float]) -> str:
    """The live numbers of a step: the reward components, else (SFT) the loss."""
    live = "  ".join(f"{k.removeprefix('reward.')}={v:.3f}" for k, v in metrics.items()
                     if k.startswith("reward.") and isinstance(v, (int, float)))
    if not live and isinstance(metrics.get("loss"), (int, float)):
        live = f"loss={metrics['loss']:.4f}"
    return live


def headline(metrics: dict[str, float]) -> str:
    """The one number a bar row has room for: the total reward, else (SFT) the loss."""
    for key, label, digits in (("reward.total", "reward", 3), ("loss", "loss", 4)):
        if isinstance(metrics.get(key), (int, float)):
            return f"{label}={metrics[key]:.{digits}f}"
    return ""


@dataclass
class _Task:
    phase: Phase
    clock: PhaseClock
    bar: Any = None  # the rich task id, with bars
    metrics: dict[str, float] = field(default_factory=dict)
    printed_at: float | None = None  # plain lines: when the last one was printed


class RunProgress:
    """A rich progress bar per phase (phase i of N, its ETA, the live reward) and a status line with the
    run's estimated time left, on a terminal; plain lines every ``plain_every_s`` seconds elsewhere.

    ``enabled=False`` (``--no-progress``) always prints plain lines. Evaluations show answers generated
    out of the total (``eval_progress``)."""

    def __init__(self, enabled: bool, *, plan: TrainingPlan | None = None, state: RunState | None = None,
                 plain_every_s: float = PLAIN_EVERY_S, clock: Callable[[], float] = time.monotonic,
                 console: Any = None):
        self.plan = plan
        self.state = state
        self.plain_every_s = plain_every_s
        self._clock = clock
        self._console = console
        self._bars: Any = None
        self._current: _Task | None = None
        self.enabled = enabled and self._interactive()

    def _interactive(self) -> bool:
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return bool(self._console.is_interactive)

    # -- lifetime ----------------------------------------------------------------------------------

    def __enter__(self) -> "RunProgress":
        if self.enabled:
            self._bars = _bars(self._console, self.status_line)
            self._bars.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bars is not None:
            self._bars.__exit__(*exc)
            self._bars = None

    def note(self, text: str) -> None:
        """One line above the bars (or plain): resumes, reuse, skips and warnings must always be said."""
        if self._bars is not None:
            self._bars.console.print(text, markup=False, highlight=False)  # a path may hold [brackets]
        else:
            print(text, flush=True)

    # -- phases ------------------------------------------------------------------------------------

    def _name(self, phase: Phase) -> str:
        n = len(self.plan.phases) if self.plan is not None else phase.index + 1
        return f"phase {phase.index + 1}/{n} {phase.name} ({phase.method})"

    def start(self, phase: Phase, total: int) -> _Task:
        task = _Task(phase, PhaseClock(total, self._clock))
        if self._bars is not None:
            task.bar = self._bars.add_task(self._name(phase), total=total, live="", eta="")
        self._current = task
        return task

    def update(self, task: _Task | None, step: int, metrics: dict[str, float]) -> None:
        if task is None:
            return
        task.clock.tick(step)
        task.metrics = dict(metrics)
        if self._bars is not None:
            self._bars.update(task.bar, completed=step, live=headline(metrics),
                              eta=f"eta {fmt_duration(task.clock.remaining_s())}")
            return
        now = self._clock()
        if task.printed_at is None or now - task.printed_at >= self.plain_every_s or step >= task.clock.total:
            task.printed_at = now
            print(self.plain_line(task), flush=True)

    def finish(self, task: _Task | None, phase: Phase, ps: PhaseState) -> None:
        if task is None:
            return
        if self._bars is not None:
            self._bars.update(task.bar, completed=ps.steps, eta="done")
        else:
            print(f"[{self._name(phase)}] done: {_steps(ps.steps)} in {fmt_duration(ps.wall_s)} "
                  f"(stopped by {ps.stopped_by or 'budget'})", flush=True)
        self._current = None

    def run_eta(self, task: _Task, *, long: bool = False) -> str:
        """``run ≈ 6m12s left (est.)``: the steps left in this and later phases at this phase's speed (phases
        differ in speed, evaluations are not counted and an ``until`` may end a phase early: an estimate)."""
        if self.plan is None:
            return ""
        left = run_steps_left(self.plan, self.state, task.phase, task.clock)
        if left is None:
            return "run: time left unknown" + (" (a later phase's step count is known only when it starts)"
                                                if long else "")
        seconds = task.clock.remaining_s(left)
        if seconds is None:
            return "run: time left unknown" + (" until this phase has taken two steps" if long else "")
        if not long:
            return f"run ≈ {fmt_duration(seconds)} left (est.)"
        return f"run ≈ {fmt_duration(seconds)} left (estimate: {left} steps at this phase's speed; evals not counted)"

    def plain_line(self, task: _Task) -> str:
        c = task.clock
        per = c.seconds_per_step()
        timing = ["measuring speed"] if per is None else \
            [f"{per:.2f} s/step", f"eta {fmt_duration(c.remaining_s())}", self.run_eta(task)]
        parts = [f"[{self._name(task.phase)}] step {c.step}/{c.total}", *timing, metrics_text(task.metrics)]
        return " · ".join(p for p in parts if p)

    def status_line(self) -> str:
        """The line under the bars: the current phase's every reward component (a bar row has room for one
        number and stays within 100 columns) and the run's estimated time left."""
        task = self._current
        if task is None:
            return ""
        live = metrics_text(task.metrics)
        return (f"{task.phase.name}: {live} · " if live else "") + self.run_eta(task, long=True)

    # -- evaluation --------------------------------------------------------------------------------

    def eval_progress(self, label: str) -> Callable[[int, int], None]:
        """A ``(done, total)`` callback for one evaluation: a bar (removed when it completes) or plain
        lines, in answers generated (a sample with gold facts is answered twice: from the image and
        from the facts)."""
        state: dict[str, Any] = {"bar": None, "printed_at": None, "started": self._clock()}

        def report(done: int, total: int) -> None:
            if self._bars is not None:
                if state["bar"] is None:
                    state["bar"] = self._bars.add_task(f"eval {label}", total=total, live="answers", eta="")
                took = self._clock() - state["started"]
                eta = took / done * (total - done) if done else None
                self._bars.update(state["bar"], completed=done, total=total, eta=f"eta {fmt_duration(eta)}")
                if done >= total:
                    self._bars.remove_task(state["bar"])
                return
            now = self._clock()
            if done >= total or state["printed_at"] is None or now - state["printed_at"] >= self.plain_every_s:
                state["printed_at"] = now
                took = f" in {fmt_duration(now - state['started'])}" if done >= total else ""
                print(f"[eval {label}] {done}/{total} answers{took}", flush=True)

        return report


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _bars(console: Any, status: Callable[[], str]) -> Any:
    """rich's Progress with our columns and a status line (the run's ETA) under the bars."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table
    from rich.text import Text

    class _WithStatus(Progress):
        def get_renderables(self) -> Any:
            table: Table = self.make_tasks_table(self.tasks)
            yield table
            line = status()
            if line:
                yield Text(line, style="dim")

    return _WithStatus(TextColumn("[bold]{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                       TimeElapsedColumn(), TextColumn("{task.fields[eta]}"), TextColumn("{task.fields[live]}"),
                       console=console)
