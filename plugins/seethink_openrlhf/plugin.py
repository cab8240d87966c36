"""Entry point of the seethink first-party plugin 'openrlhf': the OpenRLHF 0.11.2 cluster backend.

Imports nothing heavy (no ray, vllm or torch): the backend and its checks are loaded by name
only when a plan uses them.
"""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec
from seethink_openrlhf.options import OpenRLHFOptions

# The methods OpenRLHF's train_ppo_ray runs (docs/architecture.md §9 method table); `sft` is not one of them.
METHODS = frozenset({"grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline"})
FEATURES = frozenset({"resume_in_phase", "freeze", "multi_gpu", "multi_node", "dry_run"})


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(BackendSpec(
        name="openrlhf", options=OpenRLHFOptions, methods=METHODS, features=FEATURES,
        factory="seethink_openrlhf.backend:OpenRLHFBackend",
        check="seethink_openrlhf.checks:check_plan",
        doc="OpenRLHF 0.11.2 on Ray + DeepSpeed + vLLM: one train_ppo_ray job per phase"))
