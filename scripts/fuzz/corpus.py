"""What the generators draw from: the shipped curricula, their words, and the grammar's keywords."""

from __future__ import annotations

import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS_GLOBS = ("curricula/*.curr", "examples/**/*.curr", "tests/dsl/curricula/*.curr",
                "tests/dsl/golden/plans/*.curr", "tests/dsl/golden/errors/*.curr")

# A tokenizer close to the grammar's terminals, whitespace kept as tokens so that joining the tokens
# gives the text back: mutations then work on tokens without a parser (which would reject half of them).
TOKEN_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?'
                      r"|[A-Za-z_][A-Za-z0-9_]*|\.\.|>=|<=|==|\s+|.", re.S)

# Numbers a compiler must survive: zero, negatives, the float limits, past them, beyond 64 bits.
EXTREME_NUMBERS = ("0", "-1", "-0", "1e308", "1e309", "-1e308", "1e-308", "1e-400", "nan", "inf", "-inf",
                   str(2**64), str(2**63 - 1), str(-(2**63)), "9" * 30, "9" * 31, "0.0000000001", "1e-6",
                   "00000001", "+1", "1.5", "2.5e3", "1e30", "3", "16")


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[tuple[str, str], ...]:
    """``(relative path, text)`` of every shipped curriculum, sorted so that seeds stay stable."""
    paths = sorted({p for g in CORPUS_GLOBS for p in ROOT.glob(g)})
    return tuple((str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in paths)


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def is_space(tok: str) -> bool:
    return tok.isspace() or tok.startswith("#")


@functools.lru_cache(maxsize=1)
def keywords() -> tuple[str, ...]:
    """The grammar's quoted words (``stage``, ``seed``, ``..``, ``{``): Lark reserves them."""
    from seethink_core.dsl.parser import grammar_text

    return tuple(sorted(set(re.findall(r'"([^"\s]+)"', grammar_text()))))


@functools.lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    """Every bare word of the corpus: plugin names, option keys, stage names, keywords."""
    words = {t for _, text in corpus() for t in tokens(text) if re.fullmatch(r"[A-Za-z_]\w*", t)}
    return tuple(sorted(words))


@functools.lru_cache(maxsize=1)
def strings() -> tuple[str, ...]:
    found = {t for _, text in corpus() for t in tokens(text) if t.startswith('"') and len(t) < 200}
    return tuple(sorted(found))
