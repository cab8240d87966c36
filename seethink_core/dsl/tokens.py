"""The fast reader's tokenizer: one regular expression per token, positions counted as Lark counts them."""

from __future__ import annotations

import re

from seethink_core.errors import SourcePos

# Token kinds: the group of _TOKEN that matched.
STRING, NUMBER, WORD, COMMENT, PUNCT, NEWLINE, BAD, END = 1, 2, 3, 4, 5, 6, 7, 8

# Blanks, then one token (none at the end of the text). The patterns of STRING, NUMBER and NAME are the
# grammar's; `\d` matches any decimal digit, as in Lark's regexps. No token but NEWLINE holds a line
# break, so lines are counted at those.
_TOKEN = re.compile(
    r'[ \t\f\r]*(?:("[^"\\\n]*(?:\\.[^"\\\n]*)*")'
    r"|([+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|([A-Za-z_][A-Za-z0-9_]*)"
    r"|(#[^\n]*)"
    r"|(>=|<=|==|\.\.|[{}()\[\],:=.<>])"
    r"|(\n)"
    r"|(.))?")


class TooManyTokens(Exception):
    """More tokens than ``tokenize``'s limit; ``token`` is the first one past it."""

    def __init__(self, token: tuple):
        super().__init__(token)
        self.token = token


def tokenize(text: str, limit: int | None = None) -> list[tuple]:
    """``(kind, text, line, col, end_col)`` per token, comments left out; an ``END`` token last.
    Raises ``TooManyTokens`` at the first token past ``limit``, before reading further."""
    out: list[tuple] = []
    if limit is None or len(text) <= limit:  # every token has a character
        limit = len(text) + 1
    append = out.append
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastindex
        if kind is None or kind == COMMENT:
            continue
        if kind == NEWLINE:
            line += 1
            line_start = m.end()
            continue
        value = m.group(kind)
        col = m.start(kind) - line_start + 1
        append((kind, value, line, col, col + len(value)))
        if len(out) > limit:
            raise TooManyTokens(out[-1])
    col = len(text) - line_start + 1
    append((END, "", line, col, col))
    return out


_new = object.__new__


def source_pos(file: str, line: int, col: int, end_col: int | None) -> SourcePos:
    """``SourcePos(file, line, col, end_col)``, the same object, made without the frozen dataclass's
    ``__init__`` (an ``object.__setattr__`` per field): a position is made for every node, and
    constructing them was a fifth of reading a 10,000-stage file."""
    pos = _new(SourcePos)
    d = pos.__dict__
    d["file"] = file
    d["line"] = line
    d["col"] = col
    d["end_col"] = end_col
    return pos
