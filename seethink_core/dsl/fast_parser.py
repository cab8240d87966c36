"""A hand-written recursive-descent reader of grammar/curriculum.lark, for text without mistakes.

Lark's LALR parser reads some 50,000 tokens a second here, so a curriculum of 10,000 stages (430,000
tokens) took seconds. This reader tokenizes each line with one regular expression (``tokens``) and builds
the syntax tree directly, ten times faster. It accepts only what the grammar accepts, and builds the tree
``lark_builder.TreeBuilder`` builds (the same nodes, the same positions). Anything else (a syntax error, a
number too large, lists nested too deep, a keyword glued to a word) raises ``NotReadable`` and the
caller parses the text with Lark, so every error message stays Lark's path's word for word.
tests/dsl/test_fast_parser.py compares the two on the shipped curricula, the golden error files and
fuzzed text.

The parts of statements (values, calls, arguments) are read by ``value_reader.ValueReader``; this module
reads the statements. How Lark's contextual lexer reads a word is mirrored per place (the ``*_KEYWORDS``
sets of ``keywords``).
"""

from __future__ import annotations

from typing import Any

from seethink_core.dsl import ast
from seethink_core.dsl.keywords import (
    CONDITION_KEYWORDS,
    DIFFICULTY_KEYWORDS,
    EVAL_KEYWORDS,
    SETTING_KEYWORDS,
    VALUE_KEYWORDS,
)
from seethink_core.dsl.statements import STATEMENTS, WEIGHTED_CALL, WORD_SCALAR
from seethink_core.dsl.tokens import END, PUNCT, STRING, WORD, TooManyTokens, tokenize
from seethink_core.dsl.tokens import source_pos as _source_pos  # the name tests know it by
from seethink_core.dsl.value_reader import NotReadable, ValueReader


class Reader(ValueReader):
    """One parse: ``module()`` or ``literal()`` over ``tokenize(text)``."""

    # --- settings ---------------------------------------------------------------------------------

    def setting(self, kw: tuple) -> ast.Setting:
        """The setting that keyword token ``kw`` (already read) starts."""
        method = _SETTINGS.get(kw[1])
        if method is None:
            raise self.fail()
        return method(self, kw)

    def one_part(self, kw: tuple) -> ast.Setting:
        """A setting that is its keyword and one part (``model "m"``, ``freeze vision, projector``)."""
        node, read = _ONE_PART[kw[1]]
        part = read(self)
        last = part[-1] if isinstance(part, tuple) else part  # a list of names or of options
        return node(self.span(kw, last.pos), part)

    def weighted(self) -> ast.Value | None:
        if self.at_word("weight"):
            self.i += 1
            return self.scalar()
        return None

    def weighted_call(self, kw: tuple) -> ast.Setting:
        """``reward r(...) weight 2``: a call and an optional weight."""
        c = self.call()
        w = self.weighted()
        return _NODES[kw[1]](self.span(kw, (w or c).pos), c, w)

    def word_scalar(self, kw: tuple) -> ast.Setting:
        """``steps 100``: the keyword is part of the node."""
        v = self.scalar()
        return _NODES[kw[1]](self.span(kw, v.pos), kw[1], v)

    def every(self) -> ast.Value:
        self.i += 1  # "every"
        v = self.scalar()
        if not self.at_word("steps"):
            raise self.fail()
        self.i += 1
        return v

    def s_eval(self, kw: tuple) -> ast.Setting:
        tok = self.toks[self.i]
        if tok[0] == WORD and tok[1] == "every":
            v = self.every()
            return ast.EvalEvery(self.span(kw, v.pos), v)
        if tok[0] == WORD and tok[1] == "settings":
            self.i += 1
            args = self.kwargs()
            return ast.EvalSettings(self.span(kw, args[-1].pos), args)
        if tok[0] != WORD or tok[1] in EVAL_KEYWORDS:
            raise self.fail()
        refs = [self.call()]
        while self.at_punct(","):
            self.i += 1
            refs.append(self.call())
        every = self.every() if self.at_word("every") else None
        return ast.Eval(self.span(kw, (every or refs[-1]).pos), tuple(refs), every)

    def condition(self) -> ast.Condition | tuple:
        tok = self.toks[self.i]
        if tok[0] == WORD and tok[1] == "steps":
            self.i += 1
            return ("cap", self.scalar())
        first = self.name_tok()
        names = [first[1]]
        last = first
        while self.at_punct("."):
            self.i += 1
            last = self.name_tok()
            names.append(last[1])
        metric = ast.Name(self.span(first, last), ".".join(names))
        op = self.toks[self.i]
        if op[0] != PUNCT or op[1] not in (">=", "<=", "==", ">", "<"):
            raise self.fail()
        self.i += 1
        value = self.scalar()
        return ast.Condition(self.span_pos(metric.pos, value.pos), metric, op[1], value)

    def s_until(self, kw: tuple) -> ast.Setting:
        items = [self.condition()]
        while self.at_word("or"):
            self.i += 1
            items.append(self.condition())
        for clause in ("window", "min_steps"):
            if self.at_word(clause):
                self.i += 1
                items.append((clause, self.scalar()))
        last = items[-1]
        last_pos = last.pos if isinstance(last, ast.Condition) else last[1].pos
        return ast.until_of(self.span(kw, last_pos), items)

    def span_node(self) -> ast.Span:
        lo = self.scalar()
        self.punct("..")
        hi = self.scalar()
        return ast.Span(self.span_pos(lo.pos, hi.pos), lo, hi)

    def s_difficulty(self, kw: tuple) -> ast.Setting:
        source = order = rng = None
        last: Any = None
        tok = self.toks[self.i]
        if tok[0] == WORD and tok[1] not in DIFFICULTY_KEYWORDS:
            source = last = self.call()
        if self.at_word("order"):
            self.i += 1
            order = last = self.name()
        if self.at_word("range"):
            self.i += 1
            rng = last = self.span_node()
        pos = self.span(kw, last.pos) if last is not None else self.pos(kw)
        return ast.Difficulty(pos, source, order, rng)

    def level(self) -> ast.Level:
        name = self.name()
        self.punct(":")
        sp = self.span_node()
        return ast.Level(self.span_pos(name.pos, sp.pos), name, sp)

    def s_levels(self, kw: tuple) -> ast.Setting:
        levels = [self.level()]
        while self.at_punct(","):
            self.i += 1
            levels.append(self.level())
        return ast.Levels(self.span(kw, levels[-1].pos), tuple(levels))

    # --- structure ----------------------------------------------------------------------------------

    def body(self, header: int, statement: Any) -> tuple[list, tuple]:
        """``{ statement* }``; ``statement(kw)`` reads one that starts with keyword token ``kw``.
        Returns the statements and the closing brace's token."""
        self.punct("{")
        frame = [header, self.i - 1, None, None]
        self.frames.append(frame)
        toks = self.toks
        out: list = []
        while True:
            frame[2], frame[3] = frame[3], self.i
            tok = toks[self.i]
            if tok[0] == PUNCT and tok[1] == "}":
                break
            if tok[0] != WORD:
                raise self.fail()
            self.i += 1
            out.append(statement(tok))
        self.frames.pop()
        self.i += 1
        return out, tok

    def stage(self, kw: tuple) -> ast.Stage:
        header = self.i - 1
        name = self.name()
        settings, last = self.body(header, self.setting)
        return ast.Stage(self.span(kw, last), name, tuple(settings))

    def merge(self, kw: tuple) -> ast.Merge:
        header = self.i - 1
        members = self.name_list()
        if not self.at_word("as"):
            raise self.fail()
        self.i += 1
        name = self.name()
        if not self.at_punct("{"):
            return ast.Merge(self.span(kw, name.pos), members, name, ())
        settings, _ = self.body(header, self.setting)
        last = settings[-1].pos if settings else name.pos  # TreeBuilder._span: a block ends at its last setting
        return ast.Merge(self.span(kw, last), members, name, tuple(settings))

    def source_def(self, kw: tuple) -> ast.SourceDef:
        name = self.name()
        self.punct("=")
        call = self.call()
        return ast.SourceDef(self.span(kw, call.pos), name, call)

    def curriculum_statement(self, kw: tuple) -> Any:
        word = kw[1]
        if word == "stage":
            return self.stage(kw)
        if word == "merge":
            return self.merge(kw)
        if word == "stages":
            names = self.name_list()
            return ast.StageOrder(self.span(kw, names[-1].pos), names)
        if word == "source":
            return self.source_def(kw)
        return self.setting(kw)

    def curriculum(self, kw: tuple) -> ast.Curriculum:
        header = self.i - 1
        name = self.name()
        extends = None
        if self.at_word("extends"):
            self.i += 1
            extends = self.name()
        body, last = self.body(header, self.curriculum_statement)
        return ast.Curriculum(self.span(kw, last), name, extends, tuple(body))

    def module(self) -> tuple:
        toks = self.toks
        frame = [None, None, None, None]
        self.frames.append(frame)
        items: list = []
        while True:
            frame[2], frame[3] = frame[3], self.i
            tok = toks[self.i]
            if tok[0] == END:
                break
            if tok[0] != WORD:
                raise self.fail()
            self.i += 1
            word = tok[1]
            if word == "curriculum":
                items.append(self.curriculum(tok))
            elif word == "stage":
                items.append(self.stage(tok))
            elif word == "source":
                items.append(self.source_def(tok))
            elif word == "import":
                if toks[self.i][0] != STRING:
                    raise self.fail()
                path = self.string()
                items.append(ast.Import(self.span(tok, path.pos), path))
            else:
                raise self.fail()
        return tuple(items)

    def literal(self) -> ast.Value:
        value = self.value()
        if self.toks[self.i][0] != END:
            raise self.fail()
        return value


def _readers() -> tuple[dict, dict, dict]:
    """From the declarations (dsl/statements.py): each keyword's node, the one-part ones' reader of their
    part, and each keyword's statement reader (``s_WORD`` for a keyword that starts several statements
    or one of its own shape)."""
    nodes: dict[str, type] = {}
    one_part: dict[str, tuple[type, Any]] = {}
    starts: dict[str, list] = {}
    for s in STATEMENTS:
        for word in s.keywords:
            nodes[word] = s.node
            starts.setdefault(word, []).append(s)
    readers: dict[str, Any] = {}
    for word in SETTING_KEYWORDS:
        shape = starts[word][0].shape if len(starts[word]) == 1 else None
        if shape == WEIGHTED_CALL:
            readers[word] = Reader.weighted_call
        elif shape == WORD_SCALAR:
            readers[word] = Reader.word_scalar
        elif shape is not None:
            one_part[word] = (nodes[word], getattr(Reader, shape))
            readers[word] = Reader.one_part
        else:
            readers[word] = getattr(Reader, "s_" + word)
    return nodes, one_part, readers


_NODES, _ONE_PART, _SETTINGS = _readers()


def read_module(text: str, file: str, limit: int | None = None) -> tuple:
    """The items of a module; raises ``NotReadable`` (with the reader, for the place) otherwise, and
    ``TooManyTokens`` past ``limit`` tokens."""
    reader = Reader(tokenize(text, limit), file)
    try:
        return reader.module()
    except NotReadable as e:
        e.reader = reader  # type: ignore[attr-defined]
        raise
    except IndexError:  # read past END: a bug of this reader, never of the text; Lark decides
        raise NotReadable(reader.i) from None


def read_literal(text: str, file: str) -> ast.Value:
    reader = Reader(tokenize(text), file)
    try:
        return reader.literal()
    except IndexError:
        raise NotReadable(reader.i) from None


__all__ = ["Reader", "NotReadable", "TooManyTokens", "tokenize", "read_module", "read_literal", "_source_pos",
           "VALUE_KEYWORDS", "DIFFICULTY_KEYWORDS", "EVAL_KEYWORDS", "CONDITION_KEYWORDS", "SETTING_KEYWORDS"]
