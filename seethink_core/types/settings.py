"""The option schemas of the plan's settings that are no plugin's: difficulty ``pass_rate(...)``, ``pacing``,
``eval settings``, ``handoff`` and ``replay``. Plain data: the compiler validates them, the run reads them back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.types.methods import TOP_P_HINT
from seethink_core.types.options import opt


@dataclass(frozen=True)
class PassRateOptions:
    """``difficulty pass_rate(...)`` options: the estimator of ``Difficulty.estimator``."""

    samples: int = opt(16, min=1, doc="completions per item (the reference: 16)")
    temperature: float = opt(0.7, min=0.0, doc="sampling temperature (the reference: 0.7)")
    top_p: float = opt(0.9, min=0.0, max=1.0, doc="nucleus sampling (the reference: 0.9)")
    max_tokens: int = opt(1024, min=1, doc="new tokens per completion (the reference: 1024)")
    model: Literal["base", "phase_init"] = opt(
        "base", doc="estimate with the base model (the reference) or the phase's starting checkpoint")
    component: str = opt("auto", doc="reward component that decides correctness: 'auto' (accuracy, else the "
                                     "first answer-grading reward, else the total), 'total' or a reward name")
    threshold: float = opt(0.5, doc="a completion is correct when the component is at least this")

    def __post_init__(self) -> None:
        if self.top_p <= 0.0:
            raise ValueError(f"option 'top_p' must be above 0, not {self.top_p}")


@dataclass(frozen=True)
class PacingOptions:
    # start 1 or full_at 0 admit everything at step 0: a pacing that ends before it starts does nothing.
    start: float = opt(0.3, doc="fraction of the difficulty range admitted at step 0, in [0, 1)", min=0, lt=1,
                       hint="start 1 admits the whole range at step 0, so the pacing does nothing; "
                            "for no pacing write pacing none")
    full_at: float = opt(0.8, doc="fraction of the phase at which everything is admitted, in (0, 1]", gt=0, max=1,
                         hint="full_at 0 admits the whole range at step 0, so the pacing ends before it "
                              "starts; for no pacing write pacing none")
    stages: int = opt(3, doc="for 'step': how many jumps", min=1)


@dataclass(frozen=True)
class EvalSettingsOptions:
    greedy: bool = opt(True, doc="greedy decoding; temperature, top_p or n above 1 without it mean false")
    n: int = opt(1, doc="completions per prompt (sampled)", min=1)
    temperature: float = opt(1.0, doc="sampling temperature (above 0; greedy: true for greedy decoding)", min=0)
    top_p: float = opt(1.0, doc="nucleus sampling, in (0, 1]", gt=0, max=1, hint=TOP_P_HINT)
    max_samples: int | None = opt(None, doc="cap on samples per eval set", min=1)
    max_response_tokens: int | None = opt(None, doc="generation limit", min=1)
    before: bool = opt(True, doc="evaluate the base model before training (row 0)")
    prompt: str | None = opt(None, doc="the eval prompt template (default: the phase's prompt)")
    system: str | None = opt(None, doc="the eval system prompt (default: the phase's; none for none)")


@dataclass(frozen=True)
class HandOffOptions:
    init: Literal["previous", "base"] = opt("previous", doc="weights: the previous phase's, or the base model")
    reference: Literal["phase_init", "stage_init", "previous_init", "base"] = opt(
        "phase_init", doc="KL reference: the phase's start, its stage's start, the previous stage's start, or the "
                          "base model")
    optimizer: Literal["reset", "carry"] = opt("reset", doc="optimizer state")


@dataclass(frozen=True)
class ReplayOptions:
    """``replay share: 0.2, stages: [perception]``: a share of every batch from earlier stages' data."""

    share: float = opt(0.2, doc="the share of every batch drawn from earlier stages' data, in (0, 1)", gt=0, lt=1,
                       hint="replay share: 0.2 mixes one fifth; to replay nothing, leave replay out")
    stages: list[str] | None = opt(None, doc="the earlier stages to replay (default: every earlier stage)")
