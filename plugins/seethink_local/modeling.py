"""Load a VLM (registered name, local folder or hub id), pick device and dtype, freeze parts, add LoRA."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

import seethink_local.processing  # noqa: F401  (registers the image-only processor with AutoProcessor)
from seethink_core.errors import BackendError
from seethink_core.user_cache import user_cache_dir
from seethink_local.options import LocalOptions
from seethink_local.patch_embed import linear_patch_embeddings

FREEZABLE = ("vision", "projector", "language")


TINY_MODEL_BUILDER = "seethink_local.tiny_model:"  # the factories of this plugin's built-in models


def cache_root(options: LocalOptions) -> Path:
    if options.cache_dir:
        return Path(options.cache_dir)
    return user_cache_dir("models")


def registered_model(name: str) -> Any | None:
    """The ModelSpec for ``name`` (``tiny-vlm`` and ``tiny_vlm`` are the same name), or None."""
    from seethink_core.hooks.manager import get_plugins

    return get_plugins().registry.find("model", name)


def resolve_model_path(name_or_path: str, options: LocalOptions) -> str:
    """A local folder for a registered model (built once into the cache), else the path / hub id as given."""
    if Path(name_or_path).is_dir():
        return name_or_path
    spec = registered_model(name_or_path)
    if spec is None:
        # A missing folder or a hub id that cannot be had is one clear error now, in seconds: transformers
        # would call the folder a bad repo id, or retry an unreachable hub for minutes. A hub model the
        # hub cannot serve right now loads from its cached snapshot folder.
        from seethink_core.hooks.manager import get_plugins
        from seethink_core.run.model_source import locate_model

        return locate_model(name_or_path, get_plugins().registry).path
    model_options = spec.options()
    described = {"name": spec.name, **asdict(model_options)}
    if str(spec.factory).startswith(TINY_MODEL_BUILDER):  # its tokenizer learns from the corpus
        from seethink_local.tokenizer import corpus_digest

        described["corpus"] = corpus_digest()
    key = hashlib.sha256(json.dumps(described, sort_keys=True).encode())
    dest = cache_root(options) / f"{spec.name}-{key.hexdigest()[:12]}"
    if not (dest / "config.json").exists():
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        spec.load()(model_options, tmp)
        try:
            tmp.rename(dest)  # atomic: a crash never leaves a half-built model under the final name
        except OSError:
            if not (dest / "config.json").exists():
                raise
    return str(dest)


def pick_device(options: LocalOptions) -> torch.device:
    if options.device == "cuda" or (options.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise BackendError("backend option device: 'cuda' was asked for but no CUDA device is available")
        return torch.device("cuda")
    return torch.device("cpu")


def autocast_dtype(options: LocalOptions, device: torch.device) -> torch.dtype | None:
    """bf16 autocast on GPU by default; weights (and optimizer state) stay float32."""
    if options.dtype == "bfloat16" or (options.dtype == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


@dataclass
class Loaded:
    model: Any  # a transformers PreTrainedModel (or a peft wrapper of one)
    processor: Any
    path: str


def load_model(name_or_path: str, options: LocalOptions, device: torch.device) -> Loaded:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = resolve_model_path(name_or_path, options)
    try:
        processor = AutoProcessor.from_pretrained(path)
        # bf16 weights give a bf16 AdamW too: torch keeps the optimizer state in each parameter's dtype.
        dtype = torch.bfloat16 if options.param_dtype == "bfloat16" else torch.float32
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype)
    except OSError as e:
        raise BackendError(f"cannot load model '{name_or_path}': {e}",
                           hint="give a registered model name, a local Hugging Face folder, or a hub id "
                                "(hub ids need network access or a filled HF cache)") from None
    linear_patch_embeddings(model)  # Qwen-VL's patchify convolution as one matrix product (patch_embed.py)
    model.to(device)
    tok = getattr(processor, "tokenizer", processor)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return Loaded(model, processor, path)


def parts(model: Any) -> dict[str, list[torch.nn.Parameter]]:
    """Parameters by part: vision tower, projector (the merger), language model (with the head)."""
    named = dict(model.named_parameters())
    out: dict[str, list[torch.nn.Parameter]] = {k: [] for k in FREEZABLE}
    for name, p in named.items():
        out[_part_of(name)].append(p)
    return out


def _part_of(name: str) -> str:
    # Qwen2/2.5-VL keep the merger (projector) inside the vision tower (`visual.merger`);
    # LLaVA-style models call it multi_modal_projector.
    if "merger" in name or "multi_modal_projector" in name or "mm_projector" in name:
        return "projector"
    if "visual" in name or "vision_tower" in name or "vision_model" in name:
        return "vision"
    return "language"


def apply_freeze(model: Any, freeze: list[str]) -> None:
    """``vision`` freezes the whole vision module, projector included (as EasyR1's ``freeze_vision_tower``
    and OpenRLHF's ``freeze_visual_encoder`` do); ``projector`` freezes only the projector."""
    unknown = [f for f in freeze if f not in FREEZABLE]
    if unknown:
        raise BackendError(f"cannot freeze {unknown[0]!r}: the local backend freezes {', '.join(FREEZABLE)}")
    by_part = parts(model)
    for part in freeze:
        params = by_part[part] + (by_part["projector"] if part == "vision" else [])
        if not params:
            raise BackendError(f"freeze {part}: this model has no parameters identified as its {part} part")
        for p in params:
            p.requires_grad_(False)


def set_checkpointing(model: Any, on: bool) -> None:
    """Activation (gradient) checkpointing, under its new name where transformers has it."""
    if on:
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    else:
        if hasattr(model, "activation_checkpointing_disable"):
            model.activation_checkpointing_disable()
        else:
            model.gradient_checkpointing_disable()
        model.config.use_cache = True


def add_lora(model: Any, options: LocalOptions) -> Any:
    """LoRA adapters on the language model's linear layers; the base weights stay frozen."""
    from peft import LoraConfig, get_peft_model

    targets = [n for n, m in model.named_modules()
               if isinstance(m, torch.nn.Linear) and _part_of(n) == "language" and "lm_head" not in n]
    if not targets:
        raise BackendError("lora_rank > 0 but the model has no linear layers in its language part")
    cfg = LoraConfig(r=options.lora_rank, lora_alpha=options.lora_alpha, lora_dropout=options.lora_dropout,
                     target_modules=targets)
    return get_peft_model(model, cfg)


def estimate_memory(model: Any, trainable: int, autocast: torch.dtype | None) -> dict[str, float]:
    """Rough bytes for weights, gradients and AdamW state (activations excluded), in GiB."""
    total = sum(p.numel() for p in model.parameters())
    gib = 1024 ** 3
    weights = total * 4
    grads = trainable * 4
    adam = trainable * 8
    return {"params": float(total), "trainable": float(trainable), "weights_gib": weights / gib,
            "grads_gib": grads / gib, "optimizer_gib": adam / gib,
            "total_gib": (weights + grads + adam) / gib}
