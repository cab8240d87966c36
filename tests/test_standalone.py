"""The project stands alone: no file of it cites a document outside the repository.

The design and the reference recipe are in the repository (docs/architecture.md, docs/reference.md).
Code, curricula, docs, the README and the grammar cite those, by numbered section; this test fails on
a citation of the old outside copies (``../shared/...``, ``DESIGN §x``, ``REFERENCE.md``) and on a
``docs/architecture.md §N`` or ``docs/reference.md §N`` whose section does not exist.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve()

# (pattern, what it is) — each a citation of a document that is not in the repository.
OUTSIDE = [
    (re.compile(r"\.\./shared\b"), "a path outside the repository (../shared)"),
    (re.compile(r"\bshared/(?:DESIGN|REFERENCE|STYLE)"), "the outside design documents (shared/...)"),
    (re.compile(r"\bDESIGN\s*§"), "the outside design document (DESIGN §)"),
    (re.compile(r"\bDESIGN\b"), "the outside design document (DESIGN)"),
    (re.compile(r"\b(?:DESIGN|STYLE)\.md\b", re.IGNORECASE), "an outside document (DESIGN.md / STYLE.md)"),
]
# REFERENCE.md, in any case, is allowed only as docs/reference.md (or reference.md inside docs/).
REFERENCE_MD = re.compile(r"(?<![\w.-])(?:[\w./-]*/)?reference\.md\b", re.IGNORECASE)

CITATION = re.compile(r"\b(reference|architecture)\.md\)?[\s#*]*§\s*(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)


def project_files() -> list[Path]:
    """Every file git knows of (tracked, or new and not ignored), this test excepted."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, timeout=60)
    if out.returncode != 0:
        pytest.skip("not a git work tree")
    paths = [ROOT / p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    return [p for p in paths if p.is_file() and p.resolve() != SELF]


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def texts() -> list[tuple[str, str]]:
    out = []
    for path in project_files():
        text = text_of(path)
        if text is not None:
            out.append((path.relative_to(ROOT).as_posix(), text))
    return out


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def test_no_file_cites_a_document_outside_the_repository():
    hits = []
    for rel, text in texts():
        for pattern, what in OUTSIDE:
            for m in pattern.finditer(text):
                hits.append(f"{rel}:{line_of(text, m.start())}: {m.group(0)!r} cites {what}")
        in_docs = rel.startswith("docs/")
        for m in REFERENCE_MD.finditer(text):
            found = m.group(0)
            if found == "docs/reference.md" or (in_docs and found == "reference.md"):
                continue
            hits.append(f"{rel}:{line_of(text, m.start())}: {found!r} is not docs/reference.md")
    assert not hits, "citations of documents outside the repository:\n" + "\n".join(hits)


def test_section_citations_point_at_sections_that_exist():
    sections = {}
    for name in ("reference", "architecture"):
        doc = ROOT / "docs" / f"{name}.md"
        assert doc.is_file(), f"docs/{name}.md is missing"
        sections[name] = set(HEADING.findall(doc.read_text(encoding="utf-8")))
    bad = []
    for rel, text in texts():
        for m in CITATION.finditer(text):
            doc, number = m.group(1).lower(), m.group(2)
            if number not in sections[doc]:
                bad.append(f"{rel}:{line_of(text, m.start())}: docs/{doc}.md has no section {number}")
    assert not bad, "citations of sections that do not exist:\n" + "\n".join(bad)
