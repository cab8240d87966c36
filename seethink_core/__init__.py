"""seethink core: the curriculum DSL, its compiler, the plan, plugins and the runner.

The public API a script needs::

    from seethink_core import load_plugins, compile_file, TrainingPlan
    plan = compile_file("curricula/demo.curr", curriculum="demo")

and a plugin (docs/architecture.md §6)::

    from seethink_core import RewardSpec, hookimpl, opt

The modules behind these names are arranged in layers (docs/architecture.md §3); these names stay
where they are when a module moves.

Importing this package imports no torch, transformers, datasets, ray or vllm.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time each name is imported on first use
    from seethink_core.errors import Diagnostic, DslError, SeethinkError, SourcePos
    from seethink_core.hooks.backend import Checkpoint, PhaseContext, PhaseResult
    from seethink_core.hooks.hookspecs import hookimpl
    from seethink_core.hooks.manager import get_plugins, load_plugins
    from seethink_core.hooks.registry import BackendSpec, DataSourceSpec, EvaluatorSpec, ModelSpec, RewardSpec
    from seethink_core.types.methods import METHODS
    from seethink_core.types.options import OptionError, opt
    from seethink_core.types.plan import (
        Budget,
        DataRef,
        Difficulty,
        EvalSpec,
        HandOff,
        Phase,
        RewardRef,
        TrainingPlan,
        Transition,
        plan_hash,
    )
    from seethink_core.types.sample import Sample

# The public names and the module each lives in. Imported on first use (PEP 562), so that a command
# pays only for what it touches: `seethink check` never needs the backend contract, for instance.
_LAZY = {
    **dict.fromkeys(("Checkpoint", "PhaseContext", "PhaseResult"), "seethink_core.hooks.backend"),
    **dict.fromkeys(("Diagnostic", "DslError", "SeethinkError", "SourcePos"), "seethink_core.errors"),
    "METHODS": "seethink_core.types.methods",
    **dict.fromkeys(("Budget", "DataRef", "Difficulty", "EvalSpec", "HandOff", "Phase", "RewardRef",
                     "TrainingPlan", "Transition", "plan_hash"), "seethink_core.types.plan"),
    **dict.fromkeys(("get_plugins", "load_plugins"), "seethink_core.hooks.manager"),
    "hookimpl": "seethink_core.hooks.hookspecs",
    **dict.fromkeys(("opt", "OptionError"), "seethink_core.types.options"),
    **dict.fromkeys(("BackendSpec", "DataSourceSpec", "EvaluatorSpec", "ModelSpec", "RewardSpec"),
                    "seethink_core.hooks.registry"),
    "Sample": "seethink_core.types.sample",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seethink_core' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def compile_file(path: str, curriculum: str | None = None, backend: str | None = None,
                 overrides: dict[str, object] | None = None) -> TrainingPlan:
    """Parse and compile a ``.curr`` file into a plan (raises ``SeethinkError`` with every problem)."""
    from seethink_core.compiler import compile_path

    return compile_path(path, curriculum=curriculum, backend=backend, overrides=overrides or {})


__all__ = [
    "__version__", "load_plugins", "get_plugins", "compile_file", "TrainingPlan", "Phase", "DataRef",
    "RewardRef", "Budget", "Transition", "Difficulty", "HandOff", "EvalSpec", "plan_hash", "Sample",
    "Checkpoint", "PhaseContext", "PhaseResult", "METHODS", "SeethinkError", "DslError", "Diagnostic",
    "SourcePos", "DataSourceSpec", "RewardSpec", "BackendSpec", "EvaluatorSpec", "ModelSpec", "hookimpl", "opt",
    "OptionError",
]
