"""One phase → the Hydra overrides of one verl 0.9.1 ``python -m verl.trainer.main_ppo`` job.

Every key below exists in ``verl/trainer/config/ppo_trainer.yaml`` as composed by Hydra (the
``+``-prefixed ones are added where verl reads them with ``.get``); ``tests/verl/test_verl_contract.py``
composes each generated list over the pinned wheel's own configuration and runs verl's own checks
(``verl.utils.config.validate_config`` and the config dataclasses' ``__post_init__``), so a renamed key
or a value verl rejects fails the tests.

Units (docs/architecture.md §2: a seethink step is one optimizer update of ``batch_size`` prompts):

- ``data.train_batch_size`` counts *prompts* per verl step (one rollout batch): ``validate_config``
  checks ``train_batch_size × rollout.n`` against the GPUs, and ``_update_actor`` multiplies
  ``ppo_mini_batch_size`` by ``rollout.n`` before splitting the batch;
- ``actor.ppo_mini_batch_size`` counts *prompts* per optimizer update: seethink's ``batch_size``;
- ``actor.ppo_micro_batch_size_per_gpu`` counts *samples* (memory only);
- ``trainer.total_training_steps`` counts verl steps (rollout batches); the optimizer's learning-rate
  scheduler also steps once per verl step (``engine_workers.update_actor`` → ``lr_scheduler_step``),
  so ``warmup_steps`` is converted to rollout batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from seethink_core.types.methods import RLOptions
from seethink_core.types.plan import Phase
from seethink_verl.options import VerlOptions

MODULE = "verl.trainer.main_ppo"

# docs/architecture.md §9 → algorithm.adv_estimator (verl.trainer.ppo.core_algos.AdvantageEstimator).
# Dr.GRPO is GRPO without the std division (norm_adv_by_std_in_grpo) and with a constant-length token sum.
ESTIMATORS = {
    "grpo": "grpo",
    "dr_grpo": "grpo",
    "dapo": "grpo",
    "rloo": "rloo",
    "reinforce_pp": "reinforce_plus_plus",
    "reinforce_pp_baseline": "reinforce_plus_plus_baseline",
}
GROUP_ESTIMATORS = frozenset({"grpo", "rloo", "reinforce_plus_plus_baseline"})

# seethink loss aggregation → actor.loss_agg_mode (ActorConfig.__post_init__ lists the valid ones).
LOSS_AGG = {
    "token_mean": "token-mean",
    "seq_mean_token_mean": "seq-mean-token-mean",
    "seq_mean_token_sum_norm": "seq-mean-token-sum-norm",
}
# seethink schedule → actor.optim.lr_scheduler_type (FSDPOptimizerConfig accepts constant and cosine only).
SCHEDULERS = {"constant": "constant", "cosine": "cosine"}

# verl's dual clip is always on (compute_policy_loss_vanilla bounds negative-advantage losses by
# -clip_ratio_c·A, asserting c > 1); seethink's dual_clip 0 means off, which this constant amounts to.
DUAL_CLIP_OFF = 1.0e9

EVERY = ("model", "optimizer", "extra", "hf_model")  # actor.checkpoint.save_contents: hf_model = the hand-off


@dataclass(frozen=True)
class PhaseFiles:
    """Where one phase's job reads and writes, all inside the run directory."""

    train: Path  # exported verl parquet
    val: Path  # the job's validation parquet (eval sets, or a token row when the phase has none)
    reward: Path  # generated compute_score file
    ckpt_dir: Path  # trainer.default_local_dir: global_step_N/actor/... for resuming and the hand-off
    metrics: Path  # verl's file logger (VERL_FILE_LOGGER_PATH)
    tensorboard_dir: Path


@dataclass(frozen=True)
class JobSettings:
    """What the overrides need beyond the phase and the backend options."""

    init_path: str  # base model or the previous phase's HF folder
    total_steps: int  # seethink optimizer steps of the phase
    experiment: str  # trainer.experiment_name
    resume_from: Path | None = None  # global_step_N folder to continue from
    has_eval: bool = False  # the val parquet holds the phase's eval sets


def rl(phase: Phase) -> RLOptions:
    algo = phase.algorithm
    if not isinstance(algo, RLOptions):  # checks.check_plan reports this at compile time
        raise ValueError(f"phase '{phase.name}': method '{phase.method}' is not a policy-gradient method")
    return algo


def rollout_batch_prompts(phase: Phase) -> int:
    """A verl step in prompts: at least one optimizer batch, so every rollout makes an update."""
    algo = rl(phase)
    return max(algo.rollout_batch_size, algo.batch_size)


def steps_per_rollout(phase: Phase) -> int:
    """seethink optimizer steps per verl step (``update_epochs`` repeats them)."""
    return max(1, rollout_batch_prompts(phase) // rl(phase).batch_size)


def verl_steps(phase: Phase, total_steps: int) -> int:
    """verl steps that cover the phase's ``total_steps`` (the last rollout batch is whole: verl's train loader
    drops an incomplete last batch)."""
    return max(1, math.ceil(max(1, total_steps) / steps_per_rollout(phase)))


def export_prompts(phase: Phase, total_steps: int) -> int:
    """Prompts the export writes: whole rollout batches for every verl step."""
    return verl_steps(phase, total_steps) * rollout_batch_prompts(phase)


def eval_every(phase: Phase) -> int | None:
    """``trainer.test_freq`` in verl steps for ``eval ... every N steps`` (at least 1); None without it."""
    spec = phase.eval
    if spec is None or not spec.sets or not spec.every_steps:
        return None
    return max(1, round(spec.every_steps / steps_per_rollout(phase)))


def save_every(options: VerlOptions, phase: Phase, total_steps: int) -> int:
    """``trainer.save_freq``: verl saves every N steps and always at the last one (which holds the hand-off), but
    only when N > 0."""
    return options.save_steps or verl_steps(phase, total_steps)


def value(v: object) -> str:
    """A Hydra override value: strings quoted (paths and hub ids may hold ':' or '='), floats in full."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(value(x) for x in v) + "]"
    text = str(v).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def build_overrides(phase: Phase, options: VerlOptions, files: PhaseFiles, job: JobSettings) -> list[str]:
    """Every Hydra override of the phase's job, in a stable order."""
    algo = rl(phase)
    o = options
    out: list[str] = []

    def put(key: str, v: object) -> None:
        out.append(f"{key}={value(v)}")

    actor, rollout, ref = "actor_rollout_ref.actor", "actor_rollout_ref.rollout", "actor_rollout_ref.ref"

    # Cluster shape and engines.
    put("trainer.nnodes", o.nnodes)
    put("trainer.n_gpus_per_node", o.gpus_per_node)
    put(f"{actor}.strategy", o.strategy)
    put(f"{rollout}.name", o.rollout_engine)
    put(f"{rollout}.tensor_model_parallel_size", o.rollout_tensor_parallel)
    put(f"{rollout}.gpu_memory_utilization", float(o.gpu_memory_utilization))
    put(f"{actor}.fsdp_config.param_offload", o.param_offload)
    put(f"{actor}.fsdp_config.optimizer_offload", o.optimizer_offload)
    put(f"{ref}.fsdp_config.param_offload", o.param_offload)
    put("actor_rollout_ref.model.enable_gradient_checkpointing", o.gradient_checkpointing)
    put(f"{actor}.ppo_micro_batch_size_per_gpu", o.micro_batch_per_gpu)
    put(f"{rollout}.log_prob_micro_batch_size_per_gpu", o.log_prob_micro_batch_per_gpu)
    put(f"{ref}.log_prob_micro_batch_size_per_gpu", o.log_prob_micro_batch_per_gpu)
    put("critic.enable", False)  # every seethink method is critic-free

    # Model and data, in the runner's order: verl's SequentialSampler when data.shuffle is false.
    put("actor_rollout_ref.model.path", job.init_path)
    put("data.train_files", [str(files.train)])
    put("data.val_files", [str(files.val)])
    put("data.prompt_key", "prompt")
    put("data.image_key", "images")
    put("data.shuffle", False)
    put("data.validation_shuffle", False)
    put("data.seed", phase.seed)
    put("data.dataloader_num_workers", o.dataloader_workers)
    put("data.train_batch_size", rollout_batch_prompts(phase))
    put("data.max_prompt_length", algo.max_prompt_tokens)
    put("data.max_response_length", algo.max_response_tokens)
    if algo.overlong_prompts == "drop":
        # RLHFDataset.maybe_filter_out_long_prompts measures each prompt (images included) with the
        # model's processor and leaves the longer ones out when the file is loaded.
        put("data.filter_overlong_prompts", True)
        put("data.truncation", "error")
    else:
        put("data.filter_overlong_prompts", False)
        put("data.truncation", "left")
    put(f"{actor}.freeze_vision_tower", "vision" in phase.freeze)

    # Method (docs/verl.md, Methods).
    put("algorithm.adv_estimator", ESTIMATORS[phase.method])
    put("algorithm.norm_adv_by_std_in_grpo", bool(algo.std_normalize))
    put(f"{rollout}.n", algo.group)
    put(f"{rollout}.temperature", float(algo.temperature))
    put(f"{rollout}.top_p", float(algo.top_p))
    put(f"{actor}.clip_ratio", float(algo.clip_low))
    put(f"{actor}.clip_ratio_low", float(algo.clip_low))
    put(f"{actor}.clip_ratio_high", float(algo.clip_high))
    put(f"{actor}.clip_ratio_c", float(algo.dual_clip) if algo.dual_clip else DUAL_CLIP_OFF)
    put(f"{actor}.loss_agg_mode", LOSS_AGG[algo.loss_agg])
    kl_on = algo.kl > 0 and algo.kl_mode != "none"
    put(f"{actor}.use_kl_loss", kl_on and algo.kl_mode == "loss")
    put("algorithm.use_kl_in_reward", kl_on and algo.kl_mode == "reward")
    if kl_on and algo.kl_mode == "loss":
        put(f"{actor}.kl_loss_coef", float(algo.kl))
        put(f"{actor}.kl_loss_type", algo.kl_estimator)  # core_algos.kl_penalty takes k1, k2, k3
    elif kl_on:
        put("algorithm.kl_ctrl.type", "fixed")
        put("algorithm.kl_ctrl.kl_coef", float(algo.kl))
        put("algorithm.kl_penalty", algo.kl_estimator)
    if algo.dynamic_sampling:
        # Groups whose rewards have no spread are dropped and refilled from the loader.
        put("algorithm.filter_groups.enable", True)
        put("algorithm.filter_groups.metric", "reward")
    if algo.overlong_buffer > 0:
        # DAPO's soft overlong penalty, as verl's dapo reward manager applies it after compute_score.
        put("reward.reward_manager.name", "dapo")
        put("+reward.reward_kwargs.max_resp_len", algo.max_response_tokens)
        put("+reward.reward_kwargs.overlong_buffer_cfg.enable", True)
        put("+reward.reward_kwargs.overlong_buffer_cfg.len", algo.overlong_buffer)
        put("+reward.reward_kwargs.overlong_buffer_cfg.penalty_factor", float(algo.overlong_penalty))
        put("+reward.reward_kwargs.overlong_buffer_cfg.log", True)
    put("reward.custom_reward_function.path", str(files.reward))
    put("reward.custom_reward_function.name", "compute_score")

    # Batches (the module docstring has the units).
    put(f"{actor}.ppo_mini_batch_size", algo.batch_size)
    put(f"{actor}.ppo_epochs", algo.update_epochs)
    put(f"{actor}.shuffle", False)
    put(f"{actor}.data_loader_seed", phase.seed)

    # Optimizer: AdamW, fresh every phase (the reference recipe's hand-off).
    put(f"{actor}.optim.lr", float(algo.lr))
    put(f"{actor}.optim.weight_decay", float(algo.weight_decay))
    put(f"{actor}.optim.betas", [float(algo.adam_beta1), float(algo.adam_beta2)])
    put(f"{actor}.optim.clip_grad", float(algo.max_grad_norm))
    put(f"{actor}.grad_clip", float(algo.max_grad_norm))
    put(f"{actor}.optim.lr_scheduler_type", SCHEDULERS.get(algo.schedule, algo.schedule))
    put(f"{actor}.optim.lr_warmup_steps", math.ceil(algo.warmup_steps / steps_per_rollout(phase))
        if algo.warmup_steps else -1)

    # Length of the job, checkpoints, resume, logging.
    put("trainer.total_epochs", 1)  # the export holds the whole budget, epochs included, in the runner's order
    # A dry run without the data knows no step count: verl would then count one pass over the file.
    put("trainer.total_training_steps", verl_steps(phase, job.total_steps) if job.total_steps > 0 else None)
    put("trainer.project_name", "seethink")
    put("trainer.experiment_name", job.experiment)
    put("trainer.logger", ["console", "file"] + (["tensorboard"] if o.tensorboard else [])
        + (["wandb"] if o.wandb_project else []))
    put("trainer.default_local_dir", str(files.ckpt_dir))
    put("trainer.save_freq", save_every(o, phase, job.total_steps))
    put("trainer.max_actor_ckpt_to_keep", o.keep_checkpoints or None)
    put(f"{actor}.checkpoint.save_contents", list(EVERY))
    if job.resume_from is not None:
        put("trainer.resume_mode", "resume_path")
        put("trainer.resume_from_path", str(job.resume_from))
    else:
        put("trainer.resume_mode", "disable")
    every = eval_every(phase)
    put("trainer.val_before_train", False)
    if job.has_eval and every is not None:
        spec = phase.eval
        assert spec is not None
        put("trainer.test_freq", every)
        put(f"{rollout}.val_kwargs.do_sample", not spec.greedy)
        put(f"{rollout}.val_kwargs.temperature", 0.0 if spec.greedy else float(spec.temperature))
        put(f"{rollout}.val_kwargs.top_p", 1.0 if spec.greedy else float(spec.top_p))
        put(f"{rollout}.val_kwargs.n", 1 if spec.greedy else spec.n)
    else:
        put("trainer.test_freq", -1)
    out.extend(o.extra_overrides)
    return out


def build_command(phase: Phase, options: VerlOptions, files: PhaseFiles, job: JobSettings,
                  python: str = "python") -> list[str]:
    """The exact argv of the phase's job; the launcher runs it as is, ``dry_run`` records it."""
    return [python, "-m", MODULE, *build_overrides(phase, options, files, job)]


def shell_line(argv: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv)
