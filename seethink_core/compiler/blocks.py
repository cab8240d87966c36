"""Settings of one body (a curriculum, a stage, a merge block) and how layers of them combine.

A ``Block`` keeps one entry per kind of setting, in the slot its declaration's ``layering`` names
(dsl/statements.py). ``layer(base, top)`` is the one override rule used everywhere: by a stage over its
curriculum, by an ``extends`` child over its parent, and by ``--set`` over the file (docs/dsl.md, rules
table):

- SINGLE (model, prompt, system, seed, freeze, capability, budget, until, levels, pacing, mix, backend,
  the eval cadence): the top layer's replaces the base's;
- METHOD (``algorithm``/``method``): the same method merges options key by key; another method replaces;
- KEYED (``handoff``, ``eval settings``): merged key by key;
- CLAUSES (``difficulty``): merged clause by clause (source, order, range);
- LIST (``data``, ``reward``, ``eval``): a layer that has any lines replaces the whole list.

The eval cadence is the top-most of ``eval every N steps`` (cadence only) and the ``every`` of the
effective ``eval`` lines: lines in a layer above a cadence-only statement bring their own cadence.
Greedy or sampled evaluation is the top-most layer's word on it: ``greedy:``, or else a sampling
setting (``temperature``, ``top_p``, ``n`` above 1), which stands for ``greedy: false``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seethink_core.compiler.bind import bind_args
from seethink_core.compiler.diagnostics import Diags
from seethink_core.dsl import ast
from seethink_core.dsl.statements import BY_NODE, CLAUSES, KEYED, LIST, METHOD, SINGLE
from seethink_core.errors import SourcePos
from seethink_core.types.methods import METHODS

# Eval settings that only mean something when sampling (n counts only above 1: one completion is
# what greedy decoding gives too).
SAMPLING_KEYS = ("temperature", "top_p", "n")


@dataclass
class AlgoLayer:
    """An algorithm as layered so far: the method and its options (each with its position)."""

    method: ast.Name
    pos: SourcePos
    options: dict[str, ast.Arg] = field(default_factory=dict)


@dataclass
class Block:
    """One slot per kind of statement (``Statement.kind``), by how layers combine it (``layering``)."""

    owner: str  # "curriculum 'x'", "stage 'y'": for messages
    pos: SourcePos | None = None
    single: dict[str, ast.Setting] = field(default_factory=dict)  # SINGLE
    algorithm: AlgoLayer | None = None  # METHOD
    algorithm_extra: dict[str, ast.Arg] = field(default_factory=dict)  # --set algorithm.KEY=V: any method
    # KEYED (option name -> ast.Arg) and CLAUSES (clause -> node): merged key by key.
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[ast.Setting]] = field(default_factory=dict)  # LIST
    # True when this block is itself a fold whose algorithm switched method on the way: a layer below
    # it must then not merge options into it. With this flag ``layer`` is associative (``--set``'s
    # ``algorithm_extra`` aside, which only the last layer carries), so an ``extends`` chain can be
    # folded once per curriculum and reused by its children instead of re-folded by each.
    algorithm_reset: bool = False

    def copy(self) -> "Block":
        # The constructor, not dataclasses.replace (which inspects the fields on every call): one copy
        # per stage per layer.
        return Block(self.owner, self.pos, dict(self.single), self.algorithm, dict(self.algorithm_extra),
                     {k: dict(v) for k, v in self.parts.items()}, {k: list(v) for k, v in self.lists.items()},
                     self.algorithm_reset)

    def part(self, kind: str) -> dict[str, Any]:
        """A KEYED or CLAUSES slot, to read or fill."""
        found = self.parts.get(kind)
        if found is None:
            found = self.parts[kind] = {}
        return found

    @property
    def handoff(self) -> dict[str, ast.Arg]:
        return self.part("handoff")

    @property
    def eval_settings(self) -> dict[str, ast.Arg]:
        return self.part("eval_settings")

    @property
    def difficulty(self) -> dict[str, Any]:  # "source" | "order" | "range" -> node
        return self.part("difficulty")

    def sets(self, kind: str) -> bool:
        """Whether this body (or layer) writes a statement of ``kind``."""
        if kind in self.single:
            return True
        if kind == "algorithm":
            return self.algorithm is not None or bool(self.algorithm_extra)
        return bool(self.parts.get(kind) or self.lists.get(kind))

    def empty(self) -> bool:
        return not (self.single or self.algorithm or self.algorithm_extra or any(self.parts.values())
                    or any(self.lists.values()))


def _first_at(pos: SourcePos) -> str:
    return f"first set at {pos.file}:{pos.line}"


def _keyed_args(args: tuple[ast.Arg, ...], into: dict[str, ast.Arg], what: str, diags: Diags) -> None:
    seen: set[str] = set()
    for a in args:
        if a.key is None:  # the grammar only allows `key: value` here
            continue
        if a.key.value in seen:
            diags.error(f"{what}: '{a.key.value}' is given twice", a.key.pos)
        seen.add(a.key.value)
        into[a.key.value] = a


def _listed(words: tuple[str, ...]) -> str:
    """("source", "order", "range") -> "a source, an order or a range"."""
    named = [("an " if w[0] in "aeiou" else "a ") + w for w in words]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"


def build_block(owner: str, pos: SourcePos | None, body: tuple, diags: Diags) -> Block:
    """The settings of one body, each into its slot by its declaration; a setting given twice in one
    body is an error."""
    block = Block(owner, pos)
    for stmt in body:
        decl = BY_NODE[type(stmt)]
        rule = decl.layering
        if rule == SINGLE:
            if isinstance(stmt, ast.Until) and stmt.cap is not None:  # `or steps N` is the phase's budget
                cap_budget = ast.Budget(stmt.cap.pos, "steps", stmt.cap)
                _set_single(block, "budget", cap_budget, owner, diags, "until ... or steps")
            word = stmt.kind if isinstance(stmt, ast.Budget) else decl.name
            _set_single(block, decl.kind, stmt, owner, diags, word)
        elif rule == LIST:
            block.lists.setdefault(decl.kind, []).append(stmt)
        elif rule == KEYED:
            _keyed_args(stmt.args, block.part(decl.kind), decl.name, diags)
        elif rule == CLAUSES:
            into = block.part(decl.kind)
            for part in decl.clauses:
                node = getattr(stmt, part)
                if node is None:
                    continue
                if part in into:
                    diags.error(f"{owner} gives the {decl.name} {part} twice", node.pos)
                into[part] = node
            if all(getattr(stmt, part) is None for part in decl.clauses):
                diags.error(f"{decl.name} needs {_listed(decl.clauses)}", stmt.pos, hint=decl.hint or None)
        elif rule == METHOD:
            if block.algorithm is not None:
                diags.error(f"{owner} sets its algorithm twice", stmt.pos, hint=_first_at(block.algorithm.pos))
            schema = METHODS.get(stmt.call.name.value)
            options = bind_args(stmt.call, schema, f"method '{stmt.call.name.value}'", diags) if schema else {}
            block.algorithm = AlgoLayer(stmt.call.name, stmt.pos, options)
    _same_block_cadence(block, diags)
    if "eval_settings" in block.parts:
        imply_sampling(block.eval_settings, diags)
    return block


def _same_block_cadence(block: Block, diags: Diags) -> None:
    """``eval every N steps`` and an ``eval ... every M steps`` line of the same body must agree."""
    cadence = block.single.get("eval_every")
    if not isinstance(cadence, ast.EvalEvery):
        return
    for stmt in block.lists.get("eval", []):
        if isinstance(stmt, ast.Eval) and stmt.every is not None and stmt.every.value != cadence.every.value:
            diags.error(f"eval every {_shown(cadence.every)} steps contradicts every {_shown(stmt.every)} steps",
                        cadence.every.pos, hint=f"the other is at {stmt.pos.file}:{stmt.pos.line}; one body has "
                                                "one eval cadence")


def _shown(v: ast.Value) -> str:
    x = v.value
    return f"{x:g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else repr(x)


def sampling_args(settings: dict[str, ast.Arg]) -> list[ast.Arg]:
    """The eval settings of one layer that ask for sampling (``n`` only above 1)."""
    out = []
    for key in SAMPLING_KEYS:
        arg = settings.get(key)
        if arg is None:
            continue
        x = arg.value.value
        if key == "n" and not (isinstance(x, (int, float)) and not isinstance(x, bool) and x > 1):
            continue
        out.append(arg)
    return out


def imply_sampling(settings: dict[str, ast.Arg], diags: Diags) -> None:
    """One layer's eval settings: a sampling setting without ``greedy:`` stands for ``greedy: false``
    (stored as one, so it layers like a written one); beside ``greedy: true`` it is an error."""
    asked = sampling_args(settings)
    greedy = settings.get("greedy")
    if not asked:
        return
    if greedy is None:
        first = asked[0]
        settings["greedy"] = ast.Arg(first.pos, ast.Name(first.pos, "greedy"), ast.Value(first.pos, False))
        return
    if greedy.value.value is not True:
        return
    for arg in asked:
        key = arg.key.value if arg.key is not None else "?"
        diags.error(f"eval settings: {key} {_shown(arg.value)} has no effect with greedy: true", arg.pos,
                    hint=f"set greedy: false to sample, or drop {key} (greedy decoding is one completion at "
                         "temperature 0)")


def _set_single(block: Block, kind: str, stmt: ast.Setting, owner: str, diags: Diags, word: str) -> None:
    prev = block.single.get(kind)
    if prev is not None:
        if kind == "budget":
            diags.error(f"{owner} has two budgets", stmt.pos,
                        hint=f"a phase has one budget (steps, epochs or samples; `until ... or steps N` "
                             f"is one too); {_first_at(prev.pos)}")
        else:
            diags.error(f"{owner} sets '{word}' twice", stmt.pos, hint=_first_at(prev.pos))
        return
    block.single[kind] = stmt


def layer(base: Block, top: Block) -> Block:
    """``top`` over ``base`` (see the module docstring)."""
    out = base.copy()
    out.owner = top.owner
    out.pos = top.pos or base.pos
    if top.lists.get("eval") and "eval_every" not in top.single:
        out.single.pop("eval_every", None)  # new eval lines bring their own cadence
    out.single.update(top.single)
    if top.algorithm is not None:
        same = base.algorithm is not None and base.algorithm.method.value == top.algorithm.method.value
        if same and not top.algorithm_reset:
            out.algorithm = AlgoLayer(top.algorithm.method, top.algorithm.pos,
                                      {**base.algorithm.options, **top.algorithm.options})
            for key in top.algorithm.options:  # a more specific layer beats an earlier --set
                out.algorithm_extra.pop(key, None)
        else:
            out.algorithm = top.algorithm
            out.algorithm_extra = {}
            out.algorithm_reset = top.algorithm_reset or base.algorithm is not None
    out.algorithm_extra.update(top.algorithm_extra)
    for kind, part in top.parts.items():
        if part:
            out.part(kind).update(part)
    for kind, stmts in top.lists.items():
        if stmts:
            out.lists[kind] = list(stmts)
    return out


def fold(blocks: list[Block]) -> Block:
    out = blocks[0]
    for b in blocks[1:]:
        out = layer(out, b)
    return out
