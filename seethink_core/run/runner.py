"""Runs a plan phase by phase, each on its backend, handing each phase's checkpoint to the next.

The runner owns the run directory, the data order, the rewards and the metrics; backends only
train. Re-running a run directory skips finished phases; a finished phase's checkpoint is never
rewritten (it is written under a temporary name and renamed when the phase is done).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from seethink_core.errors import BackendError, RunError, SeethinkError
from seethink_core.hooks.backend import Backend, Checkpoint, PhaseContext, PhaseResult
from seethink_core.hooks.manager import Plugins, get_plugins
from seethink_core.run.atomic import write_json_atomic
from seethink_core.run.backends import Backends
from seethink_core.run.checkpointing import Found, remove_folder
from seethink_core.run.dry_run import dry_run
from seethink_core.run.eval_schedule import EvalSchedule
from seethink_core.run.faults import fault_point
from seethink_core.run.metrics import MetricsLog
from seethink_core.run.no_signal import NoRewardSignal
from seethink_core.run.observer import ObserverFactory, RunObserver, printed_notes
from seethink_core.run.outcome import PhaseReport, RunPosition
from seethink_core.run.phase_inputs import (
    PARTIAL,
    init_checkpoint,
    is_partial,
    reference_checkpoint,
    resolve_total_steps,
)
from seethink_core.run.recording import RecordingStream
from seethink_core.run.resume import restart_note, resume_point, steps_done
from seethink_core.run.reuse import try_reuse
from seethink_core.run.run_state import PhaseState, RunState
from seethink_core.run.rundir import RunDir
from seethink_core.run.transitions import TransitionMonitor
from seethink_core.types.plan import Phase, TrainingPlan

# Kept importable from here, where they lived before run/ was split (callers and tests use these names).
__all__ = ["PARTIAL", "PhaseReport", "RecordingStream", "RunPosition", "Runner", "resolve_total_steps"]


@dataclass
class PhaseSetup:
    """One phase about to train: where it writes, from where it resumes, and what it is handed."""

    phase: Phase
    phase_dir: Path
    ps: PhaseState
    init: Checkpoint
    resume: Found | None
    stream: RecordingStream
    reward: Any
    total_steps: int


@dataclass
class Runner:
    plan: TrainingPlan
    run_dir: RunDir
    plugins: Plugins = field(default_factory=get_plugins)
    from_phase: str | None = None
    reuse: Sequence[Path] = ()  # other run directories whose identical phase prefix may be reused
    # What watches the run, made once its state is open; the CLI passes seethink_core.report.progress's
    # bars. Without one, notes are printed and no progress is drawn.
    progress: ObserverFactory | None = None
    on_progress: Callable[[Phase, int, int, dict[str, float]], None] | None = None
    # Write what every phase would run (a backend with the `dry_run` feature writes its data, reward file
    # and command) and train nothing; phases whose data cannot be opened here are still described.
    dry_run: bool = False
    position: RunPosition = field(default_factory=RunPosition, init=False)

    def run(self) -> list[PhaseReport]:
        plan = self.plan
        self.position.phases = len(plan.phases)
        self._backends = Backends(plan, self.run_dir.root, self.plugins, dry_run=self.dry_run)
        self._backends.validate()
        self._evals = EvalSchedule(plan, self.run_dir, self._backends, self.plugins, self.position)
        state = self.run_dir.open_for(plan)
        if self.from_phase is not None:
            self._reset_from(state, self.from_phase)
        reports: list[PhaseReport] = []
        progress = (self.progress or printed_notes)(plan, state)
        if self.dry_run:
            try:
                return dry_run(plan, self.run_dir, self.plugins, self._backends, state, progress)
            finally:
                self._backends.close()
        try:
            with progress:
                if plan.phases:
                    self._evals.base(plan.phases[0], progress)
                for phase in plan.phases:
                    ps = state.phases[phase.name]
                    if ps.status != "done" and self.reuse:
                        ps = try_reuse(plan, self.run_dir, phase, state, self.reuse, progress.note)
                    if ps.status == "done" and ps.checkpoint and Path(ps.checkpoint).exists():
                        reports.append(PhaseReport(phase, ps, skipped=True))
                        progress.note(f"phase {phase.name}: done earlier, skipped")
                        self._evals.after_phase(phase, ps, progress)  # if it was cut short before
                        continue
                    ps = self._run_phase(self._backends.get(phase), phase, state, progress)
                    reports.append(PhaseReport(phase, ps, skipped=False))
                    self._evals.after_phase(phase, ps, progress)
                    fault_point("between_phases", phase.index)
        finally:
            self._backends.close()
        return reports

    # -- one phase: set up, hand to the backend, record what it did --------------------------------

    def _run_phase(self, backend: Backend, phase: Phase, state: RunState, progress: RunObserver) -> PhaseState:
        init = init_checkpoint(phase, state)
        fault_point("handoff", phase.index)
        phase_dir, ps, resume = self._open_phase(phase, state, progress)
        self.position.at(phase, step=resume.step if resume else 0)
        setup = self._prepare(backend, phase, phase_dir, ps, init, resume, progress)
        task = progress.start(phase, setup.total_steps)
        result = self._train(backend, setup, state, progress, task)
        self._record(setup, result, state)
        progress.finish(task, phase, ps)
        self.plugins.hook.on_phase_end(plan=self.plan, phase=phase, run_dir=str(self.run_dir.root), result=result)
        return ps

    def _open_phase(self, phase: Phase, state: RunState,
                    progress: RunObserver) -> tuple[Path, PhaseState, Found | None]:
        """The phase's folder and state, continued from an in-phase checkpoint when one can be used,
        else started again (the state saved as running)."""
        prior = state.phases[phase.name]
        in_phase = self._backends.has(phase, "resume_in_phase")
        # Counted before the logs are cut back, so a resume can say how much work it repeats.
        done = steps_done(self.run_dir, phase) if prior.status == "running" else 0
        # The run directory was opened for this plan (RunDir.open_for: plan.json re-hashed by this code), so
        # the hash state.json recorded at its start names this plan, whatever seethink computed it.
        resume = resume_point(self.run_dir, self.plan, phase, prior, progress.note, in_phase=in_phase, done=done,
                              recorded_hash=state.plan_hash)
        if resume is None:
            # A backend that resumes inside a phase by its own means (OpenRLHF's --ckpt.load_enable)
            # keeps its resume/ folder when an interrupted phase starts again.
            interrupted = prior.status == "running" and in_phase
            if prior.status == "running":
                progress.note(restart_note(self.run_dir, phase, done, own_checkpoints=interrupted))
            phase_dir = self.run_dir.reset_phase_dir(phase, keep=("resume",) if interrupted else ())
            ps = PhaseState(status="running", started=time.time())
        else:
            phase_dir = self.run_dir.phase_dir(phase)
            ps = prior
        state.phases[phase.name] = ps
        self.run_dir.save_state(state)
        return phase_dir, ps, resume

    def _prepare(self, backend: Backend, phase: Phase, phase_dir: Path, ps: PhaseState, init: Checkpoint,
                 resume: Found | None, progress: RunObserver) -> PhaseSetup:
        """The phase's data in its recorded order, its step budget and its watched reward."""
        from seethink_core.run.rewards.combine import build_reward
        from seethink_core.run.rewards.watch import resume_note, watch_reward
        from seethink_core.run.stream import build_stream

        registry = self.plugins.registry
        difficulties = self._estimated_difficulties(backend, phase, init, phase_dir, progress)
        stream = RecordingStream(build_stream(phase, registry, seed=phase.seed, difficulties=difficulties),
                                 phase_dir / "data_order.jsonl")
        total_steps = resolve_total_steps(phase, stream.total_samples())
        if hasattr(stream.inner, "set_total_steps"):
            stream.inner.set_total_steps(total_steps)
        # Failures are counted, the first of each reward said once, and too many stop the run (§8).
        in_phase = phase_dir / "resume" if self._backends.has(phase, "resume_in_phase") else None
        reward = watch_reward(build_reward(phase.rewards, registry), phase, total_steps, note=progress.note,
                              resume=lambda: resume_note(in_phase))
        return PhaseSetup(phase, phase_dir, ps, init, resume, stream, reward, total_steps)

    def _train(self, backend: Backend, setup: PhaseSetup, state: RunState, progress: RunObserver,
               task: Any) -> PhaseResult:
        """The backend's run of the phase, with the runner's logs open around it; its failure named."""
        phase, phase_dir = setup.phase, setup.phase_dir
        metrics_log = MetricsLog(phase_dir)
        rollouts = (phase_dir / "rollouts.jsonl").open("a", encoding="utf-8")
        ctx = self._context(backend, setup, state, progress, task, metrics_log, rollouts)
        self.plugins.hook.on_phase_start(plan=self.plan, phase=phase, run_dir=str(self.run_dir.root))
        try:
            result: PhaseResult = backend.run_phase(phase, setup.init, ctx)
        except SeethinkError:
            raise
        except Exception as e:
            raise BackendError(f"phase '{phase.name}' failed in backend '{self.plan.backend_of(phase).name}': "
                               f"{type(e).__name__}: {e}",
                               hint="run with --debug for the traceback; finished phases are kept") from e
        finally:
            metrics_log.close()
            rollouts.close()
            setup.stream.close()
            close = getattr(setup.reward, "close", None)
            if close:
                close()
        return result

    def _context(self, backend: Backend, setup: PhaseSetup, state: RunState, progress: RunObserver, task: Any,
                 metrics_log: MetricsLog, rollouts: Any) -> PhaseContext:
        """What the backend is handed: the data, the reward, and the runner's callbacks for its rows."""
        phase, phase_dir, total_steps = setup.phase, setup.phase_dir, setup.total_steps
        hook = self.plugins.hook
        no_signal = NoRewardSignal(phase, total_steps, note=progress.note)  # every backend's rows pass here
        carry = None
        if phase.handoff.optimizer == "carry" and phase.init_from != "base":
            carry_path = state.phases[phase.init_from].optimizer_state
            carry = Path(carry_path) if carry_path else None

        def log(step: int, metrics: dict[str, float]) -> None:
            self.position.step = max(self.position.step, step)  # a Ctrl-C right after this row names its step
            metrics_log.write(step, metrics)
            hook.on_log(phase=phase, step=step, metrics=dict(metrics))
            no_signal(step, metrics)

        def report_progress(step: int, metrics: dict[str, float]) -> None:
            self.position.step = max(self.position.step, step)
            progress.update(task, step, metrics)
            if self.on_progress:
                self.on_progress(phase, step, total_steps, metrics)

        def dump_rollouts(step: int, rows: list[dict[str, Any]]) -> None:
            for row in rows:
                rollouts.write(json.dumps({"step": step, **row}, default=str) + "\n")
            rollouts.flush()

        resume = setup.resume
        return PhaseContext(
            plan=self.plan, run_dir=self.run_dir.root, phase_dir=phase_dir, checkpoint_dir=phase_dir / PARTIAL,
            data=setup.stream, reward=setup.reward, total_steps=total_steps,
            reference=reference_checkpoint(phase, setup.init, self.plan, lambda p: init_checkpoint(p, state)),
            log=log,
            should_stop=TransitionMonitor(phase.transition).update, dump_rollouts=dump_rollouts,
            progress=report_progress, resume_dir=phase_dir / "resume", resume_from=resume.path if resume else None,
            carry_optimizer=carry, evaluate=self._evals.interval(backend, phase, phase_dir, metrics_log, progress),
        )

    def _record(self, setup: PhaseSetup, result: PhaseResult, state: RunState) -> None:
        """The finished phase: its checkpoint in place, its state, and data.json (what it trained on)."""
        phase, phase_dir, ps, stream = setup.phase, setup.phase_dir, setup.ps, setup.stream
        checkpoint = self._finalise_checkpoint(phase, result)
        ps.status = "done"
        ps.checkpoint = str(checkpoint)
        ps.optimizer_state = result.optimizer_state
        ps.steps = result.steps
        ps.samples_seen = result.samples_seen
        ps.stopped_by = result.stopped_by
        ps.metrics = {k: float(v) for k, v in result.metrics.items() if isinstance(v, (int, float))}
        ps.finished = time.time()
        ps.wall_s = round(ps.finished - (ps.started or ps.finished), 3)
        write_json_atomic(phase_dir / "data.json", {
            "sources": [{"source": d.source, "name": d.name, "weight": d.weight, "options": d.options}
                        for d in phase.data],
            "total_samples": stream.total_samples(),
            "samples_drawn": stream.count,
            "order_sha256": stream.order_hash,
            "steps": result.steps,
            # Bad records skipped under on_error: "skip", per source and reason (dsl.md, Bad records).
            "skipped_records": stream.inner.skipped_records() if hasattr(stream.inner, "skipped_records") else {},
        })
        self.run_dir.save_state(state)

    def _estimated_difficulties(self, backend: Backend, phase: Phase, init: Checkpoint, phase_dir: Path,
                                progress: RunObserver) -> dict[str, float] | None:
        """Pass-rate difficulty (``difficulty pass_rate(...)``), estimated with the backend's ``generate``
        and cached on disk, so re-running a phase costs nothing."""
        if phase.difficulty.source != "pass_rate":
            return None
        from seethink_core.run.difficulty import default_cache_dir, difficulty_for_phase

        progress.note(f"phase {phase.name}: estimating pass rates ({phase.difficulty.estimator or 'defaults'})")
        difficulties = difficulty_for_phase(self.plan, phase, init, backend, self.plugins.registry,
                                            default_cache_dir())
        write_json_atomic(phase_dir / "difficulty.json", difficulties)
        return difficulties

    def _finalise_checkpoint(self, phase: Phase, result: PhaseResult) -> Path:
        phase_dir = self.run_dir.phase_dir(phase)
        partial = phase_dir / PARTIAL
        final = self.run_dir.checkpoint_dir(phase)
        if is_partial(result.checkpoint, phase_dir):
            if not partial.exists():
                raise BackendError(f"phase '{phase.name}': the backend reported a checkpoint at {partial} "
                                   "but wrote nothing there")
            remove_folder(final)  # a Ctrl-C here must not leave the hand-off half-deleted
            partial.rename(final)
            return final
        return Path(result.checkpoint.path)

    def _reset_from(self, state: RunState, name: str) -> None:
        names = [p.name for p in self.plan.phases]
        if name not in names:
            from seethink_core.errors import did_you_mean

            raise RunError(f"--from-phase: no phase '{name}' in this plan", hint=did_you_mean(name, names))
        for phase in self.plan.phases[names.index(name):]:
            state.phases[phase.name] = PhaseState()
        self.run_dir.save_state(state)

