"""The ``verl`` backend: each phase is one ``python -m verl.trainer.main_ppo`` job (verl 0.9.1).

Per RL phase, under ``<phase dir>/verl/``: ``train.parquet`` (+ ``images/``) from the runner's stream,
``val.parquet``, ``reward_fn.py`` (the reward bridge), ``command.json`` / ``command.sh`` (the exact job),
``job.log`` and ``metrics-N.jsonl`` (verl's file logger, one file per launch). verl's checkpoints go to
``ctx.resume_dir``; when that holds one, the job resumes inside the phase (``trainer.resume_mode
resume_path``). The last step's Hugging Face folder becomes ``ctx.checkpoint_dir``, which the runner hands
to the next phase (``handoff.py``). An SFT phase is one job of verl's SFT trainer instead (``sft.py``):
``sft.parquet`` and a ``torchrun`` command, the same checkpoints and hand-off.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from seethink_core.errors import BackendError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, PhaseContext, PhaseResult
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_verl.checks import check_plan
from seethink_verl.export import ExportSummary, export_eval, export_phase, placeholder_val
from seethink_verl.handoff import hand_off, latest_step_dir
from seethink_verl.launcher import run_job
from seethink_verl.options import VerlOptions
from seethink_verl.overrides import (
    JobSettings,
    PhaseFiles,
    build_command,
    eval_every,
    export_prompts,
    shell_line,
    steps_per_rollout,
)
from seethink_verl.reward_bridge import STOP_FILE, write_reward_file
from seethink_verl.sft import build_sft_command, export_sft

WORK = "verl"


def phase_files(ctx: PhaseContext) -> PhaseFiles:
    # Absolute: the job's Ray workers run in folders of their own.
    work = ctx.phase_dir.absolute() / WORK
    return PhaseFiles(train=work / "train.parquet", val=work / "val.parquet", reward=work / "reward_fn.py",
                      ckpt_dir=(ctx.resume_dir or (work / "ckpt")).absolute(), metrics=work / "metrics.jsonl",
                      tensorboard_dir=work / "tensorboard")


def init_path(init: Checkpoint) -> str:
    """The job's starting model: a folder as an absolute path, a hub id as written."""
    local = init.phase is not None or Path(init.path).exists()
    return str(Path(init.path).absolute()) if local else init.path


def next_metrics_file(work: Path) -> Path:
    """verl's file logger truncates its file: every launch of a phase gets the next ``metrics-N.jsonl``."""
    n = 1
    while (work / f"metrics-{n}.jsonl").exists():
        n += 1
    return work / f"metrics-{n}.jsonl"


class VerlBackend:
    def __init__(self, options: VerlOptions | None = None):
        self.options = options or VerlOptions()
        self.plan: TrainingPlan | None = None
        self.python = self.options.python or sys.executable
        self.exports: dict[str, ExportSummary] = {}

    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None:
        errors = [d for d in check_plan(plan) if d.severity == "error"]
        if errors:  # the compiler reports these first; a plan loaded from JSON may skip it
            raise BackendError(errors)
        self.plan = plan

    def write_job(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> tuple[list[str], PhaseFiles]:
        """Export the data, write the reward file and the command; returns (argv, files)."""
        if phase.method == "sft":
            return self.write_sft_job(phase, init, ctx)
        files = phase_files(ctx)
        work = files.train.parent
        work.mkdir(parents=True, exist_ok=True)
        unavailable = getattr(ctx.data, "unavailable", None)
        if unavailable is not None:  # a dry run without the data: the command still names the files
            summary = ExportSummary(files.train, 0, 0, "")
        else:
            summary = export_phase(phase, ctx.data, n_prompts=export_prompts(phase, ctx.total_steps), out_dir=work)
        self.exports[phase.name] = summary
        write_reward_file(phase, files.reward, timeout=self.options.reward_timeout)
        plan = self.plan or ctx.plan
        has_eval, eval_record = self._write_eval(phase, plan, work)
        if not has_eval and unavailable is None:
            placeholder_val(files.train, work)
        resume = latest_step_dir(files.ckpt_dir)
        job = JobSettings(init_path=init_path(init), total_steps=ctx.total_steps,
                          experiment=f"{plan.curriculum}-{phase.index:02d}-{phase.name}", resume_from=resume,
                          has_eval=has_eval)
        argv = build_command(phase, self.options, files, job, python=self.python)
        self._record(phase, work, argv, summary, resume, init, unavailable, eval_record)
        return argv, files

    def write_sft_job(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> tuple[list[str], PhaseFiles]:
        """An SFT phase on verl's SFT trainer (sft.py): its samples as ``sft.parquet`` and the torchrun command."""
        files = replace(phase_files(ctx), train=ctx.phase_dir.absolute() / WORK / "sft.parquet")
        work = files.train.parent
        work.mkdir(parents=True, exist_ok=True)
        unavailable = getattr(ctx.data, "unavailable", None)
        if unavailable is not None:
            summary = ExportSummary(files.train, 0, 0, "")
        else:
            summary = export_sft(phase, ctx.data, n_samples=max(1, ctx.total_steps) * phase.algorithm.batch_size,
                                 out_dir=work)
        self.exports[phase.name] = summary
        plan = self.plan or ctx.plan
        resume = latest_step_dir(files.ckpt_dir)
        argv = build_sft_command(phase, self.options, files, python=self.python, init_path=init_path(init),
                                 total_steps=ctx.total_steps, resume_from=resume,
                                 experiment=f"{plan.curriculum}-{phase.index:02d}-{phase.name}")
        self._record(phase, work, argv, summary, resume, init, unavailable, {})
        return argv, files

    def _record(self, phase: Phase, work: Path, argv: list[str], summary: ExportSummary, resume: Path | None,
                init: Checkpoint, unavailable: Any, extra: dict[str, Any]) -> None:
        (work / "command.json").write_text(json.dumps({
            "phase": phase.name, "argv": argv, "prompts": summary.prompts, "max_images": summary.max_images,
            "train_sha256": summary.sha256, "resume_from": str(resume) if resume else None, "init": init.path,
            **({"data_missing": unavailable} if unavailable is not None else {}), **extra,
        }, indent=2) + "\n", encoding="utf-8")
        (work / "command.sh").write_text("#!/bin/sh\n# seethink: phase " + phase.name + "\n"
                                         + shell_line(argv) + "\n", encoding="utf-8")

    def _write_eval(self, phase: Phase, plan: TrainingPlan, work: Path) -> tuple[bool, dict[str, Any]]:
        """verl's own validation (``eval ... every N steps``): the phase's eval sets as ``val.parquet``. A dry
        run without the data says why it is missing; a real run without it stops here."""
        every = eval_every(phase)
        if every is None:
            return False, {}
        from seethink_core.hooks.manager import get_plugins
        from seethink_core.run.eval_sets import eval_seed, load_eval_samples

        spec = phase.eval
        assert spec is not None
        registry = get_plugins().registry
        try:
            samples = [s for ref in spec.sets
                       for s in load_eval_samples(ref, registry, seed=eval_seed(plan), max_samples=spec.max_samples)]
        except SeethinkError as e:
            if not self.options.dry_run:
                raise
            return True, {"eval": {"prompts": 0, "data_missing": str(e)}}
        summary = export_eval(phase, samples, work)
        return True, {"eval": {"prompts": summary.prompts, "sha256": summary.sha256, "every_rollouts": every}}

    def run_phase(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> PhaseResult:
        argv, files = self.write_job(phase, init, ctx)
        summary = self.exports[phase.name]
        if self.options.dry_run:
            return PhaseResult(Checkpoint(str(ctx.checkpoint_dir), phase.name), steps=0, samples_seen=0,
                               stopped_by="dry_run", metrics={"prompts": float(summary.prompts)})
        work = files.train.parent
        metrics_file = next_metrics_file(work)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "VERL_FILE_LOGGER_PATH": str(metrics_file),
               "TENSORBOARD_DIR": str(files.tensorboard_dir)}
        if self.options.ray_address:
            env["RAY_ADDRESS"] = self.options.ray_address
        if self.options.wandb_project:
            env["WANDB_PROJECT"] = self.options.wandb_project
        per_rollout = 1 if phase.method == "sft" else steps_per_rollout(phase)  # an SFT step is one update

        def on_metrics(global_step: int, metrics: dict[str, float]) -> None:
            step = min(ctx.total_steps, global_step * per_rollout)
            ctx.log(step, metrics)
            ctx.progress(step, metrics)

        outcome = run_job(argv, env=env, log_path=work / "job.log", metrics_path=metrics_file,
                          on_metrics=on_metrics, poll_seconds=self.options.poll_seconds, echo=sys.stdout,
                          cwd=ctx.phase_dir)
        if outcome.returncode != 0:
            stopped_by_reward(files.reward.with_name(STOP_FILE))
            tail = "\n    ".join(outcome.tail[-15:]) or "(no output)"
            raise BackendError(
                f"phase '{phase.name}': the verl job failed (exit status {outcome.returncode}); its last lines:\n"
                f"    {tail}",
                hint=f"full log: {work / 'job.log'}; command: {work / 'command.sh'}; re-running resumes from its "
                     "last in-phase checkpoint")
        hand_off(files.ckpt_dir, ctx.checkpoint_dir, python=self.python, phase=phase.name, log=work / "job.log")
        return PhaseResult(Checkpoint(str(ctx.checkpoint_dir), phase.name), steps=ctx.total_steps,
                           samples_seen=summary.prompts, metrics=dict(outcome.metrics))

    def close(self) -> None:
        return None


def stopped_by_reward(stop_file: Path) -> None:
    """Raise the reward bridge's ``RewardFailuresExceeded`` when it is what ended the job."""
    if not stop_file.is_file():
        return
    from seethink_core.run.rewards.errors import RewardFailuresExceeded

    try:
        said = json.loads(stop_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    raise RewardFailuresExceeded(str(said.get("message")), hint=said.get("hint"))
