"""The resolver's shared state and its small checks: option lists, numbers, strings, registry names.

Each group of ``Resolver`` methods (``resolve_*`` modules) is a mixin over ``ResolverCore``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from seethink_core.compiler.bind import PLAIN_TYPES, check_options
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.stage_spec import NamedSource
from seethink_core.dsl import ast
from seethink_core.errors import SourcePos
from seethink_core.hooks.registry import Registry
from seethink_core.types.options import SEED_HINT, seed_problem


class ResolverCore:
    """The state every group of resolver methods shares: the registry, the diagnostics, the caches."""

    def __init__(self, registry: Registry, diags: Diags, sources: dict[str, ast.SourceDef],
                 checked: dict[tuple, tuple[Any, list]] | None = None):
        self.registry = registry
        self.diags = diags
        self.sources = sources  # named sources in scope
        self._named: dict[str, NamedSource | None] = {}
        self._ranges: dict[str, tuple[float, float] | None] = {}  # reward_range, once per reward name
        self._data_lines: dict[tuple, Any] = {}  # data lines resolved without a problem, by value
        # rewards() and eval() by their statements. Per resolver, not in the shared ``_checked``: what an
        # eval line names depends on the curriculum's sources.
        self._rewards: dict[tuple, tuple] = {}
        self._evals: dict[tuple, tuple] = {}
        # Shared by the curricula of one ``seethink check`` (the keys are syntax nodes of one file).
        self._checked: dict[tuple, tuple[Any, list]] = {} if checked is None else checked

    def check(self, schema: type, args: dict[str, ast.Arg], what: str, pos: SourcePos | None) -> Any | None:
        """``check_options``, once per distinct set of argument nodes: a curriculum-level reward or
        source is validated once, not once per stage."""
        # The position by identity (hashing a SourcePos calls its dataclass __hash__, per stage); the entry
        # keeps the object, so its id cannot be reused while the key is in the cache.
        key = (schema, what, id(pos), tuple(args), tuple(map(id, args.values())))
        found = self._checked.get(key)
        if found is None:
            # The same values (a stage's `difficulty pass_rate(samples: 16)`, written once per stage) give
            # the same instance: one validated without a problem is reused, whatever its positions.
            by_value = _values_key(schema, args)
            found = self._checked.get(by_value) if by_value is not None else None
            if found is None:
                sub = Diags()
                found = (check_options(schema, args, what, sub, pos), sub.items, pos)
                if by_value is not None and not found[1]:
                    self._checked[by_value] = found
            elif found[2] is not pos:
                found = (found[0], found[1], pos)
            self._checked[key] = found
        if found[1]:
            self.diags.extend(found[1])
        return found[0]

    # --- small values -------------------------------------------------------------------------

    def integer(self, v: ast.Value, what: str, minimum: int) -> int | None:
        x = v.value
        if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
            x = int(x)
        if not isinstance(x, int) or isinstance(x, bool):
            self.diags.error(f"{what} must be a whole number, not {_kind(v)}", v.pos)
            return None
        if what == "seed":
            # Every seed (this statement, the plan's, a source's `seed:` option) has the same bounds
            # and message (options.seed_problem).
            problem = seed_problem(x)
            if problem is not None:
                self.diags.error(f"seed {problem}", v.pos, hint=SEED_HINT)
                return None
            return x
        if x < minimum:
            rule = "positive" if minimum == 1 else f"at least {minimum}"
            self.diags.error(f"{what} must be {rule}, not {x}", v.pos)
            return None
        return x

    def number(self, v: ast.Value, what: str, positive: bool = False, lo: float | None = None,
               hi: float | None = None) -> float | None:
        x = v.value
        if not isinstance(x, (int, float)) or isinstance(x, bool):
            self.diags.error(f"{what} must be a number, not {_kind(v)}", v.pos)
            return None
        if not math.isfinite(x):
            self.diags.error(f"{what} must be a finite number, not {x}", v.pos)
            return None
        if positive and x <= 0:
            self.diags.error(f"{what} must be positive, not {x}", v.pos)
            return None
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            self.diags.error(f"{what} must be between {lo} and {hi}, not {x}", v.pos)
            return None
        return float(x)

    def string(self, v: ast.Value, what: str) -> str | None:
        if not isinstance(v.value, str):
            self.diags.error(f"{what} must be a string, not {_kind(v)}", v.pos)
            return None
        return v.value

    # Readers a declared statement may name as its ``resolve`` when its value needs only its type checked
    # (dsl/statements.py): node -> value, the statement's name in the message.
    def string_of(self, stmt: ast.Setting) -> str | None:
        return self.string(stmt.value, stmt.keyword)  # type: ignore[attr-defined]

    def number_of(self, stmt: ast.Setting) -> float | None:
        return self.number(stmt.value, stmt.keyword)  # type: ignore[attr-defined]

    def whole_number_of(self, stmt: ast.Setting) -> int | None:
        return self.integer(stmt.value, stmt.keyword, 0)  # type: ignore[attr-defined]

    # --- names --------------------------------------------------------------------------------

    def spec(self, kind: str, name: ast.Name, extra: list[str] = ()) -> Any | None:
        found = self.registry.find(kind, name.value)
        if found is None:
            hint = suggest(name.value, list(self.registry.names(kind)) + list(extra))
            if hint is None:
                known = self.registry.names(kind)
                hint = f"registered: {', '.join(known)}" if known else "no plugin registers one; see `seethink plugins`"
            self.diags.error(self.registry.unknown_message(kind, name.value), name.pos, hint=hint)
        return found

    def _replayed(self, cache: dict, kind: Any, nodes: tuple, work: Any) -> Any:
        """``work()`` once per ``kind`` and distinct tuple of syntax nodes (by identity), its diagnostics
        replayed on each later call: the statements a curriculum writes once (its model, prompts,
        rewards, eval lines) are inherited by every stage, and resolving them is deterministic. The
        nodes are kept with the result, so their ids stay theirs."""
        key = (kind, *map(id, nodes))
        found = cache.get(key)
        if found is None:
            saved, self.diags = self.diags, Diags()
            try:
                found = (work(), self.diags.items, nodes)
            finally:
                self.diags = saved
            cache[key] = found
        self.diags.extend(found[1])
        return found[0]


def plain_values_key(args: Iterable[tuple[str | None, ast.Arg]]) -> tuple | None:
    """``(name, type, repr)`` of each argument's value (the type and ``repr`` keep 1, 1.0 and True, or 0.0
    and -0.0, apart), to key a cache of what was resolved from these values; ``None`` when a value is
    not a plain number, string or none (a list)."""
    out = []
    for k, a in args:
        v = a.value.value
        if type(v) not in PLAIN_TYPES:
            return None
        out.append((k, type(v), repr(v)))
    return tuple(out)


def _values_key(schema: type, args: dict[str, ast.Arg]) -> tuple | None:
    """What an option list's validation depends on: the schema and each option's value."""
    values = plain_values_key(args.items())
    return None if values is None else (schema, values)


def _kind(v: ast.Value) -> str:
    x = v.value
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, int):
        return "an integer"
    if isinstance(x, float):
        return "a number"
    if isinstance(x, str):
        return f"the word '{x}'" if v.bare else "a string"
    if isinstance(x, list):
        return "a list"
    if x is None:
        return "none"
    return type(x).__name__
