"""When a run evaluates (docs/architecture.md §13): row 0 = the base model, then one row per phase, and
``eval ... every N steps`` snapshots during a phase. What an evaluation does is run/evaluation.py's."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from seethink_core.hooks.backend import Backend, Checkpoint
from seethink_core.hooks.manager import Plugins
from seethink_core.run.backends import Backends
from seethink_core.run.metrics import MetricsLog
from seethink_core.run.observer import RunObserver
from seethink_core.run.outcome import RunPosition
from seethink_core.run.run_state import PhaseState
from seethink_core.run.rundir import RunDir
from seethink_core.types.plan import Phase, TrainingPlan


@dataclass
class EvalSchedule:
    plan: TrainingPlan
    run_dir: RunDir
    backends: Backends
    plugins: Plugins
    position: RunPosition

    def wanted(self) -> bool:
        return any(p.eval is not None and p.eval.sets for p in self.plan.phases)

    def base(self, first_phase: Phase, progress: RunObserver) -> None:
        """Row 0, on the first phase's backend (the one that starts from the base model)."""
        from seethink_core.run.evaluation import base_eval_path, run_eval

        path = base_eval_path(self.run_dir.root)
        if not self.wanted() or path.exists():
            return
        if not self.backends.has(first_phase, "generate"):
            progress.note(f"backend '{self.plan.backend_of(first_phase).name}' cannot generate, so seethink's "
                          "evaluation does not run during training (a backend may validate inside its job: "
                          "OpenRLHF does, into metrics.jsonl); evaluate its checkpoints with `seethink eval`")
            return
        first = next(p for p in self.plan.phases if p.eval is not None and p.eval.sets)
        if first.eval is not None and not first.eval.before:  # `eval settings before: false`: no row 0
            return
        backend = self.backends.get(first_phase)
        progress.note("evaluating the base model (row 0)")
        self.position.at(None, activity="evaluating the base model")
        run_eval(self.plan, first, Checkpoint(first.model), backend, self.plugins.registry, path, label="base",
                 step=0, run_root=self.run_dir.root, on_answers=progress.eval_progress("base model"))

    def after_phase(self, phase: Phase, ps: PhaseState, progress: RunObserver) -> None:
        from seethink_core.run.evaluation import run_eval

        phase_dir = self.run_dir.phase_dir(phase)
        out = phase_dir / "eval.json"
        if phase.eval is None or not phase.eval.sets or out.exists() or not self.backends.has(phase, "generate"):
            return
        backend = self.backends.get(phase)
        progress.note(f"phase {phase.name}: evaluating")
        self.position.at(phase, step=ps.steps, activity="evaluating")
        log = MetricsLog(phase_dir, tensorboard=False)
        try:
            run_eval(self.plan, phase, Checkpoint(str(ps.checkpoint), phase.name), backend, self.plugins.registry,
                     out, label=phase.name, step=ps.steps, log=self.rows(phase, log),
                     run_root=self.run_dir.root, on_answers=progress.eval_progress(f"after {phase.name}"))
        finally:
            log.close()

    def rows(self, phase: Phase, log: MetricsLog) -> Callable[[int, dict[str, float]], None]:
        """Where evaluation metrics go: ``kind: eval`` rows of the phase's metrics.jsonl, and ``on_log``."""
        hook = self.plugins.hook

        def write(step: int, metrics: dict[str, float]) -> None:
            log.write(step, metrics, kind="eval")
            hook.on_log(phase=phase, step=step, metrics={f"eval.{k}": v for k, v in metrics.items()})

        return write

    def interval(self, backend: Backend, phase: Phase, phase_dir: Path, metrics_log: MetricsLog,
                 progress: RunObserver) -> Callable[[int, Callable[[Path], None]], None] | None:
        """``eval ... every N steps``: score a snapshot of the model every N steps during the phase."""
        if phase.eval is None or not phase.eval.sets or not phase.eval.every_steps or \
                not self.backends.has(phase, "generate"):
            return None
        from seethink_core.run.evaluation import eval_due, step_evaluator

        score = step_evaluator(self.plan, phase, backend, self.plugins.registry, phase_dir,
                               log=self.rows(phase, metrics_log), run_root=self.run_dir.root)
        snapshot = phase_dir / "eval-model"

        def evaluate(step: int, save: Callable[[Path], None]) -> None:
            if not eval_due(phase.eval, step):
                return
            if snapshot.exists():
                shutil.rmtree(snapshot)
            save(snapshot)
            score(step, Checkpoint(str(snapshot), phase.name), progress.eval_progress(f"{phase.name} @ step {step}"))

        return evaluate
