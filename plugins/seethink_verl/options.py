"""Options of the ``verl`` backend: the cluster shape and how a phase's job is launched.

Validated at compile time through the ``BackendSpec`` options schema; cross-option rules live in
``checks.py``. Training hyper-parameters are not here: they come from each phase's method options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.types.options import opt

RolloutEngine = Literal["vllm", "sglang"]
Strategy = Literal["fsdp", "fsdp2"]


@dataclass(frozen=True)
class VerlOptions:
    ray_address: str = opt("", doc="an existing Ray cluster ('auto', 'ray://host:10001'); empty: use $RAY_ADDRESS, "
                                    "else the job's own ray.init starts a local one")
    nnodes: int = opt(1, doc="nodes of the job (trainer.nnodes)", min=1)
    gpus_per_node: int = opt(8, doc="GPUs per node (trainer.n_gpus_per_node)", min=1)
    strategy: Strategy = opt("fsdp", doc="actor training strategy (actor_rollout_ref.actor.strategy)")
    rollout_engine: RolloutEngine = opt("vllm", doc="inference engine of the rollouts (actor_rollout_ref.rollout.name)")
    rollout_tensor_parallel: int = opt(1, doc="GPUs per rollout engine (rollout.tensor_model_parallel_size)", min=1)
    gpu_memory_utilization: float = opt(0.6, doc="the rollout engine's share of GPU memory", min=0.05, max=1.0)
    param_offload: bool = opt(False, doc="offload FSDP parameters to CPU (actor and reference)")
    optimizer_offload: bool = opt(False, doc="offload the actor's optimizer states to CPU")
    gradient_checkpointing: bool = opt(True, doc="activation checkpointing (model.enable_gradient_checkpointing)")
    micro_batch_per_gpu: int = opt(4, doc="samples per GPU per forward/backward pass (memory only; "
                                          "actor.ppo_micro_batch_size_per_gpu)", min=1)
    log_prob_micro_batch_per_gpu: int = opt(8, doc="samples per GPU per log-prob pass (memory only)", min=1)
    dataloader_workers: int = opt(2, doc="data.dataloader_num_workers", min=0)
    save_steps: int = opt(10, doc="in-phase checkpoint every N verl steps (rollout batches), for resuming an "
                                  "interrupted phase; the last step always saves (it holds the hand-off weights); "
                                  "0 = only the last step", min=0)
    keep_checkpoints: int = opt(2, doc="in-phase checkpoints kept (trainer.max_actor_ckpt_to_keep; 0 = all)", min=0)
    tensorboard: bool = opt(False, doc="also write verl's TensorBoard events under the phase folder")
    wandb_project: str = opt("", doc="log to this W&B project too (the key comes from $WANDB_API_KEY)")
    reward_timeout: float = opt(5.0, doc="seconds one reward may spend on one rollout before it scores 0", min=0.1)
    python: str = opt("", doc="interpreter that runs the job (default: the one running seethink)")
    extra_overrides: list[str] = opt(default_factory=list, doc="raw Hydra overrides appended to every job "
                                                               "(checked by `seethink doctor --backend verl`)")
    sft_max_length: int = opt(4096, doc="SFT phases: tokens per sample, prompt and target (data.max_length of "
                                        "verl's SFT trainer; longer samples are cut on the right)", min=16)
    extra_sft_overrides: list[str] = opt(default_factory=list, doc="raw Hydra overrides appended to every SFT job")
    dry_run: bool = opt(False, doc="write data, reward file and command for every phase, launch nothing")
    poll_seconds: float = opt(5.0, doc="how often metrics are read from verl's file logger while a job runs",
                              min=0.1)

    @property
    def gpus(self) -> int:
        return self.nnodes * self.gpus_per_node
