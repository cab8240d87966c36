"""Metric-based phase transitions (``until reward.accuracy >= 0.8 or steps 500``).

Like Unity ML-Agents' lesson completion criteria, a condition is tested on the mean over the last
``window`` reported values and never before ``min_steps``, so one lucky batch cannot end a phase.
"""

from __future__ import annotations

import operator
from collections import deque

from seethink_core.types.plan import Condition, Transition

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


class TransitionMonitor:
    def __init__(self, transition: Transition | None):
        self.transition = transition
        window = transition.window if transition else 1
        self._history: dict[str, deque[float]] = {}
        if transition:
            for cond in transition.any_of:
                self._history.setdefault(cond.metric, deque(maxlen=max(1, window)))

    def update(self, step: int, metrics: dict[str, float]) -> str | None:
        """Record ``metrics`` for ``step`` (1-based count of steps done); return a reason to stop, or None."""
        if self.transition is None:
            return None
        for name, hist in self._history.items():
            v = metrics.get(name)
            if isinstance(v, (int, float)) and v == v:  # skip None and NaN
                hist.append(float(v))
        if step < self.transition.min_steps:
            return None
        for cond in self.transition.any_of:
            hist = self._history[cond.metric]
            if len(hist) < hist.maxlen:
                continue
            mean = sum(hist) / len(hist)
            if _OPS[cond.op](mean, cond.value):
                return f"until {describe(cond)} (mean of last {len(hist)}: {mean:.4g}, at step {step})"
        return None


def describe(cond: Condition) -> str:
    return f"{cond.metric} {cond.op} {cond.value:g}"
