"""A conservative check for regular expressions that can backtrack without bound.

Python's ``re`` backtracks: ``(a+)+b`` against thirty ``a``s tries every way of splitting them
between the two repeats, which takes longer than a training run. The ``format`` reward matches
every response of every step, so such a pattern would hang the run on the first long answer.

The check reads the parsed pattern (``re._parser``, the tree ``re.compile`` itself builds) and
refuses two shapes, each under a repeat that can run more than once:

- **nested repeat**: the repeat's body ends (all that follows is optional) in another repeat of
  variable length that can start with a character the body can start with (``(a+)+``, ``(a*)*``,
  ``(x+x+)+``): each split of a run between the inner and the outer repeat is another path;
- **overlapping alternation**: two branches of an alternation in the body that can start with the
  same character, or can both match nothing (``(a|a)*``, ``(a|a?)+``).

It errs on the side of refusing: ``(?:<think>.*</think>)*`` is refused although most inputs are
fine. Atomic groups ``(?>...)`` and possessive repeats ``*+``, ``++`` never backtrack into what
they matched, so they are the way to write such a pattern anyway.
"""

from __future__ import annotations

from typing import Any

try:  # Python 3.11+
    import re._constants as C
    import re._parser as parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)

# A set of first characters is (code points below LOW, classes of characters at or above LOW): exact for
# Latin text, and by class (space, digit, other word character, anything else) beyond it, so that
# \s and \w do not overlap while . overlaps everything.
LOW = 0x250
CLASSES = frozenset({"space", "digit", "word", "other"})
Chars = tuple[frozenset[int], frozenset[str]]
NOTHING: Chars = (frozenset(), frozenset())
EVERYTHING: Chars = (frozenset(range(LOW)), CLASSES)
_CATEGORY_CLASSES = {
    C.CATEGORY_DIGIT: {"digit"}, C.CATEGORY_NOT_DIGIT: {"space", "word", "other"},
    C.CATEGORY_SPACE: {"space"}, C.CATEGORY_NOT_SPACE: {"digit", "word", "other"},
    C.CATEGORY_WORD: {"digit", "word"}, C.CATEGORY_NOT_WORD: {"space", "other"},
}
_CATEGORY_TEST = {C.CATEGORY_DIGIT: str.isdecimal, C.CATEGORY_SPACE: str.isspace,
                  C.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_"}
WIDE_RANGE = 4096  # a range beyond LOW wider than this is sampled at this many points


def _class_of(code: int) -> str:
    ch = chr(code)
    return "digit" if ch.isdecimal() else "space" if ch.isspace() else "word" if ch.isalnum() or ch == "_" \
        else "other"


def _chars(codes: range | list[int]) -> Chars:
    low = frozenset(c for c in codes if c < LOW)
    high = [c for c in codes if c >= LOW]
    step = max(1, len(high) // WIDE_RANGE)
    return low, frozenset(_class_of(c) for c in high[::step])


def _category(cat: Any) -> Chars:
    base = {C.CATEGORY_NOT_DIGIT: C.CATEGORY_DIGIT, C.CATEGORY_NOT_SPACE: C.CATEGORY_SPACE,
            C.CATEGORY_NOT_WORD: C.CATEGORY_WORD}.get(cat, cat)
    test = _CATEGORY_TEST.get(base)
    if test is None:
        return EVERYTHING
    members = frozenset(c for c in range(LOW) if test(chr(c)))
    low = members if base == cat else frozenset(range(LOW)) - members
    return low, frozenset(_CATEGORY_CLASSES[cat])


def backtracking_problem(pattern: str, flags: int = 0) -> str | None:
    """Why ``pattern`` can backtrack without bound (a sentence), or None. ``pattern`` must compile."""
    try:
        return _find(list(parser.parse(pattern, flags)))
    except RecursionError:
        return "it is nested too deeply to check"


def _find(seq: list[Any]) -> str | None:
    for op, av in seq:
        if op in REPEATS and av[1] > 1:
            body = list(av[2])
            if _ambiguous_repeat(body, _first(body)[0]):
                return ("a repeat inside a repeated group can give up characters to what follows it, so a "
                        "failing match tries every way of splitting them")
            if _overlapping_branch(body):
                return "a repeated alternation has branches that can match the same text"
        for child in _children(op, av):
            found = _find(child)
            if found:
                return found
    return None


def _children(op: Any, av: Any) -> list[list[Any]]:
    """The sub-sequences of one node."""
    if op in REPEATS or op == C.POSSESSIVE_REPEAT:
        return [list(av[2])]
    if op == C.SUBPATTERN:
        return [list(av[3])]
    if op == C.BRANCH:
        return [list(b) for b in av[1]]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [list(av[1])]
    if op == C.ATOMIC_GROUP:
        return [list(av)]
    if op == C.GROUPREF_EXISTS:
        return [list(b) for b in av[1:] if b is not None]
    return []


def _ambiguous_repeat(seq: list[Any], follow: Chars) -> bool:
    """Whether ``seq`` (followed by text starting with ``follow``) holds a variable-length backtracking
    repeat whose characters what comes after it could also take (``(a+)+``: another iteration;
    ``([a-z]+.)+``: the dot)."""
    after = follow
    for op, av in reversed(seq):
        if op in REPEATS:
            body = list(av[2])
            inner = _first(body)[0]
            if av[1] > 1 and av[0] != av[1] and _overlap(inner, after):
                return True
            if _ambiguous_repeat(body, _union(inner, after) if av[1] > 1 else after):
                return True
        elif op == C.SUBPATTERN and _ambiguous_repeat(list(av[3]), after):
            return True
        elif op == C.BRANCH and any(_ambiguous_repeat(list(b), after) for b in av[1]):
            return True
        chars, empty = _first_of(op, av)
        after = _union(chars, after) if empty else chars
    return False


def _overlapping_branch(seq: list[Any]) -> bool:
    """Whether an alternation in ``seq`` (outside atomic groups) has two branches that can begin alike."""
    for op, av in seq:
        if op == C.BRANCH:
            firsts = [_first(list(b)) for b in av[1]]
            for i, (chars, empty) in enumerate(firsts):
                for other, other_empty in firsts[i + 1:]:
                    if (empty and other_empty) or _overlap(chars, other):
                        return True
        if op in (C.ATOMIC_GROUP, C.POSSESSIVE_REPEAT):
            continue
        if any(_overlapping_branch(child) for child in _children(op, av)):
            return True
    return False


def _overlap(a: Chars, b: Chars) -> bool:
    return bool(a[0] & b[0]) or bool(a[1] & b[1])


def _union(a: Chars, b: Chars) -> Chars:
    return a[0] | b[0], a[1] | b[1]


def _first(seq: list[Any]) -> tuple[Chars, bool]:
    """The characters a match of ``seq`` can start with, and whether it can match nothing."""
    chars = NOTHING
    for node in seq:
        node_chars, empty = _first_of(*node)
        chars = _union(chars, node_chars)
        if not empty:
            return chars, False
    return chars, True


def _first_of(op: Any, av: Any) -> tuple[Chars, bool]:
    if op == C.LITERAL:
        return _chars([av]), False
    if op == C.NOT_LITERAL:
        return (EVERYTHING[0] - {av}, CLASSES), False
    if op == C.IN:
        return _class(av), False
    if op == C.ANY:
        return EVERYTHING, False
    if op == C.CATEGORY:
        return _category(av), False
    if op in REPEATS or op == C.POSSESSIVE_REPEAT:
        chars, empty = _first(list(av[2]))
        return chars, empty or av[0] == 0
    if op == C.SUBPATTERN:
        return _first(list(av[3]))
    if op == C.ATOMIC_GROUP:
        return _first(list(av))
    if op in (C.BRANCH, C.GROUPREF_EXISTS):
        branches = av[1] if op == C.BRANCH else [b for b in av[1:] if b is not None]
        chars, empty = NOTHING, op == C.GROUPREF_EXISTS and av[2] is None
        for branch in branches:
            c, e = _first(list(branch))
            chars, empty = _union(chars, c), empty or e
        return chars, empty
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return NOTHING, True  # zero-width
    return EVERYTHING, True  # a back reference, or anything else: assume the worst


def _class(items: list[Any]) -> Chars:
    """The characters of a ``[...]`` class."""
    out = NOTHING
    negate = False
    for op, av in items:
        if op == C.NEGATE:
            negate = True
        elif op == C.LITERAL:
            out = _union(out, _chars([av]))
        elif op == C.RANGE:
            out = _union(out, _chars(range(av[0], av[1] + 1)))
        elif op == C.CATEGORY:
            out = _union(out, _category(av))
        else:
            return EVERYTHING
    if negate:  # beyond LOW a negated class may still hold any class
        return EVERYTHING[0] - out[0], CLASSES
    return out
