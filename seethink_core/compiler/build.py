"""A curriculum's ``extends`` chain folded into ``Layers``: its settings and each stage's, root first.

Each curriculum's settings become a layer, folded once per curriculum on its parent's fold
(``chain_layers``; ``layer`` is associative); stages keep their order of first appearance (a child's
new stages append), ``stages a, b`` selects and reorders, and a child's ``stage X`` layers over the
parent's. ``curriculum.compile_unit`` makes the plan of the folded layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seethink_core.compiler.blocks import Block, build_block, layer
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.loader import Unit
from seethink_core.dsl import ast
from seethink_core.errors import Diagnostic, DslError, SourcePos


@dataclass
class Layers:
    """A curriculum with its ``extends`` chain folded: the curriculum settings of the whole chain as one
    block, and each stage's layers (over the chain, root first) as one block.

    ``layer`` is associative (see ``Block.algorithm_reset``), so a stage's layers can be folded
    before they are put over the curriculum block; a child's ``Layers`` is its parent's plus its own
    body, and ``seethink check`` builds each curriculum's once however long the chain.
    """

    name: str
    pos: SourcePos
    curriculum: Block | None = None
    stages: dict[str, Block] = field(default_factory=dict)  # in order of first appearance
    stage_pos: dict[str, SourcePos] = field(default_factory=dict)
    order: ast.StageOrder | None = None
    merges: dict[str, tuple[ast.Merge, Block]] = field(default_factory=dict)
    sources: dict[str, ast.SourceDef] = field(default_factory=dict)
    backend_stmt: ast.Backend | None = None
    # A stage's or merge's own backend (the top layer's wins); phases without one use backend_stmt.
    own_backends: dict[str, ast.Backend] = field(default_factory=dict)
    # What building the chain's bodies reported (duplicate stages, bad settings), replayed on reuse.
    diagnostics: tuple[Diagnostic, ...] = ()

    def child(self, curr: ast.Curriculum) -> Layers:
        """A copy to put ``curr``'s body on (the blocks are shared: ``layer`` never changes its inputs)."""
        return Layers(name=curr.name.value, pos=curr.name.pos, curriculum=self.curriculum, stages=dict(self.stages),
                      stage_pos=dict(self.stage_pos), order=self.order, merges=dict(self.merges),
                      sources=dict(self.sources), backend_stmt=self.backend_stmt,
                      own_backends=dict(self.own_backends), diagnostics=self.diagnostics)


@dataclass
class ChainCache:
    """Each curriculum's ``Layers`` (or the error that breaks its chain), built once per loaded file."""

    layers: dict[int, Layers] = field(default_factory=dict)
    broken: dict[int, tuple[Diagnostic, ...]] = field(default_factory=dict)
    # Option lists already validated (``Resolver.check``): a stage that N curricula inherit is the same
    # syntax nodes N times, validated once.
    options: dict[tuple, tuple[Any, list]] = field(default_factory=dict)


def find_curriculum(unit: Unit, name: str | None, diags: Diags) -> tuple[ast.Curriculum, Unit]:
    """The named curriculum in the file's scope, or the file's first one."""
    if name is None:
        if not unit.curricula:
            diags.error("this file defines no curriculum", SourcePos(unit.file, 1, 1),
                        hint="curriculum NAME { stage ... { ... } }")
            diags.raise_if_any()
        first = next(iter(unit.curricula.values()))
        return first, unit
    found = unit.scope_curricula.get(name)
    if found is None:
        names = list(unit.scope_curricula)
        hint = suggest(name, names) or (f"it defines: {', '.join(names)}" if names else None)
        raise DslError(Diagnostic(f"no curriculum '{name}' in {unit.file}", None, hint))
    return found


def chain_error(curr: ast.Curriculum, unit: Unit) -> tuple[Diagnostic, ...]:
    """The error that breaks ``curr``'s ``extends`` chain (an unknown parent or a cycle), worded the same
    for every curriculum on it; ``()`` when the chain is whole."""
    diags = Diags()
    chain = [curr]
    seen = {id(curr)}
    while curr.extends is not None:
        found = unit.scope_curricula.get(curr.extends.value)
        if found is None:
            names = [n for n in unit.scope_curricula if n != curr.name.value]
            shown = ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")
            diags.error(f"curriculum '{curr.name.value}' extends an unknown curriculum '{curr.extends.value}'",
                        curr.extends.pos, hint=suggest(curr.extends.value, names)
                        or (f"known here: {shown}" if names else "no other curriculum is in scope"))
            break
        parent, unit = found
        if id(parent) in seen:
            loop = chain[[id(c) for c in chain].index(id(parent)):]
            # Every curriculum on the loop reports the same error: start where the loop's first
            # member (in file order) is written.
            start = min(range(len(loop)), key=lambda i: (loop[i].pos.file, loop[i].pos.line, loop[i].pos.col))
            loop = loop[start:] + loop[:start]
            names = " -> ".join([c.name.value for c in loop] + [loop[0].name.value])
            diags.error(f"extends cycle: {names}", loop[0].extends.pos,
                        hint="a curriculum cannot extend itself, directly or through others")
            break
        seen.add(id(parent))
        chain.append(parent)
        curr = parent
    return tuple(diags.items)


def chain_layers(curr: ast.Curriculum, unit: Unit, diags: Diags, cache: ChainCache | None = None) -> Layers | None:
    """``curr``'s ``Layers``, built on its parent's (taken from ``cache`` when there); ``None`` when
    its chain is broken (an unknown parent or a cycle), with the errors added to ``diags``.

    Each curriculum's body is built once per cache, so checking every curriculum of a file whose
    ``extends`` chain is N deep costs N bodies, not N²/2.
    """
    cache = cache if cache is not None else ChainCache()
    path: list[tuple[ast.Curriculum, Unit]] = []  # curr and its ancestors not built yet, child first
    on_path: dict[int, int] = {}
    node: tuple[ast.Curriculum, Unit] | None = (curr, unit)
    while node is not None and id(node[0]) not in cache.layers:
        if id(node[0]) in cache.broken:
            _mark_broken(path, cache.broken[id(node[0])], len(path), cache)
            break
        if id(node[0]) in on_path:
            _mark_broken(path, chain_error(curr, unit), on_path[id(node[0])], cache)
            break
        on_path[id(node[0])] = len(path)
        path.append(node)
        c, u = node
        if c.extends is None:
            node = None
        elif (node := u.scope_curricula.get(c.extends.value)) is None:
            _mark_broken(path, chain_error(curr, unit), len(path), cache)
            break
    if id(curr) in cache.broken:
        diags.extend(cache.broken[id(curr)])
        return None
    base = cache.layers[id(node[0])] if node is not None else None
    for c, u in reversed(path):
        base = add_body(base, c, u)
        cache.layers[id(c)] = base
    found = cache.layers[id(curr)]
    diags.extend(found.diagnostics)
    return found


def _mark_broken(path: list[tuple[ast.Curriculum, Unit]], error: tuple[Diagnostic, ...], loop_start: int,
                 cache: ChainCache) -> None:
    """Every curriculum on ``path`` (child first) is broken: its errors are ``error`` and those of the
    bodies on its chain. ``loop_start``: where a cycle begins on the path (``len(path)`` if none); a
    member of a cycle has the whole cycle for ancestors."""
    bodies = [add_body(None, c, u).diagnostics for c, u in path]
    cycle = tuple(d for b in bodies[loop_start:] for d in b)
    above: tuple[Diagnostic, ...] = ()
    for i in range(len(path) - 1, -1, -1):
        above = bodies[i] + above
        cache.broken[id(path[i][0])] = error + (cycle if i >= loop_start else above)


def add_body(base: Layers | None, curr: ast.Curriculum, unit: Unit) -> Layers:
    """``curr``'s body over ``base`` (its parent's layers; ``None`` at the root of the chain)."""
    diags = Diags()
    out = Layers(curr.name.value, curr.name.pos) if base is None else base.child(curr)
    for name, (definition, _) in unit.scope_sources.items():
        out.sources[name] = definition  # a child's file wins over its parent's
    owner = f"curriculum '{curr.name.value}'"
    settings = [s for s in curr.body if isinstance(s, ast.Setting)]
    block = build_block(owner, curr.pos, tuple(settings), diags)
    if "backend" in block.single:
        out.backend_stmt = block.single["backend"]  # type: ignore[assignment]
    out.curriculum = block if out.curriculum is None else layer(out.curriculum, block)
    here: dict[str, SourcePos] = {}
    merges_here: set[str] = set()
    order_here: ast.StageOrder | None = None
    for stmt in curr.body:
        if isinstance(stmt, ast.Stage):
            name = stmt.name.value
            if name in here:
                diags.error(f"stage '{name}' is defined twice in {owner}", stmt.name.pos,
                            hint=f"the first is at {here[name].file}:{here[name].line}; "
                                 f"stage names are unique within a curriculum")
                continue
            here[name] = stmt.name.pos
            sblock = build_block(f"stage '{name}'", stmt.pos, stmt.body, diags)
            _own_backend(sblock, name, out)
            out.stages[name] = layer(out.stages[name], sblock) if name in out.stages else sblock
            out.stage_pos.setdefault(name, stmt.name.pos)
        elif isinstance(stmt, ast.Merge):
            name = stmt.name.value
            if name in merges_here:
                diags.error(f"merge '{name}' is defined twice in {owner}", stmt.name.pos)
                continue
            merges_here.add(name)
            mblock = build_block(f"merge '{name}'", stmt.pos, stmt.body, diags)
            _own_backend(mblock, name, out)
            out.merges[name] = (stmt, mblock)
        elif isinstance(stmt, ast.StageOrder):
            if order_here is not None:
                diags.error(f"{owner} lists its stages twice", stmt.pos,
                            hint=f"first at {order_here.pos.file}:{order_here.pos.line}")
                continue
            order_here = stmt
            out.order = stmt
        elif isinstance(stmt, ast.SourceDef):
            out.sources[stmt.name.value] = stmt
    out.diagnostics += tuple(diags.items)
    return out


def _own_backend(block: Block, name: str, out: Layers) -> None:
    """A stage's (or merge's) ``backend`` is its own, not a default folded over the curriculum's: keep it
    aside, so a phase knows whether it named one (and ``--backend`` can replace them all)."""
    stmt = block.single.pop("backend", None)
    if stmt is not None:
        out.own_backends[name] = stmt  # type: ignore[assignment]


def stage_order(layers: Layers, diags: Diags) -> list[str]:
    if layers.order is None:
        return list(layers.stages)
    order: dict[str, None] = {}  # a dict for its order and its membership test (a list's is quadratic)
    for n in layers.order.names:
        if n.value not in layers.stages:
            diags.error(f"'stages' names an unknown stage '{n.value}'", n.pos,
                        hint=suggest(n.value, layers.stages) or f"stages: {', '.join(layers.stages)}")
        elif n.value in order:
            diags.error(f"stage '{n.value}' is listed twice", n.pos, hint="a stage runs once per curriculum")
        else:
            order[n.value] = None
    return list(order)
