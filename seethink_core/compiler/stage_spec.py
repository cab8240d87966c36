"""What resolving a stage gives: ``StageSpec`` and its parts (one or more phases come from a spec)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seethink_core.dsl import ast
from seethink_core.errors import SourcePos
from seethink_core.types import plan as P
from seethink_core.types.methods import OptimizerOptions
from seethink_core.types.settings import ReplayOptions

DEFAULT_METHOD = "grpo"


@dataclass
class DataItem:
    """A resolved data line with what the reward checks need."""

    ref: P.DataRef
    columns: frozenset[str]
    pos: SourcePos
    label: str  # "data source 'x'" or "source 'geo' (hf)"


@dataclass
class StageSpec:
    """A stage (or merged stages) with everything resolved; one or more phases come from it."""

    name: str
    pos: SourcePos
    stages: list[str]
    capabilities: list[str]
    model: str | None = None
    method: str = DEFAULT_METHOD
    algorithm: OptimizerOptions | None = None
    data: list[DataItem] = field(default_factory=list)
    rewards: list[tuple[P.RewardRef, frozenset[str], SourcePos]] = field(default_factory=list)
    budget: P.Budget | None = None
    prompt: str | None = None
    system: str | None = None
    transition: P.Transition | None = None
    difficulty: P.Difficulty = field(default_factory=P.Difficulty)
    levels: list[tuple[str, float, float]] | None = None
    freeze: list[str] = field(default_factory=list)
    handoff: P.HandOff = field(default_factory=P.HandOff)
    eval: P.EvalSpec | None = None
    # What `eval settings` say of the eval prompt and system prompt, only where they say it (None for
    # `system: none`); the phase's own fill the rest once the phase is final (phases.make_phases).
    eval_text: dict[str, str | None] = field(default_factory=dict)
    seed: int | None = None
    mixture: str = "interleave"
    replay_options: ReplayOptions | None = None  # the phase's Replay is made once earlier phases exist
    where: dict[str, SourcePos] = field(default_factory=dict)  # kind -> the statement that set it


@dataclass
class NamedSource:
    definition: ast.SourceDef
    spec: Any  # DataSourceSpec or None when unknown
    options: dict[str, ast.Arg]
    mapping: dict[str, ast.Arg]
