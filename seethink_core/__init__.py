"""seethink core: the curriculum DSL, its compiler, the plan, plugins and the runner.

The public API a script needs::

    from seethink_core import load_plugins, compile_file, TrainingPlan
    plan = compile_file("curricula/demo.curr", curriculum="demo")

Importing this package imports no torch, transformers, datasets, ray or vllm.
"""

from __future__ import annotations

__version__ = "0.1.0"

from seethink_core.backend import Checkpoint, PhaseContext, PhaseResult
from seethink_core.errors import Diagnostic, DslError, SeethinkError, SourcePos
from seethink_core.methods import METHODS
from seethink_core.plan import (
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
from seethink_core.plugins import get_plugins, load_plugins
from seethink_core.registry import BackendSpec, DataSourceSpec, EvaluatorSpec, ModelSpec, RewardSpec
from seethink_core.sample import Sample


def compile_file(path: str, curriculum: str | None = None, backend: str | None = None,
                 overrides: dict[str, object] | None = None) -> TrainingPlan:
    """Parse and compile a ``.curr`` file into a plan (raises ``SeethinkError`` with every problem)."""
    from seethink_core.compiler import compile_path

    return compile_path(path, curriculum=curriculum, backend=backend, overrides=overrides or {})


__all__ = [
    "__version__", "load_plugins", "get_plugins", "compile_file", "TrainingPlan", "Phase", "DataRef",
    "RewardRef", "Budget", "Transition", "Difficulty", "HandOff", "EvalSpec", "plan_hash", "Sample",
    "Checkpoint", "PhaseContext", "PhaseResult", "METHODS", "SeethinkError", "DslError", "Diagnostic",
    "SourcePos", "DataSourceSpec", "RewardSpec", "BackendSpec", "EvaluatorSpec", "ModelSpec",
]
