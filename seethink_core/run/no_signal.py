"""The "no reward signal" watch: a run-time check on the metrics rows every backend logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from seethink_core.types.plan import Phase

NO_SIGNAL_STEPS = 10  # consecutive all-zero reward steps before the "no reward signal" warning
NO_SIGNAL_HINT = ("a random or untrained model needs a supervised warm-up first "
                  "(see curricula/demo.curr's warmup stage)")


class NoRewardSignal:
    """Warns once per RL phase when every completion of ``window`` consecutive logged steps scored 0.

    Read from the metrics rows the runner logs, so every backend gets it. A step has no signal when its
    ``reward.total`` and every ``reward.<component>`` mean is exactly 0; with rewards that are never
    negative (seethink's are 0..1) a mean of 0 means every completion scored 0. The window is
    ``NO_SIGNAL_STEPS``, or the whole phase when it is shorter, so a short phase is warned about too."""

    def __init__(self, phase: Phase, total_steps: int, note: Callable[[str], None], window: int = NO_SIGNAL_STEPS):
        from seethink_core.types.methods import is_rl

        self.phase = phase
        self.active = is_rl(phase.method)  # an SFT phase's reward, if a backend logs one, is not its signal
        self.window = max(1, min(window, total_steps))
        self.note = note
        self.streak = 0
        self.warned = False

    def __call__(self, step: int, metrics: dict[str, float]) -> None:
        rewards = [v for k, v in metrics.items() if k.startswith("reward.") and isinstance(v, (int, float))]
        if not self.active or self.warned or "reward.total" not in metrics:
            return
        self.streak = self.streak + 1 if all(v == 0 for v in rewards) else 0
        if self.streak >= self.window:
            self.warned = True
            last = "the last step" if self.window == 1 else f"the last {self.window} steps"
            self.note(f"warning: phase {self.phase.name}: no reward signal: every completion of {last} scored 0; "
                      f"{NO_SIGNAL_HINT}")
