"""The curriculum compiler: ``.curr`` text → a checked ``TrainingPlan``.

    from seethink_core.compiler import compile_path
    plan = compile_path("curricula/paper.curr", curriculum="merged", overrides={"seed": "3"})

Names resolve only through the plugin registry; every problem of a curriculum is reported in one
``DslError``. Importing this package imports no torch, transformers, datasets, ray or vllm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from seethink_core.collector import collector_paused
from seethink_core.compiler.backends import DEFAULT_BACKEND
from seethink_core.compiler.build import ChainCache
from seethink_core.compiler.curriculum import compile_unit
from seethink_core.compiler.loader import Loader, Unit
from seethink_core.errors import Diagnostic, DslError, SeethinkError
from seethink_core.hooks.registry import Registry
from seethink_core.types.plan import TrainingPlan


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from seethink_core.hooks.manager import get_plugins

    return get_plugins().registry


def compile_path(path: str | Path, *, curriculum: str | None = None, backend: str | None = None,
                 overrides: Mapping[str, Any] | None = None, registry: Registry | None = None) -> TrainingPlan:
    """Compile one curriculum of a file: ``curriculum`` by name, else the file's first one.

    ``backend`` replaces the file's backend; ``overrides`` are ``--set`` pairs (values as DSL text
    or Python values). Raises ``DslError`` with every problem found.
    """
    with collector_paused():
        unit = Loader().load_path(path)
        return compile_unit(unit, _registry(registry), curriculum=curriculum, backend=backend, overrides=overrides)


def compile_text(text: str, filename: str = "<text>", *, curriculum: str | None = None, backend: str | None = None,
                 overrides: Mapping[str, Any] | None = None, registry: Registry | None = None) -> TrainingPlan:
    """Like ``compile_path`` for text; imports resolve relative to ``filename``'s folder."""
    with collector_paused():
        unit = Loader().load_text(text, filename)
        return compile_unit(unit, _registry(registry), curriculum=curriculum, backend=backend, overrides=overrides)


def list_curricula(path: str | Path) -> list[str]:
    """Names of the curricula a file defines (not those it imports), in file order."""
    return list(Loader().load_path(path).curricula)


@dataclass
class FileCheck:
    """What ``seethink check`` reports for one file."""

    path: str
    curricula: int = 0
    phases: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def check_unit(unit: Unit, registry: Registry, *, backend: str | None = None) -> FileCheck:
    result = FileCheck(unit.file, curricula=len(unit.curricula))
    seen: set[tuple] = set()

    def add(diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            key = (d.message, d.pos, d.hint)
            if key not in seen:
                seen.add(key)
                result.diagnostics.append(d)

    add(unit.diags.items)
    chains = ChainCache()  # every curriculum's extends layers built once, not once per descendant
    for name in unit.curricula:
        warnings: list[Diagnostic] = []
        try:
            plan = compile_unit(unit, registry, curriculum=name, backend=backend, warnings=warnings,
                                cache=chains)
        except DslError as e:
            add(e.diagnostics)
        else:
            result.phases += len(plan.phases)
            add(warnings)
    result.diagnostics.sort(key=lambda d: (d.pos is None, d.pos.file if d.pos else "", d.pos.line if d.pos else 0,
                                           d.pos.col if d.pos else 0))
    return result


def check_paths(paths: Iterable[str | Path], *, backend: str | None = None,
                registry: Registry | None = None) -> list[FileCheck]:
    """Compile every curriculum of every file; one ``FileCheck`` per file, problems collected."""
    loader = Loader()
    out = []
    reg = None
    for path in paths:
        with collector_paused():  # one file at a time: what a file's check made is collected after it
            try:
                unit = loader.load_path(path)
            except SeethinkError as e:
                out.append(FileCheck(str(path), diagnostics=list(e.diagnostics)))
                continue
            reg = reg or _registry(registry)
            out.append(check_unit(unit, reg, backend=backend))
    return out


__all__ = ["compile_path", "compile_text", "list_curricula", "check_paths", "check_unit", "FileCheck",
           "DEFAULT_BACKEND", "Loader"]
