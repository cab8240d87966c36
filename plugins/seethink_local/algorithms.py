"""The RL method family as pure torch functions: advantages, KL estimators, the clipped policy loss.

Shapes: N completions (prompt-major: rows ``g*group .. g*group+group-1`` share a prompt), T tokens,
``mask`` (N, T) is 1 on completion tokens. Definitions follow TRL's ``GRPOTrainer`` (trl 1.16,
``trl/trainer/grpo_trainer.py``: ``_generate_and_score_completions`` for advantages,
``_compute_loss`` for the loss) and OpenRLHF (0.11, ``openrlhf/trainer/ppo_utils/experience_maker.py``:
``compute_advantages_and_returns``, ``get_cumulative_returns``; ``openrlhf/models/utils.py``:
``compute_approx_kl``; ``openrlhf/models/loss.py``: ``PolicyLoss``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seethink_core.types.methods import RLOptions

STD_EPS = 1e-4  # TRL adds 1e-4 to the group std
WHITEN_EPS = 1e-8  # OpenRLHF's masked whitening epsilon


# ---------------------------------------------------------------- advantages (sequence level, (N,))

def group_advantages(rewards: torch.Tensor, group: int, *, std_normalize: bool = True) -> torch.Tensor:
    """GRPO / Dr.GRPO / DAPO: reward minus its group mean, optionally over the group std.

    Mirrors TRL ``GRPOTrainer._generate_and_score_completions`` (``mean_grouped_rewards``,
    ``std_grouped_rewards`` with ``torch.std`` (unbiased), ``scale_rewards="group"``: ``/ (std + 1e-4)``).
    """
    grouped = rewards.view(-1, group)
    mean = grouped.mean(dim=1, keepdim=True)
    adv = grouped - mean
    if std_normalize:
        std = grouped.std(dim=1, keepdim=True) if group > 1 else torch.zeros_like(mean)
        adv = adv / (std + STD_EPS)
    return adv.reshape(-1)


def rloo_advantages(rewards: torch.Tensor, group: int) -> torch.Tensor:
    """Leave-one-out baseline: r_i - mean of the other group members.

    Mirrors OpenRLHF ``compute_advantages_and_returns`` for ``advantage_estimator == "rloo"``:
    ``baseline = (rewards.sum(-1, keepdim=True) - rewards) / (n_samples_per_prompt - 1)``.
    """
    if group < 2:
        raise ValueError("rloo needs group >= 2")
    grouped = rewards.view(-1, group)
    baseline = (grouped.sum(dim=1, keepdim=True) - grouped) / (group - 1)
    return (grouped - baseline).reshape(-1)


def group_mean_baseline(rewards: torch.Tensor, group: int) -> torch.Tensor:
    """REINFORCE++-baseline's first step: reward minus its group mean (no std).

    Mirrors OpenRLHF ``advantage_estimator == "reinforce_baseline"``: ``rewards - rewards.mean(-1, keepdim=True)``.
    """
    grouped = rewards.view(-1, group)
    return (grouped - grouped.mean(dim=1, keepdim=True)).reshape(-1)


# ---------------------------------------------------------------- token-level returns (REINFORCE++)

def token_rewards(rewards: torch.Tensor, mask: torch.Tensor, kl: torch.Tensor | None, kl_coef: float
                  ) -> torch.Tensor:
    """Per-token rewards: ``-kl_coef * kl`` on every token, the sequence reward added on the last one.

    Mirrors OpenRLHF ``compute_reward`` (``openrlhf/models/utils.py``) with ``action_mask``.
    """
    out = torch.zeros_like(mask, dtype=rewards.dtype)
    if kl is not None and kl_coef:
        out = -kl_coef * kl * mask
    last = (mask.sum(dim=1) - 1).clamp(min=0).long()
    return out.scatter_add(1, last[:, None], rewards[:, None].to(out.dtype))


def cumulative_returns(token_r: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Discounted reward-to-go per token. Mirrors OpenRLHF ``get_cumulative_returns``."""
    returns = torch.zeros_like(token_r)
    running = torch.zeros(token_r.shape[0], dtype=token_r.dtype, device=token_r.device)
    r = token_r * mask
    for t in reversed(range(token_r.shape[1])):
        running = r[:, t] + gamma * running
        returns[:, t] = running
    return returns


def masked_whiten(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Normalise over every valid token of the global batch (OpenRLHF's REINFORCE++ normalisation:
    ``(x - mean) * rsqrt(var + 1e-8)`` with the masked mean and the masked (biased) variance)."""
    m = mask.to(values.dtype)
    n = m.sum().clamp(min=1)
    mean = (values * m).sum() / n
    var = (((values - mean) ** 2) * m).sum() / n
    return (values - mean) * torch.rsqrt(var + WHITEN_EPS) * m


def reinforce_pp_advantages(rewards: torch.Tensor, mask: torch.Tensor, *, group: int, baseline: bool,
                            kl: torch.Tensor | None = None, kl_coef: float = 0.0,
                            normalize: bool = True) -> torch.Tensor:
    """REINFORCE++ (and -baseline) token advantages (N, T): reward-to-go with KL in the reward,
    whitened over the global batch. ``baseline`` subtracts the group mean first."""
    r = group_mean_baseline(rewards, group) if baseline else rewards
    returns = cumulative_returns(token_rewards(r, mask, kl, kl_coef), mask)
    return masked_whiten(returns, mask) if normalize else returns * mask


# ---------------------------------------------------------------- KL estimators

def kl_estimate(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: str) -> torch.Tensor:
    """Per-token KL(π‖π_ref) estimates from samples of π.

    k1 = log π - log π_ref; k2 = ½(log π - log π_ref)²; k3 = exp(log π_ref - log π) - (log π_ref - log π) - 1
    (TRL ``per_token_kl``; OpenRLHF ``compute_approx_kl`` with ``kl_estimator`` k1/k2/k3).
    """
    diff = logp - ref_logp
    if estimator == "k1":
        return diff
    if estimator == "k2":
        return 0.5 * diff ** 2
    if estimator == "k3":
        return torch.exp(-diff) + diff - 1
    raise ValueError(f"unknown KL estimator {estimator!r}")


# ---------------------------------------------------------------- the policy loss

@dataclass
class LossParts:
    loss: torch.Tensor
    policy_loss: torch.Tensor
    kl: torch.Tensor  # mean per-token KL (detached), 0 without a reference
    clip_frac: torch.Tensor
    dual_clip_frac: torch.Tensor | None = None  # tokens the dual clip bounded (only when it is on)


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, agg: str, max_len: int) -> torch.Tensor:
    """Token losses → one number (TRL ``_compute_loss``).

    seq_mean_token_mean (``loss_type="grpo"``): mean over each sequence's tokens, then over sequences;
    token_mean (``"dapo"``/``"bnpo"``): sum over all tokens / number of tokens;
    seq_mean_token_sum_norm (``"dr_grpo"``): sum over all tokens / (N * max_len).
    """
    m = mask.to(per_token.dtype)
    if agg == "seq_mean_token_mean":
        return ((per_token * m).sum(-1) / m.sum(-1).clamp(min=1.0)).mean()
    if agg == "token_mean":
        return (per_token * m).sum() / m.sum().clamp(min=1.0)
    if agg == "seq_mean_token_sum_norm":
        return (per_token * m).sum() / (per_token.shape[0] * max_len)
    raise ValueError(f"unknown loss aggregation {agg!r}")


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
                clip_low: float, clip_high: float, agg: str, max_len: int,
                ref_logp: torch.Tensor | None = None, kl_coef: float = 0.0, kl_estimator: str = "k3",
                kl_ratio_correction: bool = False, dual_clip: float = 0.0) -> LossParts:
    """Clipped-ratio surrogate plus (optionally) β·KL as a loss, aggregated per ``agg``.

    Mirrors TRL ``GRPOTrainer._compute_loss``: ``coef_1 = exp(logp - old)``, ``coef_2 = clamp(coef_1,
    1 - ε_low, 1 + ε_high)``, ``per_token_loss = -min(coef_1 A, coef_2 A) + β kl``. ``advantages`` is (N,)
    (one per sequence) or (N, T) (REINFORCE++ token advantages). ``kl_ratio_correction`` multiplies the
    KL term by the ratio (TRL's ``use_bias_correction_kl``, its default in 1.16; off here, as in OpenRLHF
    and verl).

    ``dual_clip`` (c > 1, 0 = off) is dual-clip PPO (Ye et al. 2019) as verl's ``compute_policy_loss`` and
    EasyR1 (``clip_ratio_dual``) compute it: where A < 0 the clipped loss is further bounded by ``-c·A``,
    so a ratio far above 1 + ε on a bad token cannot dominate the step.
    """
    adv = advantages[:, None] if advantages.dim() == 1 else advantages
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    per_token = -torch.min(ratio * adv, clipped * adv)
    dual_frac = None
    if dual_clip:
        bound = -adv * dual_clip
        negative = adv < 0
        with torch.no_grad():
            dual_hit = negative & (per_token > bound)
        per_token = torch.where(negative, torch.minimum(per_token, bound), per_token)
    m = mask.to(logp.dtype)
    kl_mean = torch.zeros((), device=logp.device)
    if ref_logp is not None and kl_coef:
        kl = kl_estimate(logp, ref_logp, kl_estimator)
        if kl_ratio_correction:
            kl = kl * ratio
        per_token_total = per_token + kl_coef * kl
        kl_mean = ((kl * m).sum() / m.sum().clamp(min=1.0)).detach()
    else:
        per_token_total = per_token
    loss = aggregate(per_token_total, mask, agg, max_len)
    with torch.no_grad():
        is_clipped = ((ratio < 1 - clip_low) & (adv < 0)) | ((ratio > 1 + clip_high) & (adv > 0))
        clip_frac = (is_clipped.to(m.dtype) * m).sum() / m.sum().clamp(min=1.0)
        if dual_clip:
            dual_frac = (dual_hit.to(m.dtype) * m).sum() / m.sum().clamp(min=1.0)
    return LossParts(loss, aggregate(per_token, mask, agg, max_len).detach(), kl_mean, clip_frac, dual_frac)


def advantages_for(method: str, algo: RLOptions, rewards: torch.Tensor, mask: torch.Tensor,
                   kl: torch.Tensor | None = None) -> torch.Tensor:
    """The method's advantages: (N,) for the group methods, (N, T) for REINFORCE++.

    ``kl`` is the per-token KL estimate when ``kl_mode == "reward"`` (folded into the reward).
    """
    group = algo.group
    kl_coef = algo.kl if algo.kl_mode == "reward" else 0.0
    if method in ("grpo", "dr_grpo", "dapo"):
        adv = group_advantages(rewards, group, std_normalize=algo.std_normalize)
    elif method == "rloo":
        adv = rloo_advantages(rewards, group)
        if algo.std_normalize:
            adv = masked_whiten(adv[:, None].expand_as(mask).float(), mask)
            return adv
    elif method in ("reinforce_pp", "reinforce_pp_baseline"):
        return reinforce_pp_advantages(rewards, mask, group=group, baseline=method == "reinforce_pp_baseline",
                                       kl=kl, kl_coef=kl_coef, normalize=algo.std_normalize)
    else:
        raise ValueError(f"not an RL method: {method!r}")
    if kl is not None and kl_coef:
        # KL in the reward for a sequence-level method: token advantages A - β·(KL reward-to-go).
        penalty = cumulative_returns(-kl_coef * kl * mask, mask)
        return adv[:, None] * mask + penalty
    return adv
