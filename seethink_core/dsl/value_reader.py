"""The fast reader's base: tokens, values, calls and their arguments (what every statement is made of).
``fast_parser.Reader`` adds the statements. Each method reads at ``self.i`` and moves past what it read,
or raises ``NotReadable`` (see fast_parser) for Lark's path to explain."""

from __future__ import annotations

from seethink_core.dsl import ast
from seethink_core.dsl.keywords import VALUE_KEYWORDS
from seethink_core.dsl.tokens import NUMBER, PUNCT, STRING, WORD, source_pos
from seethink_core.dsl.values import MAX_LIST_DEPTH, number_value, string_value
from seethink_core.errors import SourcePos


class NotReadable(Exception):
    """The text is not one this reader accepts; ``index`` is the token it stopped at."""

    def __init__(self, index: int):
        super().__init__(index)
        self.index = index


class ValueReader:
    """The reading position in ``tokenize(text)``'s tokens, and readers of the parts of statements."""

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
        return source_pos(self.file, tok[2], tok[3], tok[4])

    def span(self, first: tuple, last: SourcePos | tuple) -> SourcePos:
        """From token ``first`` to the end of ``last`` (a position or a token), when on one line."""
        if isinstance(last, tuple):
            end = last[4] if last[2] == first[2] else None
        else:
            end = last.end_col if last.line == first[2] else None
        return source_pos(self.file, first[2], first[3], end)

    def span_pos(self, first: SourcePos, last: SourcePos) -> SourcePos:
        return source_pos(self.file, first.line, first.col, last.end_col if last.line == first.line else None)

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
        return ast.Name(source_pos(self.file, tok[2], tok[3], tok[4]), tok[1])

    def at_punct(self, text: str) -> bool:
        tok = self.toks[self.i]
        return tok[0] == PUNCT and tok[1] == text

    def at_word(self, text: str) -> bool:
        tok = self.toks[self.i]
        return tok[0] == WORD and tok[1] == text

    # --- values -----------------------------------------------------------------------------------

    def number(self, tok: tuple) -> ast.Value:
        value = number_value(tok[1])
        if value is None:  # too large: Lark's path says so
            raise self.fail()
        return ast.Value(self.pos(tok), value)

    def string(self) -> ast.Value:
        toks = self.toks
        first = toks[self.i]
        j = self.i + 1
        while toks[j][0] == STRING:
            j += 1
        parts = toks[self.i:j]
        self.i = j
        text = string_value(t[1] for t in parts)
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
        return ast.Arg(source_pos(file, line, key[3], end.end_col if end.line == line else None),
                       ast.Name(source_pos(file, line, key[3], key[4]), key[1]), value)

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
        name = ast.Name(source_pos(self.file, head[2], head[3], head[4]), head[1])
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
