"""Every complete curriculum the docs show passes `seethink check`; the examples also pass preflight.

A fenced code block of README.md or docs/*.md (no info string, or ``curr``) is a curriculum file when a
line starts with ``curriculum NAME``. It is checked as a file of its own, with the installed plugins,
when it is complete: every curriculum it ``extends`` is defined in the block. A block that extends one
defined elsewhere is an excerpt of a shipped file (docs/difficulty.md quotes curricula/difficulty.curr)
and is skipped, by name, in the test ids. A block that is wrong on purpose (an error example) opts out
with ``<!-- docs-check: skip REASON -->`` on the line just before its fence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from seethink_core.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = sorted((ROOT / "examples").rglob("*.curr"))
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\S*)")
CURRICULUM = re.compile(r"^curriculum\s+(\w+)(?:\s+extends\s+(\w+))?", re.M)
OPT_OUT = re.compile(r"<!--\s*docs-check:\s*skip\b(.*?)-->")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, from 1
    text: str
    skip: str | None  # why it is not checked


def blocks(doc: Path) -> list[Block]:
    """The curriculum blocks of one Markdown file."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(m.group(1))), len(lines))
        text = "\n".join(lines[i + 1:end]) + "\n"
        if m.group(2) in ("", "curr") and CURRICULUM.search(text):
            out.append(Block(doc, i + 1, text, _skip(text, lines[i - 1] if i else "")))
        i = end + 1
    return out


def _skip(text: str, before: str) -> str | None:
    opted = OPT_OUT.search(before)
    if opted:
        return f"opted out: {opted.group(1).strip() or 'no reason given'}"
    found = CURRICULUM.findall(text)
    defined = {name for name, _ in found}
    missing = sorted({parent for _, parent in found if parent and parent not in defined})
    return f"an excerpt: extends {', '.join(missing)}, defined elsewhere" if missing else None


ALL_BLOCKS = [b for doc in DOCS for b in blocks(doc)]


def _param(b: Block):
    marks = [pytest.mark.skip(reason=b.skip)] if b.skip else []
    return pytest.param(b, id=f"{b.doc.name}:{b.line}", marks=marks)


def test_the_docs_show_curricula():
    """The extraction finds what the docs hold: a broken rule must not pass by finding nothing."""
    checked = {b.doc.name for b in ALL_BLOCKS if b.skip is None}
    assert {"README.md", "dsl.md", "architecture.md"} <= checked
    assert sum(1 for b in ALL_BLOCKS if b.doc.name == "dsl.md" and b.skip is None) >= 2


@pytest.mark.parametrize("block", [_param(b) for b in ALL_BLOCKS])
def test_docs_curriculum_checks(block: Block, tmp_path, capsys):
    f = tmp_path / f"{block.doc.stem}_{block.line}.curr"
    f.write_text(block.text, encoding="utf-8")
    code = main(["check", str(f)])
    out = capsys.readouterr()
    assert code == 0, f"{block.doc.name}:{block.line}: the curriculum shown there fails `seethink check`:\n" \
                      f"{out.out}{out.err}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_curriculum_checks_and_preflights(path: Path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # its data paths are relative to the file, not to where seethink runs
    assert main(["check", str(path)]) == 0
    code = main(["preflight", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "preflight: 0 problem(s)" in out


def test_an_example_ships():
    assert any(p.parent.name == "shapes" for p in EXAMPLES)
