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

from dataclasses import replace
from typing import Any, Mapping

from seethink_core.compiler import merge as merging
from seethink_core.compiler.backends import (
    check_features,
    check_methods,
    phase_backends,
    resolve_backend,
    run_backend_check,
)
from seethink_core.compiler.blocks import Block, layer
from seethink_core.compiler.build import ChainCache, Layers, chain_layers, find_curriculum, stage_order
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.loader import Unit
from seethink_core.compiler.overrides import parse_overrides, spread_budget
from seethink_core.compiler.phases import expand_levels, make_phases
from seethink_core.compiler.resolve import Resolver, StageSpec
from seethink_core.dsl import ast
from seethink_core.errors import Diagnostic
from seethink_core.hooks.registry import Registry
from seethink_core.types import plan as P

# Errors reported for one curriculum before the compiler stops (clang stops at 20): past that, more are
# rarely news, and a file of 25,000 wrong lines must not take seconds of did-you-means.
MAX_ERRORS = 50


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
