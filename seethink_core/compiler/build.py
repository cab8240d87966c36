"""One curriculum → ``TrainingPlan``: ``extends`` chains, stage order, merges, levels, hand-off, checks.

The steps, in order (docs/dsl.md has the rules table):

1. the ``extends`` chain, root first; each curriculum's settings become a layer, folded once per
   curriculum on its parent's fold (``chain_layers``; ``layer`` is associative);
2. stages in order of first appearance (a child's new stages append), ``stages a, b`` selects and
   reorders, a child's ``stage X`` layers over the parent's;
3. ``--set`` overrides, one more layer;
4. each selected stage resolved over the curriculum defaults (``resolve.Resolver``);
5. ``merge`` joins stages into one phase at the place of its first member;
6. ``levels`` split a stage (or merge) into one phase per level;
7. phases numbered, ``init_from`` set, then the checks that need the whole plan (budgets, reward
   columns, the backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from seethink_core.compiler import merge as merging
from seethink_core.compiler.bind import as_dict, bind_args, check_options
from seethink_core.compiler.blocks import Block, build_block, layer
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.loader import Unit
from seethink_core.compiler.overrides import parse_overrides, spread_budget
from seethink_core.compiler.resolve import Resolver, StageSpec
from seethink_core.dsl import ast
from seethink_core.errors import Diagnostic, DslError, SourcePos
from seethink_core.hooks.registry import Registry, load_factory
from seethink_core.types import plan as P
from seethink_core.types.methods import is_rl

DEFAULT_BACKEND = "local"
# Errors reported for one curriculum before the compiler stops (clang stops at 20): past that, more are
# rarely news, and a file of 25,000 wrong lines must not take seconds of did-you-means.
MAX_ERRORS = 50


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


def compile_unit(unit: Unit, registry: Registry, *, curriculum: str | None = None, backend: str | None = None,
                 overrides: Mapping[str, Any] | None = None,
                 warnings: list[Diagnostic] | None = None, cache: ChainCache | None = None) -> P.TrainingPlan:
    """Compile one curriculum of a loaded file (the first one when ``curriculum`` is None).

    ``cache``: the ``extends`` layers already built for this unit (``check_unit`` compiles every
    curriculum of a file with one).

    ``warnings``: when given, the warnings of a plan that compiles are appended to it (what the
    backend cannot honour but can run anyway); with errors they come inside the ``DslError``.
    """
    diags = Diags(limit=MAX_ERRORS)
    diags.extend(unit.diags.items)
    layers = chain_layers(*find_curriculum(unit, curriculum, diags), diags, cache)
    if layers is None:  # what the missing parent would define is unknown: stop before follow-on errors
        diags.raise_if_any()
    assert layers is not None and layers.curriculum is not None

    ov = parse_overrides(overrides or {}, diags)
    for name, (pos, _) in ov.stages.items():
        if name not in layers.stages:
            diags.error(f"--set names an unknown stage '{name}'", pos,
                        hint=suggest(name, layers.stages) or f"stages: {', '.join(layers.stages)}")

    curr_block = layer(layers.curriculum, ov.curriculum)
    order = stage_order(layers, diags)
    if not layers.stages:
        diags.error(f"curriculum '{layers.name}' has no stages", layers.pos,
                    hint="add one: stage NAME { data ...  steps N }")
    # A copy: the cached layers stay as the file wrote them.
    layers = replace(layers, merges=spread_budget(ov, layers.stages, order, layers.merges, diags))

    resolver = Resolver(registry, diags, layers.sources, checked=cache.options if cache is not None else None)
    specs = {name: resolver.stage(name, layers.stage_pos[name], stage_block(curr_block, layers, ov, name))
             for name in order}
    check_unselected(layers, order, curr_block, ov, resolver)
    units = merging.apply_merges(layers, order, specs, curr_block, resolver, diags)
    phase_specs = expand_levels(units, diags)

    model_stmt, seed_stmt = curr_block.single.get("model"), curr_block.single.get("seed")
    plan_model = resolver.model(model_stmt.value) if isinstance(model_stmt, ast.Model) else None
    plan_model = plan_model or next((s.model for s in phase_specs if s.model), None)
    plan_seed = resolver.integer(seed_stmt.value, "seed", 0) if isinstance(seed_stmt, ast.Seed) else 0
    plan_seed = plan_seed or 0
    backend_ref, backend_spec = resolve_backend(layers, ov, backend, registry, diags)
    # --backend (or --set backend=NAME) runs every phase on one backend, the stages' own included.
    single = backend is not None or ov.backend is not None
    own = {} if single else phase_backends(layers, phase_specs, registry, diags)

    phases = make_phases(phase_specs, plan_model, plan_seed, diags)
    groups: dict[str, tuple[P.BackendRef, Any, ast.Backend | None, list[StageSpec]]] = {}
    ref_keys: dict[int, str] = {}  # each ref's key made once, not once per phase (refs live as long as this)
    for s in phase_specs:
        ref, spec, stmt = own.get(s.name, (backend_ref, backend_spec, layers.backend_stmt))
        key = ref_keys.get(id(ref))
        if key is None:
            key = ref_keys[id(ref)] = P.canonical_json(P.to_data(ref))
        groups.setdefault(key, (ref, spec, stmt, []))[3].append(s)
    for _, spec, _, specs in groups.values():
        if spec is not None:
            check_methods(spec, specs, diags)
            check_features(spec, specs, diags)
    diags.raise_if_any()
    phases = [replace(p, backend=own[p.name][0]) if p.name in own and own[p.name][0] != backend_ref else p
              for p in phases]
    plan = P.TrainingPlan(curriculum=layers.name, model=plan_model or "", backend=backend_ref, phases=phases,
                          seed=plan_seed, source=unit.file)
    for ref, spec, stmt, _ in groups.values():
        if spec is not None and spec.check is not None:
            # Each backend checks the part of the plan it runs (an SFT phase on `local` is no error of
            # `openrlhf`'s); phase indices stay the whole plan's.
            run_backend_check(spec, plan.for_backend(ref), stmt, diags)
    diags.raise_if_any()
    if warnings is not None:
        warnings.extend(d for d in diags.items if d.severity == "warning")
    return plan


def check_unselected(layers: Layers, order: list[str], curr_block: Block, ov: Any, resolver: Resolver) -> None:
    """Resolve the stages ``stages a, b`` leaves out, for their errors only (no phase is made of them):
    a typo in a stage the ablation skips is still a typo in the file, and would otherwise surface only
    in the curriculum that runs it. Checks of whole phases (budget, data, columns) stay with the
    selected stages."""
    selected = set(order)
    for name in layers.stages:
        if name not in selected:
            resolver.stage(name, layers.stage_pos[name], stage_block(curr_block, layers, ov, name))


def stage_block(curr_block: Block, layers: Layers, ov: Any, name: str) -> Block:
    """A stage's settings: its layers over the curriculum's, then its ``--set`` (layered last, since only
    ``--set`` carries method-independent ``algorithm.KEY`` options)."""
    block = layer(curr_block, layers.stages[name])
    override = ov.stages.get(name)
    return layer(block, override[1]) if override is not None else block


def expand_levels(specs: list[StageSpec], diags: Diags) -> list[StageSpec]:
    out = []
    for s in specs:
        if not s.levels:
            out.append(s)
            continue
        d = s.difficulty
        for level, lo, hi in s.levels:
            lo2, hi2 = max(lo, d.min), min(hi, d.max)
            if lo2 > hi2:
                diags.error(f"level '{level}' ({lo:g}..{hi:g}) lies outside the difficulty range "
                            f"{d.min:g}..{d.max:g}", s.where.get("levels", s.pos))
                continue
            out.append(replace(s, name=f"{s.name}.{level}",
                               difficulty=replace(d, min=lo2, max=hi2, level=level)))
    return out


def make_phases(specs: list[StageSpec], plan_model: str | None, plan_seed: int, diags: Diags) -> list[P.Phase]:
    phases: list[P.Phase] = []
    for index, s in enumerate(specs):
        what = f"stage '{s.name}'" if len(s.stages) == 1 else f"merge '{s.name}'"
        ok = True
        if s.budget is None and "budget" not in s.where:
            diags.error(f"{what} has no budget", s.pos, hint="give one: steps N, epochs N or samples N")
            ok = False
        if not s.data and "data" not in s.where:
            diags.error(f"{what} has no data", s.pos, hint="add a line: data SOURCE weight W")
            ok = False
        if s.model is None and plan_model is None and "model" not in s.where:
            diags.error(f"{what} has no model", s.pos, hint='set one at curriculum level: model "NAME"')
            ok = False
        if is_rl(s.method) and not s.rewards and "reward" not in s.where:
            diags.error(f"{what} trains with {s.method} but has no reward", s.pos,
                        hint="add one: reward NAME weight W")
            ok = False
        check_columns(s, diags)
        check_weights(s, diags)
        check_lengths(s, what, diags)
        if s.eval is not None and not s.eval.sets and "eval_every" in s.where and "eval" not in s.where:
            diags.error(f"{what} sets an eval cadence but has no eval set", s.where["eval_every"],
                        hint="name the eval sets, here or at curriculum level: eval SET every N steps")
            ok = False
        if s.mixture == "blocks" and s.difficulty.pacing is not None:
            # Pacing admits the easy end of the whole range first; blocks each run their own range.
            diags.error(f"{what}: pacing cannot apply to 'mix blocks' (each block runs easy → hard on its own)",
                        s.where.get("pacing", s.where.get("mix", s.pos)),
                        hint="drop the pacing, or mix interleave")
            ok = False
        if not ok or diags or s.algorithm is None or s.budget is None:
            continue
        if index == 0 or s.handoff.init == "base":
            init_from = "base"
        else:
            init_from = phases[-1].name if phases else specs[index - 1].name
        model = s.model or plan_model or ""
        if s.model and plan_model and s.model != plan_model and init_from != "base":
            diags.error(f"{what} uses its own model '{s.model}' but starts from phase '{init_from}'",
                        s.where.get("model", s.pos), hint="start it from that model: handoff init: base")
            continue
        phases.append(P.Phase(
            index=len(phases), name=s.name, stages=list(s.stages), capabilities=list(s.capabilities), model=model,
            init_from=init_from, method=s.method, algorithm=s.algorithm, data=[d.ref for d in s.data],
            rewards=[r for r, _, _ in s.rewards], budget=s.budget, prompt=s.prompt, system=s.system,
            transition=s.transition, difficulty=s.difficulty, freeze=list(s.freeze), handoff=s.handoff,
            eval=final_eval(s),
            seed=s.seed if s.seed is not None else plan_seed, mixture=s.mixture))
    return phases


def final_eval(s: StageSpec) -> P.EvalSpec | None:
    """The phase's eval spec with the prompt and system prompt evaluation uses: those its settings
    name, else the phase's own (decided here, after merges, so a merge block's prompt counts)."""
    if s.eval is None:
        return None
    return replace(s.eval, prompt=s.eval_text.get("prompt", s.prompt), system=s.eval_text.get("system", s.system))


def check_columns(s: StageSpec, diags: Diags) -> None:
    """Every reward's needed columns must be provided by every data source of its phase."""
    for ref, needs, pos in s.rewards:
        for item in s.data:
            missing = sorted(needs - item.columns)
            if missing:
                cols = ", ".join(f"'{m}'" for m in missing)
                diags.error(f"reward '{ref.name}' needs column{'s' if len(missing) > 1 else ''} {cols}, which "
                            f"{item.label} does not provide", pos,
                            hint=f"{item.label} (at {item.pos.file}:{item.pos.line}) provides "
                                 f"{', '.join(sorted(item.columns))}")


# A share of the total weight below this is lost: float32 (the reward's precision) keeps about 7 digits,
# and a data line drawn once in a million samples is never drawn in a run of this size.
NEGLIGIBLE_SHARE = 1e-6


def check_weights(s: StageSpec, diags: Diags) -> None:
    """Data and reward weights are relative: their sum must be finite, and no line a rounding error."""
    data = [(d.ref.weight, d.pos, d.label) for d in s.data]
    rewards = [(r.weight, pos, f"reward '{r.name}'") for r, _, pos in s.rewards]
    for kind, items in (("data", data), ("reward", rewards)):
        total = 0.0
        for weight, pos, _ in items:
            total += weight
            if total == float("inf"):  # each weight is positive and finite (resolve.number)
                diags.error(f"the {kind} weights add up to more than the largest number (about 1.8e308)", pos,
                            hint="weights are relative (a line's share is its weight over their sum): scale them "
                                 "all down, e.g. 1e308 and 1e308 to 1 and 1")
                break
        else:
            for weight, pos, label in items:
                if len(items) > 1 and weight / total < NEGLIGIBLE_SHARE:
                    diags.add(Diagnostic(
                        f"{label} has weight {weight:g}, {weight / total:.1g} of the {kind} weights: it has "
                        "next to no effect", pos,
                        "weights are relative: raise its weight or drop the line", severity="warning"))


def check_lengths(s: StageSpec, what: str, diags: Diags) -> None:
    """Settings counted in steps must fit in the phase, when its step count is known (``steps N``)."""
    steps = s.budget.steps if s.budget is not None else None
    if steps is None:
        return
    warmup = s.algorithm.warmup_steps if s.algorithm is not None else 0
    if warmup >= steps:
        diags.error(f"{what}: warmup_steps {warmup} is not shorter than the phase ({steps} steps)",
                    s.where.get("algorithm.warmup_steps", s.where.get("algorithm", s.pos)),
                    hint="the learning rate rises from 0 over warmup_steps, so it would never reach lr; lower "
                         "warmup_steps or raise the budget")
    t = s.transition
    if t is not None and "until.window" in s.where and t.window > steps:
        diags.error(f"{what}: until window {t.window} is longer than the phase ({steps} steps)",
                    s.where["until.window"],
                    hint="a condition is tested on the mean of the last window steps, so it could never be "
                         "tested; lower window")
    if t is not None and "until.min_steps" in s.where and t.min_steps >= steps:
        diags.error(f"{what}: until min_steps {t.min_steps} is not below the phase's {steps} steps",
                    s.where["until.min_steps"],
                    hint="no condition is tested before min_steps, so the until could never end the phase early; "
                         "lower min_steps")


def phase_backends(layers: Layers, specs: list[StageSpec], registry: Registry, diags: Diags
                   ) -> dict[str, tuple[P.BackendRef, Any, ast.Backend]]:
    """The phases whose stage (or merge) names its own backend: phase name → (ref, spec, statement)."""
    out: dict[str, tuple[P.BackendRef, Any, ast.Backend]] = {}
    resolved: dict[int, tuple[P.BackendRef, Any]] = {}
    for s in specs:
        owner = s.stages[0] if len(s.stages) == 1 else s.name.split(".")[0]
        stmt = layers.own_backends.get(owner)
        if len(s.stages) > 1:
            members = [m for m in s.stages if m in layers.own_backends]
            if members:
                first = layers.own_backends[members[0]]
                diags.error(f"merge '{owner}' joins stage '{members[0]}', which names its own backend",
                            first.pos, hint=f"a merge is one phase on one backend: set it in the merge block "
                                            f"(merge ... as {owner} {{ backend ... }})")
        if stmt is None:
            continue
        if id(stmt) not in resolved:
            resolved[id(stmt)] = resolve_backend_stmt(stmt, None, {}, registry, diags)
        ref, spec = resolved[id(stmt)]
        out[s.name] = (ref, spec, stmt)
    return out


def resolve_backend(layers: Layers, ov: Any, override: str | None, registry: Registry,
                    diags: Diags) -> tuple[P.BackendRef, Any]:
    name = override or (ov.backend.value if ov.backend is not None else None)
    return resolve_backend_stmt(layers.backend_stmt, name, ov.backend_options, registry, diags)


def resolve_backend_stmt(stmt: ast.Backend | None, override: str | None, extra: Mapping[str, Any],
                         registry: Registry, diags: Diags) -> tuple[P.BackendRef, Any]:
    """A ``backend`` statement (or the default) as a plan reference, with ``extra`` options (``--set``)."""
    file_name = stmt.call.name.value if stmt is not None else None
    name = override or file_name or DEFAULT_BACKEND
    args: tuple[ast.Arg, ...] = stmt.call.args if stmt is not None and name == file_name else ()
    spec = registry.find("backend", name)
    if spec is None:
        if stmt is not None and name == file_name and registry.names("backend"):
            close = suggest(name, registry.names("backend"))
            if close:  # a near miss of a registered backend is a typo, not a backend installed elsewhere
                diags.error(f"unknown backend '{name}'", stmt.call.name.pos, hint=close)
        options = {}
        for a in args:
            if a.key is None:
                diags.error(f"backend '{name}' is not registered here, so its options must be named", a.pos)
            else:
                options[a.key.value] = a.value.value
        options.update({k: a.value.value for k, a in extra.items()})
        return P.BackendRef(name, options), None
    what = f"backend '{name}'"
    bound = bind_args(stmt.call, spec.options, what, diags, args) if stmt is not None and args else {}
    bound.update(extra)
    inst = check_options(spec.options, bound, what, diags, stmt.pos if stmt is not None else None)
    return P.BackendRef(name, as_dict(inst) if inst is not None else {}), spec


def check_methods(spec: Any, specs: list[StageSpec], diags: Diags) -> None:
    if not spec.methods:
        return
    for s in specs:
        if s.method not in spec.methods:
            diags.error(f"backend '{spec.name}' does not run method '{s.method}' (phase '{s.name}')",
                        s.where.get("algorithm", s.pos),
                        hint=f"it runs {', '.join(sorted(spec.methods))}; choose another backend with --backend")


def check_features(spec: Any, specs: list[StageSpec], diags: Diags) -> None:
    """Settings that need an optional backend feature: ``pass_rate`` estimation needs ``generate``."""
    if "generate" in spec.features:
        return
    for s in specs:
        if s.difficulty.source == "pass_rate":
            diags.error(f"phase '{s.name}': backend '{spec.name}' cannot generate completions, so it cannot "
                        "estimate difficulty pass_rate(...)",
                        s.where.get("difficulty", s.pos),
                        hint="estimate it on the local backend (`seethink difficulty FILE --backend local "
                             "--out rates.csv`) and give the data a difficulty column, or use the data's "
                             "own column: difficulty column")


def run_backend_check(spec: Any, plan: P.TrainingPlan, stmt: ast.Backend | None, diags: Diags) -> None:
    check = load_factory(spec.check, f"backend '{spec.name}' check")
    try:
        found = check(plan) or []
    except Exception as e:  # a plugin's bug must not look like the user's
        diags.error(f"backend '{spec.name}' failed to check the plan: {type(e).__name__}: {e}",
                    stmt.pos if stmt is not None else None)
        return
    for d in found:
        if isinstance(d, str):
            d = Diagnostic(d)
        diags.add(d if d.pos is not None or stmt is None else d.with_pos(stmt.pos))
