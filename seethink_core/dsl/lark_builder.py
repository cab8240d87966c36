"""The Lark parser's tree builder: callbacks named after grammar rules, which Lark calls on each reduction
while it parses (so no intermediate parse tree exists and deep input cannot exhaust the recursion limit).

The builder knows the source it is building from (``reading``): positions name its file, and
``whole_keyword`` (a lexer callback) looks at its text. One builder lives inside the process's parser
(``lark_parser.get_parser``); each parse sets its source for the parse's length.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from seethink_core.dsl import ast
from seethink_core.dsl.keywords import WORD_CHARS
from seethink_core.dsl.statements import STATEMENTS, WEIGHTED_CALL, WORD_SCALAR
from seethink_core.dsl.values import MAX_LIST_DEPTH, list_depth, number_too_large, number_value, string_value
from seethink_core.errors import DslError, SourcePos, did_you_mean


def _is_token(item: Any) -> bool:
    return not isinstance(item, ast.Node) and hasattr(item, "type")


def _named(children: list) -> list:
    """Drop keywords and punctuation (anonymous terminals); keep names, values and nodes."""
    return [c for c in children if not (_is_token(c) and c.type not in ("NAME", "NUMBER", "STRING", "COMPARE"))]


class TreeBuilder:
    """Callbacks named after grammar rules (the helpers' names start with ``_``, as no rule's that Lark
    calls back does)."""

    def __init__(self, keywords: list[str]):
        self.keywords = keywords  # the grammar's, for a misspelled one's hint
        self.text = ""
        self.file = "<text>"

    @contextlib.contextmanager
    def reading(self, text: str, file: str | None = None) -> Iterator[None]:
        """Build from ``text``, the contents of ``file`` (None: the file of the parse around this one),
        inside; the source before is restored after (a parse may run inside another's error handling)."""
        before = self.text, self.file
        self.text = text
        if file is not None:
            self.file = file
        try:
            yield
        finally:
            self.text, self.file = before

    def whole_keyword(self, tok: Any) -> Any:
        """A keyword must end where a word ends. Where the parser accepts only keywords, Lark's contextual
        lexer would read ``seed3`` as ``seed`` ``3`` and ``stagewarmup`` as ``stage`` ``warmup``."""
        text = self.text
        end = tok.end_pos
        if end is not None and end < len(text) and text[end] in WORD_CHARS:
            stop = end
            while stop < len(text) and text[stop] in WORD_CHARS and stop - tok.start_pos < 200:
                stop += 1
            word, rest = text[tok.start_pos:stop], text[end:stop]
            pos = SourcePos(self.file, tok.line, tok.column, tok.column + len(word))
            # `stagewarmup`, `seed3`: a missing space; `stagee`: a typo of a keyword.
            typo = None if rest.isdigit() or len(rest) > 2 else did_you_mean(word, self.keywords)
            raise DslError(f"unknown keyword '{word}'", pos,
                           hint=typo or f"did you mean '{tok} {rest}'? A keyword ends where its word ends")
        return tok

    # positions

    def _pos(self, tok: Any) -> SourcePos:
        end = tok.end_column if tok.end_line == tok.line else None
        return SourcePos(self.file, tok.line, tok.column, end)

    def _pos_of(self, item: Any) -> SourcePos | None:
        if isinstance(item, ast.Node):
            return item.pos
        if isinstance(item, tuple):  # a list of nodes, or a (tag, node) pair
            for sub in reversed(item):
                if not isinstance(sub, str):
                    pos = self._pos_of(sub)
                    if pos is not None:
                        return pos
            return None
        return self._pos(item)

    def _span(self, children: list) -> SourcePos:
        """From the first child to the end of the last one, when both are on one line."""
        # Only the two ends: a string of 100,000 parts or a long list need not position every child.
        first = next(p for p in map(self._pos_of, children) if p is not None)
        last = next(p for p in map(self._pos_of, reversed(children)) if p is not None)
        end = last.end_col if last.line == first.line else None
        return SourcePos(first.file, first.line, first.col, end)

    def _name(self, tok: Any) -> ast.Name:
        return ast.Name(self._pos(tok), str(tok))

    # values
    def number(self, c: list) -> ast.Value:
        tok = c[0]
        pos = self._pos(tok)
        value = number_value(str(tok))
        if value is None:
            raise DslError(number_too_large(str(tok)), pos)
        return ast.Value(pos, value)

    def string(self, c: list) -> ast.Value:
        return ast.Value(self._span(c), string_value(map(str, c)))

    def word(self, c: list) -> ast.Value:
        return ast.Value(self._pos(c[0]), str(c[0]), bare=True)

    def true(self, c: list) -> ast.Value:
        return ast.Value(self._pos(c[0]), True)

    def false(self, c: list) -> ast.Value:
        return ast.Value(self._pos(c[0]), False)

    def none(self, c: list) -> ast.Value:
        return ast.Value(self._pos(c[0]), None)

    def list(self, c: list) -> ast.Value:
        items = [v.value for v in _named(c)]
        pos = self._span(c)
        if list_depth(items) > MAX_LIST_DEPTH:
            raise DslError(f"lists are nested more than {MAX_LIST_DEPTH} deep", pos)
        return ast.Value(pos, items)

    def literal(self, c: list) -> ast.Value:
        return c[0]

    # calls and arguments
    def positional(self, c: list) -> ast.Arg:
        return ast.Arg(c[0].pos, None, c[0])

    def keyword(self, c: list) -> ast.Arg:
        key, value = _named(c)
        return ast.Arg(self._span(c), self._name(key), value)

    kwarg = keyword

    def args(self, c: list) -> tuple:
        return tuple(_named(c))

    kwargs = args

    def call(self, c: list) -> ast.Call:
        rest = _named(c)
        args = rest[1] if len(rest) > 1 else ()
        return ast.Call(self._span(c), self._name(rest[0]), args)

    def name_list(self, c: list) -> tuple:
        return tuple(self._name(t) for t in _named(c))

    # settings (those of a common shape are made from their declarations, below the class)
    def weight(self, c: list) -> ast.Value:
        return _named(c)[0]

    every = weight

    def window(self, c: list) -> tuple:
        return ("window", _named(c)[0])

    def min_steps(self, c: list) -> tuple:
        return ("min_steps", _named(c)[0])

    def eval_stmt(self, c: list) -> ast.Eval:
        rest = _named(c)
        refs = tuple(r for r in rest if isinstance(r, ast.Call))
        every = next((r for r in rest if isinstance(r, ast.Value)), None)
        return ast.Eval(self._span(c), refs, every)

    def eval_every(self, c: list) -> ast.EvalEvery:
        return ast.EvalEvery(self._span(c), _named(c)[0])

    def metric(self, c: list) -> ast.Name:
        names = [str(t) for t in _named(c)]
        return ast.Name(self._span(c), ".".join(names))

    def metric_condition(self, c: list) -> ast.Condition:
        metric, op, value = _named(c)
        return ast.Condition(self._span(c), metric, str(op), value)

    def steps_condition(self, c: list) -> tuple:
        return ("cap", _named(c)[0])

    def until(self, c: list) -> ast.Until:
        return ast.until_of(self._span(c), _named(c))

    def order(self, c: list) -> ast.Name:
        return self._name(_named(c)[0])

    def span(self, c: list) -> ast.Span:
        lo, hi = _named(c)
        return ast.Span(self._span(c), lo, hi)

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
        return ast.Difficulty(self._span(c), source, order, rng)

    def level(self, c: list) -> ast.Level:
        name, span = _named(c)
        return ast.Level(self._span(c), self._name(name), span)

    def levels(self, c: list) -> ast.Levels:
        return ast.Levels(self._span(c), tuple(_named(c)))

    # structure
    def stage(self, c: list) -> ast.Stage:
        rest = _named(c)
        return ast.Stage(self._span(c), self._name(rest[0]), tuple(rest[1:]))

    def block(self, c: list) -> tuple:
        return tuple(_named(c))

    def merge(self, c: list) -> ast.Merge:
        rest = _named(c)
        body = rest[2] if len(rest) > 2 else ()
        return ast.Merge(self._span(c), rest[0], self._name(rest[1]), body)

    def stages_stmt(self, c: list) -> ast.StageOrder:
        return ast.StageOrder(self._span(c), _named(c)[0])

    def source_def(self, c: list) -> ast.SourceDef:
        name, call = _named(c)
        return ast.SourceDef(self._span(c), self._name(name), call)

    def import_stmt(self, c: list) -> ast.Import:
        return ast.Import(self._span(c), _named(c)[0])

    def extends(self, c: list) -> ast.Name:
        return self._name(_named(c)[0])

    def curriculum(self, c: list) -> ast.Curriculum:
        rest = _named(c)
        name = self._name(rest[0])
        extends = rest[1] if len(rest) > 1 and isinstance(rest[1], ast.Name) else None
        body = tuple(rest[2:] if extends is not None else rest[1:])
        return ast.Curriculum(self._span(c), name, extends, body)

    def start(self, c: list) -> tuple:
        return tuple(c)


def _one_part(node: type) -> Any:
    def build(self: TreeBuilder, c: list) -> ast.Setting:
        part = _named(c)[0]
        return node(self._span(c), self._name(part) if _is_token(part) else part)  # a NAME: capability, mix
    return build


def _weighted_call(node: type) -> Any:
    def build(self: TreeBuilder, c: list) -> ast.Setting:
        rest = _named(c)
        return node(self._span(c), rest[0], rest[1] if len(rest) > 1 else None)
    return build


def _word_scalar(node: type, word: str) -> Any:
    def build(self: TreeBuilder, c: list) -> ast.Setting:
        return node(self._span(c), word, _named(c)[0])
    return build


# A statement of a common shape (dsl/statements.py) is built from its declaration: under its rule's name,
# or for WORD_SCALAR under each spelling's (the grammar's aliases: `steps`, `epochs`, `samples`).
for _s in STATEMENTS:
    if _s.shape == WORD_SCALAR:
        for _word in _s.keywords:
            setattr(TreeBuilder, _word, _word_scalar(_s.node, _word))
    elif _s.shape == WEIGHTED_CALL:
        setattr(TreeBuilder, _s.grammar_rule, _weighted_call(_s.node))
    elif _s.shape is not None:
        setattr(TreeBuilder, _s.grammar_rule, _one_part(_s.node))
