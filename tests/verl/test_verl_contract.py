"""Every generated job, composed over verl 0.9.1's own ``ppo_trainer.yaml`` and checked by verl's own code.

``contract`` (conftest) is ``seethink_verl.contract.VerlContract`` over the pinned wheel: Hydra's compose
API on the wheel's config folder, then ``validate_config`` with ``need_reference_policy``/``need_critic``
and the config dataclasses verl builds before training. A mutated override must fail it.
"""

from __future__ import annotations

import pytest
from seethink_verl.contract import ContractError
from seethink_verl.overrides import DUAL_CLIP_OFF, rollout_batch_prompts, verl_steps


def _phases(vt):
    p = vt.make_phase
    return [
        p("grpo", name="grpo", kl=0.01, dual_clip=3.0, freeze=["vision"], min_pixels=3136, max_pixels=12544),
        p("dr_grpo", name="dr_grpo"),
        p("dapo", name="dapo"),
        p("rloo", name="rloo", kl=0.0),
        p("reinforce_pp", name="reinforce_pp"),
        p("reinforce_pp_baseline", name="reinforce_pp_baseline", kl_mode="reward", kl_estimator="k1"),
        p("grpo", name="cosine", schedule="cosine", warmup_steps=3, update_epochs=2, overlong_prompts="drop",
          kl_estimator="k2", clip_high=0.28, loss_agg="token_mean"),
        p("grpo", name="big", batch_size=128, rollout_batch_size=512, group=5, max_response_tokens=4096),
    ]


@pytest.fixture(scope="module")
def checked(contract, vt):
    """Every phase of ``_phases``, composed and checked once (each check costs about half a second)."""
    return {phase.name: contract.check(vt.make_overrides(phase)) for phase in _phases(vt)}


@pytest.mark.parametrize("shape", [dict(gpus_per_node=8), dict(nnodes=2, gpus_per_node=4, rollout_tensor_parallel=2),
                                   dict(gpus_per_node=1, param_offload=True, optimizer_offload=True,
                                        strategy="fsdp2", rollout_engine="sglang", tensorboard=True,
                                        wandb_project="seethink")])
def test_cluster_shapes_pass(contract, vt, shape):
    cfg = contract.check(vt.make_overrides(vt.make_phase(), **shape))
    assert cfg.trainer.nnodes == shape.get("nnodes", 1)
    assert cfg.trainer.n_gpus_per_node == shape["gpus_per_node"]


def test_the_composed_config_holds_every_plan_setting_in_verls_units(contract, vt):
    phase = vt.make_phase("grpo", batch_size=16, rollout_batch_size=64, group=5, kl=0.02, dual_clip=3.0,
                          clip_low=0.2, clip_high=0.28, lr=2e-6, weight_decay=0.0, adam_beta2=0.99,
                          max_grad_norm=0.5, warmup_steps=8, schedule="cosine", update_epochs=2,
                          max_prompt_tokens=1024, max_response_tokens=512, temperature=0.9, top_p=0.95,
                          loss_agg="seq_mean_token_sum_norm", freeze=["vision"])
    cfg = contract.check(vt.make_overrides(phase, total_steps=10))
    arr, actor, rollout = cfg.actor_rollout_ref, cfg.actor_rollout_ref.actor, cfg.actor_rollout_ref.rollout
    assert cfg.data.train_batch_size == 64  # prompts per verl step (a rollout batch)
    assert actor.ppo_mini_batch_size == 16  # prompts per optimizer update
    assert rollout.n == 5 and actor.rollout_n == 5
    assert cfg.trainer.total_training_steps == verl_steps(phase, 10) == 3  # ceil(10 steps / 4 per rollout)
    assert actor.optim.lr_warmup_steps == 2  # 8 optimizer steps = 2 rollout batches
    assert (actor.optim.lr, actor.optim.weight_decay, list(actor.optim.betas)) == (2e-6, 0.0, [0.9, 0.99])
    assert actor.optim.lr_scheduler_type == "cosine" and actor.optim.clip_grad == 0.5
    assert actor.ppo_epochs == 2 and actor.shuffle is False
    assert (actor.use_kl_loss, actor.kl_loss_coef, actor.kl_loss_type) == (True, 0.02, "k3")
    assert cfg.algorithm.use_kl_in_reward is False and cfg.algorithm.adv_estimator == "grpo"
    assert (actor.clip_ratio_low, actor.clip_ratio_high, actor.clip_ratio_c) == (0.2, 0.28, 3.0)
    assert actor.loss_agg_mode == "seq-mean-token-sum-norm" and actor.freeze_vision_tower is True
    assert (cfg.data.max_prompt_length, cfg.data.max_response_length) == (1024, 512)
    assert (rollout.prompt_length, rollout.response_length) == (1024, 512)  # interpolated from data.*
    assert (rollout.temperature, rollout.top_p) == (0.9, 0.95)
    assert cfg.data.shuffle is False and cfg.data.train_files == ["/run/train.parquet"]
    assert arr.model.path == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert "hf_model" in actor.checkpoint.save_contents and cfg.trainer.save_freq == 10
    assert cfg.trainer.resume_mode == "disable" and cfg.critic.enable is False
    assert cfg.reward.custom_reward_function.path == "/run/reward_fn.py"
    assert cfg.reward.custom_reward_function.name == "compute_score"
    assert cfg.trainer.logger == ["console", "file"]


def test_every_method_and_setting_passes_verls_own_checks_and_maps_as_documented(checked):
    seen = checked
    assert set(seen) == {"grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline", "cosine", "big"}
    assert seen["dr_grpo"].algorithm.norm_adv_by_std_in_grpo is False
    assert seen["dr_grpo"].actor_rollout_ref.actor.loss_agg_mode == "seq-mean-token-sum-norm"
    dapo = seen["dapo"]
    assert dapo.algorithm.filter_groups.enable is True and dapo.actor_rollout_ref.actor.use_kl_loss is False
    assert dapo.reward.reward_manager.name == "dapo"
    assert dapo.reward.reward_kwargs.overlong_buffer_cfg.len == 256
    assert dapo.reward.reward_kwargs.max_resp_len == 2048
    assert dapo.actor_rollout_ref.actor.clip_ratio_high == 0.28
    assert dapo.actor_rollout_ref.actor.clip_ratio_c == DUAL_CLIP_OFF  # dual_clip 0 = off
    assert seen["rloo"].algorithm.adv_estimator == "rloo" and seen["rloo"].actor_rollout_ref.actor.use_kl_loss is False
    assert seen["reinforce_pp"].algorithm.adv_estimator == "reinforce_plus_plus"
    assert seen["reinforce_pp"].algorithm.use_kl_in_reward is True  # REINFORCE++ puts KL in the reward
    base = seen["reinforce_pp_baseline"].algorithm
    assert (base.adv_estimator, base.kl_penalty, base.kl_ctrl.kl_coef) == ("reinforce_plus_plus_baseline", "k1", 0.01)
    drop = seen["cosine"].data
    assert drop.filter_overlong_prompts is True and drop.truncation == "error"
    assert seen["grpo"].data.filter_overlong_prompts is False and seen["grpo"].data.truncation == "left"


def test_resume_points_verl_at_the_step_folder(contract, vt):
    step = vt.HERE / "ckpt" / "global_step_2"
    cfg = contract.check(vt.make_overrides(vt.make_phase(), resume=step))
    assert cfg.trainer.resume_mode == "resume_path" and cfg.trainer.resume_from_path == str(step)


def test_eval_every_becomes_verls_validation(contract, vt):
    from seethink_core.types.plan import DataRef, EvalSpec

    phase = vt.replace(vt.make_phase(), eval=EvalSpec(sets=[DataRef("synthetic")], every_steps=4, greedy=False,
                                                      n=3, temperature=0.7, top_p=0.9))
    from seethink_verl.options import VerlOptions
    from seethink_verl.overrides import JobSettings, PhaseFiles, build_overrides

    r = vt.HERE
    files = PhaseFiles(r / "t.parquet", r / "v.parquet", r / "rf.py", r / "ck", r / "m.jsonl", r / "tb")
    cfg = contract.check(build_overrides(phase, VerlOptions(gpus_per_node=4), files,
                                         JobSettings("m", 8, "x", has_eval=True)))
    val = cfg.actor_rollout_ref.rollout.val_kwargs
    assert cfg.trainer.test_freq == 2  # every 4 optimizer steps = every 2 rollout batches of 32 ÷ 16
    assert (val.do_sample, val.n, val.temperature, val.top_p) == (True, 3, 0.7, 0.9)
    assert cfg.trainer.val_before_train is False


def _mutate(overrides: list[str], key: str, new: str | None) -> list[str]:
    out = [o for o in overrides if not o.startswith(key + "=")]
    assert len(out) == len(overrides) - 1, f"{key} is not in the generated overrides"
    return out + ([new] if new is not None else [])


MUTATIONS = [
    ("actor_rollout_ref.actor.ppo_mini_batch_size", "actor_rollout_ref.actor.ppo_mini_batch_sizes=16", "Hydra"),
    ("actor_rollout_ref.actor.loss_agg_mode", "actor_rollout_ref.actor.loss_agg_mode='token-means'",
     "loss_agg_mode"),
    ("data.train_batch_size", "data.train_batch_size=33", "divisible"),  # 33 prompts × 4 over 8 GPUs
    ("actor_rollout_ref.actor.ppo_mini_batch_size", "actor_rollout_ref.actor.ppo_mini_batch_size=64",
     "ppo_mini_batch_size"),
    ("actor_rollout_ref.actor.optim.lr_scheduler_type", "actor_rollout_ref.actor.optim.lr_scheduler_type='linear'",
     "FSDPOptimizerConfig"),
    ("actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", None, "micro_batch_size"),
    ("reward.custom_reward_function.name", "reward.custom_reward_functions.name='compute_score'", "Hydra"),
    ("actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu", None, "log_prob_micro_batch_size"),
]


@pytest.mark.parametrize("key,new,says", MUTATIONS, ids=[f"{k}->{n}" for k, n, _ in MUTATIONS])
def test_a_mutated_override_fails(contract, vt, key, new, says):
    # The unmutated lists pass (test_every_method_...; the 8-GPU one in test_cluster_shapes_pass).
    overrides = vt.make_overrides(vt.make_phase(), gpus_per_node=8 if key == "data.train_batch_size" else 4)
    with pytest.raises(ContractError, match=says):
        contract.check(_mutate(overrides, key, new))


def test_an_unknown_reward_manager_fails(contract, vt):
    assert {"naive", "dapo"} <= contract.reward_managers()
    with pytest.raises(ContractError, match="no reward manager 'dapoo'"):
        contract.check(_mutate(vt.make_overrides(vt.make_phase("dapo")), "reward.reward_manager.name",
                               "reward.reward_manager.name='dapoo'"))


def test_rollout_batch_is_at_least_one_optimizer_batch(vt):
    assert rollout_batch_prompts(vt.make_phase(batch_size=16, rollout_batch_size=16)) == 16
