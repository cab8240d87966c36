"""Qwen-VL patch embeddings as the matrix product they are, not a 3D convolution.

Qwen2-VL, Qwen2.5-VL and Qwen3-VL embed image patches with an ``nn.Conv3d`` whose kernel equals
its stride (no padding, no dilation, one group): every output sees one patch and no other, so the
convolution is a linear map of the flattened patch. Run as a convolution it is slow: on this CPU
the ~10M model's patch embedding of 8 images took 15.5-18.7 ms forward and backward through oneDNN's
convolution and 5.5 ms as one matrix product (about 1.5% of a training step), and on some
GPU/cuDNN/bf16 combinations the convolution is reported tens of times slower still (transformers
issue 45750). vLLM and SGLang run it as a matrix product for that reason (decisions.md 58).

The module keeps its ``proj`` convolution, weights and state-dict keys: checkpoints save and load
exactly as before, and only ``forward`` reads ``proj.weight`` through a 2D view. A ``proj`` that is
no longer a plain ``nn.Conv3d`` when the forward runs (a LoRA or quantized wrapper added later)
runs the module's own forward, so nothing it adds is skipped. The numbers are the convolution's up
to float rounding (the products are summed in another order).
"""

from __future__ import annotations

import math
import types
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# The patch embeddings whose forward is `proj(x.view(-1, C, T, P, P).to(dtype)).view(-1, embed_dim)`
# (read in transformers 5.24).
PATCH_EMBED_CLASSES = ("PatchEmbed", "Qwen2_5_VisionPatchEmbed", "Qwen3VLVisionPatchEmbed",
                       "Qwen3VLMoeVisionPatchEmbed")
QWEN_PATCH_MODULES = ("transformers.models.qwen2_vl.", "transformers.models.qwen2_5_vl.",
                      "transformers.models.qwen3_vl.", "transformers.models.qwen3_vl_moe.")


def _is_patchify(proj: Any) -> bool:
    """A Conv3d that maps each non-overlapping patch on its own: a linear map in disguise."""
    return (type(proj) is nn.Conv3d and tuple(proj.stride) == tuple(proj.kernel_size)
            and tuple(proj.padding) == (0, 0, 0) and tuple(proj.dilation) == (1, 1, 1) and proj.groups == 1)


def _linear_forward(self: Any, hidden_states: torch.Tensor) -> torch.Tensor:
    proj = self.proj
    if type(proj) is not nn.Conv3d:  # wrapped after loading: its wrapper's own computation
        return type(self).forward(self, hidden_states)
    weight = proj.weight
    volume = math.prod(weight.shape[1:])  # in_channels * t * p * p, the order x.view(-1, C, T, P, P) flattens in
    out = F.linear(hidden_states.reshape(-1, volume).to(weight.dtype), weight.view(weight.shape[0], volume), proj.bias)
    return out.view(-1, self.embed_dim)


def linear_patch_embeddings(model: nn.Module) -> int:
    """Give each Qwen-VL patch embedding of ``model`` the matrix-product forward; how many were changed."""
    changed = 0
    for module in model.modules():
        cls = type(module)
        if (cls.__name__ in PATCH_EMBED_CLASSES and cls.__module__.startswith(QWEN_PATCH_MODULES)
                and _is_patchify(getattr(module, "proj", None)) and hasattr(module, "embed_dim")
                and "forward" not in module.__dict__):
            module.forward = types.MethodType(_linear_forward, module)
            changed += 1
    return changed
