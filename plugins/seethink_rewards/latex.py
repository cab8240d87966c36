"""A tokenizer and Pratt parser for the LaTeX / plain-text math that final answers are written in.

It reads a small, fixed subset into a tiny expression tree (``Node``): numbers, variables, the four
operations and powers with implicit multiplication, ``\\frac``, ``\\sqrt[n]{}``, ``\\binom``, the usual
functions, ``!``, ``|x|``, ``\\pi``, ``e``, ``i``, ``\\infty``, ``\\pm``; and the structures answers come
in: tuples and intervals (``(a, b]``), sets (``\\{a, b\\}``), bare lists (``a, b`` / ``a \\lor b``), unions
(``\\cup``) and relation chains (``a \\le x < b``). Anything else raises ``Unreadable``: a grader that
cannot read an answer has not found it correct. Parsing is linear in the input (no backtracking);
the input length is capped by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


class Unreadable(ValueError):
    """The answer is outside the subset this parser reads."""


@dataclass(frozen=True, slots=True)
class Node:
    """``op`` names the node; ``args`` are child nodes; ``value`` carries a leaf's payload (a number's
    ``Fraction`` and literal text, a variable's name, a structure's delimiters or relation operators)."""

    op: str
    args: tuple[Node, ...] = ()
    value: Any = None


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, id, fn, const, cmd, rel, sym, sep
    text: str


FUNCTIONS = frozenset({"sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan",
                       "sinh", "cosh", "tanh", "ln", "log", "exp"})
_CONSTANTS = {"pi": "pi", "infty": "inf", "infinity": "inf", "inf": "inf", "imath": "i"}
_RELATIONS = {"=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=", "le": "<=", "leq": "<=",
              "leqslant": "<=", "leqq": "<=", "ge": ">=", "geq": ">=", "geqslant": ">=", "geqq": ">=",
              "ne": "!=", "neq": "!=", "lt": "<", "gt": ">"}
_SEPARATORS = {",": ",", ";": ",", "lor": "or", "land": "and"}
_SYMBOL_COMMANDS = {"cdot": "*", "times": "*", "div": "/", "pm": "pm", "mp": "mp", "cup": "cup",
                    "{": "\\{", "}": "\\}", "langle": "<(", "rangle": ")>", "lvert": "|", "rvert": "|",
                    "vert": "|", "emptyset": "empty", "varnothing": "empty"}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+(?![\d.]))?)"
                    r"|\\(?P<cmd>[A-Za-z]+|[{}])|(?P<word>[A-Za-z]+)"
                    r"|(?P<rel><=|>=|!=|[=<>])|(?P<sym>[-+*/^_!()\[\]{}|,;]))")


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise Unreadable(f"cannot read {text[pos:pos + 10]!r}")
        pos = m.end()
        if m.group("num"):
            out.append(Token("num", m.group("num")))
        elif m.group("cmd"):
            out.append(_command(m.group("cmd")))
        elif m.group("word"):
            out.extend(_word(m.group("word")))
        elif m.group("rel"):
            out.append(Token("rel", m.group("rel")))
        else:
            sym = m.group("sym")
            out.append(Token("sep", ",") if sym in ",;" else Token("sym", sym))
    return out


def _command(name: str) -> Token:
    if name in FUNCTIONS:
        return Token("fn", name)
    if name in _CONSTANTS:
        return Token("const", _CONSTANTS[name])
    if name in _RELATIONS:
        return Token("rel", _RELATIONS[name])
    if name in _SEPARATORS:
        return Token("sep", _SEPARATORS[name])
    if name in _SYMBOL_COMMANDS:
        return Token("sym", _SYMBOL_COMMANDS[name])
    if name in ("frac", "sqrt", "binom"):
        return Token("cmd", name)
    raise Unreadable(f"unknown command \\{name}")


def _word(word: str) -> list[Token]:
    """Plain-text words: a function or constant name, else one variable per letter (``xy`` = x·y)."""
    low = word.lower()
    if low in FUNCTIONS:
        return [Token("fn", low)]
    if low in _CONSTANTS:
        return [Token("const", _CONSTANTS[low])]
    if low == "sqrt":
        return [Token("cmd", "sqrt")]
    if low in ("or", "and"):
        return [Token("sep", low)]
    # e and i are Euler's number and the imaginary unit, as answers use them.
    return [Token("const", ch) if ch in "ei" else Token("id", ch) for ch in word]


# Binding powers: what binds tighter has the higher number.
_ADD, _MUL, _UNARY, _POW, _POSTFIX = 10, 20, 25, 30, 40
_NUMBER_ONLY = re.compile(r"^\d+$")


class Parser:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.i = 0

    # -- token helpers ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise Unreadable("unexpected end")
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    def at_ahead(self, ahead: int, kind: str, text: str) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.kind == kind and tok.text == text

    def expect(self, kind: str, text: str) -> None:
        if not self.at(kind, text):
            raise Unreadable(f"expected {text!r}")
        self.i += 1

    # -- structure levels ------------------------------------------------------------------------
    def parse_list(self, closers: tuple[str, ...] = ()) -> tuple[list[Node], set[str]]:
        """Items separated by ``,`` / ``;`` / or / and, up to a closer (not consumed) or the end."""
        items, joins = [self.parse_relation()], set()
        while self.at("sep"):
            joins.add(self.next().text)
            items.append(self.parse_relation())
        tok = self.peek()
        if tok is not None and not (tok.kind == "sym" and tok.text in closers):
            raise Unreadable(f"unexpected {tok.text!r}")
        return items, joins

    def parse_relation(self) -> Node:
        sides, ops = [self.parse_union()], []
        while self.at("rel"):
            ops.append(self.next().text)
            sides.append(self.parse_union())
        return sides[0] if not ops else Node("rel", tuple(sides), tuple(ops))

    def parse_union(self) -> Node:
        parts = [self.parse_expr(0)]
        while self.at("sym", "cup"):
            self.next()
            parts.append(self.parse_expr(0))
        return parts[0] if len(parts) == 1 else Node("union", tuple(parts))

    # -- Pratt expression parser -----------------------------------------------------------------
    def parse_expr(self, bp: int, in_function: bool = False) -> Node:
        left = self.nud()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            if tok.kind == "sym" and tok.text in ("+", "-", "pm", "mp") and bp < _ADD:
                self.next()
                right = self.parse_expr(_ADD)
                left = Node({"+": "+", "-": "-", "pm": "pm", "mp": "mp"}[tok.text], (left, right))
            elif tok.kind == "sym" and tok.text in ("*", "/") and bp < _MUL:
                self.next()
                left = Node(tok.text, (left, self.parse_expr(_MUL)))
            elif tok.kind == "sym" and tok.text == "^" and bp < _POW:
                self.next()
                left = Node("^", (left, self.exponent()))
            elif tok.kind == "sym" and tok.text == "!" and bp < _POSTFIX:
                self.next()
                left = Node("!", (left,))
            elif bp < _MUL and self.starts_factor(tok) and not (in_function and tok.kind == "fn"):
                if left.op == "num" and tok.kind == "num":
                    raise Unreadable("two numbers side by side")
                left = Node("*", (left, self.parse_expr(_MUL, in_function)))
            else:
                return left

    def starts_factor(self, tok: Token) -> bool:
        return (tok.kind in ("num", "id", "const", "fn", "cmd")
                or (tok.kind == "sym" and tok.text in ("(", "<(")))

    def exponent(self) -> Node:
        if self.at("sym", "{"):
            return self.group()
        if self.at("sym", "-") or self.at("sym", "+"):
            sign = self.next().text
            inner = self.exponent()
            return Node("neg", (inner,)) if sign == "-" else inner
        return self.parse_expr(_POW - 1)  # right-associative: 2^3^2 = 2^(3^2)

    def nud(self) -> Node:
        tok = self.next()
        kind, text = tok.kind, tok.text
        if kind == "num":
            return self.number(text)
        if kind == "id":
            return self.identifier(text)
        if kind == "const":
            return Node("const", value=text)
        if kind == "fn":
            return self.function(text)
        if kind == "cmd":
            return self.command(text)
        if kind == "sym":
            if text in ("-", "+"):
                inner = self.parse_expr(_UNARY)
                return Node("neg", (inner,)) if text == "-" else inner
            if text in ("pm", "mp"):
                return Node(text, (Node("num", value=(Fraction(0), "0")), self.parse_expr(_UNARY)))
            if text in ("(", "["):
                return self.bracketed(text)
            if text == "<(":
                items, _ = self.parse_list((")>",))
                self.next()
                return Node("tuple", tuple(items), ("(", ")"))
            if text == "{":
                return self.braced("}")
            if text == "\\{":
                return self.braced("\\}", is_set=True)
            if text == "|":
                inner = self.parse_expr(0)
                self.expect("sym", "|")
                return Node("abs", (inner,))
            if text == "empty":
                return Node("set", ())
        raise Unreadable(f"unexpected {text!r}")

    def number(self, text: str) -> Node:
        value = Fraction(text)
        node = Node("num", value=(value, text))
        # A mixed number, 2\frac{1}{2} = 5/2 (never 2 · 1/2 in an answer).
        if _NUMBER_ONLY.match(text) and self.at("cmd", "frac"):
            save = self.i
            self.next()
            num, den = self.argument(), self.argument()
            if num.op == "num" and den.op == "num" and _NUMBER_ONLY.match(num.value[1]) \
                    and _NUMBER_ONLY.match(den.value[1]) and 0 < num.value[0] < den.value[0]:
                return Node("num", value=(value + num.value[0] / den.value[0], None))
            self.i = save
        return node

    def identifier(self, letter: str) -> Node:
        name = letter
        if self.at("sym", "_"):  # x_1, a_{12}: one variable
            self.next()
            if self.at("sym", "{"):
                self.next()
                parts = []
                while not self.at("sym", "}"):
                    parts.append(self.next().text)  # raises Unreadable at the end of the input
                self.next()
                name += "_" + "".join(parts)
            else:
                name += "_" + self.next().text
        # f(x) = ... : a function's name and arguments, only as the label before "=".
        if self.at("sym", "("):
            j, names = 1, []
            while (t := self.peek(j)) is not None and t.kind == "id":
                names.append(t.text)
                j += 1
                if not self.at_ahead(j, "sep", ","):
                    break
                j += 1
            if names and self.at_ahead(j, "sym", ")") and self.at_ahead(j + 1, "rel", "="):
                self.i += j + 1
                return Node("call", tuple(Node("var", value=n) for n in names), name)
        return Node("var", value=name)

    def function(self, name: str) -> Node:
        power = base = None
        if name == "log" and self.at("sym", "_"):
            self.next()
            base = self.argument()
        if self.at("sym", "^"):
            self.next()
            power = self.exponent()
        if self.at("sym", "("):
            arg = self.bracketed(self.next().text)
        else:
            arg = self.parse_expr(_MUL - 1, in_function=True)
        node = Node("fn", (arg,) if base is None else (arg, base), name)
        if power is not None:
            if power.op == "neg" and power.args[0] == Node("num", value=(Fraction(1), "1")) and name in (
                    "sin", "cos", "tan"):
                return Node("fn", (arg,), "arc" + name)  # \sin^{-1} x is arcsin x
            node = Node("^", (node, power))
        return node

    def command(self, name: str) -> Node:
        if name == "frac":
            return Node("/", (self.argument(), self.argument()))
        if name == "binom":
            return Node("binom", (self.argument(), self.argument()))
        # \sqrt[n]{x}
        index = Node("num", value=(Fraction(2), "2"))
        if self.at("sym", "["):
            self.next()
            index = self.parse_expr(0)
            self.expect("sym", "]")
        return Node("root", (self.argument(), index))

    def argument(self) -> Node:
        """A command's argument: a braced group, else one token (``\\frac12`` is split by the caller)."""
        if self.at("sym", "{"):
            return self.group()
        tok = self.next()
        if tok.kind == "num":
            return Node("num", value=(Fraction(tok.text), tok.text))
        if tok.kind == "id":
            return Node("var", value=tok.text)
        if tok.kind == "const":
            return Node("const", value=tok.text)
        raise Unreadable("bad argument")

    def group(self) -> Node:
        self.expect("sym", "{")
        node = self.parse_relation()
        self.expect("sym", "}")
        return node

    def braced(self, closer: str, is_set: bool = False) -> Node:
        if self.at("sym", closer):
            self.next()
            return Node("set", ())
        items, _ = self.parse_list((closer,))
        self.next()
        if len(items) == 1 and not is_set:
            return items[0]
        return Node("set", tuple(items))

    def bracketed(self, opener: str) -> Node:
        items, _ = self.parse_list((")", "]"))
        closer = self.next().text
        if len(items) == 1:
            if (opener, closer) in (("(", ")"), ("[", "]")):
                return items[0]
            raise Unreadable("a half-open bracket around one item")
        return Node("tuple", tuple(items), (opener, closer))


def parse(text: str) -> Node:
    """The tree of a whole answer; a bare list becomes a ``list`` node (``value``: its joiners)."""
    parser = Parser(tokenize(text))
    if parser.peek() is None:
        raise Unreadable("empty")
    items, joins = parser.parse_list()
    return items[0] if len(items) == 1 else Node("list", tuple(items), frozenset(joins))
