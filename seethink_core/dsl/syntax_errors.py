"""Lark's exceptions → ``DslError`` in words a user knows.

Terminals are shown as the user writes them (``'{'``, ``'epochs'``, "a number"), never as Lark's
names (``LBRACE``). Common mistakes get named messages: some through
``UnexpectedInput.match_examples`` (the parser state of the error is compared with the states of
small wrong examples), the rest from the shape of the error (an unclosed ``{`` at the end of the
file, a misspelled keyword, a setting outside a curriculum).
"""

from __future__ import annotations

import re
from typing import Any

from seethink_core.dsl.keywords import SETTING_KEYWORDS, WORD_CHARS
from seethink_core.errors import DslError, SourcePos, did_you_mean

MAX_LISTED_KEYWORDS = 8

_DESCRIBED = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "COMPARE": "a comparison (>=, >, <=, <, ==)",
    "$END": "the end of the file",
}

# Small wrong inputs whose parser state names the mistake (Lark's match_examples).
EXAMPLES: dict[str, list[str]] = {
    "missing value": [
        "curriculum c { seed }",
        "curriculum c { model }",
        "curriculum c { prompt }",
        "curriculum c { system }",
        "curriculum c { steps }",
        "curriculum c { epochs }",
        "curriculum c { samples }",
        "curriculum c { stage s { seed } }",
        "curriculum c { stage s { model } }",
        "curriculum c { stage s { prompt } }",
        "curriculum c { stage s { system } }",
        "curriculum c { stage s { steps } }",
        "curriculum c { stage s { epochs } }",
        "curriculum c { stage s { samples } }",
        "curriculum c { reward r weight }",
        "curriculum c { data d weight }",
        "curriculum c { algorithm a(x: ) }",
        "curriculum c { algorithm a(x: 1, y: ) }",
        "curriculum c { handoff init: }",
        "curriculum c { eval settings n: }",
        "curriculum c { until x >= }",
        "curriculum c { until x >= 1 or steps }",
        "curriculum c { until x >= 1 window }",
        "curriculum c { until x >= 1 min_steps }",
        "curriculum c { eval e every }",
        "curriculum c { eval every }",
        "curriculum c { stage s { eval every } }",
        "curriculum c { difficulty range }",
        "curriculum c { difficulty range 0.. }",
        "curriculum c { levels a: }",
        "curriculum c { levels a: 0.. }",
        "import",
    ],
    "option written with '='": [
        "curriculum c { algorithm a(x = 1) }",
        "curriculum c { algorithm a(x: 1, y = 2) }",
        "curriculum c { handoff init = previous }",
    ],
    "missing ','": [
        "curriculum c { algorithm a(x: 1 y: 2) }",
        "curriculum c { algorithm a(1 y: 2) }",
        "curriculum c { algorithm a(x: z y: 2) }",
    ],
}


def _offset_pos(text: str, offset: int, file: str) -> SourcePos:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return SourcePos(file, line, col)


def _end_pos(text: str, file: str) -> SourcePos:
    """Just after the last character that is not whitespace or a comment."""
    stripped = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), text).rstrip()
    return _offset_pos(text, len(stripped), file)


def _show(tok: Any) -> str:
    text = str(tok)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'"


def describe_terminal(name: str) -> str:
    """How a terminal looks to a user: ``'{'``, ``'epochs'``, "a number"."""
    if name in _DESCRIBED:
        return _DESCRIBED[name]
    from seethink_core.dsl.lark_parser import get_parser

    try:
        term = get_parser().get_terminal(name)
    except KeyError:
        return name.lower()
    if type(term.pattern).__name__ == "PatternStr":
        return f"'{term.pattern.value}'"
    return name.lower()


def expected_words(names: set[str]) -> str:
    words = sorted({describe_terminal(n) for n in names}, key=lambda w: (not w.startswith("'"), w))
    keywords = [w for w in words if w.startswith("'") and w[1:-1].isidentifier()]
    symbols = [w for w in words if w.startswith("'") and not w[1:-1].isidentifier()]
    others = [w for w in words if not w.startswith("'")]
    if len(keywords) > MAX_LISTED_KEYWORDS:
        # After a complete statement the parser accepts any of some thirty keywords; listing them all makes
        # a hint of 350 characters that hides the symbols (',', '}') that are the likely fix.
        shown = ", ".join(keywords[:3])
        keywords = [f"a keyword ({shown}, ... {len(keywords)} in all)"]
    ordered = symbols + others + keywords
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def _keyword_values(names: set[str]) -> list[str]:
    out = []
    for n in names:
        word = describe_terminal(n)
        if word.startswith("'") and word[1:-1].isidentifier():
            out.append(word[1:-1])
    return out


def _inside_parentheses(text: str, offset: int) -> bool:
    """Whether ``offset`` lies inside an open ``(`` (strings and comments skipped): an option list."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[()]', text[:offset]):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")":
            depth = max(0, depth - 1)
    return depth > 0


def _open_braces(text: str) -> list[int]:
    """Offsets of the ``{`` still open at the end of ``text`` (strings and comments skipped)."""
    stack: list[int] = []
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]', text):
        tok = m.group()
        if tok == "{":
            stack.append(m.start())
        elif tok == "}" and stack:
            stack.pop()
    return stack


def _unclosed_brace(text: str) -> int | None:
    """Offset of the first ``{`` that is never closed."""
    stack = _open_braces(text)
    return stack[0] if stack else None


def _owner(text: str, offset: int) -> str | None:
    """What the ``{`` at ``offset`` opens: "stage 'x'", "curriculum 'y'", "merge 'z'"."""
    # The header is what follows the last brace before this one, comments left out: a search of the
    # whole text took the first "as NAME" anywhere before it, such as a comment's "as its".
    start = max(text.rfind("{", 0, offset), text.rfind("}", 0, offset)) + 1
    header = re.sub(r"#[^\n]*", "", text[start:offset])
    found = list(re.finditer(r"\b(stage|curriculum|as)\s+([A-Za-z_]\w*)", header))
    if not found:
        return None
    m = found[-1]
    return f"{'merge' if m.group(1) == 'as' else m.group(1)} '{m.group(2)}'"


def _innermost_open(text: str, offset: int) -> tuple[SourcePos, str] | None:
    stack = _open_braces(text[:offset])
    if not stack:
        return None
    owner = _owner(text, stack[-1])
    return (_offset_pos(text, stack[-1], "?"), owner) if owner else None


def _previous_word(text: str, offset: int) -> str | None:
    """The name (or one of ``: = , (``) that ends right before ``offset``, whitespace skipped.

    Scanned backwards from ``offset``, so the cost is the word's length: a regular expression searched
    from the start of the text retries every position of a long run of letters (quadratic: ~100 s after
    a 100,000-letter string).
    """
    i = offset
    while i > 0 and text[i - 1] in " \t\r\n":
        i -= 1
    if i == 0:
        return None
    if text[i - 1] in ":=,(":
        return text[i - 1]
    j = i
    while j > 0 and text[j - 1] in WORD_CHARS:
        j -= 1
    word = text[j:i].lstrip("0123456789")  # a name starts with a letter or '_'
    return word or None


class _SameAutomatonState:
    """Compares equal to any parser state in the same LALR state, whatever the stack depth.

    ``match_examples`` compares whole parser states, which include how deep the stack is; an
    example would then have to repeat every nesting a real file can have. The automaton state
    alone names the mistake.
    """

    def __init__(self, state: Any):
        self.position = state.position

    def __eq__(self, other: object) -> bool:
        return getattr(other, "position", None) == self.position

    __hash__ = None  # type: ignore[assignment]


def _match_example(err: Any) -> str | None:
    from seethink_core.dsl.lark_parser import get_parser, lexing

    if getattr(err, "state", None) is None:
        return None
    parser = get_parser()
    original = err.state
    err.state = _SameAutomatonState(original)

    def parse_example(snippet: str) -> Any:
        with lexing(snippet):
            return parser.parse(snippet, start="start")

    try:
        return err.match_examples(parse_example, EXAMPLES, use_accepts=False)
    except Exception:  # never let the explanation hide the error
        return None
    finally:
        err.state = original


def _refine(err: Any) -> Any:
    """Feed the offending token to the parser state once more.

    The contextual lexer reports a token that fits nowhere before the parser has made its
    reductions, so its list of expected terminals is the union over every context of the
    previous token (LALR lookaheads). Feeding the token makes the reductions and raises the error
    again with the terminals really expected here, in the right automaton state.
    """
    from lark.exceptions import UnexpectedToken

    state = getattr(err, "state", None)
    if state is None or err.token.type == "$END" or not hasattr(state, "feed_token"):
        return err
    try:
        state.copy(deepcopy_values=False).feed_token(err.token)
    except UnexpectedToken as again:
        return again
    except Exception:
        return err
    return err


def _takes(state: Any, terminal: str) -> bool:
    """Whether the parser in ``state`` would shift ``terminal`` (or accept, for the end of the file).

    Runs the LALR actions on a copy of the state stack alone: feeding a token to a copy of the parser
    state would also run the tree builder on every pending reduction, and a pending 40,000-character
    string would be unescaped once per candidate terminal.
    """
    from lark.parsers.lalr_analysis import Shift

    conf = state.parse_conf
    stack = list(state.state_stack)
    while True:
        if terminal == "$END" and stack[-1] == conf.end_state:
            return True
        action = conf.states[stack[-1]].get(terminal)
        if action is None:
            return False
        kind, arg = action
        if kind is Shift:
            return terminal != "$END"
        if arg.expansion:
            del stack[-len(arg.expansion):]
        stack.append(conf.states[stack[-1]][arg.origin.name][1])


def _viable(err: Any, names: set[str]) -> set[str]:
    """The expected terminals that the parser would really take here.

    LALR merges the lookaheads of every context a rule is used in: after a call in a stage it lists the
    end of the file and 'curriculum' too, because a call also ends a top-level ``source``. Running each
    candidate through the pending reductions keeps only those that are shifted.
    """
    state = getattr(err, "state", None)
    if len(names) <= 1 or not hasattr(state, "parse_conf") or not hasattr(state, "state_stack"):
        return names
    try:
        viable = {name for name in names if _takes(state, name)}
    except Exception:  # another Lark's table layout: keep what Lark said
        return names
    return viable or names


def translate(err: Exception, text: str, file: str) -> DslError:
    """One ``DslError`` for a Lark exception raised while parsing ``text``."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(err, UnexpectedCharacters):
        pos = SourcePos(file, err.line, err.column, err.column + 1)
        ch = err.char
        if ch == '"':
            return DslError("unclosed string: a string must end on the line where it starts", pos,
                            hint='close it with \'"\'; write \\n for a line break')
        if ch == "'":
            return DslError("strings are written in double quotes", pos, hint="use \"...\"")
        shown = repr(ch) if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
        return DslError(f"unexpected character {shown}", pos)

    if isinstance(err, UnexpectedToken):
        err = _refine(err)
        tok = err.token
        expected = _viable(err, set(err.expected or ()))
        at_end = tok.type == "$END"
        if at_end:
            pos = _end_pos(text, file)
        else:
            end = tok.end_column if tok.end_line == tok.line else None
            pos = SourcePos(file, tok.line, tok.column, end)
        wanted = expected_words(expected) if expected else None
        hint = f"expected {wanted}" if wanted else None

        if at_end and "RBRACE" in expected:
            offset = _unclosed_brace(text)
            if offset is not None:
                brace = _offset_pos(text, offset, file)
                brace = SourcePos(file, brace.line, brace.col, brace.col + 1)
                owner = _owner(text, offset)
                what = f" (opened for {owner})" if owner else ""
                return DslError(f"unclosed '{{'{what}: the file ends before its '}}'", brace,
                                hint="add '}' where the block ends")

        label = _match_example(err)
        if label == "missing value":
            prev = _previous_word(text, len(text) if at_end else tok.start_pos)
            after = f" after '{prev}'" if prev else ""
            return DslError(f"missing value{after}", pos, hint=hint)
        if label == "option written with '='":
            return DslError("options are written 'name: value', not 'name = value'", pos,
                            hint="replace '=' with ':'")
        if label == "missing ','" and tok.type == "NAME":
            # After a statement's value (`seed 0 promt "x"`) a misspelled keyword looks like a missing ','
            # to the automaton; when a keyword is close and could come here, that is the likelier mistake.
            close = did_you_mean(str(tok), _keyword_values(expected)) \
                if len(str(tok)) <= 100 and not _inside_parentheses(text, tok.start_pos) else None
            if close:
                return DslError(f"unknown keyword {_show(tok)}", pos, hint=close)
            return DslError(f"missing ',' before {_show(tok)}", pos, hint="separate options with ','")

        if at_end:
            return DslError("unexpected end of the file", pos, hint=hint)

        keywords = _keyword_values(expected)
        if tok.type == "NAME" and keywords:
            close = did_you_mean(str(tok), keywords) if len(str(tok)) <= 100 else None
            if close:
                return DslError(f"unknown keyword {_show(tok)}", pos, hint=close)
            return DslError(f"unexpected name {_show(tok)}", pos, hint=hint)
        if str(tok) in SETTING_KEYWORDS and "CURRICULUM" in expected:
            return DslError(f"'{tok}' must be inside a curriculum {{ ... }} or a stage", pos,
                            hint="settings belong to a curriculum: curriculum NAME { ... }")
        if str(tok) == "stage" and "RBRACE" in expected:
            hint = "close the previous stage with '}' first"
            opened = _innermost_open(text, tok.start_pos)
            if opened is not None:
                where, owner = opened
                hint = f"{owner} (line {where.line}) is not closed: add '}}' before this stage"
            return DslError("a stage cannot contain another stage", pos, hint=hint)
        if str(tok) in ("stages", "merge") and "RBRACE" in expected:
            return DslError(f"'{tok}' belongs at curriculum level, not inside a stage", pos, hint=hint)
        return DslError(f"unexpected {_show(tok)}", pos, hint=hint)

    if isinstance(err, UnexpectedEOF):  # pragma: no cover - LALR reports the end as a token
        return DslError("unexpected end of the file", _end_pos(text, file))
    return DslError(f"cannot parse this file: {err}", SourcePos(file, 1, 1))
