"""Entry point of the seethink first-party plugin 'verl': the verl 0.9.1 cluster backend.

Imports nothing heavy (no verl, ray, vllm or torch): the backend and its checks are loaded by name
only when a plan uses them.
"""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec
from seethink_verl.options import VerlOptions

# The methods verl runs for seethink (docs/architecture.md §9): main_ppo's, and `sft` on verl's SFT trainer.
METHODS = frozenset({"grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline", "sft"})
FEATURES = frozenset({"resume_in_phase", "freeze", "multi_gpu", "multi_node", "dry_run"})


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(BackendSpec(
        name="verl", options=VerlOptions, methods=METHODS, features=FEATURES,
        factory="seethink_verl.backend:VerlBackend",
        check="seethink_verl.checks:check_plan",
        doc="verl 0.9.1 on Ray + FSDP + vLLM/SGLang: one main_ppo (or sft_trainer) job per phase"))
