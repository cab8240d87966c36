"""Typed option schemas: every registered thing declares its options as a dataclass.

A schema is a plain ``@dataclass`` whose fields carry types, defaults and (in
``field(metadata=...)``) a ``doc`` string, optional ``min``/``max`` (inclusive) and
``gt``/``lt`` (exclusive) bounds, and a ``hint`` saying why the bounds are what they are.
Validation needs no heavy library, so a ``.curr`` file can be checked on a
machine without torch.

An option named ``seed`` (or ``*_seed``) without bounds of its own takes the bounds of every
seed, ``0..SEED_MAX``. A schema's ``__post_init__`` may raise ``OptionError`` to report a
problem of one option at that option's place, with a hint.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, Callable, Literal, Union

from seethink_core.errors import Diagnostic, SourcePos, did_you_mean

# Seeds are stored and handed to numpy, torch and random as signed 64-bit integers.
SEED_MAX = 2**63 - 1
SEED_HINT = "a seed is a whole number from 0 to 2^63-1 (it is stored as a signed 64-bit integer)"


def seed_problem(value: int) -> str | None:
    """Why ``value`` is no seed (the text after "seed"/"option 'seed'"), or None."""
    if 0 <= value <= SEED_MAX:
        return None
    return f"must be between 0 and 2^63-1, not {value}"


class OptionError(ValueError):
    """Raised by a schema's ``__post_init__``: a problem of one option, reported at its value."""

    def __init__(self, option: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.option = option
        self.hint = hint


def opt(default: Any = MISSING, *, doc: str = "", min: float | None = None, max: float | None = None,
        gt: float | None = None, lt: float | None = None, hint: str | None = None,
        default_factory: Any = MISSING) -> Any:
    """A schema field with documentation and bounds: ``lr: float = opt(1e-6, doc=..., gt=0, max=1)``.

    ``min``/``max`` are inclusive, ``gt``/``lt`` exclusive (``top_p`` in (0, 1]: ``gt=0, max=1``);
    ``hint`` is shown with a value out of bounds (say why the bound is there and what to write)."""
    meta = {"doc": doc, "min": min, "max": max, "gt": gt, "lt": lt, "hint": hint}
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


@functools.cache
def init_fields(schema: type) -> tuple[dict[str, dataclasses.Field], tuple[str, ...]]:
    """A schema's ``{name: field}`` of the options it takes, and those without a default, once per
    schema (``validate`` runs once per option list of every stage)."""
    known = {f.name: f for f in fields(schema) if f.init}
    required = tuple(n for n, f in known.items() if f.default is MISSING and f.default_factory is MISSING)
    return known, required


_SHAPES: dict[int, tuple[Any, Any, tuple]] = {}


def _shape(tp: Any) -> tuple[Any, tuple]:
    """``typing.get_origin`` and ``get_args`` of a type hint, once per hint. Keyed by the hint's
    identity, not equality: ``Literal["a", "b"] == Literal["b", "a"]``, and the choices' order is the
    order an error message lists them in. The entry keeps the hint alive, so its id is never reused."""
    hit = _SHAPES.get(id(tp))
    if hit is not None and hit[0] is tp:
        return hit[1], hit[2]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    _SHAPES[id(tp)] = (tp, origin, args)
    return origin, args


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
    # The plain types first: they are most options, and have no origin or arguments to look up.
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch("a number")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        raise _Mismatch("an integer")
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch("a string")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch("a boolean (true or false)")
    origin, args = _shape(tp)
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
    known, required = init_fields(schema)
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
        for item in (v if isinstance(v, list) else [v]):
            problem = bound_problem(name, f.metadata, item)
            if problem is not None:
                problems.append(Diagnostic(f"{label}option '{name}' {problem[0]}", where(name), problem[1]))
                break
        bound[name] = v
    for name in required:
        if name not in values:
            problems.append(Diagnostic(f"{label}missing required option '{name}'", where(None)))
    if problems:
        return None, problems
    try:
        return schema(**bound), []
    except OptionError as e:
        return None, [Diagnostic(f"{label}{e}", where(e.option if e.option in values else None), e.hint)]
    except (TypeError, ValueError) as e:  # a schema's own __post_init__ check
        # "option 'x' ..." is about option x: point at its value when it is written.
        named = re.match(r"option '(\w+)'", str(e))
        at = named.group(1) if named and named.group(1) in values else None
        return None, [Diagnostic(f"{label}{e}", where(at))]


def _is_seed(name: str) -> bool:
    return name == "seed" or name.endswith("_seed")


def bound_problem(name: str, meta: Any, item: Any) -> tuple[str, str | None] | None:
    """What is wrong with the number ``item`` for option ``name`` (text after "option 'name'", and a
    hint), or None. Not a number: nothing to check here."""
    if not isinstance(item, (int, float)) or isinstance(item, bool):
        return None
    hint = meta.get("hint")
    if isinstance(item, float) and not math.isfinite(item):
        return f"must be a finite number, not {item}", hint
    lo, hi, gt, lt = meta.get("min"), meta.get("max"), meta.get("gt"), meta.get("lt")
    if isinstance(item, int) and _is_seed(name) and (lo, hi, gt, lt) == (None, None, None, None):
        problem = seed_problem(item)
        return (problem, SEED_HINT) if problem else None
    if lo is not None and item < lo:
        return f"must be at least {lo}, not {_number(item)}", hint
    if gt is not None and item <= gt:
        return f"must be above {gt}, not {_number(item)}", hint
    if hi is not None and item > hi:
        return f"must be at most {hi}, not {_number(item)}", hint
    if lt is not None and item >= lt:
        return f"must be below {lt}, not {_number(item)}", hint
    return None


def _number(x: int | float) -> str:
    """A number as written: 0, not the 0.0 a float option coerces it to."""
    return str(int(x)) if isinstance(x, float) and x.is_integer() and abs(x) < 1e16 else str(x)


def to_dict(obj: Any) -> dict[str, Any]:
    """A validated options instance as plain, JSON-able data."""
    return dataclasses.asdict(obj)
