"""Options of the ``openrlhf`` backend: the cluster shape and how a phase's job is launched.

Everything here is validated at compile time through the ``BackendSpec`` options schema;
cross-option rules (colocation arithmetic, sleep mode) live in ``checks.py``. Training
hyper-parameters are not here: they come from each phase's method options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.types.options import opt

Colocate = Literal["none", "actor_ref", "all"]
ParamDtype = Literal["bf16", "fp16"]

# Qwen-family chat templates open the model's turn with this line; the reward bridge splits a
# decoded query on it to isolate the response (the prompt part holds expanded image pad tokens,
# so ``query[len(prompt):]`` would cut in the wrong place).
QWEN_ASSISTANT_MARKER = "<|im_start|>assistant\n"


@dataclass(frozen=True)
class OpenRLHFOptions:
    ray_address: str = opt("", doc="an existing Ray cluster ('auto', 'ray://host:10001'); empty: use "
                                    "$RAY_ADDRESS, else start a local head with `ray start --head`")
    num_nodes: int = opt(1, doc="nodes for the actor (and the reference model)", min=1)
    gpus_per_node: int = opt(8, doc="GPUs per node for the actor (and the reference model)", min=1)
    vllm_engines: int = opt(0, doc="vLLM engines for rollouts; 0 = one per vllm_tensor_parallel GPUs of the "
                                   "actor's (what colocate 'all' needs)", min=0)
    vllm_tensor_parallel: int = opt(1, doc="GPUs per vLLM engine (tensor parallel)", min=1)
    vllm_gpu_memory_utilization: float = opt(0.6, doc="vLLM's share of GPU memory", min=0.05, max=1.0)
    vllm_sleep: bool = opt(True, doc="put vLLM and DeepSpeed to sleep between rollout and training "
                                     "(only with colocate: all)")
    colocate: Colocate = opt("all", doc="share GPUs: 'all' (actor, reference and vLLM), 'actor_ref', or 'none'")
    zero_stage: int = opt(3, doc="DeepSpeed ZeRO stage", min=0, max=3)
    param_dtype: ParamDtype = opt("bf16", doc="training dtype")
    adam_offload: bool = opt(False, doc="offload Adam states to CPU")
    gradient_checkpointing: bool = opt(True, doc="activation checkpointing in the actor")
    attn_implementation: str = opt("flash_attention_2", doc="transformers attention implementation")
    micro_train_batch: int = opt(4, doc="samples per GPU per forward/backward pass (memory only)", min=1)
    micro_rollout_batch: int = opt(8, doc="samples per GPU per log-prob pass (memory only)", min=1)
    max_images_per_prompt: int = opt(1, doc="image slots per prompt in vLLM for phases with images "
                                            "(raised to the most any exported prompt has)", min=1)
    save_steps: int = opt(10, doc="in-phase DeepSpeed checkpoint every N rollout steps, for resuming "
                                  "an interrupted phase (-1 = off)", min=-1)
    wandb_project: str = opt("", doc="log to this W&B project too (the key comes from $WANDB_API_KEY)")
    wandb_org: str = opt("", doc="W&B entity")
    assistant_marker: str = opt(QWEN_ASSISTANT_MARKER, doc="chat-template text that opens the model's turn; "
                                                          "the reward bridge splits on its last occurrence")
    reward_timeout: float = opt(5.0, doc="seconds one reward may spend on one rollout before it scores 0",
                                min=0.1)
    python: str = opt("", doc="interpreter that runs the job (default: the one running seethink)")
    extra_args: list[str] = opt(default_factory=list, doc="raw train_ppo_ray flags appended to every job")
    dry_run: bool = opt(False, doc="write data, reward file and command for every phase, launch nothing")
    poll_seconds: float = opt(5.0, doc="how often metrics are read from TensorBoard while a job runs", min=0.1)

    def engines(self) -> int:
        """The vLLM engine count the job gets (``vllm_engines``, or the colocation-filling default)."""
        if self.vllm_engines:
            return self.vllm_engines
        return max(1, self.num_nodes * self.gpus_per_node // self.vllm_tensor_parallel)
