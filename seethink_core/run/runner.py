"""Runs a plan phase by phase, each on its backend, handing each phase's checkpoint to the next.

The runner owns the run directory, the data order, the rewards and the metrics; backends only
train. Re-running a run directory skips finished phases; a finished phase's checkpoint is never
rewritten (it is written under a temporary name and renamed when the phase is done).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from seethink_core.errors import BackendError, RunError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, PhaseContext, PhaseResult, SampleStream
from seethink_core.hooks.manager import Plugins, get_plugins
from seethink_core.report.progress import NoRewardSignal
from seethink_core.report.progress import RunProgress as _Progress
from seethink_core.run.checkpointing import Found, discard_after, latest_checkpoint
from seethink_core.run.faults import fault_point
from seethink_core.run.metrics import MetricsLog
from seethink_core.run.rundir import PhaseState, RunDir, RunState, write_json_atomic
from seethink_core.run.transitions import TransitionMonitor
from seethink_core.types.options import validate
from seethink_core.types.plan import Phase, TrainingPlan, phase_prefix_hash
from seethink_core.types.sample import Sample

PARTIAL = "checkpoint.partial"


class RecordingStream:
    """Wraps a phase's sample stream and records the order in which samples reach the trainer."""

    def __init__(self, inner: SampleStream, path: Path):
        self.inner = inner
        self.path = path
        self._hash = hashlib.sha256()
        self.count = 0
        # A phase resumed in place keeps the rows up to its checkpoint: count them into the order
        # hash, so data.json describes the whole phase and not only the part after the resume.
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            for i in json.loads(line)["ids"]:
                self._hash.update(i.encode() + b"\n")
                self.count += 1
        self._file = path.open("a", encoding="utf-8")

    def next_batch(self, n: int, step: int) -> list[Sample]:
        batch = self.inner.next_batch(n, step)
        ids = [s.id for s in batch]
        for i in ids:
            self._hash.update(i.encode() + b"\n")
        self.count += len(ids)
        # ``step`` is how many steps are done; a row names the first step its batch feeds, counted from 1
        # like metrics.jsonl, so a batch and the metrics row of the step that trained on it agree.
        self._file.write(json.dumps({"step": step + 1, "ids": ids}) + "\n")
        self._file.flush()
        return batch

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)

    def total_samples(self) -> int | None:
        return self.inner.total_samples()

    @property
    def order_hash(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:  # set_total_steps and other extras of the real stream
        return getattr(self.inner, name)


def resolve_total_steps(phase: Phase, total_samples: int | None) -> int:
    """The phase's budget in optimizer steps (batch sizes count prompts)."""
    b = phase.budget
    batch = phase.algorithm.batch_size
    if b.steps is not None:
        return int(b.steps)
    if b.samples is not None:
        return max(1, math.ceil(b.samples / batch))
    if b.epochs is not None:
        if total_samples is None:
            raise RunError(f"phase '{phase.name}': an epochs budget needs data of known size, and a source of this "
                           "phase cannot tell how many samples it has", hint="use `steps` or `samples` instead")
        return max(1, math.ceil(b.epochs * total_samples / batch))
    raise RunError(f"phase '{phase.name}' has no budget (steps, epochs or samples)")


class Backends:
    """The plan's backends, one instance each, made and prepared when a phase first needs it (a run
    that resumes past every openrlhf phase never starts Ray), closed together at the end."""

    def __init__(self, plan: TrainingPlan, root: Path, plugins: Plugins, *, dry_run: bool = False):
        self.plan = plan
        self.root = root
        self.registry = plugins.registry
        self.dry_run = dry_run
        self._open: list[tuple[Any, Any]] = []  # (BackendRef, instance)

    def _key(self, phase: Phase) -> Any:
        return self.plan.backend_of(phase)

    def validate(self) -> None:
        """Every backend is registered here and its options hold, before anything runs."""
        problems = []
        for ref in self.plan.backends():
            spec = self.registry.get("backend", ref.name)
            _, found = validate(spec.options, dict(ref.options), what=f"backend {spec.name}")
            problems.extend(found)
        if problems:
            raise RunError(problems)

    def has(self, phase: Phase, feature: str) -> bool:
        return feature in self.registry.get("backend", self._key(phase).name).features

    def get(self, phase: Phase) -> Any:
        ref = self._key(phase)
        for known, instance in self._open:
            if known == ref:
                return instance
        spec = self.registry.get("backend", ref.name)
        values = dict(ref.options)
        if self.dry_run and "dry_run" in spec.features:
            values["dry_run"] = True  # a backend that offers a dry run takes it as its `dry_run` option
        options, _ = validate(spec.options, values, what=f"backend {spec.name}")
        instance = spec.load()(options)
        self._open.append((ref, instance))
        instance.prepare(self.plan.for_backend(ref), self.root)
        return instance

    def close(self) -> None:
        for _, instance in reversed(self._open):
            instance.close()
        self._open.clear()


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


@dataclass
class Runner:
    plan: TrainingPlan
    run_dir: RunDir
    plugins: Plugins = field(default_factory=get_plugins)
    from_phase: str | None = None
    reuse: Sequence[Path] = ()  # other run directories whose identical phase prefix may be reused
    show_progress: bool = True
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
        state = self.run_dir.open_for(plan)
        if self.from_phase is not None:
            self._reset_from(state, self.from_phase)
        reports: list[PhaseReport] = []
        progress = _Progress(enabled=self.show_progress, plan=plan, state=state)
        if self.dry_run:
            try:
                return self._dry_run(state, progress)
            finally:
                self._backends.close()
        try:
            with progress:
                if plan.phases:
                    self._evaluate_base(plan.phases[0], progress)
                for phase in plan.phases:
                    ps = state.phases[phase.name]
                    if ps.status != "done" and self.reuse:
                        ps = self._try_reuse(phase, state, progress)
                    if ps.status == "done" and ps.checkpoint and Path(ps.checkpoint).exists():
                        reports.append(PhaseReport(phase, ps, skipped=True))
                        progress.note(f"phase {phase.name}: done earlier, skipped")
                        self._evaluate_phase(phase, ps, progress)  # if it was cut short before
                        continue
                    ps = self._run_phase(self._backends.get(phase), phase, state, progress)
                    reports.append(PhaseReport(phase, ps, skipped=False))
                    self._evaluate_phase(phase, ps, progress)
                    fault_point("between_phases", phase.index)
        finally:
            self._backends.close()
        return reports

    # -- a dry run --------------------------------------------------------------------------------

    def _dry_run(self, state: RunState, progress: "_Progress") -> list[PhaseReport]:
        """Every phase as it would run, without training: ``phases/NN-name/dry_run.json`` says what it would
        train on which backend, from which checkpoint, for how many steps, and which data is missing.
        State is not touched, so a dry run next to a real run changes nothing of it."""
        from seethink_core.run.stream import UnavailableStream, build_stream

        would_be: dict[str, str] = {}  # phase -> the checkpoint folder it would hand over
        reports: list[PhaseReport] = []
        for phase in self.plan.phases:
            ps = state.phases[phase.name]
            if ps.status == "done" and ps.checkpoint and Path(ps.checkpoint).exists():
                would_be[phase.name] = ps.checkpoint
                reports.append(PhaseReport(phase, ps, skipped=True))
                continue
            init = Checkpoint(phase.model) if phase.init_from == "base" else \
                Checkpoint(would_be[phase.init_from], phase.init_from)
            phase_dir = self.run_dir.phase_dir(phase)  # never reset: it may hold a real run's resume/
            phase_dir.mkdir(parents=True, exist_ok=True)
            missing: str | None = None
            stream: Any
            try:
                stream = build_stream(phase, self.plugins.registry, seed=phase.seed)
                total = stream.total_samples()
            except SeethinkError as e:
                missing = str(e)
                stream, total = UnavailableStream(missing), None
            try:
                total_steps = resolve_total_steps(phase, total)
            except RunError:
                total_steps = 0  # an epochs budget over data of unknown size
            ref = self.plan.backend_of(phase)
            result: PhaseResult | None = None
            if self._backends.has(phase, "dry_run"):
                from seethink_core.run.rewarding import build_reward

                with build_reward(phase.rewards, self.plugins.registry) as reward:
                    ctx = PhaseContext(
                        plan=self.plan, run_dir=self.run_dir.root, phase_dir=phase_dir,
                        checkpoint_dir=phase_dir / PARTIAL, data=stream, reward=reward, total_steps=total_steps,
                        reference=self._reference(phase, init), log=lambda step, metrics: None,
                        should_stop=lambda step, metrics: None, dump_rollouts=lambda step, rows: None,
                        resume_dir=phase_dir / "resume")
                    result = self._backends.get(phase).run_phase(phase, init, ctx)
            checkpoint = result.checkpoint.path if result else str(self.run_dir.checkpoint_dir(phase))
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

    # -- one phase ------------------------------------------------------------------------------

    def _init_checkpoint(self, phase: Phase, state: RunState) -> Checkpoint:
        if phase.init_from == "base":
            return Checkpoint(phase.model)
        prev = state.phases.get(phase.init_from)
        if prev is None or prev.status != "done" or not prev.checkpoint:
            raise RunError(f"phase '{phase.name}' starts from phase '{phase.init_from}', which has not finished")
        return Checkpoint(prev.checkpoint, phase.init_from)

    def _run_phase(self, backend: Any, phase: Phase, state: RunState, progress: "_Progress") -> PhaseState:
        plan = self.plan
        registry = self.plugins.registry
        init = self._init_checkpoint(phase, state)
        fault_point("handoff", phase.index)
        prior = state.phases[phase.name]
        # Counted before the logs are cut back, so a resume can say how much work it repeats.
        done = self._steps_done(phase) if prior.status == "running" else 0
        resume = self._resume_point(phase, prior, progress, done)
        if resume is None:
            # A backend that resumes inside a phase by its own means (OpenRLHF's --ckpt.load_enable)
            # keeps its resume/ folder when an interrupted phase starts again.
            interrupted = prior.status == "running" and self._backends.has(phase, "resume_in_phase")
            if prior.status == "running":
                progress.note(self._restart_note(phase, done, own_checkpoints=interrupted))
            phase_dir = self.run_dir.reset_phase_dir(phase, keep=("resume",) if interrupted else ())
            ps = PhaseState(status="running", started=time.time())
        else:
            phase_dir = self.run_dir.phase_dir(phase)
            ps = state.phases[phase.name]
        state.phases[phase.name] = ps
        self.run_dir.save_state(state)
        self.position.at(phase, step=resume.step if resume else 0)

        from seethink_core.run.rewarding import build_reward, resume_note, watch_reward
        from seethink_core.run.stream import build_stream

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
        reference = self._reference(phase, init)
        carry = None
        if phase.handoff.optimizer == "carry" and phase.init_from != "base":
            carry_path = state.phases[phase.init_from].optimizer_state
            carry = Path(carry_path) if carry_path else None

        metrics_log = MetricsLog(phase_dir)
        monitor = TransitionMonitor(phase.transition)
        rollouts = (phase_dir / "rollouts.jsonl").open("a", encoding="utf-8")
        hook = self.plugins.hook
        task = progress.start(phase, total_steps)
        no_signal = NoRewardSignal(phase, total_steps, note=progress.note)  # every backend's rows pass here

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

        evaluate = self._interval_evaluator(backend, phase, phase_dir, metrics_log, progress)
        ctx = PhaseContext(
            plan=plan, run_dir=self.run_dir.root, phase_dir=phase_dir, checkpoint_dir=phase_dir / PARTIAL,
            data=stream, reward=reward, total_steps=total_steps, reference=reference, log=log,
            should_stop=monitor.update, dump_rollouts=dump_rollouts, progress=report_progress,
            resume_dir=phase_dir / "resume", resume_from=resume.path if resume else None, carry_optimizer=carry,
            evaluate=evaluate,
        )
        hook.on_phase_start(plan=plan, phase=phase, run_dir=str(self.run_dir.root))
        try:
            result: PhaseResult = backend.run_phase(phase, init, ctx)
        except SeethinkError:
            raise
        except Exception as e:
            raise BackendError(f"phase '{phase.name}' failed in backend '{plan.backend_of(phase).name}': "
                               f"{type(e).__name__}: {e}",
                               hint="run with --debug for the traceback; finished phases are kept") from e
        finally:
            metrics_log.close()
            rollouts.close()
            stream.close()
            close = getattr(reward, "close", None)
            if close:
                close()

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
        progress.finish(task, phase, ps)
        hook.on_phase_end(plan=plan, phase=phase, run_dir=str(self.run_dir.root), result=result)
        return ps

    def _steps_done(self, phase: Phase) -> int:
        """How far an interrupted phase got: its last training row in metrics.jsonl (every step with the
        default ``log_every: 1``), or its newest in-phase checkpoint if that is further."""
        from seethink_core.run.checkpointing import checkpoint_steps
        from seethink_core.run.metrics import read_metrics

        phase_dir = self.run_dir.phase_dir(phase)
        steps = [int(r["step"]) for r in read_metrics(phase_dir / "metrics.jsonl")
                 if r.get("kind", "train") == "train" and isinstance(r.get("step"), int)]
        return max([0, *steps, *checkpoint_steps(phase_dir / "resume")])

    def _restart_note(self, phase: Phase, done: int, *, own_checkpoints: bool) -> str:
        """What a re-run says about an interrupted phase it cannot continue from a seethink checkpoint."""
        from seethink_core.run.checkpointing import foreign_entries

        name = f"phase {phase.index + 1} ({phase.name})"
        resume_dir = self.run_dir.phase_dir(phase) / "resume"
        if own_checkpoints and foreign_entries(resume_dir):  # e.g. OpenRLHF's --ckpt.load_enable
            return f"resuming {name} from the backend's own checkpoints in {resume_dir} ({_steps(done)} done before)"
        if done == 0:
            return f"restarting {name} from step 0: it had not finished a step"
        return f"restarting {name} from step 0: no checkpoint inside it; {_steps(done)} will be redone"

    def _resume_point(self, phase: Phase, ps: PhaseState, progress: "_Progress", done: int = 0) -> Found | None:
        """The in-phase checkpoint to continue an interrupted phase from, with the logs cut back to it;
        ``done`` is how many steps the interrupted attempt had finished (for the note)."""
        if ps.status != "running" or not self._backends.has(phase, "resume_in_phase"):
            return None
        phase_dir = self.run_dir.phase_dir(phase)
        resume_dir = phase_dir / "resume"
        while True:
            found = latest_checkpoint(resume_dir)
            for why in found.skipped if found else []:
                progress.note(f"phase {phase.name}: checkpoint {why}; falling back to an earlier one")
            if found is None:
                return None
            if found.meta.get("plan_hash") not in (None, self.plan.hash()) or \
                    found.meta.get("phase") not in (None, phase.name):
                progress.note(f"phase {phase.name}: {found.path.name} belongs to a different plan or phase; "
                              "not used")
                shutil.rmtree(found.path, ignore_errors=True)
                continue
            break
        discard_after(resume_dir, found.step)
        _truncate_jsonl(phase_dir / "metrics.jsonl", found.step, inclusive=True)
        _truncate_jsonl(phase_dir / "data_order.jsonl", found.step, inclusive=True)  # rows name the step they feed
        _truncate_jsonl(phase_dir / "rollouts.jsonl", found.step, inclusive=True)
        redo = done - found.step
        progress.note(f"resuming phase {phase.index + 1} ({phase.name}) from step {found.step} (checkpoint at step "
                      f"{found.step}); " + (f"redoing {_steps(redo)} done after it" if redo > 0 else "nothing to redo"))
        return found

    def _try_reuse(self, phase: Phase, state: RunState, progress: "_Progress") -> PhaseState:
        """Take a finished phase from another run directory when the plans agree up to and including it."""
        want = phase_prefix_hash(self.plan, phase.index)
        for other_root in self.reuse:
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
            dst = self.run_dir.phase_dir(phase)
            if dst.exists():
                shutil.rmtree(dst)
            _link_tree(src, dst)
            ps = PhaseState(**{**theirs.__dict__})
            # Point at the linked copy, not the other run's files (which may be moved or deleted later).
            ps.checkpoint = _rebase(theirs.checkpoint, src, dst)
            ps.optimizer_state = _rebase(theirs.optimizer_state, src, dst)
            ps.stopped_by = f"reused from {other.root}"
            state.phases[phase.name] = ps
            self.run_dir.save_state(state)
            progress.note(f"phase {phase.name}: reused from {other.root} (identical plan prefix)")
            return ps
        return state.phases[phase.name]

    # -- evaluation (docs/architecture.md §13): row 0 = the base model, then one row per phase --------------------

    def _eval_wanted(self) -> bool:
        return any(p.eval is not None and p.eval.sets for p in self.plan.phases)

    def _evaluate_base(self, first_phase: Phase, progress: "_Progress") -> None:
        """Row 0, on the first phase's backend (the one that starts from the base model)."""
        from seethink_core.run.evaluation import base_eval_path, run_eval

        path = base_eval_path(self.run_dir.root)
        if not self._eval_wanted() or path.exists():
            return
        if not self._backends.has(first_phase, "generate"):
            progress.note(f"backend '{self.plan.backend_of(first_phase).name}' cannot generate, so seethink's "
                          "evaluation does not run during training (a backend may validate inside its job: "
                          "OpenRLHF does, into metrics.jsonl); evaluate its checkpoints with `seethink eval`")
            return
        first = next(p for p in self.plan.phases if p.eval is not None and p.eval.sets)
        if first.eval is not None and not first.eval.before:  # `eval settings before: false`: no row 0
            return
        backend = self._backends.get(first_phase)
        progress.note("evaluating the base model (row 0)")
        self.position.at(None, activity="evaluating the base model")
        run_eval(self.plan, first, Checkpoint(first.model), backend, self.plugins.registry, path, label="base",
                 step=0, run_root=self.run_dir.root, on_answers=progress.eval_progress("base model"))

    def _evaluate_phase(self, phase: Phase, ps: PhaseState, progress: "_Progress") -> None:
        from seethink_core.run.evaluation import run_eval

        phase_dir = self.run_dir.phase_dir(phase)
        out = phase_dir / "eval.json"
        if phase.eval is None or not phase.eval.sets or out.exists() or not self._backends.has(phase, "generate"):
            return
        backend = self._backends.get(phase)
        progress.note(f"phase {phase.name}: evaluating")
        self.position.at(phase, step=ps.steps, activity="evaluating")
        log = MetricsLog(phase_dir, tensorboard=False)
        try:
            run_eval(self.plan, phase, Checkpoint(str(ps.checkpoint), phase.name), backend, self.plugins.registry,
                     out, label=phase.name, step=ps.steps, log=self._eval_rows(phase, log),
                     run_root=self.run_dir.root, on_answers=progress.eval_progress(f"after {phase.name}"))
        finally:
            log.close()

    def _eval_rows(self, phase: Phase, log: MetricsLog) -> Callable[[int, dict[str, float]], None]:
        """Where evaluation metrics go: ``kind: eval`` rows of the phase's metrics.jsonl, and ``on_log``."""
        hook = self.plugins.hook

        def write(step: int, metrics: dict[str, float]) -> None:
            log.write(step, metrics, kind="eval")
            hook.on_log(phase=phase, step=step, metrics={f"eval.{k}": v for k, v in metrics.items()})

        return write

    def _interval_evaluator(self, backend: Any, phase: Phase, phase_dir: Path, metrics_log: MetricsLog,
                            progress: "_Progress") -> Callable[[int, Callable[[Path], None]], None] | None:
        """``eval ... every N steps``: score a snapshot of the model every N steps during the phase."""
        if phase.eval is None or not phase.eval.sets or not phase.eval.every_steps or \
                not self._backends.has(phase, "generate"):
            return None
        from seethink_core.run.evaluation import eval_due, step_evaluator

        score = step_evaluator(self.plan, phase, backend, self.plugins.registry, phase_dir,
                               log=self._eval_rows(phase, metrics_log), run_root=self.run_dir.root)
        snapshot = phase_dir / "eval-model"

        def evaluate(step: int, save: Callable[[Path], None]) -> None:
            if not eval_due(phase.eval, step):
                return
            if snapshot.exists():
                shutil.rmtree(snapshot)
            save(snapshot)
            score(step, Checkpoint(str(snapshot), phase.name), progress.eval_progress(f"{phase.name} @ step {step}"))

        return evaluate

    def _estimated_difficulties(self, backend: Any, phase: Phase, init: Checkpoint, phase_dir: Path,
                                progress: "_Progress") -> dict[str, float] | None:
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

    def _reference(self, phase: Phase, init: Checkpoint) -> Checkpoint | None:
        algo = phase.algorithm
        if getattr(algo, "kl", 0.0) == 0.0 or getattr(algo, "kl_mode", "none") == "none":
            return None
        if phase.handoff.reference == "base":
            return Checkpoint(phase.model)
        return init

    def _finalise_checkpoint(self, phase: Phase, result: PhaseResult) -> Path:
        partial = self.run_dir.phase_dir(phase) / PARTIAL
        final = self.run_dir.checkpoint_dir(phase)
        produced = Path(result.checkpoint.path)
        if produced.resolve() == partial.resolve():
            if not partial.exists():
                raise BackendError(f"phase '{phase.name}': the backend reported a checkpoint at {partial} "
                                   "but wrote nothing there")
            if final.exists():
                shutil.rmtree(final)
            partial.rename(final)
            return final
        return produced

    def _reset_from(self, state: RunState, name: str) -> None:
        names = [p.name for p in self.plan.phases]
        if name not in names:
            from seethink_core.errors import did_you_mean

            raise RunError(f"--from-phase: no phase '{name}' in this plan", hint=did_you_mean(name, names))
        for phase in self.plan.phases[names.index(name):]:
            state.phases[phase.name] = PhaseState()
        self.run_dir.save_state(state)


def _rebase(path: str | None, src: Path, dst: Path) -> str | None:
    """``path`` inside ``src`` as the same file inside ``dst``; any other path unchanged."""
    if not path:
        return path
    target, base = Path(os.path.abspath(path)), Path(os.path.abspath(src))
    return str(dst / target.relative_to(base)) if target.is_relative_to(base) else path


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _truncate_jsonl(path: Path, step: int, *, inclusive: bool) -> None:
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
    from seethink_core.run.rundir import write_atomic

    write_atomic(path, "".join(k + "\n" for k in keep))


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a phase folder by hard links where the file system allows (checkpoints are large)."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link)
