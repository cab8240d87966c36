"""One phase → the argv of one OpenRLHF 0.11.2 ``train_ppo_ray`` job (``python -m seethink_openrlhf.ordered_train``).

Every flag below exists in the ``__main__`` argparse block of ``openrlhf/cli/train_ppo_ray.py``
(0.11.2, dotted flags); ``tests/openrlhf/test_openrlhf_contract.py`` parses each generated command
with the parser built from the pinned wheel's own source, so a renamed flag fails the tests.

Units (docs/architecture.md §2: a seethink step is one optimizer update of ``batch_size`` prompts):

- ``--rollout.batch_size`` counts *prompts* per rollout: ``SamplesGenerator.generate_samples``
  takes ``rollout.batch_size * rollout.n_samples_per_prompt`` samples per chunk;
- ``--train.batch_size`` counts *samples* (completions): ``prepare_datasets`` in
  ``trainer/ppo_trainer.py`` computes ``max_steps = prompts * n_samples_per_prompt //
  train.batch_size * num_episodes * max_epochs``; so it is ``batch_size * group``;
- ``--train.max_epochs`` is passes over each rollout batch (seethink ``update_epochs``), and
  ``--train.num_episodes`` stays 1 because the export already holds the phase's whole budget
  (``total_steps * batch_size`` prompts, the epochs' worth, in the runner's order);
- ``--data.max_len`` is prompt + response tokens; ``--rollout.max_new_tokens`` the response limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seethink_core.types.methods import RLOptions
from seethink_core.types.plan import Phase
from seethink_openrlhf.options import OpenRLHFOptions

# Every job runs through seethink's thin launcher, which takes train_ppo_ray's flags unchanged and runs
# that module's own __main__, with its train prompts loader kept in the exported order (OpenRLHF 0.11.2
# hard-codes shuffle=True there; see ordered_train.py). Always, not only for ordered phases: the order the
# runner exported (mixture, difficulty order, pacing, its own seeded shuffle) is then always what trains,
# on this backend as on the local one, and the recorded sha256 of prompts.jsonl describes it exactly.
MODULE = "seethink_openrlhf.ordered_train"

# The method table of docs/architecture.md §9. Group-based methods without std normalisation use `dr_grpo`,
# OpenRLHF's group-mean baseline without the std division (experience_maker.compute_advantages_and_returns).
ESTIMATORS = {
    "grpo": "group_norm",
    "dr_grpo": "dr_grpo",
    "dapo": "group_norm",
    "rloo": "rloo",
    "reinforce_pp": "reinforce",
    "reinforce_pp_baseline": "reinforce_baseline",
}
GROUP_ESTIMATORS = frozenset({"group_norm", "dr_grpo", "rloo", "reinforce_baseline"})

# seethink schedule → transformers scheduler name (OpenRLHF passes --actor.lr_scheduler to get_scheduler).
SCHEDULERS = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}

# seethink loss aggregation → --actor.loss_agg_mode. OpenRLHF's "token-mean" is a global token mean,
# which is also what Dr.GRPO's "no per-sequence length normalisation" amounts to.
LOSS_AGG = {
    "token_mean": "token-mean",
    "seq_mean_token_mean": "seq-mean-token-mean",
    "seq_mean_token_sum_norm": "token-mean",
}


@dataclass(frozen=True)
class PhaseFiles:
    """Where one phase's job reads and writes, all inside the run directory."""

    prompts: Path  # exported OpenRLHF VLM JSONL
    reward: Path  # generated reward_func file
    output_dir: Path  # the final Hugging Face folder (the next phase's model)
    ckpt_dir: Path  # DeepSpeed checkpoints for resuming inside the phase
    tensorboard_dir: Path

    def has_checkpoint(self) -> bool:
        """OpenRLHF resumes only when ``<ckpt.path>/_actor`` exists (BasePPOTrainer.init_checkpoint_states)."""
        return (self.ckpt_dir / "_actor").is_dir()


@dataclass(frozen=True)
class JobSettings:
    """What the command needs beyond the phase and the backend options."""

    init_path: str  # base model or the previous phase's HF folder
    n_prompts: int  # prompts exported for the phase
    total_steps: int  # seethink optimizer steps of the phase
    max_images: int  # most images any exported prompt carries (0 = text only)
    run_name: str  # names the TensorBoard sub-folder (TensorboardLogger joins tensorboard_dir/run_name)
    resume: bool = False
    python: str = "python"
    eval_path: Path | None = None  # the phase's eval sets exported for the job's own validation


def eval_every_rollouts(phase: Phase) -> int | None:
    """The job's validation cadence in OpenRLHF global steps (rollout batches): ``eval ... every N steps``
    rounded to whole rollouts, at least one; None without in-phase evaluation."""
    spec = phase.eval
    if spec is None or not spec.sets or not spec.every_steps:
        return None
    return max(1, round(spec.every_steps / steps_per_rollout(phase)))


def estimator_for(phase: Phase) -> str:
    algo = phase.algorithm
    est = ESTIMATORS[phase.method]
    if est == "group_norm" and isinstance(algo, RLOptions) and not algo.std_normalize:
        return "dr_grpo"
    return est


def rollout_batch_prompts(phase: Phase) -> int:
    """The rollout batch in prompts: at least one global batch, so every rollout makes an update."""
    algo = phase.algorithm
    assert isinstance(algo, RLOptions)
    return max(algo.rollout_batch_size, algo.batch_size)


def steps_per_rollout(phase: Phase) -> int:
    """seethink steps per OpenRLHF global step (one global step = one rollout batch). Like the runner's
    ``resolve_total_steps``, a step is ``batch_size`` prompts of data; ``update_epochs`` repeats them."""
    algo = phase.algorithm
    assert isinstance(algo, RLOptions)
    return max(1, rollout_batch_prompts(phase) // algo.batch_size)


def _fmt(value: object) -> str:
    """Floats in full precision (``1e-06``), everything else as text."""
    return repr(value) if isinstance(value, float) else str(value)


def build_command(phase: Phase, options: OpenRLHFOptions, files: PhaseFiles, job: JobSettings) -> list[str]:
    """The exact argv of the phase's job; the launcher runs it as is, ``dry_run`` records it."""
    algo = phase.algorithm
    if not isinstance(algo, RLOptions):  # checks.check_plan reports this at compile time
        raise ValueError(f"phase '{phase.name}': method '{phase.method}' is not a policy-gradient method")
    o = options
    argv = [job.python, "-m", MODULE]

    def flag(name: str, *values: object) -> None:
        argv.append(f"--{name}")
        argv.extend(_fmt(v) for v in values)

    # Cluster shape. The reference model sits on the actor's GPUs (colocation needs equal shapes).
    flag("actor.num_nodes", o.num_nodes)
    flag("actor.num_gpus_per_node", o.gpus_per_node)
    flag("ref.num_nodes", o.num_nodes)
    flag("ref.num_gpus_per_node", o.gpus_per_node)
    flag("vllm.num_engines", o.engines())
    flag("vllm.tensor_parallel_size", o.vllm_tensor_parallel)
    flag("vllm.gpu_memory_utilization", float(o.vllm_gpu_memory_utilization))
    if o.colocate == "all":
        flag("train.colocate_all")
        if o.vllm_sleep:
            flag("vllm.enable_sleep")
            flag("ds.enable_sleep")
    elif o.colocate == "actor_ref":
        flag("train.colocate_actor_ref")
    flag("ds.zero_stage", o.zero_stage)
    flag("ds.param_dtype", o.param_dtype)
    flag("ds.attn_implementation", o.attn_implementation)
    if o.adam_offload:
        flag("ds.adam_offload")
    if o.gradient_checkpointing:
        flag("actor.gradient_checkpointing_enable")

    # Model and data.
    flag("actor.model_name_or_path", job.init_path)
    flag("data.prompt_dataset", files.prompts)
    flag("data.input_key", "prompt")
    flag("data.label_key", "label")
    flag("data.image_key", "images")
    flag("data.apply_chat_template")
    flag("data.max_images_per_prompt", max(job.max_images, o.max_images_per_prompt) if job.max_images else 0)
    flag("data.max_len", algo.max_prompt_tokens + algo.max_response_tokens)
    flag("rollout.max_new_tokens", algo.max_response_tokens)
    if "vision" in phase.freeze:
        flag("actor.freeze_visual_encoder")

    # Method (docs/architecture.md §9 table).
    estimator = estimator_for(phase)
    flag("algo.advantage.estimator", estimator)
    if not algo.std_normalize and estimator in ("reinforce", "reinforce_baseline"):
        flag("algo.advantage.no_std_norm")
    flag("rollout.n_samples_per_prompt", algo.group)
    flag("rollout.temperature", float(algo.temperature))
    flag("rollout.top_p", float(algo.top_p))
    flag("actor.eps_clip_low_high", float(algo.clip_low), float(algo.clip_high))
    if algo.dual_clip:
        flag("actor.dual_clip", float(algo.dual_clip))  # PolicyLoss asserts c > 1, as RLOptions does
    flag("actor.loss_agg_mode", LOSS_AGG[algo.loss_agg])
    kl_on = algo.kl > 0 and algo.kl_mode != "none"
    flag("algo.kl.init_coef", float(algo.kl) if kl_on else 0.0)
    if kl_on:
        if algo.kl_mode == "loss":
            flag("algo.kl.use_loss")
        flag("algo.kl.estimator", algo.kl_estimator)
    if algo.dynamic_sampling:
        # OpenRLHF keeps a group when its mean score lies strictly inside the range: all-wrong (0) and
        # all-right (1) groups carry no signal (samples_generator._generate_vllm).
        flag("algo.dynamic_filtering_enable")
        flag("algo.dynamic_filtering_range", 0.0, 1.0)
    if algo.overlong_buffer > 0:
        flag("reward.overlong_buffer_len", float(algo.overlong_buffer))
        flag("reward.overlong_penalty_factor", float(algo.overlong_penalty))
    flag("reward.remote_url", files.reward)

    # Batches (see the module docstring for the units).
    flag("rollout.batch_size", rollout_batch_prompts(phase))
    flag("train.batch_size", algo.batch_size * algo.group)
    flag("train.micro_batch_size", o.micro_train_batch)
    flag("rollout.micro_batch_size", o.micro_rollout_batch)
    flag("train.max_epochs", algo.update_epochs)
    flag("train.num_episodes", 1)
    flag("train.seed", phase.seed)

    # Optimizer: the actor's AdamW, fresh every phase (the reference recipe's hand-off).
    flag("actor.adam.lr", float(algo.lr))
    flag("actor.adam.weight_decay", float(algo.weight_decay))
    flag("actor.adam.betas", float(algo.adam_beta1), float(algo.adam_beta2))
    flag("actor.max_norm", float(algo.max_grad_norm))
    flag("actor.lr_scheduler", SCHEDULERS[algo.schedule])
    # A ratio of the whole schedule, so update_epochs (which OpenRLHF folds into max_steps) cancels out.
    flag("actor.lr_warmup_ratio", min(1.0, algo.warmup_steps / max(1, job.total_steps)))

    # Output, checkpoints, logging.
    flag("ckpt.output_dir", files.output_dir)
    flag("ckpt.path", files.ckpt_dir)
    flag("ckpt.save_steps", o.save_steps)
    if job.resume:
        flag("ckpt.load_enable")
    flag("logger.tensorboard_dir", files.tensorboard_dir)
    flag("logger.logging_steps", 1)
    flag("logger.wandb.run_name", job.run_name)
    every = eval_every_rollouts(phase)
    if job.eval_path is not None and every is not None:
        # OpenRLHF's own validation (PPOTrainer.fit → evaluate every eval.steps global steps), scored with the
        # phase's reward file; JSON files load as split "train". Greedy is temperature 0 with one sample.
        spec = phase.eval
        assert spec is not None
        flag("eval.dataset", job.eval_path)
        flag("eval.split", "train")
        flag("eval.steps", every)
        flag("eval.temperature", 0.0 if spec.greedy else float(spec.temperature))
        flag("eval.n_samples_per_prompt", 1 if spec.greedy else spec.n)
    if o.wandb_project:
        # The key is added by the launcher from $WANDB_API_KEY so it never lands in a recorded command.
        flag("logger.wandb.project", o.wandb_project)
        if o.wandb_org:
            flag("logger.wandb.org", o.wandb_org)
    argv.extend(o.extra_args)
    return argv


def shell_line(argv: list[str]) -> str:
    """The command as one copy-pasteable shell line."""
    import shlex

    return " ".join(shlex.quote(a) for a in argv)
