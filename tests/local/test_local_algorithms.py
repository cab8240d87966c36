"""Advantages, KL estimators and the clipped policy loss on hand-computed tensors."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from seethink_local import algorithms as alg  # noqa: E402

from seethink_core.types.methods import (  # noqa: E402
    DAPOOptions,
    GRPOOptions,
    ReinforcePPBaselineOptions,
    ReinforcePPOptions,
    RLOOOptions,
)


def close(a, b, tol=1e-6):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32), atol=tol)


def test_grpo_advantages_use_the_unbiased_group_std_plus_trl_epsilon():
    r = torch.tensor([1.0, 0.0, 0.0, 0.0])
    adv = alg.group_advantages(r, 2)
    s = math.sqrt(0.5)  # unbiased std of [1, 0]
    assert close(adv, [0.5 / (s + 1e-4), -0.5 / (s + 1e-4), 0.0, 0.0])


def test_dr_grpo_advantages_are_only_centred():
    r = torch.tensor([3.0, 1.0, 2.0, 2.0])
    assert close(alg.group_advantages(r, 2, std_normalize=False), [1.0, -1.0, 0.0, 0.0])


def test_rloo_subtracts_the_mean_of_the_others():
    r = torch.tensor([1.0, 0.0, 0.0])
    assert close(alg.rloo_advantages(r, 3), [1.0, -0.5, -0.5])
    with pytest.raises(ValueError):
        alg.rloo_advantages(r, 1)


def test_kl_estimators():
    logp = torch.tensor([math.log(0.5)])
    ref = torch.tensor([math.log(0.25)])
    d = math.log(2.0)
    assert close(alg.kl_estimate(logp, ref, "k1"), [d])
    assert close(alg.kl_estimate(logp, ref, "k2"), [0.5 * d * d])
    assert close(alg.kl_estimate(logp, ref, "k3"), [0.5 + d - 1])
    assert close(alg.kl_estimate(ref, ref, "k3"), [0.0])


def test_clipped_ratio_both_sides():
    old = torch.zeros(2, 1)
    logp = torch.log(torch.tensor([[1.5], [0.5]]))
    adv = torch.tensor([1.0, -1.0])
    mask = torch.ones(2, 1)
    parts = alg.policy_loss(logp, old, adv, mask, clip_low=0.2, clip_high=0.2, agg="token_mean", max_len=4)
    # row 0: -min(1.5, 1.2) = -1.2; row 1: -min(-0.5, -0.8) = 0.8
    assert close(parts.loss, (-1.2 + 0.8) / 2)
    assert close(parts.clip_frac, 1.0)
    higher = alg.policy_loss(logp, old, adv, mask, clip_low=0.2, clip_high=0.28, agg="token_mean", max_len=4)
    assert close(higher.loss, (-1.28 + 0.8) / 2)


def test_loss_aggregation_modes():
    per_token = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    assert close(alg.aggregate(per_token, mask, "seq_mean_token_mean", 8), (2.0 + 4.0) / 2)
    assert close(alg.aggregate(per_token, mask, "token_mean", 8), 10.0 / 4)
    assert close(alg.aggregate(per_token, mask, "seq_mean_token_sum_norm", 8), 10.0 / (2 * 8))


def test_kl_loss_is_added_per_token_with_beta():
    logp = torch.log(torch.tensor([[0.5, 0.5]]))
    ref = torch.log(torch.tensor([[0.25, 0.5]]))
    mask = torch.ones(1, 2)
    parts = alg.policy_loss(logp, logp.detach(), torch.tensor([0.0]), mask, clip_low=0.2, clip_high=0.2,
                            agg="seq_mean_token_mean", max_len=2, ref_logp=ref, kl_coef=0.1)
    k3 = 0.5 + math.log(2) - 1
    assert close(parts.loss, 0.1 * k3 / 2)
    assert close(parts.kl, k3 / 2)


def test_ratio_one_gradient_is_the_reinforce_gradient():
    """With old = detached current log-probs, d loss / d logp = -A / len (seq_mean_token_mean)."""
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.1]], requires_grad=True)
    mask = torch.tensor([[1, 1], [1, 0]])
    adv = torch.tensor([2.0, -1.0])
    alg.policy_loss(logp, logp.detach(), adv, mask, clip_low=0.2, clip_high=0.2,
                    agg="seq_mean_token_mean", max_len=2).loss.backward()
    assert close(logp.grad, [[-2.0 / 2 / 2, -2.0 / 2 / 2], [1.0 / 1 / 2, 0.0]])


def test_reinforce_pp_returns_and_global_whitening():
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    rewards = torch.tensor([1.0, 0.0])
    kl = torch.tensor([[0.1, 0.2, 0.0], [0.0, 0.0, 0.3]])
    raw = alg.reinforce_pp_advantages(rewards, mask, group=1, baseline=False, kl=kl, kl_coef=0.5,
                                      normalize=False)
    # token rewards: row 0 = [-0.05, -0.1 + 1]; row 1 = [0, 0, -0.15]; returns are suffix sums.
    assert close(raw, [[0.85, 0.9, 0.0], [-0.15, -0.15, -0.15]])
    white = alg.reinforce_pp_advantages(rewards, mask, group=1, baseline=False, kl=kl, kl_coef=0.5)
    vals = raw[mask.bool()]
    expect = (vals - vals.mean()) / torch.sqrt(vals.var(unbiased=False) + 1e-8)
    assert close(white[mask.bool()], expect, 1e-5)
    assert close(white[0, 2], 0.0)


def test_reinforce_pp_baseline_centres_groups_first():
    mask = torch.ones(4, 1)
    r = torch.tensor([1.0, 0.0, 5.0, 5.0])
    raw = alg.reinforce_pp_advantages(r, mask, group=2, baseline=True, normalize=False)
    assert close(raw[:, 0], [0.5, -0.5, 0.0, 0.0])


@pytest.mark.parametrize("method,options", [
    ("grpo", GRPOOptions(group=2)), ("dapo", DAPOOptions(group=2)), ("rloo", RLOOOptions(group=2)),
    ("reinforce_pp", ReinforcePPOptions(group=2)), ("reinforce_pp_baseline", ReinforcePPBaselineOptions(group=2)),
])
def test_advantages_for_every_method_have_the_right_shape(method, options):
    rewards = torch.tensor([1.0, 0.0, 0.5, 0.5])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 1]])
    adv = alg.advantages_for(method, options, rewards, mask)
    assert adv.shape[0] == 4
    if adv.dim() == 2:
        assert adv.shape == mask.shape
        assert torch.all(adv[mask == 0] == 0)
    # zero-spread group (rows 2, 3) gets zero advantage from the group methods
    if method in ("grpo", "dapo", "rloo"):
        assert close(adv[2:], [0.0, 0.0])
    assert adv[0].mean() > adv[1].mean()


def test_kl_in_the_reward_lowers_advantages_where_kl_is_high():
    options = GRPOOptions(group=2, kl=0.5, kl_mode="reward")
    mask = torch.ones(2, 2)
    kl = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    adv = alg.advantages_for("grpo", options, torch.tensor([1.0, 1.0]), mask, kl)
    assert close(adv, [[-0.5, 0.0], [0.0, 0.0]])
