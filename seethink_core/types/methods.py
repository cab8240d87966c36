"""Training methods as core data: one options dataclass per method (docs/architecture.md §9).

Defaults are generic GRPO settings, mostly the reference recipe's (docs/reference.md §3); where
they are not (``clip_high``, ``dual_clip``, ``loss_agg``, ``overlong_prompts``, the pixel bounds),
curricula/paper.curr sets the reference's values. Batch sizes count prompts; a GRPO group of
``group`` completions is one prompt. A backend declares which methods it runs and converts these to
its own units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.types.options import OptionError, opt

KlEstimator = Literal["k1", "k2", "k3"]
KlMode = Literal["loss", "reward", "none"]
LossAgg = Literal["seq_mean_token_mean", "token_mean", "seq_mean_token_sum_norm"]
Schedule = Literal["constant", "linear", "cosine"]
OverlongPrompts = Literal["truncate", "drop"]

# Why the bounds are what they are (shown with a value out of them).
LR_HINT = "a learning rate of 0 trains nothing and one above 1 diverges; RL uses about 1e-6, SFT about 1e-5"
TEMPERATURE_HINT = ("RL learns from the spread of sampled completions, so rollouts must sample: temperature "
                    "must be above 0 (the reference uses 1.0)")
TOP_P_HINT = "top_p keeps the most likely tokens up to that probability: it is in (0, 1], and 1 keeps all"
CLIP_LOW_HINT = ("the ratio is clipped to [1 - clip_low, 1 + clip_high]; clip_low 1 or more makes the lower end "
                 "0 or negative, so nothing is clipped below (the reference uses 0.2)")


@dataclass(frozen=True)
class OptimizerOptions:
    lr: float = opt(1e-6, doc="peak learning rate (AdamW)", gt=0, max=1, hint=LR_HINT)
    weight_decay: float = opt(0.01, doc="AdamW weight decay", min=0)
    warmup_steps: int = opt(0, doc="linear warm-up steps", min=0)
    schedule: Schedule = opt("constant", doc="learning-rate schedule after warm-up")
    max_grad_norm: float = opt(1.0, doc="gradient-norm clip (0 = off)", min=0)
    batch_size: int = opt(128, doc="prompts per optimizer step (global batch)", min=1)
    grad_accum: int = opt(1, doc="micro-batches per step (memory only; the step size stays batch_size)", min=1)
    # New options go after the older ones, so those keep their positions in `method(...)`. The AdamW betas are
    # torch's and EasyR1's; OpenRLHF's own default is (0.9, 0.95), so they are always passed.
    adam_beta1: float = opt(0.9, doc="AdamW β1", min=0, max=1)
    adam_beta2: float = opt(0.999, doc="AdamW β2", min=0, max=1)
    # On every method (SFT too): a phase's model sees its images bounded the same way in training,
    # generation and evaluation. Applied before the processor, as EasyR1 does (seethink_core.samples.images).
    min_pixels: int = opt(0, doc="images of fewer pixels are scaled up to about this many, aspect kept, before "
                                 "the processor (0 = no bound; the reference uses 262144)", min=0)
    max_pixels: int = opt(0, doc="images of more pixels are scaled down to about this many, aspect kept, before "
                                 "the processor (0 = no bound; the reference uses 4194304)", min=0)

    def __post_init__(self) -> None:
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ValueError(f"option 'min_pixels' ({self.min_pixels}) must not be above 'max_pixels' "
                             f"({self.max_pixels})")


@dataclass(frozen=True)
class RLOptions(OptimizerOptions):
    """Options shared by every policy-gradient method."""

    rollout_batch_size: int = opt(512, doc="prompts sampled per rollout; split into optimizer steps", min=1)
    group: int = opt(5, doc="completions per prompt", min=1)
    temperature: float = opt(1.0, doc="sampling temperature (above 0: RL samples)", gt=0, hint=TEMPERATURE_HINT)
    top_p: float = opt(1.0, doc="nucleus sampling, in (0, 1]", gt=0, max=1, hint=TOP_P_HINT)
    max_prompt_tokens: int = opt(2048, doc="prompt limit in tokens (chat template and image tokens included); "
                                           "see overlong_prompts", min=1)
    overlong_prompts: OverlongPrompts = opt(
        "truncate", doc="a prompt over max_prompt_tokens: 'truncate' cuts it from the left (text only; one with "
                        "images is an error), 'drop' skips it and draws the next sample instead, as the "
                        "reference's filter_overlong_prompts (counted in metric data.dropped_overlong)")
    max_response_tokens: int = opt(2048, doc="generation limit", min=1)
    kl: float = opt(0.01, doc="KL coefficient β (0 = no reference model)", min=0)
    kl_estimator: KlEstimator = opt("k3", doc="k1 (log-ratio), k2 (squared), k3 (low-variance, 'low_var_kl')")
    kl_mode: KlMode = opt("loss", doc="KL as a loss term, as a per-token reward penalty, or off")
    clip_low: float = opt(0.2, doc="PPO ratio clip ε below 1, in [0, 1)", min=0, lt=1, hint=CLIP_LOW_HINT)
    clip_high: float = opt(0.2, doc="PPO ratio clip ε above 1 (DAPO clip-higher raises it)", min=0)
    dual_clip: float = opt(0.0, doc="dual-clip PPO constant c > 1: for negative advantages the loss is at most "
                                    "-c·A, so a huge ratio cannot blow up the update (0 = off; the reference "
                                    "uses 3.0)", min=0)
    update_epochs: int = opt(1, doc="passes over each rollout batch", min=1)
    drop_last: bool = opt(False, doc="an epoch keeps whole rollout batches only, as EasyR1's loader "
                                     "(drop_last) does: fewer steps, and a sorted order leaves the same "
                                     "hardest tail out of every epoch")
    loss_agg: LossAgg = opt("seq_mean_token_mean", doc="how token losses become one number")
    std_normalize: bool = opt(True, doc="divide group advantages by their standard deviation")
    dynamic_sampling: bool = opt(False, doc="drop groups whose rewards have no spread and refill")
    overlong_buffer: int = opt(0, doc="DAPO soft overlong penalty: buffer length in tokens (0 = off)", min=0)
    overlong_penalty: float = opt(1.0, doc="DAPO soft overlong penalty at the hard limit", min=0)
    # A guard, not a training setting: a reward that fails (raises, times out, returns no number) on more
    # than this share of the phase's graded samples stops the run (seethink_core.run.rewards.watch.FailureWatch).
    max_reward_failures: float = opt(0.1, doc="stop the run when a reward fails (raises, times out, returns "
                                              "a wrong count, NaN/inf or a non-number) on more than this share "
                                              "of the samples graded so far in the phase, checked from the end "
                                              "of the first rollout batch on (1 = never stop)", min=0, max=1)

    def __post_init__(self) -> None:
        parent = getattr(super(), "__post_init__", None)
        if parent is not None:
            parent()
        if 0 < self.dual_clip <= 1:
            # c ≤ 1 would bound the loss of negative advantages below the ordinary clipped value.
            raise ValueError(f"option 'dual_clip' must be above 1 (or 0 = off), not {self.dual_clip}")
        if self.batch_size > self.rollout_batch_size:
            # A rollout batch is split into optimizer steps: a step cannot hold more prompts than were sampled.
            raise OptionError("batch_size", f"option 'batch_size' ({self.batch_size}) must not be above "
                              f"'rollout_batch_size' ({self.rollout_batch_size})",
                              hint="each rollout of rollout_batch_size prompts is split into optimizer steps of "
                                   "batch_size prompts; raise rollout_batch_size or lower batch_size")


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

    lr: float = opt(1e-5, doc="learning rate", gt=0, max=1, hint=LR_HINT)
    batch_size: int = opt(16, doc="samples per optimizer step", min=1)
    target: Literal["answer", "facts", "reasoned"] = opt(
        "answer", doc="'answer': the prompt's answer; 'facts': describe the image (caption SFT); "
                      "'reasoned': a <think> trace and \\boxed{answer}")
    max_tokens: int = opt(512, doc="maximum target tokens", min=1)
    caption_prompt: str = opt("Describe the image.", doc="what a caption SFT (target 'facts') asks; the "
                                                        "phase's prompt template is not applied to it")


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
