"""The ``openrlhf`` backend: each phase is one ``python -m openrlhf.cli.train_ppo_ray`` job (OpenRLHF 0.11.2).

Per phase, under ``<phase dir>/openrlhf/``: ``prompts.jsonl`` (+ ``images/``) from the runner's
stream, ``reward_func.py`` (the reward bridge), ``command.json`` / ``command.sh`` (the exact job),
``job.log`` and ``tensorboard/``. The job writes its Hugging Face model to ``ctx.checkpoint_dir``,
which the runner hands to the next phase, and DeepSpeed checkpoints to ``ctx.resume_dir``; when
that holds one, the job is started with ``--ckpt.load_enable`` and resumes inside the phase.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from seethink_core.backend import Checkpoint, PhaseContext, PhaseResult
from seethink_core.errors import BackendError
from seethink_core.plan import Phase, TrainingPlan
from seethink_core.rundir import RunDir
from seethink_openrlhf.checks import check_plan
from seethink_openrlhf.commands import JobSettings, PhaseFiles, build_command, shell_line, steps_per_rollout
from seethink_openrlhf.export import export_phase
from seethink_openrlhf.launcher import RayCluster, connect_ray, run_job
from seethink_openrlhf.options import OpenRLHFOptions
from seethink_openrlhf.reward_bridge import write_reward_file

WORK = "openrlhf"


def phase_files(ctx: PhaseContext) -> PhaseFiles:
    work = ctx.phase_dir / WORK
    return PhaseFiles(
        prompts=work / "prompts.jsonl",
        reward=work / "reward_func.py",
        output_dir=ctx.checkpoint_dir,
        ckpt_dir=ctx.resume_dir or (work / "ckpt"),
        tensorboard_dir=work / "tensorboard",
    )


class OpenRLHFBackend:
    def __init__(self, options: OpenRLHFOptions | None = None):
        self.options = options or OpenRLHFOptions()
        self.plan: TrainingPlan | None = None
        self.cluster: RayCluster | None = None
        self.python = self.options.python or sys.executable

    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None:
        errors = [d for d in check_plan(plan) if d.severity == "error"]
        if errors:  # the compiler reports these first; a plan loaded from JSON may skip it
            raise BackendError(errors)
        self.plan = plan

    def _cluster(self) -> RayCluster:
        if self.cluster is None:
            self.cluster = connect_ray(self.options.ray_address, self.python)
        return self.cluster

    def write_job(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> tuple[list[str], PhaseFiles, int]:
        """Export the data, write the reward file and the command; returns (argv, files, prompts)."""
        o = self.options
        files = phase_files(ctx)
        work = files.prompts.parent
        n_prompts = max(1, ctx.total_steps) * phase.algorithm.batch_size
        summary = export_phase(phase, ctx.data, n_prompts=n_prompts, out_dir=work)
        write_reward_file(phase, files.reward, marker=o.assistant_marker, timeout=o.reward_timeout)
        plan = self.plan or ctx.plan
        job = JobSettings(
            init_path=init.path, n_prompts=summary.prompts, total_steps=ctx.total_steps,
            max_images=summary.max_images, run_name=f"{plan.curriculum}-{phase.index:02d}-{phase.name}",
            resume=files.has_checkpoint(), python=self.python,
        )
        argv = build_command(phase, o, files, job)
        (work / "command.json").write_text(json.dumps({
            "phase": phase.name, "argv": argv, "prompts": summary.prompts, "max_images": summary.max_images,
            "prompts_sha256": summary.sha256, "resume": job.resume, "init": init.path,
        }, indent=2) + "\n", encoding="utf-8")
        (work / "command.sh").write_text("#!/bin/sh\n# seethink: phase " + phase.name + "\n"
                                         + shell_line(argv) + "\n", encoding="utf-8")
        return argv, files, summary.prompts

    def run_phase(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> PhaseResult:
        argv, files, n_prompts = self.write_job(phase, init, ctx)
        if self.options.dry_run:
            # The next phase's command names the folder this phase would hand over.
            final = RunDir(ctx.run_dir).checkpoint_dir(phase)
            return PhaseResult(Checkpoint(str(final), phase.name), steps=0, samples_seen=0, stopped_by="dry_run",
                               metrics={"prompts": float(n_prompts)})
        cluster = self._cluster()
        env = {**os.environ, **cluster.env(), "PYTHONUNBUFFERED": "1"}
        launch = list(argv)
        if self.options.wandb_project:
            key = os.environ.get("WANDB_API_KEY", "")
            if key:
                launch += ["--logger.wandb.key", key]
            else:
                print(f"[seethink] phase {phase.name}: wandb_project is set but $WANDB_API_KEY is not; "
                      "W&B logging is off", file=sys.stderr)
        per_rollout = steps_per_rollout(phase)

        def on_metrics(global_step: int, metrics: dict[str, float]) -> None:
            step = min(ctx.total_steps, global_step * per_rollout)
            ctx.log(step, metrics)
            ctx.progress(step, metrics)

        outcome = run_job(launch, env=env, log_path=files.prompts.parent / "job.log",
                          tensorboard_dir=files.tensorboard_dir, on_metrics=on_metrics,
                          poll_seconds=self.options.poll_seconds, echo=sys.stdout, cwd=ctx.phase_dir)
        if outcome.returncode != 0:
            tail = "\n    ".join(outcome.tail[-15:]) or "(no output)"
            raise BackendError(
                f"phase '{phase.name}': the OpenRLHF job failed (exit status {outcome.returncode}); "
                f"its last lines:\n    {tail}",
                hint=f"full log: {files.prompts.parent / 'job.log'}; command: {files.prompts.parent / 'command.sh'}; "
                     "re-running resumes from its last in-phase checkpoint")
        if not (files.output_dir / "config.json").is_file():
            raise BackendError(f"phase '{phase.name}': the OpenRLHF job ended but wrote no model to "
                               f"{files.output_dir}", hint=f"see {files.prompts.parent / 'job.log'}")
        return PhaseResult(Checkpoint(str(files.output_dir), phase.name), steps=ctx.total_steps,
                           samples_seen=n_prompts, metrics=outcome.metrics)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
