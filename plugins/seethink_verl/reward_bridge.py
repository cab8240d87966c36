"""The reward bridge: a generated ``compute_score`` file that scores verl rollouts with seethink's rewards.

verl 0.9.1 loads ``reward.custom_reward_function.path`` / ``.name`` with ``load_extern_object``
(``verl/trainer/ppo/reward.py::get_custom_reward_fn``) and its reward managers
(``verl/experimental/reward_loop/reward_manager/naive.py``, ``dapo.py``) call it once per rollout, from
an executor thread of a reward-loop worker, as ``compute_score(data_source=…, solution_str=…,
ground_truth=…, extra_info=…)``: ``solution_str`` is the response alone, decoded with
``skip_special_tokens=True``; ``extra_info`` is the row's, where the export put the seethink label. A
``dict`` result's ``"score"`` is the reward and every key goes to ``reward_extra_info``; the bridge
returns the weighted total as ``score`` and each component as ``reward_<name>`` — the same
``seethink_core.run.rewards.combine`` combination the local backend scores with, so the totals match.

A reward's failures are counted as in the local backend (``FailureWatch``). verl does not swallow an
exception from ``compute_score``: past the phase's ``max_reward_failures`` the bridge writes the message to
``reward_stop.json`` beside the reward file and raises, the job fails, its checkpoints stay, and the
backend raises the message as the phase's error. A malformed label scores 0 and is said on stderr.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import render_all
from seethink_core.run.rewards.errors import RewardFailuresExceeded
from seethink_core.run.rewards.watch import FailureWatch, WatchedReward
from seethink_core.samples.labels import decode_label
from seethink_core.types.plan import Phase, RewardRef

LOG_PREFIX = "reward_"
FAILURE_PREFIX = "reward_failed_"  # + reward name: 1 for a rollout that reward failed on
STOP_FILE = "reward_stop.json"
VERL_RESUME = "re-running resumes the phase from its last in-phase checkpoint"


@dataclass
class RewardBridge:
    """Scores one verl rollout with the phase's weighted seethink rewards."""

    phase: str
    rewards: list[RewardRef]
    timeout: float | None = 5.0
    max_response_tokens: int | None = None
    max_reward_failures: float = 1.0
    min_samples: int = 1
    stop_file: str | None = None
    _reward: Any = field(default=None, repr=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RewardBridge:
        refs = [RewardRef(name=r["name"], weight=float(r["weight"]), options=dict(r.get("options") or {}))
                for r in config["rewards"]]
        return cls(phase=config["phase"], rewards=refs, timeout=config.get("timeout", 5.0),
                   max_response_tokens=config.get("max_response_tokens"),
                   max_reward_failures=float(config.get("max_reward_failures", 1.0)),
                   min_samples=int(config.get("min_samples", 1)), stop_file=config.get("stop_file"))

    def combined(self) -> Any:
        if self._reward is None:
            from seethink_core.hooks.manager import get_plugins
            from seethink_core.run.rewards.combine import build_reward

            watch = FailureWatch(self.phase, limit=self.max_reward_failures, min_samples=self.min_samples,
                                 note=self._warn, resume=lambda: VERL_RESUME)
            self._reward = WatchedReward(build_reward(self.rewards, get_plugins().registry, timeout=self.timeout),
                                         watch)
        return self._reward

    def _warn(self, message: str) -> None:
        print(f"[seethink reward bridge, phase {self.phase}] {message}", file=sys.stderr, flush=True)

    def _zero(self) -> dict[str, Any]:
        out: dict[str, Any] = {"score": 0.0, LOG_PREFIX + "malformed": 1.0}
        for r in self.rewards:
            out[LOG_PREFIX + r.name] = 0.0
            out[FAILURE_PREFIX + r.name] = 0.0
        return out

    def __call__(self, data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any) -> dict[str, Any]:
        label = extra_info.get("seethink") if isinstance(extra_info, dict) else None
        try:
            sample = decode_label(label)
        except (ValueError, TypeError) as e:
            self._warn(f"malformed seethink label ({e}); reward 0")
            return self._zero()
        if not isinstance(solution_str, str):
            self._warn(f"solution_str is {type(solution_str).__name__}, not text; reward 0")
            return self._zero()
        try:
            # Reward-loop workers call from several executor threads; the worker pool behind the combined
            # reward is used by one caller at a time.
            with self._lock:
                batch = self.combined()([sample.prompt], [solution_str], [sample],
                                        max_response_tokens=self.max_response_tokens)
        except RewardFailuresExceeded as e:
            self._stop(e)
            raise
        out: dict[str, Any] = {"score": _num(batch.total[0]), LOG_PREFIX + "malformed": 0.0}
        for name, values in batch.components.items():
            out[LOG_PREFIX + name] = _num(values[0])
            out[FAILURE_PREFIX + name] = 1.0 if 0 in (batch.failed or {}).get(name, ()) else 0.0
        return out

    def _stop(self, error: RewardFailuresExceeded) -> None:
        (diag,) = error.diagnostics[:1]
        if self.stop_file:
            with contextlib.suppress(OSError):  # a read-only folder: the printed message remains
                Path(self.stop_file).write_text(json.dumps({"message": diag.message, "hint": diag.hint}) + "\n",
                                                encoding="utf-8")
        self._warn(render_all(error))


def _num(value: Any) -> float:
    """A value verl can average: ``None`` (not applicable), NaN and inf become 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if math.isfinite(x) else 0.0


_TEMPLATE = '''"""seethink reward bridge for phase {phase!r} (generated by seethink; do not edit).

verl loads this file through reward.custom_reward_function.path and calls compute_score once per rollout;
it scores each with the phase's seethink rewards: {summary}.
"""

from seethink_verl.reward_bridge import RewardBridge

CONFIG = {config}

_BRIDGE = RewardBridge.from_config(CONFIG)


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    return _BRIDGE(data_source, solution_str, ground_truth, extra_info)
'''


def bridge_config(phase: Phase, timeout: float | None, *, workers: int, stop_file: Path | None) -> dict[str, Any]:
    algo = phase.algorithm
    batch = int(getattr(algo, "group", 1)) * max(int(getattr(algo, "rollout_batch_size", 1)), algo.batch_size)
    return {
        "phase": phase.name,
        "timeout": timeout,
        "max_response_tokens": getattr(algo, "max_response_tokens", None),
        "max_reward_failures": float(getattr(algo, "max_reward_failures", 1.0)),
        # Each reward-loop worker grades its share of a rollout batch and counts its own failures.
        "min_samples": max(1, math.ceil(batch / max(1, workers))),
        "stop_file": str(stop_file) if stop_file is not None else None,
        "rewards": [{"name": r.name, "weight": r.weight, "options": r.options} for r in phase.rewards],
    }


def write_reward_file(phase: Phase, path: Path, *, timeout: float | None = 5.0, workers: int = 8) -> Path:
    """Write the phase's ``compute_score`` file; a stop file left by an earlier job of the phase is removed."""
    import pprint

    stop = path.with_name(STOP_FILE)
    stop.unlink(missing_ok=True)
    config = bridge_config(phase, timeout, workers=workers, stop_file=stop.resolve())
    summary = " + ".join(f"{r.weight:g}·{r.name}" for r in phase.rewards) or "none"
    text = _TEMPLATE.format(phase=phase.name, summary=summary, config=pprint.pformat(config, width=100,
                                                                                     sort_dicts=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
