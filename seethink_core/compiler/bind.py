"""Binding a call's arguments to a schema, and validating them with ``seethink_core.types.options``.

Positional arguments bind to the schema's fields in declaration order; keyword arguments by
name. Every problem is reported at the argument it concerns.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from seethink_core.compiler.diagnostics import Diags
from seethink_core.dsl import ast
from seethink_core.errors import SourcePos
from seethink_core.types.options import init_fields, validate


@functools.lru_cache(maxsize=None)
def field_names(schema: type | None) -> tuple[str, ...]:
    """The options a schema takes, in declaration order (cached: asked once per option list, per stage)."""
    return tuple(init_fields(schema)[0]) if schema is not None else ()


@functools.lru_cache(maxsize=None)
def _all_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# Plain option values: ``dataclasses.asdict`` returns them as they are (its deepcopy of one is the
# object itself), and a value's type and repr say all that validating it depends on.
PLAIN_TYPES = (str, int, float, bool, type(None))


def bind_args(call: ast.Call, schema: type | None, what: str, diags: Diags,
              args: tuple[ast.Arg, ...] | None = None) -> dict[str, ast.Arg]:
    """``{option name: arg}`` for ``call``'s arguments (or ``args``), positional ones by field order."""
    names = field_names(schema)
    out: dict[str, ast.Arg] = {}
    seen_keyword = False
    index = 0
    for a in call.args if args is None else args:
        if a.key is None:
            if seen_keyword:
                diags.error(f"{what}: a value without a name after named options", a.pos,
                            hint="write positional values first, or name this one: name: value")
                continue
            if index >= len(names):
                takes = f"at most {len(names)} value{'s' if len(names) != 1 else ''} without names" if names \
                    else "no options"
                diags.error(f"{what} takes {takes}", a.pos,
                            hint=f"its options: {', '.join(names)}" if names else None)
                index += 1
                continue
            key = names[index]
            index += 1
        else:
            seen_keyword = True
            key = a.key.value
        if key in out:
            diags.error(f"{what}: option '{key}' is given twice", a.pos)
            continue
        out[key] = a
    return out


def check_options(schema: type, args: dict[str, ast.Arg], what: str, diags: Diags,
                  pos: SourcePos | None) -> Any | None:
    """The validated options instance (defaults filled in), or ``None`` after reporting problems."""
    values = {k: a.value.value for k, a in args.items()}
    known = field_names(schema)

    def where(name: str | None) -> SourcePos | None:
        if name is not None and name in args:
            a = args[name]
            return a.key.pos if a.key is not None and name not in known else a.value.pos
        return pos

    instance, problems = validate(schema, values, what=what, where=where)
    for p in problems:
        diags.add(p)
    return instance


def as_dict(instance: Any) -> dict[str, Any]:
    """``dataclasses.asdict``, without its recursion when every value is a plain number, string or none
    (most option sets; asdict took a fifth of compiling a 1,000-stage file)."""
    out = {name: getattr(instance, name) for name in _all_fields(type(instance))}
    if all(type(v) in PLAIN_TYPES for v in out.values()):
        return out
    return dataclasses.asdict(instance)
