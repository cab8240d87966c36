"""Entry point of the seethink first-party plugin 'local': the embedded PyTorch backend and the tiny VLMs.

Imports nothing heavy: factories are ``"module:attribute"`` strings loaded on first use.
"""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec, ModelSpec
from seethink_core.types.methods import METHODS
from seethink_local.options import LocalOptions, Tiny10MOptions, TinyVLMOptions

FEATURES = frozenset({"generate", "lora", "gradient_checkpointing", "freeze", "carry_optimizer", "text_only",
                      "resume_in_phase"})


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(BackendSpec(
        name="local", options=LocalOptions, methods=frozenset(METHODS), features=FEATURES,
        factory="seethink_local.backend:LocalBackend",
        doc="embedded PyTorch + transformers training, one process (CPU or one GPU)"))


@hookimpl
def register_models(register: Callable[..., None]) -> None:
    register(ModelSpec(
        name="tiny-vlm", options=TinyVLMOptions, factory="seethink_local.tiny_model:build_tiny_vlm",
        doc="a ~0.4M-parameter Qwen2.5-VL (hidden 64, 2 layers) built offline; trains on a CPU"))
    register(ModelSpec(
        name="tiny-vlm-10m", options=Tiny10MOptions, factory="seethink_local.tiny_model:build_tiny_vlm_10m",
        doc="a ~10M-parameter Qwen2.5-VL built offline"))
