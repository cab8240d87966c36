"""``merge a, b, c as all { ... }``: stages joined into one phase (docs/dsl.md, rules table). Each
statement's rule is its declaration's ``merge`` (dsl/statements.py):

- data (CONCAT): the members' mixtures concatenated, weights kept (each line keeps its stage's capability);
- capabilities (UNION): the union, in member order;
- budget (ADD_UP): all members must use the same kind; steps and samples are summed, epochs take the
  largest (every sample of the union is seen at least as often as in its own stage);
- freeze (INTERSECT): the intersection (a tower stays frozen only if every member freezes it: the merged
  data includes the stages that train it);
- everything else (model, method and its options, rewards, prompt, system prompt, until,
  difficulty, levels, hand-off, eval, seed: SAME) must be the same in every member, or it is an error;
- the merge's own block decides any of these: a setting there replaces the combined value
  (e.g. ``{ freeze vision }`` as in the reference's merged script, or ``{ epochs 15 }``).

The merged phase takes the place of its first member in the stage order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from seethink_core.compiler.blocks import Block, fold
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.resolve import Resolver, StageSpec
from seethink_core.dsl import ast
from seethink_core.dsl.statements import ADD_UP, CONCAT, INTERSECT, SAME, STATEMENTS, UNION
from seethink_core.types import plan as P


def _same_groups() -> tuple[tuple[tuple[str, ...], tuple[str, ...], str, str], ...]:
    """The statements every member must agree on, grouped by the stage-spec fields they fill (the
    difficulty and its pacing are one): (fields, the kinds that set them, what messages call them, how
    to write them in the merge's block)."""
    groups: dict[tuple[str, ...], list] = {}
    for s in STATEMENTS:
        if s.merge == SAME:
            groups.setdefault(s.fields, []).append(s)
    out = []
    for fields, decls in groups.items():
        named = next(d for d in decls if d.about)
        out.append((fields, tuple(d.merge_kind or d.kind for d in decls), named.about, named.example))
    return tuple(out)


_SAME = _same_groups()
# The statements merge combines (UNION, CONCAT, INTERSECT, ADD_UP), each into its one field.
_COMBINED = tuple((s.kind, s.fields[0], s.merge) for s in STATEMENTS
                  if s.merge in (UNION, CONCAT, INTERSECT, ADD_UP))


def _block_kinds(block: Block) -> set[str]:
    return {s.merge_kind or s.kind for s in STATEMENTS if block.sets(s.kind)}


def _comparable(spec: StageSpec, attrs: tuple[str, ...]) -> Any:
    values = tuple(getattr(spec, a) for a in attrs)
    if attrs == ("rewards",):
        return tuple(r for r, _, _ in spec.rewards)
    return values


def _short(value: Any) -> str | None:
    if len(value) == 1:
        value = value[0]
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (int, float)) else None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):  # (method, options)
        text = value[0]
    return text if text is not None and len(text) <= 40 else None


def combine(members: list[StageSpec], node: ast.Merge, block: Block, block_spec: StageSpec,
            diags: Diags) -> StageSpec:
    name = node.name.value
    sets = _block_kinds(block)
    first = members[0]
    out = replace(first, name=name, pos=node.name.pos, stages=[m.name for m in members],
                  where=dict(first.where))
    for kind in sets:
        if kind in block_spec.where:
            out.where[kind] = block_spec.where[kind]
        # Positions of the written parts ("until.window", "algorithm.lr"): the block's, not the first member's.
        for key in [k for k in out.where if k.startswith(f"{kind}.")]:
            del out.where[key]
        out.where.update({k: p for k, p in block_spec.where.items() if k.startswith(f"{kind}.")})

    for kind, attr, rule in _COMBINED:
        if kind in sets:  # the merge's block decides
            value = getattr(block_spec, attr)
            setattr(out, attr, list(value) if isinstance(value, list) else value)
        else:
            setattr(out, attr, _COMBINE[rule](members, attr, node, diags))
    if "budget" not in sets and out.budget is None:
        out.where["budget"] = node.pos  # reported by _add_up

    for attrs, kinds, words, keyword in _SAME:
        if any(k in sets for k in kinds):
            for a in attrs:
                setattr(out, a, getattr(block_spec, a))
            continue
        base = _comparable(first, attrs)
        for m in members[1:]:
            other = _comparable(m, attrs)
            if other != base:
                a, b = _short(base), _short(other)
                detail = f" ({a} vs {b})" if a is not None and b is not None else ""
                diags.error(f"merge '{name}': stages '{first.name}' and '{m.name}' differ in {words}{detail}",
                            node.name.pos, hint=f"make them agree, or decide in the merge's block: "
                                                f"merge ... as {name} {{ {keyword} }}")
                break
    return out


def _union(members: list[StageSpec], attr: str, node: ast.Merge, diags: Diags) -> list:
    return list(dict.fromkeys(x for m in members for x in getattr(m, attr)))


def _concat(members: list[StageSpec], attr: str, node: ast.Merge, diags: Diags) -> list:
    return [x for m in members for x in getattr(m, attr)]


def _intersect(members: list[StageSpec], attr: str, node: ast.Merge, diags: Diags) -> list:
    # A tower stays frozen only if every member freezes it: the merged data includes the stages that train it.
    return [x for x in getattr(members[0], attr) if all(x in getattr(m, attr) for m in members)]


def _add_up(members: list[StageSpec], attr: str, node: ast.Merge, diags: Diags) -> P.Budget | None:
    name = node.name.value
    for m in members:
        if m.budget is None and "budget" not in m.where:
            diags.error(f"stage '{m.name}' has no budget, so merge '{name}' cannot add it up", m.pos,
                        hint=f"give the stage a budget, or the merge one: merge ... as {name} {{ steps N }}")
    return _budget(members, node, diags)


_COMBINE = {UNION: _union, CONCAT: _concat, INTERSECT: _intersect, ADD_UP: _add_up}


def _budget(members: list[StageSpec], node: ast.Merge, diags: Diags) -> P.Budget | None:
    budgets = [m.budget for m in members]
    if any(b is None for b in budgets):
        return None
    kinds = {_budget_kind(b) for b in budgets}
    if len(kinds) > 1:
        listed = ", ".join(f"{m.name}: {_budget_kind(m.budget)}" for m in members)
        diags.error(f"merge '{node.name.value}' joins different kinds of budget ({listed})", node.name.pos,
                    hint=f"give the merged budget in its block: merge ... as {node.name.value} {{ steps N }}")
        return None
    kind = kinds.pop()
    values = [getattr(b, kind) for b in budgets]
    return P.Budget(**{kind: max(values) if kind == "epochs" else sum(values)})


def _budget_kind(b: P.Budget) -> str:
    return "steps" if b.steps is not None else "epochs" if b.epochs is not None else "samples"


def apply_merges(layers: Any, order: list[str], specs: dict[str, StageSpec], curr_block: Block,
                 resolver: Resolver, diags: Diags) -> list[StageSpec]:
    """The phase-level specs in order: stages, with merged ones at their first member's place."""
    member_of: dict[str, str] = {}
    merged: dict[str, StageSpec] = {}
    selected = set(order)
    for name, (node, block) in layers.merges.items():
        members: list[str] = []
        joined: set[str] = set()
        ok = True
        for m in node.members:
            if m.value not in layers.stages:
                diags.error(f"merge '{name}' names an unknown stage '{m.value}'", m.pos,
                            hint=suggest(m.value, layers.stages) or f"stages: {', '.join(layers.stages)}")
                ok = False
            elif m.value in joined:
                diags.error(f"merge '{name}' lists stage '{m.value}' twice", m.pos)
            elif m.value in member_of:
                diags.error(f"stage '{m.value}' is in two merges: '{member_of[m.value]}' and '{name}'", m.pos)
                ok = False
            elif m.value not in selected:
                diags.error(f"merge '{name}' joins stage '{m.value}', which 'stages' leaves out", m.pos,
                            hint="add it to the 'stages' list, or drop it from the merge")
                ok = False
            else:
                members.append(m.value)
                joined.add(m.value)
        if len(node.members) < 2:
            diags.error("a merge joins two or more stages", node.pos)
            ok = False
        if name in layers.stages and name not in members:
            diags.error(f"merge '{name}' has the name of a stage it does not join", node.name.pos,
                        hint="phase names must be unique: choose another name after 'as'")
            ok = False
        if not ok or len(members) < 2:
            continue
        for m in members:
            member_of[m] = name
        block_spec = resolver.stage(name, node.name.pos, fold([curr_block, block]))
        merged[name] = combine([specs[m] for m in members], node, block, block_spec, diags)

    out: list[StageSpec] = []
    emitted: set[str] = set()
    for stage in order:
        group = member_of.get(stage)
        if group is None:
            out.append(specs[stage])
        elif group not in emitted:
            emitted.add(group)
            out.append(merged[group])
    return out
