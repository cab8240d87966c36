"""``--set KEY=VALUE``: overrides layered over the compiled curriculum like one more ``extends`` child.

Keys (docs/dsl.md): each statement's declared ``set_keys`` (dsl/statements.py; ``KEY_HELP`` lists them),
and ``stage.NAME.<any key but the plan's own>``.

A value is read as a DSL value (``1e-5``, ``"text"``, ``[vision, projector]``, ``true``); text
that is not one is taken as a string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from seethink_core.compiler.blocks import AlgoLayer, Block, imply_sampling, layer
from seethink_core.compiler.diagnostics import Diags
from seethink_core.dsl import ast
from seethink_core.dsl.statements import (
    SET_CLAUSE,
    SET_METHOD,
    SET_NAME,
    SET_NAMES,
    SET_OPTION,
    SET_PLAN,
    SET_VALUE,
    SET_WORD,
    STATEMENTS,
    Statement,
)
from seethink_core.errors import SOURCES, DslError, SourcePos

FILE = "--set"


def _keys() -> tuple[dict[str, Statement], dict[str, Statement]]:
    """Each declared ``--set`` key: the whole keys (``seed``, ``eval.every``), and the heads of the
    ``HEAD.OPTION`` ones (``handoff``)."""
    whole: dict[str, Statement] = {}
    heads: dict[str, Statement] = {}
    for s in STATEMENTS:
        for key in s.set_keys:
            head, _, rest = key.partition(".")
            if rest and rest.isupper():  # a placeholder: any option's name
                heads[head] = s
            else:
                whole[key] = s
    return whole, heads


_WHOLE, _HEADS = _keys()
KEY_HELP = "keys: " + ", ".join(
    [s.set_help or ", ".join(s.set_keys) for s in STATEMENTS if s.set_keys] + ["stage.NAME.KEY"])


@dataclass
class Overrides:
    curriculum: Block = field(default_factory=lambda: Block("--set"))
    stages: dict[str, tuple[SourcePos, Block]] = field(default_factory=dict)
    backend: ast.Name | None = None
    backend_options: dict[str, ast.Arg] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.stages or self.backend or self.backend_options or not self.curriculum.empty())


def parse_value(text: Any, pos: SourcePos) -> ast.Value:
    if not isinstance(text, str):
        return ast.Value(pos, text)
    from seethink_core.dsl.parser import parse_literal

    try:
        parsed = parse_literal(text, FILE)
    except DslError:
        return ast.Value(pos, text, bare=True)
    return ast.Value(pos, parsed.value, bare=parsed.bare)


def parse_overrides(overrides: Mapping[str, Any], diags: Diags) -> Overrides:
    out = Overrides()
    lines = []
    for i, (key, raw) in enumerate(overrides.items(), start=1):
        shown = raw if isinstance(raw, str) else repr(raw)
        lines.append(f"{key}={shown}")
        key_pos = SourcePos(FILE, i, 1, len(key) + 1)
        vcol = len(key) + 2
        value = parse_value(raw, SourcePos(FILE, i, vcol, vcol + max(1, len(str(shown)))))
        parts = key.strip().split(".")
        block = out.curriculum
        if parts[0] == "stage":
            if len(parts) < 3 or not parts[1]:
                diags.error(f"'{key}': write stage.NAME.KEY", key_pos, hint=KEY_HELP)
                continue
            name_pos = SourcePos(FILE, i, 7, 7 + len(parts[1]))
            if parts[1] not in out.stages:
                out.stages[parts[1]] = (name_pos, Block(f"stage '{parts[1]}' (--set)"))
            block = out.stages[parts[1]][1]
            parts = parts[2:]
            found = _statement(parts)
            if found is not None and found[0].set_form == SET_PLAN:
                diags.error(f"the {found[0].name} is one per plan; set it without stage.NAME", key_pos)
                continue
        if not _apply(out, block, parts, value, key_pos):
            diags.error(f"unknown --set key '{key}'", key_pos, hint=KEY_HELP)
    SOURCES.add(FILE, "\n".join(lines))
    for block in [out.curriculum] + [b for _, b in out.stages.values()]:
        imply_sampling(block.eval_settings, diags)  # as in a file's body: --set eval.temperature=0.6 samples
    return out


def _name(value: ast.Value) -> ast.Name:
    return ast.Name(value.pos, str(value.value))


def _statement(parts: list[str]) -> tuple[Statement, str | None] | None:
    """The statement a key sets, and the option it names (``handoff.init``: init)."""
    found = _WHOLE.get(".".join(parts))
    if found is not None:
        return found, None
    if len(parts) == 2 and parts[1] and parts[0] in _HEADS:
        return _HEADS[parts[0]], parts[1]
    return None


def _apply(out: Overrides, block: Block, parts: list[str], value: ast.Value, key_pos: SourcePos) -> bool:
    """``KEY=VALUE`` into ``block`` (or the plan's backend), by the statement's ``set_form``."""
    found = _statement(parts)
    if found is None:
        return False
    decl, option = found
    form, pos = decl.set_form, value.pos
    arg = ast.Arg(pos, ast.Name(key_pos, option), value) if option is not None else None
    if form == SET_VALUE:
        block.single[decl.kind] = decl.node(pos, value)
    elif form == SET_WORD:  # steps=100: the key is the budget's kind
        block.single[decl.kind] = decl.node(pos, parts[0], value)
    elif form == SET_NAME:
        block.single[decl.kind] = decl.node(pos, _name(value))
    elif form == SET_NAMES:
        items = value.value if isinstance(value.value, list) else [value.value]
        block.single[decl.kind] = decl.node(pos, tuple(ast.Name(pos, str(v)) for v in items))
    elif form == SET_OPTION:
        block.part(decl.kind)[option] = arg
    elif form == SET_CLAUSE:
        block.part(decl.kind)[parts[-1]] = _name(value)
    elif form == SET_METHOD and arg is None:
        block.algorithm = AlgoLayer(_name(value), pos, {})
    elif form == SET_METHOD:
        block.algorithm_extra[option] = arg
    elif form == SET_PLAN and arg is None:
        out.backend = _name(value)
    elif form == SET_PLAN:
        out.backend_options[option] = arg
    else:
        return False
    return True


def spread_budget(ov: Overrides, stages: Mapping[str, Block], selected: list[str],
                  merges: Mapping[str, tuple[ast.Merge, Block]], diags: Diags) -> dict[str, tuple[ast.Merge, Block]]:
    """``--set steps=N`` (``epochs``, ``samples``) at curriculum level sets every budget of that kind.

    A stage's own budget beats a curriculum default, so without this a curriculum-level budget would
    reach only stages that write none: silently ignored on the usual file, where every stage has one.
    The budget is copied onto each selected stage (and merge block) that writes one of the same kind,
    unless ``stage.NAME.KIND`` sets that stage itself. One written in another kind is an error: counting
    it in the other unit is a guess (epochs of how much data?), so the user says per stage.
    Returns the merges with the budget layered onto their blocks (``layers`` is shared: never changed).
    """
    budget = ov.curriculum.single.get("budget")
    if not isinstance(budget, ast.Budget):
        return dict(merges)
    other: list[str] = []
    other_stages: list[str] = []
    for name in selected:
        own = stages[name].single.get("budget")
        pinned = name in ov.stages and "budget" in ov.stages[name][1].single
        if not isinstance(own, ast.Budget) or pinned:
            continue
        if own.kind != budget.kind:
            other.append(f"stage '{name}' ({own.kind} {_shown(own.value)})")
            other_stages.append(name)
            continue
        ov.stages.setdefault(name, (budget.pos, Block(f"stage '{name}' (--set)")))[1].single["budget"] = budget
    out = dict(merges)
    for name, (node, block) in merges.items():
        own = block.single.get("budget")
        if not isinstance(own, ast.Budget):
            continue
        if own.kind != budget.kind:
            other.append(f"merge '{name}' ({own.kind} {_shown(own.value)})")
            continue
        top = Block(f"merge '{name}' (--set)")
        top.single["budget"] = budget
        out[name] = (node, layer(block, top))
    if other:
        value = _shown(budget.value)
        example = " ".join(f"--set stage.{n}.{budget.kind}={value}" for n in other_stages[:2]) or \
            "the merge's block in the file"
        diags.error(f"--set {budget.kind}={value} sets the budget of every stage, but "
                    f"{', '.join(other)} count{'s' if len(other) == 1 else ''} it in another unit",
                    budget.pos, hint=f"set those per stage, in their own unit or in {budget.kind}: {example}")
    return out


def _shown(value: ast.Value) -> str:
    x = value.value
    return f"{x:g}" if isinstance(x, float) else str(x)
