"""Run one OpenRLHF job: find or start Ray, stream the job's output, turn its TensorBoard scalars into metrics.

Metric names (OpenRLHF 0.11.2): ``TensorboardLogger.log_train`` (``openrlhf/utils/logging_utils.py``)
writes every status key as ``train/<key>`` at the trainer's ``global_step`` (one step per rollout
batch, ``PPOTrainer.fit``), under ``<logger.tensorboard_dir>/<logger.wandb.run_name>``. The keys come
from ``PolicyModelActor``'s ``ppo_train`` (``policy_loss``, ``kl``, ``actor_lr``, ``actor_grad_norm``,
``ppo_clip_ratio``, ``entropy_loss`` and the experience ``info`` means such as ``reward``,
``response_length``, ``return``, and the reward bridge's ``extra_logs``), from
``BasePPOTrainer._compute_rollout_stats`` (``rollout/reward_mean``, ``rollout/reward_std``,
``rollout/response_length_mean``, ``rollout/truncated_rate``) and ``timing/*``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from seethink_core.errors import BackendError
from seethink_core.run.jobs import JobOutcome, supervise
from seethink_core.run.metrics import FAILURE_RATE
from seethink_openrlhf.reward_bridge import FAILURE_PREFIX, LOG_PREFIX
from seethink_openrlhf.tb_events import EventTail

# OpenRLHF status key (after "train/") → seethink metric name (docs/architecture.md §12: dotted, reward.<component>).
METRIC_NAMES = {
    "rollout/reward_mean": "reward.total",
    "rollout/reward_std": "reward.std",
    "rollout/response_length_mean": "length.mean",
    "rollout/truncated_rate": "length.truncated_rate",
    "policy_loss": "loss",
    "kl": "kl",
    "actor_lr": "lr",
    "actor_grad_norm": "grad_norm",
    "ppo_clip_ratio": "clip_ratio",
    "entropy_loss": "entropy",
    "return": "return.mean",
    "group_reward_std": "reward.group_std",
    "dynamic_filtering_pass_rate": "sampling.kept_percent",
}
# Duplicates of the rollout statistics above, averaged per micro-batch instead: dropped.
SKIPPED = frozenset({"reward", "score", "response_length", "total_length", "response_clip_ratio", "truncated"})


def seethink_metrics(scalars: dict[str, float]) -> dict[str, float]:
    """OpenRLHF's ``train/*`` scalars as seethink metrics; unknown keys keep their name under ``openrlhf.``."""
    out: dict[str, float] = {}
    for tag, value in scalars.items():
        if tag.startswith("eval/"):
            out["openrlhf_eval." + tag[5:].replace("/", ".")] = value
            continue
        key = tag[6:] if tag.startswith("train/") else tag
        if key in SKIPPED:
            continue
        if key in METRIC_NAMES:
            out[METRIC_NAMES[key]] = value
        elif key.startswith(FAILURE_PREFIX):  # before LOG_PREFIX, which it starts with
            out[f"{FAILURE_RATE}.{key[len(FAILURE_PREFIX):]}"] = value
        elif key.startswith(LOG_PREFIX):
            out["reward." + key[len(LOG_PREFIX):]] = value
        elif key.startswith("timing/"):
            out["time." + key[7:]] = value
        else:
            out["openrlhf." + key.replace("/", ".")] = value
    return out


@dataclass
class RayCluster:
    """The Ray cluster jobs run on; ``started`` when seethink started the head (and so stops it)."""

    address: str
    started: bool = False
    ray_cmd: str = "ray"

    def env(self) -> dict[str, str]:
        return {"RAY_ADDRESS": self.address}

    def stop(self) -> None:
        if self.started:
            subprocess.run([self.ray_cmd, "stop"], capture_output=True, text=True, check=False)
            self.started = False


def ray_command(python: str) -> str:
    """The ``ray`` CLI beside ``python`` (its environment's), else the one on PATH."""
    beside = Path(python).parent / "ray"
    if beside.is_file():
        return str(beside)
    found = shutil.which("ray")
    if found is None:
        raise BackendError("backend openrlhf: the `ray` command is not installed",
                           hint="pip install 'seethink[openrlhf]', or give ray_address of a running cluster")
    return found


def connect_ray(address: str, python: str, *, env: dict[str, str] | None = None) -> RayCluster:
    """An existing cluster (the ``ray_address`` option, else ``$RAY_ADDRESS``), else a local head it starts."""
    env = dict(os.environ if env is None else env)
    address = address or env.get("RAY_ADDRESS", "")
    if address:
        return RayCluster(address)
    ray = ray_command(python)
    proc = subprocess.run([ray, "start", "--head", "--disable-usage-stats"], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise BackendError("backend openrlhf: `ray start --head` failed:\n    " + "\n    ".join(tail),
                           hint="is another Ray head running? give its address with ray_address")
    # `ray start --head` records the cluster for `ray.init(address="auto")`.
    return RayCluster("auto", started=True, ray_cmd=ray)


def run_job(argv: list[str], *, env: dict[str, str], log_path: Path, tensorboard_dir: Path,
            on_metrics: Callable[[int, dict[str, float]], None], poll_seconds: float = 5.0,
            echo: TextIO | None = None, cwd: Path | None = None) -> JobOutcome:
    """Run ``argv``; stream its output to ``log_path`` (and ``echo``); report new TensorBoard scalars.

    ``on_metrics(openrlhf_global_step, seethink_metrics)`` is called for each new event, while the
    job runs and once more after it ends.
    """
    events = EventTail(tensorboard_dir)
    last_step = 0
    latest: dict[str, float] = {}

    def collect() -> None:
        nonlocal last_step
        for step, scalars in events.read():
            metrics = seethink_metrics(scalars)
            if metrics:
                last_step = max(last_step, step)
                latest.update(metrics)
                on_metrics(step, metrics)

    returncode, tail = supervise(argv, env=env, log_path=log_path, collect=collect, poll_seconds=poll_seconds,
                                 echo=echo, cwd=cwd)
    return JobOutcome(returncode, tail, last_step, latest)
