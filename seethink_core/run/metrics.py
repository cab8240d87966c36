"""Per-phase metrics: ``metrics.jsonl`` (one row per step, flushed as written) and TensorBoard.

Metric names are dotted (``reward.accuracy``); TensorBoard tags use slashes (``reward/accuracy``)
so its UI groups them.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Iterable, Sequence


class MetricsLog:
    def __init__(self, phase_dir: Path, *, tensorboard: bool = True, start_step: int = 0):
        self.path = phase_dir / "metrics.jsonl"
        self._file = self.path.open("a", encoding="utf-8")
        self._tb: Any = None
        self.start_step = start_step
        self.rows = 0
        if tensorboard:
            self._tb = _open_tensorboard(phase_dir / "tensorboard")

    def write(self, step: int, metrics: dict[str, float], *, kind: str = "train") -> dict[str, Any]:
        row: dict[str, Any] = {"step": step, "kind": kind}
        for k, v in metrics.items():
            row[k] = _clean(v)
        self._file.write(json.dumps(row, allow_nan=False) + "\n")
        self._file.flush()
        self.rows += 1
        if self._tb is not None:
            self._tb.scalars(step + self.start_step, {f"{kind}/{k}" if kind != "train" else k: v
                                                      for k, v in row.items()
                                                      if k not in ("step", "kind") and isinstance(v, (int, float))})
        return row

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):  # a 0-d tensor or numpy scalar slipped through
        return _clean(v.item())
    return v


class _TensorBoard:
    def __init__(self, writer: Any, summary: Any, event: Any):
        self._writer, self._summary, self._event = writer, summary, event

    def scalars(self, step: int, values: dict[str, float]) -> None:
        vals = [self._summary.Value(tag=k.replace(".", "/"), simple_value=float(v)) for k, v in values.items()]
        if vals:
            self._writer.add_event(self._event(wall_time=time.time(), step=step, summary=self._summary(value=vals)))

    def close(self) -> None:
        self._writer.close()


def _open_tensorboard(logdir: Path) -> _TensorBoard | None:
    """TensorBoard's own event writer (no torch, no TensorFlow); skipped when tensorboard is absent."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        return None
    logdir.mkdir(parents=True, exist_ok=True)
    return _TensorBoard(EventFileWriter(str(logdir)), Summary, Event)


FAILURES = "reward_failures"  # reward_failures.<name>: samples of the step the reward failed on
FAILURE_RATE = "reward_failure_rate"  # reward_failure_rate.<name>: the same over the step's samples


def failure_metrics(names: Iterable[str], failed: dict[str, Sequence[int]], lo: int, hi: int) -> dict[str, float]:
    """Each reward's failures among samples ``lo:hi`` (one step), zeros included: a missing count would
    read as "not measured", and a failure is exactly what must never go unseen."""
    out: dict[str, float] = {}
    for name in names:
        bad = sum(1 for i in failed.get(name, ()) if lo <= i < hi)
        out[f"{FAILURES}.{name}"] = bad
        out[f"{FAILURE_RATE}.{name}"] = bad / max(hi - lo, 1)
    return out


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``metrics.jsonl``; a torn last line (a crash mid-write) is ignored."""
    rows = []
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def trend(rows: list[dict[str, Any]], key: str, share: float = 0.2) -> tuple[float, float] | None:
    """Mean of ``key`` over the first and the last ``share`` of a phase's training rows.

    The demo's acceptance (and a quick look at any run): did this phase's reward move?
    """
    values = [r[key] for r in rows if r.get("kind", "train") == "train" and isinstance(r.get(key), (int, float))]
    if len(values) < 2:
        return None
    k = max(1, int(round(len(values) * share)))
    return sum(values[:k]) / k, sum(values[-k:]) / k
