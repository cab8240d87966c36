"""Which backend runs each phase, and the checks a backend makes of the phases it runs."""

from __future__ import annotations

from typing import Any, Mapping

from seethink_core.compiler.bind import as_dict, bind_args, check_options
from seethink_core.compiler.build import Layers
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.resolve import StageSpec
from seethink_core.dsl import ast
from seethink_core.errors import Diagnostic
from seethink_core.hooks.registry import Registry, load_factory
from seethink_core.types import plan as P

DEFAULT_BACKEND = "local"


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
