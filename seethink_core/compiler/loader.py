"""Files and their scopes: parsing, ``import``, and where names live.

A file's scope holds the curricula and named sources it defines and those that the files it
imports define themselves (imports are not transitive). A name defined twice in one scope is an
error that names both places. Each file is parsed once per ``Loader``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from seethink_core.compiler import source as source_io
from seethink_core.compiler.diagnostics import Diags
from seethink_core.dsl import ast
from seethink_core.dsl.parser import parse
from seethink_core.errors import SOURCES, Diagnostic, DslError, SourcePos


@dataclass
class Unit:
    """One parsed file."""

    file: str  # the name errors show
    real: str | None  # resolved path (None for text that has no file)
    module: ast.Module
    curricula: dict[str, ast.Curriculum] = field(default_factory=dict)  # defined here
    sources: dict[str, ast.SourceDef] = field(default_factory=dict)  # defined here
    imports: list["Unit"] = field(default_factory=list)
    # name -> (definition, file that defines it): this file's and its direct imports' definitions
    scope_curricula: dict[str, tuple[ast.Curriculum, "Unit"]] = field(default_factory=dict)
    scope_sources: dict[str, tuple[ast.SourceDef, "Unit"]] = field(default_factory=dict)
    diags: Diags = field(default_factory=Diags)  # problems of this file and its imports


def _line_of(pos: SourcePos) -> str:
    return f"{pos.file}:{pos.line}"


class Loader:
    """Parses files and their imports; every file once."""

    def __init__(self) -> None:
        self.units: dict[str, Unit] = {}
        # Files that could not be read or parsed, by real path: a file imported a thousand times is
        # read once, its error said at each import (a syntax error costs milliseconds to word).
        self.failed: dict[str, tuple[Diagnostic, ...]] = {}

    def load_path(self, path: str | Path) -> Unit:
        display = str(path)
        real = os.path.realpath(path)
        if real in self.units:
            return self.units[real]
        text = source_io.read(path, display)
        return self._load(text, display, real, stack=())

    def load_text(self, text: str, file: str) -> Unit:
        real = os.path.realpath(file) if file and not file.startswith("<") else None
        return self._load(text, file, real, stack=(), cache=False)

    def _load(self, text: str, display: str, real: str | None, stack: tuple[str, ...],
              cache: bool = True) -> Unit:
        SOURCES.add(display, text)
        module = parse(text, display)
        unit = Unit(display, real, module)
        if cache and real is not None:
            self.units[real] = unit
        here = stack + ((real or display),)
        self._collect(unit)
        for item in module.items:
            if isinstance(item, ast.Import):
                imported = self._import(unit, item, here)
                if imported is not None:
                    unit.imports.append(imported)
        self._build_scope(unit)
        return unit

    def _collect(self, unit: Unit) -> None:
        first_stage = True
        for item in unit.module.items:
            if isinstance(item, ast.Curriculum):
                name = item.name.value
                if name in unit.curricula:
                    prev = unit.curricula[name]
                    unit.diags.error(f"curriculum '{name}' is defined twice", item.name.pos,
                                     hint=f"the first is at {_line_of(prev.name.pos)}")
                else:
                    unit.curricula[name] = item
            elif isinstance(item, ast.SourceDef):
                name = item.name.value
                if name in unit.sources:
                    prev = unit.sources[name]
                    unit.diags.error(f"source '{name}' is defined twice", item.name.pos,
                                     hint=f"the first is at {_line_of(prev.name.pos)}")
                else:
                    unit.sources[name] = item
            elif isinstance(item, ast.Stage) and first_stage:
                first_stage = False
                keyword = SourcePos(item.pos.file, item.pos.line, item.pos.col, item.pos.col + len("stage"))
                unit.diags.error(f"stage '{item.name.value}' is outside a curriculum", keyword,
                                 hint="stages belong in a curriculum: curriculum NAME { stage ... }")

    def _import(self, unit: Unit, item: ast.Import, stack: tuple[str, ...]) -> Unit | None:
        target = item.path.value
        if not isinstance(target, str) or not target.strip() or "\x00" in target:
            unit.diags.error("import takes a file name in quotes", item.path.pos)
            return None
        base = os.path.dirname(unit.real) if unit.real else os.getcwd()
        path = os.path.normpath(os.path.join(base, target))
        display_base = os.path.dirname(unit.file) if not unit.file.startswith("<") else ""
        display = os.path.normpath(os.path.join(display_base, target)) if not os.path.isabs(target) else target
        real = os.path.realpath(path)
        if real in stack:
            chain = [os.path.basename(p) for p in stack[stack.index(real):]] + [os.path.basename(real)]
            unit.diags.error(f"import cycle: {' -> '.join(chain)}", item.pos,
                             hint="two files cannot import each other; move what both need to a third file")
            return None
        if real in self.failed:
            unit.diags.extend(d if d.pos is not None else d.with_pos(item.path.pos) for d in self.failed[real])
            return None
        if real in self.units:
            imported = self.units[real]
        else:
            if not os.path.exists(path):
                unit.diags.error(f"imported file not found: {target}", item.path.pos,
                                 hint=f"looked for {display}")
                return None
            try:
                text = source_io.read(path, display)
                imported = self._load(text, display, real, stack)
            except DslError as e:  # a folder, an unreadable or a binary file: say which import
                self.failed[real] = tuple(e.diagnostics)
                unit.diags.extend(d if d.pos is not None else d.with_pos(item.path.pos) for d in e.diagnostics)
                return None
        unit.diags.extend(imported.diags.items)
        return imported

    def _build_scope(self, unit: Unit) -> None:
        for name, c in unit.curricula.items():
            unit.scope_curricula[name] = (c, unit)
        for name, s in unit.sources.items():
            unit.scope_sources[name] = (s, unit)
        for imported in unit.imports:
            for table, theirs, kind in ((unit.scope_curricula, imported.curricula, "curriculum"),
                                        (unit.scope_sources, imported.sources, "source")):
                for name, node in theirs.items():
                    if name in table and table[name][0] is not node:
                        prev = table[name][0]
                        unit.diags.error(
                            f"{kind} '{name}' from {imported.file} clashes with the one at "
                            f"{_line_of(prev.name.pos)}", node.name.pos,
                            hint="rename one of them; imported names share the importing file's scope")
                        continue
                    table[name] = (node, imported)
