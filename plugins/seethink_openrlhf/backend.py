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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seethink_core.errors import BackendError, SeethinkError
from seethink_core.hooks.backend import Checkpoint, PhaseContext, PhaseResult
from seethink_core.samples.overlong import DROPPED_METRIC
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_openrlhf.checks import check_plan
from seethink_openrlhf.commands import (
    JobSettings,
    PhaseFiles,
    build_command,
    eval_every_rollouts,
    shell_line,
    steps_per_rollout,
)
from seethink_openrlhf.export import ExportSummary, export_eval, export_phase
from seethink_openrlhf.launcher import RayCluster, connect_ray, run_job
from seethink_openrlhf.options import OpenRLHFOptions
from seethink_openrlhf.reward_bridge import STOP_FILE, write_reward_file
from seethink_openrlhf.tokens import load_processor, prompt_token_counter

WORK = "openrlhf"


def phase_files(ctx: PhaseContext) -> PhaseFiles:
    # Absolute: the job runs in the phase folder, and its Ray workers in folders of their own.
    work = ctx.phase_dir.absolute() / WORK
    return PhaseFiles(
        prompts=work / "prompts.jsonl",
        reward=work / "reward_func.py",
        output_dir=ctx.checkpoint_dir.absolute(),
        ckpt_dir=(ctx.resume_dir or (work / "ckpt")).absolute(),
        tensorboard_dir=work / "tensorboard",
    )


def init_path(init: Checkpoint) -> str:
    """The job's starting model: a folder (a phase's, or a local base model) as an absolute path (the job's
    working directory is not the user's); a hub id as written."""
    local = init.phase is not None or Path(init.path).exists()
    return str(Path(init.path).absolute()) if local else init.path


class OpenRLHFBackend:
    def __init__(self, options: OpenRLHFOptions | None = None):
        self.options = options or OpenRLHFOptions()
        self.plan: TrainingPlan | None = None
        self.cluster: RayCluster | None = None
        self.python = self.options.python or sys.executable
        self.exports: dict[str, ExportSummary] = {}  # phase name -> its last export
        self._processors: dict[str, tuple[Any | None, str]] = {}  # for overlong_prompts: drop, loaded once

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
        unavailable = getattr(ctx.data, "unavailable", None)
        unmeasured = ""
        if unavailable is not None:
            # A dry run on a machine without the data: the command still names the file the export will
            # write; a phase of any visual capability gets its image slots.
            text_only = bool(phase.capabilities) and all(c == "textual_reasoning" for c in phase.capabilities)
            summary = ExportSummary(files.prompts, 0, 0 if text_only else 1, "")
        else:
            counter, unmeasured = self._token_counter(phase, init)
            summary = export_phase(phase, ctx.data, n_prompts=n_prompts, out_dir=work, count_tokens=counter)
        self.exports[phase.name] = summary
        overlong: dict[str, object] = {}
        if getattr(phase.algorithm, "overlong_prompts", "truncate") == "drop":
            overlong = {"overlong_prompts": {"dropped": summary.dropped_overlong, "measured": summary.measured,
                                             **({"not_measured_because": unmeasured} if unmeasured else {})}}
            if summary.dropped_overlong:
                print(f"[seethink] {dropped_total_note(phase, summary.dropped_overlong)}", file=sys.stderr)
        write_reward_file(phase, files.reward, marker=o.assistant_marker, timeout=o.reward_timeout, engines=o.engines())
        plan = self.plan or ctx.plan
        eval_path, eval_images, eval_record = self._write_eval(phase, plan, work)
        max_images = max(summary.max_images, eval_images)  # vLLM's image slots serve both
        job = JobSettings(
            init_path=init_path(init), n_prompts=summary.prompts, total_steps=ctx.total_steps,
            max_images=max_images, run_name=f"{plan.curriculum}-{phase.index:02d}-{phase.name}",
            resume=files.has_checkpoint(), python=self.python, eval_path=eval_path,
        )
        argv = build_command(phase, o, files, job)
        (work / "command.json").write_text(json.dumps({
            "phase": phase.name, "argv": argv, "prompts": summary.prompts, "max_images": max_images,
            "prompts_sha256": summary.sha256, "resume": job.resume, "init": init.path, **overlong,
            **({"data_missing": unavailable} if unavailable is not None else {}), **eval_record,
        }, indent=2) + "\n", encoding="utf-8")
        (work / "command.sh").write_text("#!/bin/sh\n# seethink: phase " + phase.name + "\n"
                                         + shell_line(argv) + "\n", encoding="utf-8")
        return argv, files, summary.prompts

    def _write_eval(self, phase: Phase, plan: TrainingPlan, work: Path) -> tuple[Path | None, int, dict[str, Any]]:
        """The job's own validation set (``eval ... every N steps``): the phase's eval sets exported as
        ``eval.jsonl``, with what ``command.json`` records of it. A dry run without the data still names the
        file (and says why it is missing); a real run without it stops here."""
        every = eval_every_rollouts(phase)
        if every is None:
            return None, 0, {}
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
            return work / "eval.jsonl", 1, {"eval": {"prompts": 0, "data_missing": str(e)}}
        summary = export_eval(phase, samples, work)
        return summary.path, summary.max_images, {"eval": {"prompts": summary.prompts, "sha256": summary.sha256,
                                                           "every_rollouts": every}}

    def _token_counter(self, phase: Phase, init: Checkpoint) -> tuple[Callable[[dict[str, Any]], int] | None, str]:
        """What measures prompts for ``overlong_prompts: drop`` (None when the phase does not drop), and
        why none could be made. The processor comes from the phase's start, else its base model: training
        leaves the processor as it was, and in a dry run the previous phase's folder does not exist."""
        if getattr(phase.algorithm, "overlong_prompts", "truncate") != "drop":
            return None, ""
        candidates = [init.path, phase.model]
        key = "\0".join(candidates)
        if key not in self._processors:
            self._processors[key] = load_processor(candidates, offline=self.options.dry_run)
        processor, why = self._processors[key]
        if processor is not None:
            return prompt_token_counter(processor), ""
        if not self.options.dry_run:
            raise BackendError(f"phase '{phase.name}': overlong_prompts: drop needs the model's processor to measure "
                               f"prompts, and none loaded ({why})",
                               hint="make the model folder or hub id loadable here (the job loads it too), or "
                                    "use overlong_prompts: truncate")
        # A dry run offline still writes everything it can; it says plainly that nothing was dropped.
        print(f"[seethink] phase {phase.name}: overlong_prompts: drop is not applied in this dry run: no processor "
              f"loaded offline ({why}); prompts.jsonl holds every prompt, and a real run, which loads the "
              "processor, drops the overlong ones", file=sys.stderr)
        return None, why

    def run_phase(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> PhaseResult:
        argv, files, n_prompts = self.write_job(phase, init, ctx)
        summary = self.exports[phase.name]
        # Every drop happened in the export, before the job: the phase's total from its first step on.
        dropped = {DROPPED_METRIC: float(summary.dropped_overlong)} if summary.measured else {}
        if self.options.dry_run:
            # The folder this phase would write; the runner names the next phase's start by its final name.
            return PhaseResult(Checkpoint(str(ctx.checkpoint_dir), phase.name), steps=0, samples_seen=0,
                               stopped_by="dry_run", metrics={"prompts": float(n_prompts), **dropped})
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
            metrics = {**metrics, **dropped}
            ctx.log(step, metrics)
            ctx.progress(step, metrics)

        outcome = run_job(launch, env=env, log_path=files.prompts.parent / "job.log",
                          tensorboard_dir=files.tensorboard_dir, on_metrics=on_metrics,
                          poll_seconds=self.options.poll_seconds, echo=sys.stdout, cwd=ctx.phase_dir)
        if outcome.returncode != 0:
            stopped_by_reward(files.reward.with_name(STOP_FILE))  # the reward bridge ended the job: its message
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
                           samples_seen=n_prompts, metrics={**outcome.metrics, **dropped})

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


def stopped_by_reward(stop_file: Path) -> None:
    """Raise the reward bridge's ``RewardFailuresExceeded`` when it is what ended the job (reward_bridge.py)."""
    if not stop_file.is_file():
        return
    from seethink_core.run.rewards.errors import RewardFailuresExceeded

    try:
        said = json.loads(stop_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # torn or unreadable: the job's failure is reported as it is
    raise RewardFailuresExceeded(str(said.get("message")), hint=said.get("hint"))


def dropped_total_note(phase: Phase, dropped: int) -> str:
    limit = getattr(phase.algorithm, "max_prompt_tokens", 0)
    return (f"phase {phase.name}: dropped {dropped} prompts longer than max_prompt_tokens ({limit}) from the export, "
            f"each replaced by the next sample; metric {DROPPED_METRIC}")
