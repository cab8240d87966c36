"""A hand-written recursive-descent reader of grammar/curriculum.lark, for text without mistakes.

Lark's LALR parser reads some 50,000 tokens a second here, so a curriculum of 10,000 stages (430,000
tokens) took seconds. This reader tokenizes each line with one regular expression and builds the
syntax tree directly, ten times faster. It accepts only what the grammar accepts, and builds the tree
``parser._Builder`` builds (the same nodes, the same positions). Anything else (a syntax error, a
number too large, lists nested too deep, a keyword glued to a word) raises ``NotReadable`` and the
caller parses the text with Lark, so every error message stays Lark's path's word for word.
tests/dsl/test_fast_parser.py compares the two on the shipped curricula, the golden error files and
fuzzed text.

How Lark's contextual lexer reads a word is mirrored per place: where the grammar takes a name, a
word is a name unless it is one of the keywords that Lark's parser state there also takes (the
``*_KEYWORDS`` sets below, checked against Lark's tables by the tests).
"""

from __future__ import annotations

import math
import re
from typing import Any

from seethink_core.dsl import ast
from seethink_core.dsl.parser import MAX_LIST_DEPTH, unescape
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

SETTING_KEYWORDS = frozenset((
    "model", "backend", "algorithm", "method", "prompt", "system", "reward", "data", "eval", "seed",
    "freeze", "handoff", "capability", "steps", "epochs", "samples", "until", "difficulty", "levels",
    "pacing", "mix"))
# Words Lark reads as keywords where a value may be a bare word (an option's value, a list item).
VALUE_KEYWORDS = frozenset(("true", "false", "none"))
# After `difficulty`, where its optional call may start: its clauses, and what may follow the statement.
DIFFICULTY_KEYWORDS = SETTING_KEYWORDS | {"order", "range", "stage", "merge", "stages", "source"}
# After `eval`, where a call may start.
EVAL_KEYWORDS = frozenset(("every", "settings"))
# After `until` and `or`, where a metric may start.
CONDITION_KEYWORDS = frozenset(("steps",))



class TooManyTokens(Exception):
    """More tokens than ``tokenize``'s limit; ``token`` is the first one past it."""

    def __init__(self, token: tuple):
        super().__init__(token)
        self.token = token


class NotReadable(Exception):
    """The text is not one this reader accepts; ``index`` is the token it stopped at."""

    def __init__(self, index: int):
        super().__init__(index)
        self.index = index


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


def _source_pos(file: str, line: int, col: int, end_col: int | None) -> SourcePos:
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


class Reader:
    """One parse: ``module()`` or ``literal()`` over ``tokenize(text)``."""

    def __init__(self, tokens: list[tuple], file: str):
        self.toks = tokens
        self.i = 0
        self.file = file
        # Statement lists open at the point of failure, outermost first: [index of the header's first
        # token (None at top level), index of its '{', start of the previous statement, start of this one].
        self.frames: list[list] = []

    # --- tokens ---------------------------------------------------------------------------------

    def fail(self) -> NotReadable:
        return NotReadable(self.i)

    def pos(self, tok: tuple) -> SourcePos:
        return _source_pos(self.file, tok[2], tok[3], tok[4])

    def span(self, first: tuple, last: SourcePos | tuple) -> SourcePos:
        """From token ``first`` to the end of ``last`` (a position or a token), when on one line."""
        if isinstance(last, tuple):
            end = last[4] if last[2] == first[2] else None
        else:
            end = last.end_col if last.line == first[2] else None
        return _source_pos(self.file, first[2], first[3], end)

    def span_pos(self, first: SourcePos, last: SourcePos) -> SourcePos:
        return _source_pos(self.file, first.line, first.col, last.end_col if last.line == first.line else None)

    def punct(self, text: str) -> tuple:
        tok = self.toks[self.i]
        if tok[0] != PUNCT or tok[1] != text:
            raise self.fail()
        self.i += 1
        return tok

    def name_tok(self) -> tuple:
        """A NAME where the parser state takes only a name (no keyword)."""
        tok = self.toks[self.i]
        if tok[0] != WORD:
            raise self.fail()
        self.i += 1
        return tok

    def name(self) -> ast.Name:
        tok = self.name_tok()
        return ast.Name(_source_pos(self.file, tok[2], tok[3], tok[4]), tok[1])

    def at_punct(self, text: str) -> bool:
        tok = self.toks[self.i]
        return tok[0] == PUNCT and tok[1] == text

    def at_word(self, text: str) -> bool:
        tok = self.toks[self.i]
        return tok[0] == WORD and tok[1] == text

    # --- values -----------------------------------------------------------------------------------

    def number(self, tok: tuple) -> ast.Value:
        text = tok[1]
        if "." in text or "e" in text or "E" in text:
            value: Any = float(text)
            if not math.isfinite(value):
                raise self.fail()
        else:
            if len(text) > 30:
                raise self.fail()
            value = int(text)
        return ast.Value(self.pos(tok), value)

    def string(self) -> ast.Value:
        toks = self.toks
        first = toks[self.i]
        j = self.i + 1
        while toks[j][0] == STRING:
            j += 1
        parts = toks[self.i:j]
        self.i = j
        text = "".join(unescape(t[1][1:-1]) for t in parts)
        return ast.Value(self.span(first, parts[-1]), text)

    def scalar(self, depth: int = 0) -> ast.Value:
        tok = self.toks[self.i]
        kind = tok[0]
        if kind == STRING:
            return self.string()
        if kind == NUMBER:
            self.i += 1
            return self.number(tok)
        if kind == WORD:
            word = tok[1]
            if word == "true":
                self.i += 1
                return ast.Value(self.pos(tok), True)
            if word == "false":
                self.i += 1
                return ast.Value(self.pos(tok), False)
            if word == "none":
                self.i += 1
                return ast.Value(self.pos(tok), None)
            raise self.fail()
        if kind == PUNCT and tok[1] == "[":
            return self.list(depth + 1)
        raise self.fail()

    def value(self, depth: int = 0) -> ast.Value:
        """``?value``: a scalar or a bare word."""
        tok = self.toks[self.i]
        if tok[0] == WORD and tok[1] not in VALUE_KEYWORDS:
            self.i += 1
            return ast.Value(self.pos(tok), tok[1], bare=True)
        return self.scalar(depth)

    def list(self, depth: int) -> ast.Value:
        if depth > MAX_LIST_DEPTH:  # deeper lists are Lark's to report
            raise self.fail()
        first = self.punct("[")
        items: list = []
        if not self.at_punct("]"):
            items.append(self.value(depth).value)
            while self.at_punct(","):
                self.i += 1
                if self.at_punct("]"):
                    break
                items.append(self.value(depth).value)
        last = self.punct("]")
        return ast.Value(self.span(first, last), items)

    # --- calls and arguments ------------------------------------------------------------------------

    def keyed(self) -> ast.Arg:
        """``NAME ":" value`` (``keyword``, ``kwarg``). Written out (``name_tok``, ``punct``, ``span``):
        a stage's options are most of a file's tokens."""
        toks = self.toks
        i = self.i
        key = toks[i]
        if key[0] != WORD:
            raise self.fail()
        colon = toks[i + 1]
        self.i = i + 1
        if colon[0] != PUNCT or colon[1] != ":":
            raise self.fail()
        self.i = i + 2
        value = self.value()
        file, line = self.file, key[2]
        end = value.pos
        return ast.Arg(_source_pos(file, line, key[3], end.end_col if end.line == line else None),
                       ast.Name(_source_pos(file, line, key[3], key[4]), key[1]), value)

    def arg(self) -> ast.Arg:
        toks = self.toks
        tok = toks[self.i]
        nxt = toks[self.i + 1]
        if tok[0] == WORD and tok[1] not in VALUE_KEYWORDS and nxt[0] == PUNCT and nxt[1] == ":":
            return self.keyed()
        value = self.value()
        return ast.Arg(value.pos, None, value)

    def call(self) -> ast.Call:
        toks = self.toks
        head = toks[self.i]
        if head[0] != WORD:
            raise self.fail()
        self.i += 1
        name = ast.Name(_source_pos(self.file, head[2], head[3], head[4]), head[1])
        tok = toks[self.i]
        if tok[0] != PUNCT or tok[1] != "(":
            return ast.Call(name.pos, name, ())
        self.i += 1
        args: list[ast.Arg] = []
        if not self.at_punct(")"):
            args.append(self.arg())
            while self.at_punct(","):
                self.i += 1
                if self.at_punct(")"):
                    break
                args.append(self.arg())
        last = self.punct(")")
        return ast.Call(self.span(head, last), name, tuple(args))

    def kwargs(self) -> tuple:
        args = [self.keyed()]
        while self.at_punct(","):
            self.i += 1
            args.append(self.keyed())
        return tuple(args)

    def name_list(self) -> tuple:
        names = [self.name()]
        while self.at_punct(","):
            self.i += 1
            names.append(self.name())
        return tuple(names)

    # --- settings ---------------------------------------------------------------------------------

    def setting(self, kw: tuple) -> ast.Setting:
        """The setting that keyword token ``kw`` (already read) starts."""
        method = _SETTINGS.get(kw[1])
        if method is None:
            raise self.fail()
        return method(self, kw)

    def one_part(self, kw: tuple) -> ast.Setting:
        """A setting that is its keyword and one part (``_ONE_PART``): ``model "m"``, ``backend b(...)``."""
        node, read = _ONE_PART[kw[1]]
        part = read(self)
        return node(self.span(kw, part.pos), part)

    def weighted(self) -> ast.Value | None:
        if self.at_word("weight"):
            self.i += 1
            return self.scalar()
        return None

    def s_reward(self, kw: tuple) -> ast.Setting:
        c = self.call()
        w = self.weighted()
        return ast.Reward(self.span(kw, (w or c).pos), c, w)

    def s_data(self, kw: tuple) -> ast.Setting:
        c = self.call()
        w = self.weighted()
        return ast.Data(self.span(kw, (w or c).pos), c, w)

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

    def s_freeze(self, kw: tuple) -> ast.Setting:
        names = self.name_list()
        return ast.Freeze(self.span(kw, names[-1].pos), names)

    def s_handoff(self, kw: tuple) -> ast.Setting:
        args = self.kwargs()
        return ast.Handoff(self.span(kw, args[-1].pos), args)

    def s_steps(self, kw: tuple) -> ast.Setting:
        v = self.scalar()
        return ast.Budget(self.span(kw, v.pos), kw[1], v)

    s_epochs = s_samples = s_steps

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
        last = settings[-1].pos if settings else name.pos  # parser._span: a block's position is its last setting's
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


# The settings that are a keyword and one part: their node, and how the part is read.
_ONE_PART = {
    "model": (ast.Model, Reader.scalar), "prompt": (ast.Prompt, Reader.scalar), "system": (ast.System, Reader.scalar),
    "seed": (ast.Seed, Reader.scalar), "backend": (ast.Backend, Reader.call), "algorithm": (ast.Algorithm, Reader.call),
    "method": (ast.Algorithm, Reader.call), "pacing": (ast.Pacing, Reader.call),
    "capability": (ast.Capability, Reader.name), "mix": (ast.Mix, Reader.name),
}
# Each setting keyword's reader method.
_SETTINGS = {word: Reader.one_part if word in _ONE_PART else getattr(Reader, "s_" + word) for word in SETTING_KEYWORDS}


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
