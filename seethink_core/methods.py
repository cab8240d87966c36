"""Training methods as core data: one options dataclass per method (DESIGN §3.5).

Defaults are the reference recipe's GRPO settings (REFERENCE.md). Batch sizes
count prompts; a GRPO group of ``group`` completions is one prompt. A backend
declares which methods it runs and converts these to its own units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.options import opt

KlEstimator = Literal["k1", "k2", "k3"]
KlMode = Literal["loss", "reward", "none"]
LossAgg = Literal["seq_mean_token_mean", "token_mean", "seq_mean_token_sum_norm"]
Schedule = Literal["constant", "linear", "cosine"]


@dataclass(frozen=True)
class OptimizerOptions:
    lr: float = opt(1e-6, doc="peak learning rate (AdamW)", min=0)
    weight_decay: float = opt(0.01, doc="AdamW weight decay", min=0)
    warmup_steps: int = opt(0, doc="linear warm-up steps", min=0)
    schedule: Schedule = opt("constant", doc="learning-rate schedule after warm-up")
    max_grad_norm: float = opt(1.0, doc="gradient-norm clip (0 = off)", min=0)
    batch_size: int = opt(128, doc="prompts per optimizer step (global batch)", min=1)
    grad_accum: int = opt(1, doc="micro-batches per step (memory only; the step size stays batch_size)", min=1)


@dataclass(frozen=True)
class RLOptions(OptimizerOptions):
    """Options shared by every policy-gradient method."""

    rollout_batch_size: int = opt(512, doc="prompts sampled per rollout; split into optimizer steps", min=1)
    group: int = opt(5, doc="completions per prompt", min=1)
    temperature: float = opt(1.0, doc="sampling temperature", min=0)
    top_p: float = opt(1.0, doc="nucleus sampling", min=0, max=1)
    max_prompt_tokens: int = opt(2048, doc="longer prompts are truncated from the left", min=1)
    max_response_tokens: int = opt(2048, doc="generation limit", min=1)
    kl: float = opt(0.01, doc="KL coefficient β (0 = no reference model)", min=0)
    kl_estimator: KlEstimator = opt("k3", doc="k1 (log-ratio), k2 (squared), k3 (low-variance, 'low_var_kl')")
    kl_mode: KlMode = opt("loss", doc="KL as a loss term, as a per-token reward penalty, or off")
    clip_low: float = opt(0.2, doc="PPO ratio clip ε below 1", min=0)
    clip_high: float = opt(0.2, doc="PPO ratio clip ε above 1 (DAPO clip-higher raises it)", min=0)
    update_epochs: int = opt(1, doc="passes over each rollout batch", min=1)
    loss_agg: LossAgg = opt("seq_mean_token_mean", doc="how token losses become one number")
    std_normalize: bool = opt(True, doc="divide group advantages by their standard deviation")
    dynamic_sampling: bool = opt(False, doc="drop groups whose rewards have no spread and refill")
    overlong_buffer: int = opt(0, doc="DAPO soft overlong penalty: buffer length in tokens (0 = off)", min=0)
    overlong_penalty: float = opt(1.0, doc="DAPO soft overlong penalty at the hard limit", min=0)


@dataclass(frozen=True)
class GRPOOptions(RLOptions):
    """Group-normalised advantages, clipped ratio, KL as a loss (k3)."""


@dataclass(frozen=True)
class DrGRPOOptions(RLOptions):
    """GRPO without std normalisation or per-sequence length normalisation."""

    std_normalize: bool = opt(False, doc="Dr.GRPO: never divide by the group std")
    loss_agg: LossAgg = opt("seq_mean_token_sum_norm", doc="token sums over a constant length")


@dataclass(frozen=True)
class DAPOOptions(RLOptions):
    """GRPO + clip-higher, token-level loss, dynamic sampling and overlong shaping."""

    kl: float = opt(0.0, doc="DAPO drops the KL term by default", min=0)
    clip_high: float = opt(0.28, doc="clip-higher ε", min=0)
    loss_agg: LossAgg = opt("token_mean", doc="token-level loss")
    dynamic_sampling: bool = opt(True, doc="drop zero-spread groups and refill")
    overlong_buffer: int = opt(256, doc="soft overlong buffer in tokens", min=0)


@dataclass(frozen=True)
class RLOOOptions(RLOptions):
    """Leave-one-out baseline."""

    std_normalize: bool = opt(False, doc="RLOO uses the raw leave-one-out advantage")


@dataclass(frozen=True)
class ReinforcePPOptions(RLOptions):
    """REINFORCE++: advantages normalised over the whole batch."""

    std_normalize: bool = opt(True, doc="normalise over the global batch")
    kl_mode: KlMode = opt("reward", doc="REINFORCE++ puts KL in the reward by default")


@dataclass(frozen=True)
class ReinforcePPBaselineOptions(ReinforcePPOptions):
    """REINFORCE++ with the group mean as baseline."""


@dataclass(frozen=True)
class SFTOptions(OptimizerOptions):
    """Teacher-forced cross-entropy on the answer, a caption (the facts) or a full target."""

    lr: float = opt(1e-5, doc="learning rate", min=0)
    batch_size: int = opt(16, doc="samples per optimizer step", min=1)
    target: Literal["answer", "facts", "reasoned"] = opt(
        "answer", doc="'answer': the prompt's answer; 'facts': describe the image (caption SFT); "
                      "'reasoned': a <think> trace and \\boxed{answer}")
    max_tokens: int = opt(512, doc="maximum target tokens", min=1)


METHODS: dict[str, type[OptimizerOptions]] = {
    "grpo": GRPOOptions,
    "dr_grpo": DrGRPOOptions,
    "dapo": DAPOOptions,
    "rloo": RLOOOptions,
    "reinforce_pp": ReinforcePPOptions,
    "reinforce_pp_baseline": ReinforcePPBaselineOptions,
    "sft": SFTOptions,
}

RL_METHODS = frozenset(m for m, cls in METHODS.items() if issubclass(cls, RLOptions))


def is_rl(method: str) -> bool:
    return method in RL_METHODS
