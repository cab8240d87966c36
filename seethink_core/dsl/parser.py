"""Text → syntax tree. Well-formed text is read by ``fast_parser`` (a hand-written reader of the grammar,
ten times faster than Lark); anything it does not read goes to one LALR parser (Lark), built once per
process (and cached on disk by Lark), which gives every syntax error its message.

The grammar is ``grammar/curriculum.lark``, read through ``importlib.resources`` from the package
``seethink_core.grammar``. Lark builds the tree while parsing (its internal transformer, ``_Builder``),
so no intermediate parse tree exists and deep input cannot exhaust the recursion limit.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
from typing import Any, Iterator

from seethink_core.dsl import ast
from seethink_core.errors import DslError, SourcePos, did_you_mean

MAX_LIST_DEPTH = 32

_GRAMMAR_PACKAGE = "seethink_core.grammar"
_GRAMMAR_FILE = "curriculum.lark"


def grammar_text() -> str:
    from importlib import resources  # imported here: it costs 20 ms, and a well-formed file never needs it

    return resources.files(_GRAMMAR_PACKAGE).joinpath(_GRAMMAR_FILE).read_text(encoding="utf-8")


def _cache_path(text: str) -> str | bool:
    """A per-user cache file for the parse tables (Lark pickles them), or False when unwritable."""
    if os.environ.get("SEETHINK_NO_GRAMMAR_CACHE"):
        return False
    import hashlib
    from pathlib import Path

    import lark

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "seethink"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    digest = hashlib.sha256((text + lark.__version__).encode()).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark-cache")


@functools.lru_cache(maxsize=None)
def get_parser() -> Any:
    """The process-wide LALR parser (``lark.Lark``), with the tree builder inside it."""
    from lark import Lark

    text = grammar_text()
    options = dict(parser="lalr", lexer="contextual", start=["start", "literal"], keep_all_tokens=True,
                   maybe_placeholders=False,
                   lexer_callbacks={kw.upper(): _whole_keyword for kw in _keywords(text)})
    cache = _cache_path(text)
    try:
        return Lark(text, transformer=_Builder(), cache=cache, **options)
    except Exception:  # a corrupt or foreign cache file: build without it
        if cache is False:
            raise
        return Lark(text, transformer=_Builder(), **options)


# --- the tree builder ----------------------------------------------------------------------------

_current_file: list[str] = ["<text>"]
_current_text: list[str] = [""]
WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")  # of a NAME


@contextlib.contextmanager
def lexing(text: str) -> Iterator[None]:
    """Parse calls inside see ``text`` as their source (what ``_whole_keyword`` looks at): for a parse
    that does not go through ``parse`` (syntax_errors parses its example snippets)."""
    _current_text.append(text)
    try:
        yield
    finally:
        _current_text.pop()


def _keywords(grammar: str) -> list[str]:
    """The grammar's quoted words (``"stage"``, ``"seed"``, ...): Lark names each one's terminal by its
    upper-cased text."""
    return sorted(set(re.findall(r'"([a-z_]+)"', grammar)))


def _whole_keyword(tok: Any) -> Any:
    """A keyword must end where a word ends. Where the parser accepts only keywords, Lark's contextual
    lexer would read ``seed3`` as ``seed`` ``3`` and ``stagewarmup`` as ``stage`` ``warmup``."""
    text = _current_text[-1]
    end = tok.end_pos
    if end is not None and end < len(text) and text[end] in WORD_CHARS:
        stop = end
        while stop < len(text) and text[stop] in WORD_CHARS and stop - tok.start_pos < 200:
            stop += 1
        word, rest = text[tok.start_pos:stop], text[end:stop]
        pos = SourcePos(_current_file[-1], tok.line, tok.column, tok.column + len(word))
        # `stagewarmup`, `seed3`: a missing space; `stagee`: a typo of a keyword.
        typo = None if rest.isdigit() or len(rest) > 2 else did_you_mean(word, _keywords(grammar_text()))
        raise DslError(f"unknown keyword '{word}'", pos,
                       hint=typo or f"did you mean '{tok} {rest}'? A keyword ends where its word ends")
    return tok


def _tok_pos(tok: Any) -> SourcePos:
    end = tok.end_column if tok.end_line == tok.line else None
    return SourcePos(_current_file[-1], tok.line, tok.column, end)


def _pos_of(item: Any) -> SourcePos | None:
    if isinstance(item, ast.Node):
        return item.pos
    if isinstance(item, tuple):  # a list of nodes, or a (tag, node) pair
        for sub in reversed(item):
            if not isinstance(sub, str):
                pos = _pos_of(sub)
                if pos is not None:
                    return pos
        return None
    return _tok_pos(item)


def _span(children: list) -> SourcePos:
    """From the first child to the end of the last one, when both are on one line."""
    # Only the two ends: a string of 100,000 parts or a long list need not position every child.
    first = next(p for p in map(_pos_of, children) if p is not None)
    last = next(p for p in map(_pos_of, reversed(children)) if p is not None)
    end = last.end_col if last.line == first.line else None
    return SourcePos(first.file, first.line, first.col, end)


def _is_token(item: Any) -> bool:
    return not isinstance(item, ast.Node) and hasattr(item, "type")


def _named(children: list) -> list:
    """Drop keywords and punctuation (anonymous terminals); keep names, values and nodes."""
    return [c for c in children if not (_is_token(c) and c.type not in ("NAME", "NUMBER", "STRING", "COMPARE"))]


def _name(tok: Any) -> ast.Name:
    return ast.Name(_tok_pos(tok), str(tok))


_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t"}


_ESCAPE = re.compile(r'\\([\\"nt])')


def unescape(body: str) -> str:
    """``\\\\``, ``\\"``, ``\\n`` and ``\\t`` are escapes; any other backslash stays (LaTeX: ``\\boxed``)."""
    if "\\" not in body:
        return body
    # One regular-expression pass: a loop over the characters took a second per 200,000 of them.
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], body)


def _list_depth(value: list) -> int:
    inner = [_list_depth(v) for v in value if isinstance(v, list)]
    return 1 + max(inner, default=0)


class _Builder:
    """Callbacks named after grammar rules; Lark calls them on each reduction."""

    # values
    def number(self, c: list) -> ast.Value:
        tok = c[0]
        text = str(tok)
        pos = _tok_pos(tok)
        if any(ch in text for ch in ".eE"):
            value: Any = float(text)
            if not math.isfinite(value):
                raise DslError(f"number {text} is too large", pos)
        else:
            if len(text) > 30:
                raise DslError(f"number {text[:20]}... is too large", pos)
            value = int(text)
        return ast.Value(pos, value)

    def string(self, c: list) -> ast.Value:
        parts = [unescape(str(t)[1:-1]) for t in c]
        return ast.Value(_span(c), "".join(parts))

    def word(self, c: list) -> ast.Value:
        return ast.Value(_tok_pos(c[0]), str(c[0]), bare=True)

    def true(self, c: list) -> ast.Value:
        return ast.Value(_tok_pos(c[0]), True)

    def false(self, c: list) -> ast.Value:
        return ast.Value(_tok_pos(c[0]), False)

    def none(self, c: list) -> ast.Value:
        return ast.Value(_tok_pos(c[0]), None)

    def list(self, c: list) -> ast.Value:
        items = [v.value for v in _named(c)]
        pos = _span(c)
        if _list_depth(items) > MAX_LIST_DEPTH:
            raise DslError(f"lists are nested more than {MAX_LIST_DEPTH} deep", pos)
        return ast.Value(pos, items)

    def literal(self, c: list) -> ast.Value:
        return c[0]

    # calls and arguments
    def positional(self, c: list) -> ast.Arg:
        return ast.Arg(c[0].pos, None, c[0])

    def keyword(self, c: list) -> ast.Arg:
        key, value = _named(c)
        return ast.Arg(_span(c), _name(key), value)

    kwarg = keyword

    def args(self, c: list) -> tuple:
        return tuple(_named(c))

    kwargs = args

    def call(self, c: list) -> ast.Call:
        rest = _named(c)
        args = rest[1] if len(rest) > 1 else ()
        return ast.Call(_span(c), _name(rest[0]), args)

    def name_list(self, c: list) -> tuple:
        return tuple(_name(t) for t in _named(c))

    # settings
    def model(self, c: list) -> ast.Model:
        return ast.Model(_span(c), _named(c)[0])

    def backend(self, c: list) -> ast.Backend:
        return ast.Backend(_span(c), _named(c)[0])

    def algorithm(self, c: list) -> ast.Algorithm:
        return ast.Algorithm(_span(c), _named(c)[0])

    def prompt(self, c: list) -> ast.Prompt:
        return ast.Prompt(_span(c), _named(c)[0])

    def system(self, c: list) -> ast.System:
        return ast.System(_span(c), _named(c)[0])

    def weight(self, c: list) -> ast.Value:
        return _named(c)[0]

    every = weight

    def window(self, c: list) -> tuple:
        return ("window", _named(c)[0])

    def min_steps(self, c: list) -> tuple:
        return ("min_steps", _named(c)[0])

    def reward(self, c: list) -> ast.Reward:
        rest = _named(c)
        return ast.Reward(_span(c), rest[0], rest[1] if len(rest) > 1 else None)

    def data(self, c: list) -> ast.Data:
        rest = _named(c)
        return ast.Data(_span(c), rest[0], rest[1] if len(rest) > 1 else None)

    def eval_stmt(self, c: list) -> ast.Eval:
        rest = _named(c)
        refs = tuple(r for r in rest if isinstance(r, ast.Call))
        every = next((r for r in rest if isinstance(r, ast.Value)), None)
        return ast.Eval(_span(c), refs, every)

    def eval_every(self, c: list) -> ast.EvalEvery:
        return ast.EvalEvery(_span(c), _named(c)[0])

    def eval_settings(self, c: list) -> ast.EvalSettings:
        return ast.EvalSettings(_span(c), _named(c)[0])

    def seed(self, c: list) -> ast.Seed:
        return ast.Seed(_span(c), _named(c)[0])

    def freeze(self, c: list) -> ast.Freeze:
        return ast.Freeze(_span(c), _named(c)[0])

    def handoff(self, c: list) -> ast.Handoff:
        return ast.Handoff(_span(c), _named(c)[0])

    def capability(self, c: list) -> ast.Capability:
        return ast.Capability(_span(c), _name(_named(c)[0]))

    def steps(self, c: list) -> ast.Budget:
        return ast.Budget(_span(c), "steps", _named(c)[0])

    def epochs(self, c: list) -> ast.Budget:
        return ast.Budget(_span(c), "epochs", _named(c)[0])

    def samples(self, c: list) -> ast.Budget:
        return ast.Budget(_span(c), "samples", _named(c)[0])

    def metric(self, c: list) -> ast.Name:
        names = [str(t) for t in _named(c)]
        return ast.Name(_span(c), ".".join(names))

    def metric_condition(self, c: list) -> ast.Condition:
        metric, op, value = _named(c)
        return ast.Condition(_span(c), metric, str(op), value)

    def steps_condition(self, c: list) -> tuple:
        return ("cap", _named(c)[0])

    def until(self, c: list) -> ast.Until:
        return ast.until_of(_span(c), _named(c))

    def order(self, c: list) -> ast.Name:
        return _name(_named(c)[0])

    def span(self, c: list) -> ast.Span:
        lo, hi = _named(c)
        return ast.Span(_span(c), lo, hi)

    def range(self, c: list) -> ast.Span:
        return _named(c)[0]

    def difficulty(self, c: list) -> ast.Difficulty:
        source = order = rng = None
        for item in _named(c):
            if isinstance(item, ast.Call):
                source = item
            elif isinstance(item, ast.Name):
                order = item
            elif isinstance(item, ast.Span):
                rng = item
        return ast.Difficulty(_span(c), source, order, rng)

    def level(self, c: list) -> ast.Level:
        name, span = _named(c)
        return ast.Level(_span(c), _name(name), span)

    def levels(self, c: list) -> ast.Levels:
        return ast.Levels(_span(c), tuple(_named(c)))

    def pacing(self, c: list) -> ast.Pacing:
        return ast.Pacing(_span(c), _named(c)[0])

    def mix(self, c: list) -> ast.Mix:
        return ast.Mix(_span(c), _name(_named(c)[0]))

    # structure
    def stage(self, c: list) -> ast.Stage:
        rest = _named(c)
        return ast.Stage(_span(c), _name(rest[0]), tuple(rest[1:]))

    def block(self, c: list) -> tuple:
        return tuple(_named(c))

    def merge(self, c: list) -> ast.Merge:
        rest = _named(c)
        body = rest[2] if len(rest) > 2 else ()
        return ast.Merge(_span(c), rest[0], _name(rest[1]), body)

    def stages_stmt(self, c: list) -> ast.StageOrder:
        return ast.StageOrder(_span(c), _named(c)[0])

    def source_def(self, c: list) -> ast.SourceDef:
        name, call = _named(c)
        return ast.SourceDef(_span(c), _name(name), call)

    def import_stmt(self, c: list) -> ast.Import:
        return ast.Import(_span(c), _named(c)[0])

    def extends(self, c: list) -> ast.Name:
        return _name(_named(c)[0])

    def curriculum(self, c: list) -> ast.Curriculum:
        rest = _named(c)
        name = _name(rest[0])
        extends = rest[1] if len(rest) > 1 and isinstance(rest[1], ast.Name) else None
        body = tuple(rest[2:] if extends is not None else rest[1:])
        return ast.Curriculum(_span(c), name, extends, body)

    def start(self, c: list) -> tuple:
        return tuple(c)


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
    from seethink_core.dsl.collector import collector_paused
    from seethink_core.dsl.fast_parser import NotReadable, TooManyTokens, read_module

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

    _current_file.append(file)
    _current_text.append(text)
    try:
        items = get_parser().parse(text, start="start")
    except DslError:
        raise
    except Exception as e:  # lark.exceptions.UnexpectedInput and friends
        raise translate(e, text, file) from None
    finally:
        _current_file.pop()
        _current_text.pop()
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
    from seethink_core.dsl.fast_parser import NotReadable, read_literal
    from seethink_core.dsl.syntax_errors import translate

    try:
        return read_literal(text, file)
    except NotReadable:
        pass
    _current_file.append(file)
    _current_text.append(text)
    try:
        return get_parser().parse(text, start="literal")
    except DslError:
        raise
    except Exception as e:
        raise translate(e, text, file) from None
    finally:
        _current_file.pop()
        _current_text.pop()


__all__ = ["parse", "parse_with_lark", "parse_literal", "get_parser", "grammar_text", "unescape", "MAX_LIST_DEPTH",
           "MAX_TOKENS", "LARK_MAX_TOKENS"]
