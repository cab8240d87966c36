"""The syntax tree of a ``.curr`` file: plain frozen dataclasses, a ``SourcePos`` on every node.

The parser builds these; the compiler reads them. Nothing here knows about plugins or plans.
Values are Python values (``str``, ``int``, ``float``, ``bool``, ``None``, lists of them); a bare
word in an option (``order: easy_to_hard``) is a string marked ``bare``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from seethink_core.errors import SourcePos


@dataclass(frozen=True)
class Node:
    pos: SourcePos


@dataclass(frozen=True)
class Name(Node):
    value: str


@dataclass(frozen=True)
class Value(Node):
    value: Any  # str | int | float | bool | None | list
    bare: bool = False  # written as a bare word, not a quoted string


@dataclass(frozen=True)
class Arg(Node):
    key: Name | None  # None for a positional argument
    value: Value


@dataclass(frozen=True)
class Call(Node):
    """``name`` or ``name(args)``."""

    name: Name
    args: tuple[Arg, ...] = ()


# --- settings (allowed at curriculum level and in a stage) -------------------------------------


@dataclass(frozen=True)
class Setting(Node):
    @property
    def keyword(self) -> str:
        return KEYWORDS[type(self)]


@dataclass(frozen=True)
class Model(Setting):
    value: Value


@dataclass(frozen=True)
class Backend(Setting):
    call: Call


@dataclass(frozen=True)
class Algorithm(Setting):
    call: Call


@dataclass(frozen=True)
class Prompt(Setting):
    value: Value


@dataclass(frozen=True)
class System(Setting):
    value: Value  # a string, or none (no system prompt)


@dataclass(frozen=True)
class Reward(Setting):
    call: Call
    weight: Value | None = None


@dataclass(frozen=True)
class Data(Setting):
    call: Call
    weight: Value | None = None


@dataclass(frozen=True)
class Eval(Setting):
    refs: tuple[Call, ...]
    every: Value | None = None


@dataclass(frozen=True)
class EvalEvery(Setting):
    """``eval every N steps`` without eval sets: only the cadence, over the inherited sets."""

    every: Value


@dataclass(frozen=True)
class EvalSettings(Setting):
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class Seed(Setting):
    value: Value


@dataclass(frozen=True)
class Freeze(Setting):
    parts: tuple[Name, ...]


@dataclass(frozen=True)
class Handoff(Setting):
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class Capability(Setting):
    name: Name


@dataclass(frozen=True)
class Budget(Setting):
    kind: str  # "steps" | "epochs" | "samples"
    value: Value


@dataclass(frozen=True)
class Condition(Node):
    metric: Name  # dotted: "reward.accuracy"
    op: str
    value: Value


@dataclass(frozen=True)
class Until(Setting):
    conditions: tuple[Condition, ...]
    cap: Value | None = None  # `or steps N`
    window: Value | None = None
    min_steps: Value | None = None


@dataclass(frozen=True)
class Span(Node):
    lo: Value
    hi: Value


@dataclass(frozen=True)
class Difficulty(Setting):
    source: Call | None = None  # column | pass_rate(...) | none
    order: Name | None = None
    range: Span | None = None


@dataclass(frozen=True)
class Level(Node):
    name: Name
    span: Span


@dataclass(frozen=True)
class Levels(Setting):
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Pacing(Setting):
    call: Call


@dataclass(frozen=True)
class Mix(Setting):
    name: Name  # "interleave" | "blocks"


KEYWORDS: dict[type, str] = {
    Model: "model", Backend: "backend", Algorithm: "algorithm", Prompt: "prompt", System: "system",
    Reward: "reward", Data: "data", Eval: "eval", EvalEvery: "eval every", EvalSettings: "eval settings",
    Seed: "seed", Freeze: "freeze",
    Handoff: "handoff", Capability: "capability", Budget: "budget", Until: "until",
    Difficulty: "difficulty", Levels: "levels", Pacing: "pacing", Mix: "mix",
}


# --- structure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage(Node):
    name: Name
    body: tuple[Setting, ...]


@dataclass(frozen=True)
class Merge(Node):
    """``merge a, b as name { settings }``: stages joined into one phase."""

    members: tuple[Name, ...]
    name: Name
    body: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class StageOrder(Node):
    """``stages a, b, c``: which stages, in which order."""

    names: tuple[Name, ...]


@dataclass(frozen=True)
class SourceDef(Node):
    name: Name
    call: Call


@dataclass(frozen=True)
class Import(Node):
    path: Value


Statement = Union[Setting, Stage, Merge, StageOrder, SourceDef]


@dataclass(frozen=True)
class Curriculum(Node):
    name: Name
    extends: Name | None
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class Module(Node):
    """One parsed file."""

    file: str
    items: tuple[Import | SourceDef | Curriculum | Stage, ...]
