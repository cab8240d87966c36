"""``seethink run --dry-run``: every phase as it would run, trained on nothing."""

from __future__ import annotations

from pathlib import Path

from seethink_core.errors import RunError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, PhaseContext, PhaseResult, SampleStream
from seethink_core.hooks.manager import Plugins
from seethink_core.run.atomic import write_json_atomic
from seethink_core.run.backends import Backends
from seethink_core.run.observer import RunObserver
from seethink_core.run.outcome import PhaseReport
from seethink_core.run.phase_inputs import PARTIAL, is_partial, reference_checkpoint, resolve_total_steps
from seethink_core.run.run_state import PhaseState, RunState
from seethink_core.run.rundir import RunDir
from seethink_core.run.stream import UnavailableStream, build_stream
from seethink_core.types.plan import Phase, TrainingPlan


def dry_run(plan: TrainingPlan, run_dir: RunDir, plugins: Plugins, backends: Backends, state: RunState,
            progress: RunObserver) -> list[PhaseReport]:
    """Every phase as it would run, without training: ``phases/NN-name/dry_run.json`` says what it would
    train on which backend, from which checkpoint, for how many steps, and which data is missing.
    State is not touched, so a dry run next to a real run changes nothing of it."""
    would_be: dict[str, str] = {}  # phase -> the checkpoint folder it would hand over
    reports: list[PhaseReport] = []
    for phase in plan.phases:
        ps = state.phases[phase.name]
        if ps.status == "done" and ps.checkpoint and Path(ps.checkpoint).exists():
            would_be[phase.name] = ps.checkpoint
            reports.append(PhaseReport(phase, ps, skipped=True))
            continue
        init = _would_start(phase, would_be)
        phase_dir = run_dir.phase_dir(phase)  # never reset: it may hold a real run's resume/
        phase_dir.mkdir(parents=True, exist_ok=True)
        missing: str | None = None
        stream: SampleStream
        try:
            stream = build_stream(phase, plugins.registry, seed=phase.seed)
            total = stream.total_samples()
        except SeethinkError as e:
            missing = str(e)
            stream, total = UnavailableStream(missing), None
        try:
            total_steps = resolve_total_steps(phase, total)
        except RunError:
            total_steps = 0  # an epochs budget over data of unknown size
        ref = plan.backend_of(phase)
        result: PhaseResult | None = None
        if backends.has(phase, "dry_run"):
            from seethink_core.run.rewards.combine import build_reward

            with build_reward(phase.rewards, plugins.registry) as reward:
                ctx = PhaseContext(
                    plan=plan, run_dir=run_dir.root, phase_dir=phase_dir,
                    checkpoint_dir=phase_dir / PARTIAL, data=stream, reward=reward, total_steps=total_steps,
                    reference=reference_checkpoint(phase, init, plan, lambda p: _would_start(p, would_be)),
                    log=lambda step, metrics: None,
                    should_stop=lambda step, metrics: None, dump_rollouts=lambda step, rows: None,
                    resume_dir=phase_dir / "resume")
                result = backends.get(phase).run_phase(phase, init, ctx)
        # The folder a backend writes into is renamed into place when a real phase ends, so the next
        # phase starts from the final name.
        checkpoint = str(run_dir.checkpoint_dir(phase))
        if result is not None and not is_partial(result.checkpoint, phase_dir):
            checkpoint = result.checkpoint.path
        would_be[phase.name] = checkpoint
        if hasattr(stream, "close"):
            stream.close()
        record = {
            "phase": phase.name, "backend": ref.name, "method": phase.method, "init": init.path,
            "checkpoint": checkpoint, "total_steps": total_steps or None,
            "data": [d.label for d in phase.data], "data_missing": missing,
            "written_by_backend": result is not None,
        }
        write_json_atomic(phase_dir / "dry_run.json", record)
        note = f"phase {phase.name}: {phase.method} on '{ref.name}', " + \
            (f"{total_steps} steps" if total_steps else "steps unknown until the data is here")
        if result is None:
            # Said so it does not read as "dry run not supported": the plan check, data check and
            # dry_run.json are the dry run here; a backend with its own writes its job files too.
            note += f" (nothing to prepare for '{ref.name}' beyond dry_run.json)"
        progress.note(note + ("; its data is missing here" if missing else ""))
        reports.append(PhaseReport(phase, PhaseState(status="dry_run", checkpoint=checkpoint,
                                                     steps=total_steps, stopped_by="dry_run"), skipped=False))
    return reports


def _would_start(phase: Phase, would_be: dict[str, str]) -> Checkpoint:
    """Where ``phase`` would start: the base model, or the checkpoint its previous phase would leave."""
    if phase.init_from == "base":
        return Checkpoint(phase.model)
    return Checkpoint(would_be[phase.init_from], phase.init_from)
