"""The layer rules of docs/architecture.md §3, enforced by reading every import in the code.

The rules are the doc's own tables, parsed here, so the document and the check cannot drift apart:
"may import" (a layer of ``seethink_core`` and the layers it may use), the plugins' row, and the
list of modules allowed past 400 lines, each with its reason. Every import counts: at the top of a
module, inside a function (a lazy import is still a dependency), and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
CORE = ROOT / "seethink_core"
PLUGINS = ROOT / "plugins"
MAX_LINES = 400


def _doc_section(title: str) -> list[str]:
    """The lines of the doc's ``### title`` subsection."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"### {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start + 1:end]


def _tables(title: str) -> list[list[list[str]]]:
    """The tables of a subsection, in order: each a list of rows (the header left out), cells stripped
    of backticks."""
    tables: list[list[list[str]]] = []
    rows: list[list[str]] | None = None
    for line in _doc_section(title):
        if not line.startswith("|"):
            rows = None
            continue
        if rows is None:
            rows = []
            tables.append(rows)
            continue  # the header
        if not set(line) <= set("|-: "):
            rows.append([cell.strip().replace("`", "") for cell in line.strip("|").split("|")])
    return tables


def _names(cell: str) -> set[str]:
    return {n.strip() for n in re.split(r"[,\s]+", cell) if n.strip() and n.strip() != "—"}


def layer_rules() -> dict[str, set[str] | None]:
    """Layer -> the layers it may import (None: anything)."""
    rules: dict[str, set[str] | None] = {}
    for row in _tables("Layer rules")[0]:
        layer_cell, allowed = row[0], row[-1]
        for layer in _names(layer_cell):
            rules[layer] = None if allowed.strip() == "anything" else _names(allowed)
    return rules


def plugin_exceptions() -> set[tuple[str, str]]:
    """(module, plugin module it may import): the section's second table, the imports between plugins."""
    return {(row[0], row[1]) for row in _tables("Layer rules")[1]}


def long_modules() -> dict[str, str]:
    tables = _tables("Modules over 400 lines")
    return {row[0]: row[-1] for row in tables[0]} if tables else {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "plugins":
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module imported, names taken from it) for every import in a file."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, ()) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((node.lineno, module, tuple(a.name for a in node.names)))
    return out


def _layer_of_core(module: str) -> str:
    """``seethink_core.run.runner`` -> ``run``; ``seethink_core.errors`` -> ``errors``."""
    return module.split(".")[1]


def _targets(module: str, names: tuple[str, ...]) -> list[str]:
    """The seethink_core modules an import reaches: ``from seethink_core.run import stream`` names
    ``seethink_core.run.stream``; ``from seethink_core import X`` only the package's own names."""
    if module == "seethink_core":
        return [f"seethink_core.{n}" for n in names if (CORE / n).is_dir() or (CORE / f"{n}.py").exists()]
    return [module]


def violations() -> list[str]:
    rules = layer_rules()
    plugin_allowed = rules["plugins"] or set()
    first_party = {p.name for p in PLUGINS.iterdir() if (p / "__init__.py").exists()}
    between_plugins = plugin_exceptions()
    found = []
    for path in sorted([*CORE.rglob("*.py"), *PLUGINS.rglob("*.py")]):
        rel = path.relative_to(ROOT)
        own = _module_name(path)
        in_core = own.startswith("seethink_core.")
        own_layer = _layer_of_core(own) if in_core else "plugins"
        if own == "seethink_core":
            continue  # the package's lazy public API re-exports every layer
        for line, module, names in imports_of(path):
            top = module.split(".")[0]
            if top == "seethink_core":
                if module == "seethink_core" and set(names) <= {"__version__"}:
                    continue
                for target in _targets(module, names):
                    layer = _layer_of_core(target) if "." in target else "seethink_core"
                    allowed = rules.get(own_layer, set()) if in_core else plugin_allowed
                    if layer != own_layer and allowed is not None and layer not in allowed:
                        found.append(f"{rel}:{line}: {own_layer} imports {target} ({layer})")
            elif top in first_party and in_core:
                found.append(f"{rel}:{line}: the core imports the plugin {module}")
            elif top in first_party and top != own.split(".")[0] and (own, module) not in between_plugins:
                found.append(f"{rel}:{line}: plugin {own.split('.')[0]} imports the plugin {module}")
    return found


def test_the_doc_states_a_rule_for_every_layer() -> None:
    rules = layer_rules()
    layers = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    layers |= {p.stem for p in CORE.glob("*.py") if p.stem != "__init__"}
    assert layers - {"grammar"} <= set(rules), f"no rule in docs/architecture.md §3 for {layers - set(rules)}"
    assert "plugins" in rules


def test_every_import_keeps_to_the_layer_rules() -> None:
    assert violations() == []


def test_no_module_is_over_400_lines_unless_the_doc_says_why() -> None:
    allowed = long_modules()
    long = {}
    for path in sorted([*CORE.rglob("*.py"), *PLUGINS.rglob("*.py")]):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long[str(path.relative_to(ROOT))] = n
    unexplained = {p: n for p, n in long.items() if p not in allowed}
    assert unexplained == {}, "modules over 400 lines that docs/architecture.md §3 does not explain"
    stale = set(allowed) - set(long)
    assert not stale, f"docs/architecture.md §3 explains modules that are no longer long: {stale}"


@pytest.mark.parametrize("source,expected", [
    ("from seethink_core.compiler import compile_path\n", ["seethink_core/run/x.py:1: run imports "
                                                          "seethink_core.compiler (compiler)"]),
    ("from seethink_core.types.plan import Phase\n", []),
    ("def f():\n    from seethink_core.report import plots\n", ["seethink_core/run/x.py:2: run imports "
                                                                "seethink_core.report (report)"]),
])
def test_the_check_sees_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                                       expected: list[str]) -> None:
    """The walk itself: a run-layer module that imports upwards, at the top or lazily, is caught."""
    fake_root = tmp_path  # the rules still come from the real docs/architecture.md (DOC)
    core = fake_root / "seethink_core"
    (core / "run").mkdir(parents=True)
    (core / "__init__.py").write_text("")
    (core / "run" / "__init__.py").write_text("")
    (core / "run" / "x.py").write_text(source)
    (fake_root / "plugins").mkdir()
    monkeypatch.setitem(globals(), "ROOT", fake_root)
    monkeypatch.setitem(globals(), "CORE", core)
    monkeypatch.setitem(globals(), "PLUGINS", fake_root / "plugins")
    assert violations() == expected
