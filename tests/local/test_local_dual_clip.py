"""Dual-clip PPO: the local loss and its gradient equal verl's ``compute_policy_loss`` formula.

The reference below is written from the formula verl (``verl/trainer/ppo/core_algos.py``,
``compute_policy_loss``) and EasyR1 (``verl/trainer/core_algos.py``, ``clip_ratio_dual``) compute,
kept separate from ``seethink_local.algorithms`` so the two can disagree:

    pg1 = -A·r,  pg2 = -A·clip(r, 1-ε_low, 1+ε_high),  pg3 = -A·c
    clip1 = max(pg1, pg2),  clip2 = min(pg3, clip1),  loss = where(A < 0, clip2, clip1)

aggregated as a token mean over the response mask (``loss_agg_mode="token-mean"`` / ``"token"``).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from seethink_local import algorithms as alg  # noqa: E402

from seethink_core.types.methods import GRPOOptions  # noqa: E402


def verl_dual_clip_loss(logp, old_logp, adv, mask, clip_low, clip_high, c, agg):
    ratio = torch.exp(logp - old_logp)
    pg1 = -adv * ratio
    pg2 = -adv * torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    clip1 = torch.maximum(pg1, pg2)
    pg3 = -adv * c
    clip2 = torch.minimum(pg3, clip1)
    losses = torch.where(adv < 0, clip2, clip1)
    m = mask.to(losses.dtype)
    if agg == "token_mean":
        return (losses * m).sum() / m.sum()
    return ((losses * m).sum(-1) / m.sum(-1)).mean()  # "seq-mean-token-mean"


def fixed_batch(seed: int = 0):
    """Ratios from e^-3 to e^3 so every branch is taken: unclipped, clipped high/low, dual-clipped."""
    g = torch.Generator().manual_seed(seed)
    n, t = 12, 9
    old = torch.randn(n, t, generator=g, dtype=torch.float64) - 2.0
    logp = (old + torch.linspace(-3.0, 3.0, n * t, dtype=torch.float64).view(n, t)[torch.randperm(n, generator=g)])
    adv_seq = torch.randn(n, generator=g, dtype=torch.float64) * 2.0
    mask = (torch.rand(n, t, generator=g) > 0.25).to(torch.float64)
    mask[:, 0] = 1.0
    return logp, old, adv_seq, mask


@pytest.mark.parametrize("agg", ["token_mean", "seq_mean_token_mean"])
def test_dual_clip_loss_and_gradient_match_the_reference_formula(agg):
    logp, old, adv_seq, mask = fixed_batch()
    ours_in = logp.clone().requires_grad_(True)
    ref_in = logp.clone().requires_grad_(True)
    parts = alg.policy_loss(ours_in, old, adv_seq, mask, clip_low=0.2, clip_high=0.3, agg=agg, max_len=9,
                            dual_clip=3.0)
    ref = verl_dual_clip_loss(ref_in, old, adv_seq[:, None].expand_as(logp), mask, 0.2, 0.3, 3.0, agg)
    parts.loss.backward()
    ref.backward()
    assert abs(parts.loss.item() - ref.item()) < 1e-6
    assert torch.allclose(ours_in.grad, ref_in.grad, atol=1e-6, rtol=0)
    # The batch really exercises the dual clip: some negative-advantage tokens have ratio > c.
    ratio = torch.exp(logp - old)
    hit = (adv_seq[:, None] < 0) & (ratio > 3.0) & (mask > 0)
    assert int(hit.sum()) > 0
    assert float(parts.dual_clip_frac) == pytest.approx(float(hit.sum() / mask.sum()), abs=1e-9)
    # Those tokens get no gradient (the bound -c·A is a constant).
    assert float(ours_in.grad[hit].abs().max()) == 0.0


def test_dual_clip_changes_only_negative_advantages_with_a_large_ratio():
    logp, old, adv_seq, mask = fixed_batch(1)
    plain = alg.policy_loss(logp, old, adv_seq, mask, clip_low=0.2, clip_high=0.3, agg="token_mean", max_len=9)
    dual = alg.policy_loss(logp, old, adv_seq, mask, clip_low=0.2, clip_high=0.3, agg="token_mean", max_len=9,
                           dual_clip=3.0)
    assert dual.loss.item() < plain.loss.item()  # bounding -A·r from above lowers the mean
    assert plain.dual_clip_frac is None
    # With every advantage positive the dual clip is inert.
    pos = adv_seq.abs()
    a = alg.policy_loss(logp, old, pos, mask, clip_low=0.2, clip_high=0.3, agg="token_mean", max_len=9)
    b = alg.policy_loss(logp, old, pos, mask, clip_low=0.2, clip_high=0.3, agg="token_mean", max_len=9,
                        dual_clip=3.0)
    assert float(a.loss) == float(b.loss)


@pytest.mark.parametrize("bad", [0.5, 1.0])
def test_a_dual_clip_constant_of_one_or_less_is_refused(bad):
    with pytest.raises(ValueError, match="dual_clip' must be above 1"):
        GRPOOptions(dual_clip=bad)
    assert GRPOOptions(dual_clip=3.0).dual_clip == 3.0
