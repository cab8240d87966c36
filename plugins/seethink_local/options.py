"""Option schemas of the local backend and its built-in models (no torch import: the plugin reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.types.options import OptionError, opt

IMAGE_SIZE = 112  # 112 px = 8x8 patches of 14 px = 16 image tokens after Qwen's 2x2 merge
DEFAULT_VOCAB = 1024  # BPE target size; the synthetic corpus saturates at ~570 tokens (see tokenizer.py)


@dataclass(frozen=True)
class LocalOptions:
    device: Literal["auto", "cpu", "cuda"] = opt("auto", doc="'auto' = cuda when available, else cpu")
    dtype: Literal["auto", "float32", "bfloat16"] = opt(
        "auto", doc="'auto' = bfloat16 autocast on GPU, float32 on CPU (weights stay float32)")
    param_dtype: Literal["float32", "bfloat16"] = opt(
        "float32", doc="dtype of the weights, gradients and AdamW state: 'bfloat16' is the reference's "
                       "bf16 parameters with a bf16 AdamW (EasyR1's torch_dtype=bf16, adamw_bf16); half the "
                       "memory, less precise updates")
    gradient_checkpointing: bool = opt(False, doc="recompute activations in the backward pass (saves memory)")
    lora_rank: int = opt(0, doc="LoRA rank on the language model's linear layers (0 = full fine-tuning)", min=0)
    lora_alpha: float = opt(16.0, doc="LoRA scaling numerator", min=0)
    lora_dropout: float = opt(0.0, doc="LoRA dropout", min=0, max=1)
    micro_batch_size: int = opt(0, doc="sequences per forward/backward pass (0 = whole minibatch)", min=0)
    log_every: int = opt(1, doc="log metrics every N optimizer steps", min=1)
    rollout_dump_every: int = opt(10, doc="dump sampled rollouts every N steps (0 = never)", min=0)
    rollout_dump_rows: int = opt(8, doc="rows per rollout dump", min=1)
    threads: int = opt(0, doc="torch CPU threads (0 = $SEETHINK_THREADS or $OMP_NUM_THREADS if set, "
                              "else all cores)", min=0)
    cache_dir: str = opt("", doc="where built-in models are materialised (default $SEETHINK_CACHE or "
                                 "~/.cache/seethink/models)")
    memory_estimate: bool = opt(True, doc="print a memory estimate before each phase")
    checkpoint_every: int = opt(50, doc="write an in-phase resume checkpoint every N optimizer steps, at the next "
                                        "rollout boundary (0 = never; see docs/resume.md)", min=0)
    keep_checkpoints: int = opt(2, doc="in-phase checkpoints kept per phase (the newest ones)", min=1)
    deterministic: bool = opt(False, doc="torch deterministic algorithms (and cuBLAS workspace config on GPU): "
                                         "slower on GPU; what repeats bit for bit is in docs/resume.md")
    cuda_graphs: bool = opt(False, doc="replay each rollout's decode step as a CUDA graph: one launch per token "
                                       "instead of one per kernel (GPU only; applies where the lean decode step "
                                       "does: Qwen2.5-VL, LoRA allowed, not quantized; docs/gpu.md)")

    def __post_init__(self) -> None:
        if self.cuda_graphs and self.device == "cpu":
            raise OptionError("cuda_graphs", "option 'cuda_graphs' needs a CUDA device, and device is 'cpu'",
                              hint="drop cuda_graphs, or use device: \"cuda\" (or \"auto\" on a GPU machine)")


@dataclass(frozen=True)
class TinyVLMOptions:
    seed: int = opt(0, doc="initialisation seed (the folder is deterministic for a seed)")
    hidden_size: int = opt(64, doc="language model width", min=8)
    layers: int = opt(2, doc="language model layers", min=1)
    heads: int = opt(4, doc="attention heads (language)", min=1)
    intermediate_size: int = opt(256, doc="language MLP width", min=8)
    vision_hidden_size: int = opt(64, doc="vision tower width", min=8)
    vision_layers: int = opt(2, doc="vision tower layers", min=1)
    vision_heads: int = opt(4, doc="vision attention heads", min=1)
    image_size: int = opt(IMAGE_SIZE, doc="images are resized to image_size^2 pixels", min=28)
    vocab_size: int = opt(DEFAULT_VOCAB, doc="BPE vocabulary learnt from the synthetic world's text (at most this "
                                             "many tokens; 0 = 256 bare bytes)", min=0)


@dataclass(frozen=True)
class Tiny10MOptions(TinyVLMOptions):
    """About 10M parameters: still CPU-trainable, big enough to compare engines."""

    hidden_size: int = opt(256, doc="language model width", min=8)
    layers: int = opt(6, doc="language model layers", min=1)
    heads: int = opt(8, doc="attention heads (language)", min=1)
    intermediate_size: int = opt(1024, doc="language MLP width", min=8)
    vision_hidden_size: int = opt(192, doc="vision tower width", min=8)
    vision_layers: int = opt(4, doc="vision tower layers", min=1)
    vision_heads: int = opt(4, doc="vision attention heads", min=1)


