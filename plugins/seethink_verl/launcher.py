"""Run one verl job: stream its output, turn its file-logger rows into seethink metrics as they come.

verl's ``Tracking`` with ``trainer.logger`` holding ``file`` writes one JSON line per step,
``{"step": N, "data": {...}}``, to ``$VERL_FILE_LOGGER_PATH`` (``verl/utils/tracking.py::FileLogger``,
opened with ``"wb"``: every job writes a file of its own). The keys are verl's metric names
(``verl/trainer/ppo/metric_utils.py``, the actor's losses in ``verl/workers/utils/losses.py``); N is
verl's global step, one rollout batch. verl 0.9.1 logs the reward as ``critic/score/*`` only: the
components the reward file returns (``reward_<name>``) reach the validation metrics
(``val-core/<data source>/reward_<name>/…``) and the reward loop, not the training rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from seethink_core.run.jobs import JobOutcome, supervise

# verl metric → seethink metric (docs/architecture.md §12: dotted names).
METRIC_NAMES = {
    "critic/score/mean": "reward.total",
    "response_length/mean": "length.mean",
    "response_length/clip_ratio": "length.truncated_rate",
    "actor/pg_loss": "loss",
    "actor/kl_loss": "kl",
    "actor/entropy": "entropy",
    "actor/grad_norm": "grad_norm",
    "actor/lr": "lr",
    "actor/pg_clipfrac": "clip_ratio",
    "critic/advantages/mean": "advantage.mean",
    # verl's SFT trainer (sft_trainer.fit): train/<engine metric>
    "train/loss": "loss",
    "train/grad_norm": "grad_norm",
    "train/lr": "lr",
}


def seethink_metrics(data: dict[str, object]) -> dict[str, float]:
    """One file-logger row's numbers as seethink metrics; others keep their name under ``verl.``."""
    out: dict[str, float] = {}
    for key, raw in data.items():
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            continue
        value = float(raw)
        if key in METRIC_NAMES:
            out[METRIC_NAMES[key]] = value
        elif key.startswith(("val-core/", "val-aux/")):
            out["verl_eval." + key.split("/", 1)[1].replace("/", ".")] = value
        elif key.startswith("timing_s/"):
            out["time." + key[9:]] = value
        else:
            out["verl." + key.replace("/", ".")] = value
    return out


@dataclass
class MetricsTail:
    """Follows the file logger's JSONL: complete new rows per read; a line still being written waits."""

    path: Path
    _offset: int = 0

    def read(self) -> list[tuple[int, dict[str, float]]]:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        out = []
        for line in data[:end].splitlines():
            try:
                row = json.loads(line)
                step, values = int(row["step"]), row["data"]
            except (ValueError, KeyError, TypeError):
                continue  # a row we cannot read is skipped, never fatal
            if isinstance(values, dict):
                metrics = seethink_metrics(values)
                if metrics:
                    out.append((step, metrics))
        return out


def run_job(argv: list[str], *, env: dict[str, str], log_path: Path, metrics_path: Path,
            on_metrics: Callable[[int, dict[str, float]], None], poll_seconds: float = 5.0,
            echo: TextIO | None = None, cwd: Path | None = None) -> JobOutcome:
    """Run ``argv``; stream its output to ``log_path`` (and ``echo``); report each new metrics row as
    ``on_metrics(verl_global_step, seethink_metrics)``, while the job runs and once more after it ends."""
    rows = MetricsTail(metrics_path)
    last_step = 0
    latest: dict[str, float] = {}

    def collect() -> None:
        nonlocal last_step
        for step, metrics in rows.read():
            last_step = max(last_step, step)
            latest.update(metrics)
            on_metrics(step, metrics)

    returncode, tail = supervise(argv, env=env, log_path=log_path, collect=collect, poll_seconds=poll_seconds,
                                 echo=echo, cwd=cwd)
    return JobOutcome(returncode, tail, last_step, latest)
