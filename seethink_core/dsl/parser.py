"""Text → syntax tree. Well-formed text is read by ``fast_parser`` (a hand-written reader of the grammar,
ten times faster than Lark); anything it does not read goes to one LALR parser (Lark, ``lark_parser``),
built once per process (and cached on disk by Lark), which gives every syntax error its message.

This module is the entry points (``parse``, ``parse_with_lark``, ``parse_literal``) and how a file too
long for Lark to re-parse whole still gets Lark's error (``_lark_error_near``).
"""

from __future__ import annotations

import re
from typing import Any

from seethink_core.collector import collector_paused
from seethink_core.dsl import ast
from seethink_core.dsl.fast_parser import NotReadable, TooManyTokens, read_literal, read_module
from seethink_core.dsl.keywords import WORD_CHARS
from seethink_core.dsl.lark_parser import get_parser, grammar_keywords, grammar_text, lexing
from seethink_core.dsl.values import MAX_LIST_DEPTH, unescape
from seethink_core.errors import DslError, SourcePos

_keywords = grammar_keywords  # the name tests/dsl/test_fast_parser.py knows it by

# Files up to this many tokens are read by ``fast_parser`` (some 500,000 tokens a second; a curriculum of
# 10,000 stages has 430,000; comments are no tokens). The limit keeps a hostile file's parse and compile
# near a second: ``fast_parser.tokenize`` stops at the first token past it, so 16 MiB of `a,a,` stop early.
MAX_TOKENS = 500_000
# Lark parses 30,000 to 60,000 tokens a second here (a two-core machine, busy or not), and it is what
# explains a syntax error. Up to this many tokens it re-parses the whole file, as it did when it was the
# only parser (so every error is the one it always gave); past it, only the statements around the
# mistake (``_lark_error_near``), and no more than ``LARK_MAX_REGION`` of their tokens.
LARK_MAX_TOKENS = 60_000
LARK_MAX_REGION = 60_000


def parse(text: str, file: str) -> ast.Module:
    """Parse ``text`` (the contents of ``file``) into a ``Module``; raises ``DslError`` on bad syntax."""
    try:
        with collector_paused():
            items = read_module(text, file, MAX_TOKENS)
    except TooManyTokens as e:
        _, _, line, col, _ = e.token
        raise DslError(f"this file has more than {MAX_TOKENS:,} names, numbers, strings and symbols, too many "
                       "for a curriculum", SourcePos(file, line, col, col + 1),
                       hint="split it into files that import each other") from None
    except NotReadable as e:  # a mistake (or text the fast reader leaves to Lark): Lark says what it is
        reader = getattr(e, "reader", None)
        if reader is None or len(reader.toks) <= LARK_MAX_TOKENS:
            return parse_with_lark(text, file)
        items = _lark_error_near(text, file, reader, e.index)
    return ast.Module(SourcePos(file, 1, 1), file, tuple(items))


def parse_with_lark(text: str, file: str) -> ast.Module:
    """``parse`` by Lark alone: what explains a syntax error (and what tests compare the fast reader with)."""
    from seethink_core.dsl.syntax_errors import translate

    with lexing(text, file):  # translate's example parses run inside too, as they always did
        try:
            items = get_parser().parse(text, start="start")
        except DslError:
            raise
        except Exception as e:  # lark.exceptions.UnexpectedInput and friends
            raise translate(e, text, file) from None
    return ast.Module(SourcePos(file, 1, 1), file, tuple(items))


# A statement before the one the fast reader stopped in is parsed again with it when it has at most this
# many tokens: Lark's state at the mistake is then the one it has in the whole file (see _lark_error_near).
_NEAR_TOKENS = 2_000


def _lark_error_near(text: str, file: str, reader: Any, index: int) -> tuple:
    """Lark's error for a file too long to re-parse whole: Lark reads only the statements around the
    mistake, in a copy of the text where everything before them but the headers of the blocks they
    are in (``curriculum c extends b {``, ``stage s {``) is blanked, lines and columns kept.

    Lark starts at the statement before the one the reader stopped in, so the parser state at the
    mistake (its expected words, the examples it matches) is the one the whole file gives; the
    statements blanked were read without a mistake. Returns the items when Lark finds none (then the
    reader refused text that the grammar takes, and Lark parses the whole file).
    """
    toks = reader.toks
    inner = reader.frames[-1]
    prev, here = inner[2], inner[3]
    start = prev if prev is not None and here - prev <= _NEAR_TOKENS else here
    if index - start > LARK_MAX_REGION:
        tok = toks[min(index, len(toks) - 1)]
        raise DslError(f"cannot parse this statement: a mistake after more than {LARK_MAX_REGION:,} of its names, "
                       "numbers, strings and symbols", SourcePos(file, tok[2], tok[3], tok[4]),
                       hint="split the statement into smaller ones to see what is wrong here")
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(tok: tuple, end: bool = False) -> int:
        return line_starts[tok[2] - 1] + (tok[4] if end else tok[3]) - 1

    kept = [(offset(toks[f[0]]), offset(toks[f[1]], end=True)) for f in reader.frames if f[0] is not None]
    kept.append((offset(toks[start]), len(text)))
    parts, done = [], 0
    for lo, hi in kept:
        gap = text[done:lo]
        breaks = gap.count("\n")
        # Blank: the same line breaks, and the next kept text at its column.
        parts.append("\n" * breaks + " " * (lo - done - gap.rfind("\n") - 1 if breaks else lo - done))
        parts.append(text[lo:hi])
        done = hi
    parse_with_lark("".join(parts), file)  # raises the error, at the text's lines and columns
    return parse_with_lark(text, file).items


def parse_literal(text: str, file: str = "<value>") -> ast.Value:
    """One DSL value (``1e-5``, ``"x"``, ``[a, b]``, ``true``): what ``--set KEY=VALUE`` takes."""
    from seethink_core.dsl.syntax_errors import translate

    try:
        return read_literal(text, file)
    except NotReadable:
        pass
    with lexing(text, file):
        try:
            return get_parser().parse(text, start="literal")
        except DslError:
            raise
        except Exception as e:
            raise translate(e, text, file) from None


__all__ = ["parse", "parse_with_lark", "parse_literal", "get_parser", "grammar_text", "lexing", "unescape",
           "MAX_LIST_DEPTH", "MAX_TOKENS", "LARK_MAX_TOKENS", "WORD_CHARS"]
