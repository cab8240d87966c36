"""Typed option schemas: every registered thing declares its options as a dataclass.

A schema is a plain ``@dataclass`` whose fields carry types, defaults and (in
``field(metadata=...)``) a ``doc`` string and optional ``min``/``max`` bounds.
Validation needs no heavy library, so a ``.curr`` file can be checked on a
machine without torch.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, Callable, Literal, Union

from seethink_core.errors import Diagnostic, SourcePos, did_you_mean


def opt(default: Any = MISSING, *, doc: str = "", min: float | None = None, max: float | None = None,
        default_factory: Any = MISSING) -> Any:
    """A schema field with documentation and bounds: ``lr: float = opt(1e-6, doc=..., min=0)``."""
    meta = {"doc": doc, "min": min, "max": max}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class NoOptions:
    """Schema of a component that takes no options."""


@dataclass(frozen=True)
class OptionInfo:
    name: str
    type: str
    default: Any
    required: bool
    doc: str


@functools.cache
def _hints(schema: type) -> dict[str, Any]:
    """Type hints of a schema, resolved once (get_type_hints is most of a compile's time otherwise)."""
    return typing.get_type_hints(schema)


def describe(schema: type) -> list[OptionInfo]:
    hints = _hints(schema)
    out = []
    for f in fields(schema):
        if not f.init:
            continue
        if f.default is not MISSING:
            default, required = f.default, False
        elif f.default_factory is not MISSING:
            default, required = f.default_factory(), False
        else:
            default, required = None, True
        out.append(OptionInfo(f.name, type_name(hints[f.name]), default, required, f.metadata.get("doc", "")))
    return out


def type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin in (list, tuple):
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if tp is type(None):
        return "none"
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(tp, getattr(tp, "__name__", str(tp)))


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "none"
    return type(value).__name__


class _Mismatch(Exception):
    pass


def coerce(value: Any, tp: Any) -> Any:
    """Return ``value`` converted to ``tp`` (int→float allowed), or raise ``_Mismatch``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value in args and type(value) is type(next(a for a in args if a == value)):
            return value
        raise _Mismatch(f"one of {', '.join(repr(a) for a in args)}")
    if origin in (Union, types.UnionType):
        wants = []
        # Try exact types first so 1 stays an int in `int | float`.
        for arg in sorted(args, key=lambda a: a is float):
            try:
                return coerce(value, arg)
            except _Mismatch as e:
                wants.append(str(e))
        raise _Mismatch(" or ".join(dict.fromkeys(wants)))
    if tp is type(None):
        if value is None:
            return None
        raise _Mismatch("none")
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            if args and not isinstance(value, (list, tuple, dict)):
                # A single value where a list is expected is a one-element list.
                try:
                    return [coerce(value, args[0])]
                except _Mismatch:
                    pass
            raise _Mismatch(f"a list of {type_name(args[0])}" if args else "a list")
        item = args[0] if args else Any
        return [coerce(v, item) for v in value]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise _Mismatch("a mapping")
        vt = args[1] if len(args) == 2 else Any
        return {str(k): coerce(v, vt) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch("a boolean (true or false)")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        raise _Mismatch("an integer")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch("a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch("a string")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if isinstance(value, dict):
            obj, problems = validate(tp, value)
            if problems:
                raise _Mismatch(problems[0].message)
            return obj
        raise _Mismatch(f"a {tp.__name__} mapping")
    if isinstance(value, tp):
        return value
    raise _Mismatch(type_name(tp))


def validate(schema: type, values: dict[str, Any], *, what: str = "",
             where: Callable[[str | None], SourcePos | None] | None = None) -> tuple[Any, list[Diagnostic]]:
    """Bind ``values`` to ``schema``. Returns the instance (or ``None``) and every problem found.

    ``where(name)`` gives the source position of option ``name`` (``None`` for the
    whole option list), so each problem points at its own value.
    """
    where = where or (lambda _name: None)
    label = f"{what}: " if what else ""
    hints = _hints(schema)
    known = {f.name: f for f in fields(schema) if f.init}
    problems: list[Diagnostic] = []
    bound: dict[str, Any] = {}
    for name, value in values.items():
        f = known.get(name)
        if f is None:
            hint = did_you_mean(name, known) or (
                f"it takes {', '.join(sorted(known))}" if known else "it takes no options")
            problems.append(Diagnostic(f"{label}unknown option '{name}'", where(name), hint))
            continue
        try:
            v = coerce(value, hints[name])
        except _Mismatch as e:
            problems.append(Diagnostic(
                f"{label}option '{name}' must be {e}, not {_describe_value(value)}", where(name)))
            continue
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        for item in (v if isinstance(v, list) else [v]):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                if lo is not None and item < lo:
                    problems.append(Diagnostic(f"{label}option '{name}' must be at least {lo}, not {item}",
                                               where(name)))
                    break
                if hi is not None and item > hi:
                    problems.append(Diagnostic(f"{label}option '{name}' must be at most {hi}, not {item}",
                                               where(name)))
                    break
        bound[name] = v
    for name, f in known.items():
        if name not in values and f.default is MISSING and f.default_factory is MISSING:
            problems.append(Diagnostic(f"{label}missing required option '{name}'", where(None)))
    if problems:
        return None, problems
    try:
        return schema(**bound), []
    except (TypeError, ValueError) as e:  # a schema's own __post_init__ check
        return None, [Diagnostic(f"{label}{e}", where(None))]


def to_dict(obj: Any) -> dict[str, Any]:
    """A validated options instance as plain, JSON-able data."""
    return dataclasses.asdict(obj)
