"""The hooks a seethink plugin can implement.

Registration hooks take a ``register`` callback; the core records which plugin
registered what, so a duplicate name is an error that names both plugins.
Each ``register`` call takes one spec object from ``seethink_core.hooks.registry``.
Event hooks are called by the runner; their return values are ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from seethink_core.types.plan import Phase, TrainingPlan

hookspec = pluggy.HookspecMarker("seethink")
hookimpl = pluggy.HookimplMarker("seethink")


@hookspec
def register_data_sources(register: Callable[..., None]) -> None:
    """Register data sources: ``register(DataSourceSpec(name=..., options=..., columns=..., factory=...))``.

    A data source yields ``Sample`` values lazily, declares the ``Sample`` columns
    it fills, and is deterministic for a seed.
    """


@hookspec
def register_rewards(register: Callable[..., None]) -> None:
    """Register reward functions: ``register(RewardSpec(name=..., options=..., needs=..., factory=...))``.

    The factory builds a callable ``reward(prompts, completions, **columns) -> list[float | None]``
    (TRL's convention); ``None`` means "not applicable to this sample".
    """


@hookspec
def register_backends(register: Callable[..., None]) -> None:
    """Register training backends: ``register(BackendSpec(name=..., methods=..., factory=...))``.

    The factory builds an object with ``prepare(plan, run_dir)``,
    ``run_phase(phase, init, ctx) -> PhaseResult`` and ``close()``.
    """


@hookspec
def register_evaluators(register: Callable[..., None]) -> None:
    """Register evaluators: ``register(EvaluatorSpec(name=..., factory=...))``.

    An evaluator scores a checkpoint on eval samples and returns named metrics.
    """


@hookspec
def register_models(register: Callable[..., None]) -> None:
    """Register named models: ``register(ModelSpec(name=..., factory=...))``.

    The factory materialises the model as a Hugging Face folder, so a ``.curr``
    file can say ``model "tiny-vlm"`` and any backend can load it.
    """


@hookspec
def on_phase_start(plan: "TrainingPlan", phase: "Phase", run_dir: str) -> None:
    """Called by the runner before a phase trains (not for phases skipped on resume)."""


@hookspec
def on_phase_end(plan: "TrainingPlan", phase: "Phase", run_dir: str, result: Any) -> None:
    """Called by the runner after a phase finished; ``result`` is its ``PhaseResult``."""


@hookspec
def on_log(phase: "Phase", step: int, metrics: dict[str, float]) -> None:
    """Called for every row of training or evaluation metrics (what ``metrics.jsonl`` receives)."""


REGISTRATION_HOOKS = {
    "register_data_sources": "data_source",
    "register_rewards": "reward",
    "register_backends": "backend",
    "register_evaluators": "evaluator",
    "register_models": "model",
}
EVENT_HOOKS = ("on_phase_start", "on_phase_end", "on_log")
