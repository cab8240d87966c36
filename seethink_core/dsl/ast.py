"""The syntax tree of a ``.curr`` file: plain frozen value classes, a ``SourcePos`` on every node.

The parser builds these; the compiler reads them. Nothing here knows about plugins or plans.
Values are Python values (``str``, ``int``, ``float``, ``bool``, ``None``, lists of them); a bare
word in an option (``order: easy_to_hard``) is a string marked ``bare``.

The classes behave as ``@dataclass(frozen=True)`` ones did (the same constructor, equality, hash, repr,
and no assignment after construction) but ``@_node`` builds them more cheaply: creating 30 frozen
dataclasses took 50 ms of every ``seethink check``'s start, and a frozen dataclass's ``__init__`` (one
``object.__setattr__`` per field) was a tenth of parsing a 10,000-stage file. A node is declared
like a dataclass: its fields as annotations, in constructor order, defaults after ``=``.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar, Union

from seethink_core.errors import SourcePos

# Still dataclasses to ``dataclasses.fields``, ``replace`` and ``asdict``, with none of the methods
# ``@dataclass`` would write (and compile) for them.
_plain = dataclass(init=False, repr=False, eq=False)


def _node(cls: type) -> type:
    """Give ``cls`` an ``__init__`` that stores its fields (the inherited ones first, then its own
    annotations) straight into ``__dict__``: assignment raises, as on a frozen dataclass."""
    inherited: tuple[str, ...] = getattr(cls, "_fields", ())
    own = [n for n, t in cls.__dict__.get("__annotations__", {}).items()
           if not str(t).startswith("ClassVar") and n not in inherited]
    fields = inherited + tuple(own)
    defaults = {**getattr(cls, "_defaults", {}), **{f: cls.__dict__[f] for f in own if f in cls.__dict__}}
    params = ", ".join(f"{f}=_default_{f}" if f in defaults else f for f in fields)
    stores = "".join(f"    d[{f!r}] = {f}\n" for f in fields)
    namespace = {f"_default_{f}": v for f, v in defaults.items()}
    exec(f"def __init__(self, {params}):\n    d = self.__dict__\n{stores}", namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    cls._fields, cls._defaults = fields, defaults  # type: ignore[attr-defined]
    return _plain(cls)


@_node
class Node:
    """Fields are ``_fields``, in constructor order."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    pos: SourcePos

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


@_node
class Name(Node):
    value: str


@_node
class Value(Node):
    value: Any  # str | int | float | bool | None | list
    bare: bool = False  # written as a bare word, not a quoted string


@_node
class Arg(Node):
    key: Name | None  # None for a positional argument
    value: Value


@_node
class Call(Node):
    """``name`` or ``name(args)``."""

    name: Name
    args: tuple[Arg, ...] = ()


# --- settings (allowed at curriculum level and in a stage) -------------------------------------


@_node
class Setting(Node):

    @property
    def keyword(self) -> str:
        """Its name in messages ("model", "eval settings"): its declaration's (dsl/statements.py)."""
        from seethink_core.dsl.statements import BY_NODE

        return BY_NODE[type(self)].name


@_node
class Model(Setting):
    value: Value


@_node
class Backend(Setting):
    call: Call


@_node
class Algorithm(Setting):
    call: Call


@_node
class Prompt(Setting):
    value: Value


@_node
class System(Setting):
    value: Value  # a string, or none (no system prompt)


@_node
class Reward(Setting):
    call: Call
    weight: Value | None = None


@_node
class Data(Setting):
    call: Call
    weight: Value | None = None


@_node
class Eval(Setting):
    refs: tuple[Call, ...]
    every: Value | None = None


@_node
class EvalEvery(Setting):
    """``eval every N steps`` without eval sets: only the cadence, over the inherited sets."""

    every: Value


@_node
class EvalSettings(Setting):
    args: tuple[Arg, ...]


@_node
class Seed(Setting):
    value: Value


@_node
class Freeze(Setting):
    parts: tuple[Name, ...]


@_node
class Handoff(Setting):
    args: tuple[Arg, ...]


@_node
class Capability(Setting):
    name: Name


@_node
class Budget(Setting):
    kind: str  # "steps" | "epochs" | "samples"
    value: Value


@_node
class Condition(Node):
    metric: Name  # dotted: "reward.accuracy"
    op: str
    value: Value


@_node
class Until(Setting):
    conditions: tuple[Condition, ...]
    cap: Value | None = None  # `or steps N`
    window: Value | None = None
    min_steps: Value | None = None



def until_of(pos: SourcePos, items: list) -> Until:
    """An ``until`` from its parts as written: ``Condition`` nodes and ``(clause, Value)`` pairs
    (``cap``, ``window``, ``min_steps``). A second ``or steps N`` becomes a condition, which the
    compiler reports. Both parsers build it here."""
    conditions: list[Condition] = []
    found: dict[str, Value] = {}
    extra_caps: list[Value] = []
    for item in items:
        if isinstance(item, Condition):
            conditions.append(item)
        elif item[0] == "cap" and "cap" in found:
            extra_caps.append(item[1])
        else:
            found[item[0]] = item[1]
    for cap in extra_caps:
        conditions.append(Condition(cap.pos, Name(cap.pos, "steps"), ">=", cap))
    return Until(pos, tuple(conditions), found.get("cap"), found.get("window"), found.get("min_steps"))

@_node
class Span(Node):
    lo: Value
    hi: Value


@_node
class Difficulty(Setting):
    source: Call | None = None  # column | pass_rate(...) | none
    order: Name | None = None
    range: Span | None = None


@_node
class Level(Node):
    name: Name
    span: Span


@_node
class Levels(Setting):
    levels: tuple[Level, ...]


@_node
class Pacing(Setting):
    call: Call


@_node
class Mix(Setting):
    name: Name  # "interleave" | "blocks"


def setting_node(name: str, **fields: Any) -> type:
    """A setting's node made where the statement is declared (dsl/statements.py), for a statement of a
    common shape: ``setting_node("Replay", value=Value)`` is the class ``Replay(Setting)`` with a
    position and a ``value``, as if written here."""
    cls = type(name, (Setting,), {"__annotations__": dict(fields), "__module__": __name__,
                                  "__qualname__": name})
    return _node(cls)




# --- structure ----------------------------------------------------------------------------------


@_node
class Stage(Node):
    name: Name
    body: tuple[Setting, ...]


@_node
class Merge(Node):
    """``merge a, b as name { settings }``: stages joined into one phase."""

    members: tuple[Name, ...]
    name: Name
    body: tuple[Setting, ...] = ()


@_node
class StageOrder(Node):
    """``stages a, b, c``: which stages, in which order."""

    names: tuple[Name, ...]


@_node
class SourceDef(Node):
    name: Name
    call: Call


@_node
class Import(Node):
    path: Value


Statement = Union[Setting, Stage, Merge, StageOrder, SourceDef]


@_node
class Curriculum(Node):
    name: Name
    extends: Name | None
    body: tuple[Statement, ...]


@_node
class Module(Node):
    """One parsed file."""

    file: str
    items: tuple[Import | SourceDef | Curriculum | Stage, ...]
