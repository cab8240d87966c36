"""Our GRPO / Dr.GRPO / DAPO loss and its gradients equal TRL's own ``GRPOTrainer._compute_loss``.

TRL's method runs unchanged on a real trainer (the tiny VLM); only its log-prob forward is replaced
by a fixed tensor, so both sides see the same log-probs, old log-probs, reference log-probs and
advantages.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")

from seethink_local import algorithms as alg  # noqa: E402

BETA = 0.04
MAX_LEN = 6
CASES = [  # (TRL loss_type, our loss aggregation, ε_low, ε_high, β, KL times the ratio)
    ("grpo", "seq_mean_token_mean", 0.2, 0.2, BETA, False),
    ("grpo", "seq_mean_token_mean", 0.2, 0.2, BETA, True),
    ("grpo", "seq_mean_token_mean", 0.2, 0.2, 0.0, False),
    ("dr_grpo", "seq_mean_token_sum_norm", 0.2, 0.2, BETA, False),
    ("dapo", "token_mean", 0.2, 0.28, 0.0, False),
    ("dapo", "token_mean", 0.2, 0.28, BETA, True),
]


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    n, t = 6, MAX_LEN
    mask = torch.ones(n, t, dtype=torch.long)
    for i, length in enumerate([6, 3, 5, 1, 4, 6]):
        mask[i, length:] = 0
    logp = -torch.rand(n, t, generator=g) * 2
    old = logp + (torch.rand(n, t, generator=g) - 0.5) * 0.6  # ratios on both sides of the clip range
    ref = logp + (torch.rand(n, t, generator=g) - 0.5) * 0.4
    rewards = torch.tensor([1.0, 0.0, 0.5, 1.0, 0.0, 0.0])
    return logp, old, ref, mask, rewards


@pytest.fixture(scope="module")
def trl_trainer(tiny_dir, tmp_path_factory):
    import seethink_local.processing  # noqa: F401
    from datasets import Dataset
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    def build(loss_type: str, eps_low: float, eps_high: float, beta: float, correction: bool):
        cfg = GRPOConfig(output_dir=str(tmp_path_factory.mktemp("trl")), per_device_train_batch_size=6,
                         num_generations=3, max_completion_length=MAX_LEN, beta=beta, loss_type=loss_type,
                         epsilon=eps_low, epsilon_high=eps_high, use_cpu=True, report_to=[], logging_steps=1,
                         steps_per_generation=1, gradient_accumulation_steps=1,
                         use_bias_correction_kl=correction)
        data = Dataset.from_list([{"prompt": "hi"}] * 6)
        trainer = GRPOTrainer(model=AutoModelForImageTextToText.from_pretrained(tiny_dir),
                              reward_funcs=[lambda completions, **_: [0.0] * len(completions)], args=cfg,
                              train_dataset=data, processing_class=AutoProcessor.from_pretrained(tiny_dir))
        trainer.model.train()
        trainer.current_gradient_accumulation_steps = 1
        return trainer

    return build


@pytest.mark.parametrize("loss_type,agg,eps_low,eps_high,beta,correction", CASES)
def test_loss_and_gradients_equal_trl(trl_trainer, loss_type, agg, eps_low, eps_high, beta, correction):
    trainer = trl_trainer(loss_type, eps_low, eps_high, beta, correction)
    logp, old, ref, mask, rewards = _batch()
    adv = alg.group_advantages(rewards, 3, std_normalize=loss_type == "grpo")

    theirs_logp = logp.clone().requires_grad_(True)
    trainer._get_per_token_logps_and_entropies = lambda *a, **k: (theirs_logp, torch.zeros_like(logp), None)
    inputs = {"prompt_ids": torch.zeros(6, 2, dtype=torch.long), "prompt_mask": torch.ones(6, 2, dtype=torch.long),
              "completion_ids": torch.zeros(6, MAX_LEN, dtype=torch.long), "completion_mask": mask,
              "advantages": adv, "old_per_token_logps": old, "ref_per_token_logps": ref,
              "num_items_in_batch": mask.sum()}
    theirs = trainer._compute_loss(trainer.model, inputs)
    theirs.backward()

    ours_logp = logp.clone().requires_grad_(True)
    ours = alg.policy_loss(ours_logp, old, adv, mask, clip_low=eps_low, clip_high=eps_high, agg=agg,
                           max_len=MAX_LEN, ref_logp=ref if beta else None, kl_coef=beta, kl_estimator="k3",
                           kl_ratio_correction=correction).loss
    ours.backward()

    assert float(ours) == pytest.approx(float(theirs), abs=1e-5)
    assert torch.allclose(ours_logp.grad, theirs_logp.grad, atol=1e-5)
    assert theirs_logp.grad.abs().sum() > 0


def test_group_advantages_equal_trls_formula():
    """TRL: (r - mean_group) / (std_group + 1e-4) with torch.std (unbiased), scale_rewards='group'."""
    rewards = torch.tensor([1.0, 0.0, 0.5, 1.0, 0.0, 0.0])
    grouped = rewards.view(-1, 3)
    mean = grouped.mean(1).repeat_interleave(3)
    std = grouped.std(1).repeat_interleave(3)
    assert torch.allclose(alg.group_advantages(rewards, 3), (rewards - mean) / (std + 1e-4), atol=1e-6)
