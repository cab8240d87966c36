"""The syntax tree of a ``.curr`` file: plain frozen value classes, a ``SourcePos`` on every node.

The parser builds these; the compiler reads them. Nothing here knows about plugins or plans.
Values are Python values (``str``, ``int``, ``float``, ``bool``, ``None``, lists of them); a bare
word in an option (``order: easy_to_hard``) is a string marked ``bare``.

The classes behave as ``@dataclass(frozen=True)`` ones did (the same constructor, equality, hash, repr,
and no assignment after construction) but are written out: creating 30 dataclasses took 50 ms of
every ``seethink check``'s start, and a frozen dataclass's ``__init__`` (one ``object.__setattr__``
per field) was a tenth of parsing a 10,000-stage file.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar, Union

from seethink_core.errors import SourcePos

# Still dataclasses to ``dataclasses.fields``, ``replace`` and ``asdict``, with none of the methods
# ``@dataclass`` would write (and compile) for them.
_plain = dataclass(init=False, repr=False, eq=False)


@_plain
class Node:
    """Fields are ``_fields``, in constructor order; subclasses set them in ``__init__`` through
    ``__dict__`` (assignment raises, as on a frozen dataclass)."""

    _fields: ClassVar[tuple[str, ...]] = ("pos",)
    pos: SourcePos

    def __init__(self, pos: SourcePos) -> None:
        self.__dict__["pos"] = pos

    def _values(self) -> tuple:
        d = self.__dict__
        return tuple(d[f] for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        d = self.__dict__
        return f"{type(self).__qualname__}({', '.join(f'{f}={d[f]!r}' for f in self._fields)})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


@_plain
class Name(Node):
    _fields = ("pos", "value")
    value: str

    def __init__(self, pos: SourcePos, value: str) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["value"] = value


@_plain
class Value(Node):
    _fields = ("pos", "value", "bare")
    value: Any  # str | int | float | bool | None | list
    bare: bool  # written as a bare word, not a quoted string

    def __init__(self, pos: SourcePos, value: Any, bare: bool = False) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["value"] = value
        d["bare"] = bare


@_plain
class Arg(Node):
    _fields = ("pos", "key", "value")
    key: Name | None  # None for a positional argument
    value: Value

    def __init__(self, pos: SourcePos, key: Name | None, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["key"] = key
        d["value"] = value


@_plain
class Call(Node):
    """``name`` or ``name(args)``."""

    _fields = ("pos", "name", "args")
    name: Name
    args: tuple[Arg, ...]

    def __init__(self, pos: SourcePos, name: Name, args: tuple[Arg, ...] = ()) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name
        d["args"] = args


# --- settings (allowed at curriculum level and in a stage) -------------------------------------


@_plain
class Setting(Node):
    _fields = ("pos",)

    def __init__(self, pos: SourcePos) -> None:
        d = self.__dict__
        d["pos"] = pos

    @property
    def keyword(self) -> str:
        return KEYWORDS[type(self)]


@_plain
class Model(Setting):
    _fields = ("pos", "value")
    value: Value

    def __init__(self, pos: SourcePos, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["value"] = value


@_plain
class Backend(Setting):
    _fields = ("pos", "call")
    call: Call

    def __init__(self, pos: SourcePos, call: Call) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["call"] = call


@_plain
class Algorithm(Setting):
    _fields = ("pos", "call")
    call: Call

    def __init__(self, pos: SourcePos, call: Call) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["call"] = call


@_plain
class Prompt(Setting):
    _fields = ("pos", "value")
    value: Value

    def __init__(self, pos: SourcePos, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["value"] = value


@_plain
class System(Setting):
    _fields = ("pos", "value")
    value: Value  # a string, or none (no system prompt)

    def __init__(self, pos: SourcePos, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["value"] = value


@_plain
class Reward(Setting):
    _fields = ("pos", "call", "weight")
    call: Call
    weight: Value | None

    def __init__(self, pos: SourcePos, call: Call, weight: Value | None = None) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["call"] = call
        d["weight"] = weight


@_plain
class Data(Setting):
    _fields = ("pos", "call", "weight")
    call: Call
    weight: Value | None

    def __init__(self, pos: SourcePos, call: Call, weight: Value | None = None) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["call"] = call
        d["weight"] = weight


@_plain
class Eval(Setting):
    _fields = ("pos", "refs", "every")
    refs: tuple[Call, ...]
    every: Value | None

    def __init__(self, pos: SourcePos, refs: tuple[Call, ...], every: Value | None = None) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["refs"] = refs
        d["every"] = every


@_plain
class EvalEvery(Setting):
    """``eval every N steps`` without eval sets: only the cadence, over the inherited sets."""

    _fields = ("pos", "every")
    every: Value

    def __init__(self, pos: SourcePos, every: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["every"] = every


@_plain
class EvalSettings(Setting):
    _fields = ("pos", "args")
    args: tuple[Arg, ...]

    def __init__(self, pos: SourcePos, args: tuple[Arg, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["args"] = args


@_plain
class Seed(Setting):
    _fields = ("pos", "value")
    value: Value

    def __init__(self, pos: SourcePos, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["value"] = value


@_plain
class Freeze(Setting):
    _fields = ("pos", "parts")
    parts: tuple[Name, ...]

    def __init__(self, pos: SourcePos, parts: tuple[Name, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["parts"] = parts


@_plain
class Handoff(Setting):
    _fields = ("pos", "args")
    args: tuple[Arg, ...]

    def __init__(self, pos: SourcePos, args: tuple[Arg, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["args"] = args


@_plain
class Capability(Setting):
    _fields = ("pos", "name")
    name: Name

    def __init__(self, pos: SourcePos, name: Name) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name


@_plain
class Budget(Setting):
    _fields = ("pos", "kind", "value")
    kind: str  # "steps" | "epochs" | "samples"
    value: Value

    def __init__(self, pos: SourcePos, kind: str, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["kind"] = kind
        d["value"] = value


@_plain
class Condition(Node):
    _fields = ("pos", "metric", "op", "value")
    metric: Name  # dotted: "reward.accuracy"
    op: str
    value: Value

    def __init__(self, pos: SourcePos, metric: Name, op: str, value: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["metric"] = metric
        d["op"] = op
        d["value"] = value


@_plain
class Until(Setting):
    _fields = ("pos", "conditions", "cap", "window", "min_steps")
    conditions: tuple[Condition, ...]
    cap: Value | None  # `or steps N`
    window: Value | None
    min_steps: Value | None

    def __init__(self, pos: SourcePos, conditions: tuple[Condition, ...], cap: Value | None = None,
                 window: Value | None = None, min_steps: Value | None = None) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["conditions"] = conditions
        d["cap"] = cap
        d["window"] = window
        d["min_steps"] = min_steps


@_plain
class Span(Node):
    _fields = ("pos", "lo", "hi")
    lo: Value
    hi: Value

    def __init__(self, pos: SourcePos, lo: Value, hi: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["lo"] = lo
        d["hi"] = hi


@_plain
class Difficulty(Setting):
    _fields = ("pos", "source", "order", "range")
    source: Call | None  # column | pass_rate(...) | none
    order: Name | None
    range: Span | None

    def __init__(self, pos: SourcePos, source: Call | None = None, order: Name | None = None,
                 range: Span | None = None) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["source"] = source
        d["order"] = order
        d["range"] = range


@_plain
class Level(Node):
    _fields = ("pos", "name", "span")
    name: Name
    span: Span

    def __init__(self, pos: SourcePos, name: Name, span: Span) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name
        d["span"] = span


@_plain
class Levels(Setting):
    _fields = ("pos", "levels")
    levels: tuple[Level, ...]

    def __init__(self, pos: SourcePos, levels: tuple[Level, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["levels"] = levels


@_plain
class Pacing(Setting):
    _fields = ("pos", "call")
    call: Call

    def __init__(self, pos: SourcePos, call: Call) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["call"] = call


@_plain
class Mix(Setting):
    _fields = ("pos", "name")
    name: Name  # "interleave" | "blocks"

    def __init__(self, pos: SourcePos, name: Name) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name


KEYWORDS: dict[type, str] = {
    Model: "model", Backend: "backend", Algorithm: "algorithm", Prompt: "prompt", System: "system",
    Reward: "reward", Data: "data", Eval: "eval", EvalEvery: "eval every", EvalSettings: "eval settings",
    Seed: "seed", Freeze: "freeze",
    Handoff: "handoff", Capability: "capability", Budget: "budget", Until: "until",
    Difficulty: "difficulty", Levels: "levels", Pacing: "pacing", Mix: "mix",
}


# --- structure ----------------------------------------------------------------------------------


@_plain
class Stage(Node):
    _fields = ("pos", "name", "body")
    name: Name
    body: tuple[Setting, ...]

    def __init__(self, pos: SourcePos, name: Name, body: tuple[Setting, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name
        d["body"] = body


@_plain
class Merge(Node):
    """``merge a, b as name { settings }``: stages joined into one phase."""

    _fields = ("pos", "members", "name", "body")
    members: tuple[Name, ...]
    name: Name
    body: tuple[Setting, ...]

    def __init__(self, pos: SourcePos, members: tuple[Name, ...], name: Name, body: tuple[Setting, ...] = ()) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["members"] = members
        d["name"] = name
        d["body"] = body


@_plain
class StageOrder(Node):
    """``stages a, b, c``: which stages, in which order."""

    _fields = ("pos", "names")
    names: tuple[Name, ...]

    def __init__(self, pos: SourcePos, names: tuple[Name, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["names"] = names


@_plain
class SourceDef(Node):
    _fields = ("pos", "name", "call")
    name: Name
    call: Call

    def __init__(self, pos: SourcePos, name: Name, call: Call) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name
        d["call"] = call


@_plain
class Import(Node):
    _fields = ("pos", "path")
    path: Value

    def __init__(self, pos: SourcePos, path: Value) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["path"] = path


Statement = Union[Setting, Stage, Merge, StageOrder, SourceDef]


@_plain
class Curriculum(Node):
    _fields = ("pos", "name", "extends", "body")
    name: Name
    extends: Name | None
    body: tuple[Statement, ...]

    def __init__(self, pos: SourcePos, name: Name, extends: Name | None, body: tuple[Statement, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["name"] = name
        d["extends"] = extends
        d["body"] = body


@_plain
class Module(Node):
    """One parsed file."""

    _fields = ("pos", "file", "items")
    file: str
    items: tuple[Import | SourceDef | Curriculum | Stage, ...]

    def __init__(self, pos: SourcePos, file: str, items: tuple[Import | SourceDef | Curriculum | Stage, ...]) -> None:
        d = self.__dict__
        d["pos"] = pos
        d["file"] = file
        d["items"] = items
