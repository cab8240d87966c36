"""Typed errors with source positions, and the one renderer that prints them.

Library code raises these; only the CLI turns them into exit codes. A
``SeethinkError`` carries one or more ``Diagnostic`` values so that a file's
semantic errors can be reported together.
"""

from __future__ import annotations

import difflib
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping


@dataclass(frozen=True, order=True)
class SourcePos:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    message: str
    pos: SourcePos | None = None
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __post_init__(self) -> None:
        # A positioned message is about a source text and quotes it (a name, a string, an import path):
        # made one printable line of bounded length here, so that no place that quotes input can print a
        # control character, a line break or 200,000 characters of it. An unpositioned one may span lines
        # on purpose (a run directory's plan diff, the tail of a failed command's output).
        if self.pos is None:
            return
        object.__setattr__(self, "message", printable(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", printable(self.hint))

    def with_pos(self, pos: SourcePos | None) -> "Diagnostic":
        return Diagnostic(self.message, pos, self.hint, self.severity)


MAX_MESSAGE_WORD = 120  # a longer run of non-spaces is quoted input (a path is shorter)
MAX_MESSAGE = 400

_LONG_WORD = re.compile(rf"\S{{{MAX_MESSAGE_WORD + 1},}}")
_ESCAPED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _printable_char(ch: str) -> str:
    if ch.isprintable():
        return ch
    return _ESCAPED.get(ch, f"<U+{ord(ch):04X}>")


def printable(text: str) -> str:
    """``text`` as one line a terminal shows as written: line breaks and tabs as ``\\n`` and ``\\t``,
    other invisible characters as ``<U+200B>``; a word over ``MAX_MESSAGE_WORD`` characters and a text
    over ``MAX_MESSAGE`` are cut with ``...``."""
    if not text.isprintable():
        text = "".join(_printable_char(ch) for ch in text)
    if len(text) > MAX_MESSAGE_WORD:
        text = _LONG_WORD.sub(lambda m: m.group()[:MAX_MESSAGE_WORD - 3] + "...", text)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 3] + "..."
    return text


class SeethinkError(Exception):
    """Base of every user-facing error. Holds one or more diagnostics."""

    exit_code = 2

    def __init__(self, diagnostics: Diagnostic | str | Iterable[Diagnostic], pos: SourcePos | None = None,
                 hint: str | None = None):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics, pos, hint)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = sorted(diagnostics, key=_order)
        super().__init__("\n".join(_plain(d) for d in self.diagnostics))


class DslError(SeethinkError):
    """A syntax or semantic error in a .curr file."""


class PluginError(SeethinkError):
    """A plugin failed to load, registered a duplicate, or misbehaved."""


class ConfigError(SeethinkError):
    """A bad option, override or command-line value."""


class DataError(SeethinkError):
    """A data source could not be read, or a record is malformed."""


class RunError(SeethinkError):
    """A run directory or phase could not be run or resumed."""


class BackendError(SeethinkError):
    """A backend failed to train a phase."""


def _order(d: Diagnostic) -> tuple[bool, str, int, int]:
    # (file, line, col) only: end_col may be None for one diagnostic and a number for another.
    p = d.pos
    return (p is None, p.file if p else "", p.line if p else 0, p.col if p else 0)


def _plain(d: Diagnostic) -> str:
    prefix = f"{d.pos}: " if d.pos else ""
    hint = f" ({d.hint})" if d.hint else ""
    return f"{prefix}{d.message}{hint}"


@dataclass
class SourceCache:
    """Source texts by file name, so errors can quote the offending line."""

    texts: dict[str, str] = field(default_factory=dict)
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, name: str, text: str) -> None:
        self.texts[name] = text
        self._lines.pop(name, None)

    def line(self, name: str, line: int) -> str | None:
        text = self.texts.get(name)
        if text is None:
            try:
                # Only a regular file of a curriculum's size: quoting a line must not read /dev/zero without
                # end, block on a named pipe, or load a file the reader refused as too large.
                info = Path(name).stat()
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
                    return None
                text = Path(name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
            self.texts[name] = text
        lines = self._lines.get(name)
        if lines is None:
            # Lines as the parser counts them, at '\n' only: str.splitlines() also splits at form feeds,
            # U+2028 and U+0085, and would quote a line above the error. Split once per file, not per
            # diagnostic: a file with a thousand errors would be split a thousand times.
            lines = self._lines[name] = [ln.removesuffix("\r") for ln in text.split("\n")]
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None


SOURCES = SourceCache()

MAX_SOURCE_BYTES = 16 * 1024 * 1024  # the largest curriculum file read (seethink_core.compiler.source)

_MAX_QUOTED = 160  # a 3 MB line must not flood the terminal


def render(diag: Diagnostic, sources: SourceCache | Mapping[str, str] | None = None) -> str:
    """``file:line:col: message``, then the source line and a caret under the column."""
    if sources is None:
        cache = SOURCES
    elif isinstance(sources, SourceCache):
        cache = sources
    else:
        cache = SourceCache(dict(sources))
    head = f"{diag.severity}: {diag.message}" if diag.severity != "error" else diag.message
    out = [f"{diag.pos}: {head}" if diag.pos else head]
    if diag.pos is not None:
        text = cache.line(diag.pos.file, diag.pos.line)
        if text is not None:
            text = text.expandtabs(1)
            col = max(diag.pos.col, 1)
            start = 0
            if len(text) > _MAX_QUOTED:
                start = max(0, col - _MAX_QUOTED // 2)
                text = text[start:start + _MAX_QUOTED]
            # One '?' per invisible character keeps the caret under its column and keeps escape sequences
            # and bidi controls of the file from reaching the terminal.
            text = "".join(ch if ch.isprintable() else "?" for ch in text)
            width = max(1, (diag.pos.end_col or col + 1) - col)
            width = min(width, max(1, len(text) - (col - 1 - start)))
            out.append(f"    {text}")
            out.append("    " + " " * (col - 1 - start) + "^" * width)
    if diag.hint:
        out.append(f"    hint: {diag.hint}")
    return "\n".join(out)


def render_all(err: SeethinkError, sources: SourceCache | None = None) -> str:
    parts = [render(d, sources) for d in err.diagnostics]
    n_err = sum(d.severity == "error" for d in err.diagnostics)
    if n_err > 1:
        parts.append(f"{n_err} errors")
    return "\n".join(parts)


# Above this many candidates, only those that keep the first letter and about the length are compared:
# difflib costs microseconds per candidate, and a file that names thousands of curricula, each with a
# mistake, would spend seconds in did-you-means. A typo rarely changes the first letter.
_MANY_CANDIDATES = 200


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or ``None``."""
    pool = candidates if isinstance(candidates, (list, tuple, set, frozenset, dict)) else list(candidates)
    if len(pool) > _MANY_CANDIDATES:
        first, lo, hi = name[:1], len(name) - 2 - len(name) // 3, len(name) + 2 + len(name) // 3
        pool = [c for c in pool if c[:1] == first and lo <= len(c) <= hi]
    close = difflib.get_close_matches(name, sorted(set(pool)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
