"""``--set KEY=VALUE``: overrides layered over the compiled curriculum like one more ``extends`` child.

Keys (docs/dsl.md):

    seed | model | prompt | system | steps | epochs | samples | capability | freeze
    algorithm | algorithm.OPTION          (method is a synonym of algorithm)
    handoff.init | handoff.reference | handoff.optimizer
    eval.OPTION                          (eval settings: greedy, n, temperature, top_p, prompt, ...)
    eval.every                           (the eval cadence, as `eval every N steps`)
    difficulty.order
    backend | backend.OPTION             (curriculum level only)
    stage.NAME.<any key above but backend>

A value is read as a DSL value (``1e-5``, ``"text"``, ``[vision, projector]``, ``true``); text
that is not one is taken as a string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from seethink_core.compiler.blocks import AlgoLayer, Block, imply_sampling, layer
from seethink_core.compiler.diagnostics import Diags
from seethink_core.dsl import ast
from seethink_core.errors import SOURCES, DslError, SourcePos

FILE = "--set"
KEY_HELP = ("keys: seed, model, prompt, system, steps, epochs, samples, capability, freeze, algorithm[.OPTION], "
            "handoff.KEY, eval.OPTION, eval.every, difficulty.order, backend[.OPTION], stage.NAME.KEY")


@dataclass
class Overrides:
    curriculum: Block = field(default_factory=lambda: Block("--set"))
    stages: dict[str, tuple[SourcePos, Block]] = field(default_factory=dict)
    backend: ast.Name | None = None
    backend_options: dict[str, ast.Arg] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.stages or self.backend or self.backend_options or _non_empty(self.curriculum))


def _non_empty(b: Block) -> bool:
    return bool(b.single or b.algorithm or b.algorithm_extra or b.handoff or b.eval_settings or b.difficulty
                or b.lists)


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
            if parts[0] == "backend":
                diags.error("the backend is one per plan; set it without stage.NAME", key_pos)
                continue
        if not _apply(out, block, parts, value, key_pos):
            diags.error(f"unknown --set key '{key}'", key_pos, hint=KEY_HELP)
    SOURCES.add(FILE, "\n".join(lines))
    for block in [out.curriculum] + [b for _, b in out.stages.values()]:
        imply_sampling(block.eval_settings, diags)  # as in a file's body: --set eval.temperature=0.6 samples
    return out


def _name(value: ast.Value) -> ast.Name:
    return ast.Name(value.pos, str(value.value))


def _apply(out: Overrides, block: Block, parts: list[str], value: ast.Value, key_pos: SourcePos) -> bool:
    head, rest = parts[0], parts[1:]
    pos = value.pos
    simple = {"seed": ast.Seed, "model": ast.Model, "prompt": ast.Prompt, "system": ast.System}
    if head in simple and not rest:
        block.single[head] = simple[head](pos, value)
    elif head in ("steps", "epochs", "samples") and not rest:
        block.single["budget"] = ast.Budget(pos, head, value)
    elif head == "capability" and not rest:
        block.single["capability"] = ast.Capability(pos, _name(value))
    elif head == "freeze" and not rest:
        items = value.value if isinstance(value.value, list) else [value.value]
        block.single["freeze"] = ast.Freeze(pos, tuple(ast.Name(pos, str(v)) for v in items))
    elif head in ("algorithm", "method") and not rest:
        block.algorithm = AlgoLayer(_name(value), pos, {})
    elif head in ("algorithm", "method") and len(rest) == 1:
        block.algorithm_extra[rest[0]] = ast.Arg(pos, ast.Name(key_pos, rest[0]), value)
    elif head == "handoff" and len(rest) == 1:
        block.handoff[rest[0]] = ast.Arg(pos, ast.Name(key_pos, rest[0]), value)
    elif head == "eval" and rest == ["every"]:
        block.single["eval_every"] = ast.EvalEvery(pos, value)
    elif head == "eval" and len(rest) == 1:
        block.eval_settings[rest[0]] = ast.Arg(pos, ast.Name(key_pos, rest[0]), value)
    elif head == "difficulty" and rest == ["order"]:
        block.difficulty["order"] = _name(value)
    elif head == "backend" and not rest:
        out.backend = _name(value)
    elif head == "backend" and len(rest) == 1:
        out.backend_options[rest[0]] = ast.Arg(pos, ast.Name(key_pos, rest[0]), value)
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
