"""The ``seethink`` grader: whether a final answer is mathematically the gold one.

Both answers are normalised (``normalise``), parsed (``latex``) and compared by structure:
labels dropped against a bare value (``x = 11`` / ``11``), sets and bare lists order-free, tuples in
order, intervals by endpoints and openness (inequalities in one variable read as intervals),
relations by direction and ``lhs - rhs`` up to a constant factor, scalars exactly when both are
rational, else numerically (several fixed random points for their shared variables). A decimal
against an exact value is an approximation at its own precision: ``1.41`` is ``\\sqrt{2}`` rounded to
two decimals, ``1.42`` is not; the decimal needs two significant digits.

Bounded by construction (length cap, bounded parser and evaluator, no sympy), so the reward may
grade many samples per worker call. Never raises: what it cannot read is "not equal".
"""

from __future__ import annotations

import functools
import random
import re
from fractions import Fraction

from seethink_rewards.evaluate import Value, evaluate, free_variables
from seethink_rewards.latex import Node, Unreadable, parse
from seethink_rewards.normalise import surface
from seethink_rewards.sets import as_intervals, is_interval, same_intervals

MAX_LENGTH = 400  # longer answers are not graded (the reward's complexity guard stops at 200)
_MAX_ITEMS = 32
_MAX_VARIANTS = 8  # \pm expansions of one answer
_REL_TOL, _ABS_TOL = 1e-8, 1e-10
_GIVEN_DIGITS, _GOLD_DIGITS = 2, 3  # significant digits a decimal needs to stand for an exact value
_MIN_POINTS = 3  # points where both sides must be defined and agree
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
_STRUCTURES = frozenset({"tuple", "set", "list", "rel", "union", "call"})


@functools.lru_cache(maxsize=64)
def _points(count: int) -> tuple[tuple[complex, ...], ...]:
    """Six fixed pseudo-random points for ``count`` variables: complex, with both signs of the real
    part (so \\sqrt{x^2} is not x), away from 0 (so 1/x is defined)."""
    rng = random.Random(20240611 + count)
    out = []
    for _ in range(6):
        row = []
        for _ in range(count):
            z = complex(rng.uniform(-2.0, 2.0), rng.uniform(-1.5, 1.5))
            row.append(z if abs(z) > 0.4 else z + 1.1)
        out.append(tuple(row))
    return tuple(out)


def equivalent(given: str, gold: str) -> bool:
    """Whether ``given`` is the ``gold`` answer. Anything it cannot read is not."""
    if len(given) > MAX_LENGTH or len(gold) > MAX_LENGTH:
        return False  # checked before the cache, which then holds short strings only
    return cached(given, gold)


@functools.lru_cache(maxsize=32768)  # a GRPO group repeats answers; a data set repeats gold answers
def cached(given: str, gold: str) -> bool:
    try:
        return _equivalent(given, gold)
    except (Unreadable, RecursionError, ArithmeticError, ValueError, TypeError):
        return False


def _equivalent(given: str, gold: str) -> bool:
    a, b = surface(given), surface(gold)
    if a.unit is not None and b.unit is not None and a.unit != b.unit:
        return False
    if a.percent == b.percent and _same_text(a.text, b.text):
        return True
    x, y = _read(a.text), _read(b.text)
    if x is None or y is None:
        return False
    if a.percent == b.percent:
        return same(x, y)
    # One side is a percentage: 28\% is 28 in a "what percent" answer, and it is 0.28 (exactly:
    # no approximation across the two readings, 28.5\% is not 0.28).
    pct, other = (x, y) if a.percent else (y, x)
    if same(pct, other, whole=False):
        return True
    return pct.op not in _STRUCTURES and same(
        Node("/", (pct, Node("num", value=(Fraction(100), "100")))), other, whole=False)


_SPACE = re.compile(r"(?<!\d)\s+|\s+(?!\d)")  # not between digits: "1 2" is not 12
_WORDS = re.compile(r"^[A-Za-z][A-Za-z ]+$")


def _same_text(a: str, b: str) -> bool:
    """The same text up to spaces; up to case as well for words (Yes / yes), not for math (N / n)."""
    a, b = _SPACE.sub("", a), _SPACE.sub("", b)
    return a == b or (_WORDS.match(a) is not None and _WORDS.match(b) is not None and a.casefold() == b.casefold())


@functools.lru_cache(maxsize=16384)
def _read(text: str) -> Node | None:
    try:
        return parse(text)
    except (Unreadable, RecursionError, ValueError, ZeroDivisionError):
        return None


def same(x: Node, y: Node, whole: bool = True) -> bool:
    """Structural equivalence of the given answer ``x`` and the gold one ``y``. ``whole``: they are
    whole answers, not parts of one (only a whole answer may be a decimal approximation: ``[0, 3.14]``
    is not ``[0, \\pi]``)."""
    if x == y:
        return True
    lx, ux = split_label(x)
    ly, uy = split_label(y)
    if lx is not None and ly is not None and lx == ly:
        return same(ux, uy, whole)
    if lx is not None and ly is None and y.op != "rel":
        return same(ux, y, whole)
    if ly is not None and lx is None and x.op != "rel":
        return same(x, uy, whole)
    if is_interval(x) or is_interval(y):
        ix, iy = as_intervals(x), as_intervals(y)
        # x < 3 is not y < 3, though both are (-\\infty, 3).
        if ix is not None and iy is not None and (
                _notation(x) or _notation(y) or free_variables(x) == free_variables(y)):
            return same_intervals(ix, iy, _part)
    if x.op == "tuple" or y.op == "tuple":
        x, y = _as_tuple(x), _as_tuple(y)
    mx, my = members(x), members(y)
    if mx is not None or my is not None:
        return same_members(mx if mx is not None else [x], my if my is not None else [y])
    if x.op == "tuple" or y.op == "tuple":
        return x.op == y.op and same_tuples(x, y)
    if x.op == "rel" or y.op == "rel":
        return x.op == y.op and same_relations(x, y)
    return scalar_same(x, y, approximate=whole)


def _notation(node: Node) -> bool:
    """Whether intervals are written as intervals (not as inequalities)."""
    return node.op in ("tuple", "union")


def _part(x: Node, y: Node) -> bool:
    return same(x, y, whole=False)


def _as_tuple(node: Node) -> Node:
    """``x = 2, y = 3`` as the point (2, 3), in the order written, against a tuple."""
    if node.op != "list" or len(node.args) < 2:
        return node
    labels = [split_label(item) for item in node.args]
    names = [label.value for label, _ in labels if label is not None and label.op == "var"]
    if len(names) != len(labels) or len(set(names)) != len(names):
        return node
    return Node("tuple", tuple(value for _, value in labels), ("(", ")"))


def split_label(node: Node) -> tuple[Node | None, Node]:
    """``x = 11`` → (x, 11); ``(p, q) = (3, 2)`` and ``f(x) = 1`` alike. Not a label: (None, node)."""
    if node.op != "rel" or node.value != ("=",):
        return None, node
    lhs, rhs = node.args
    names = [a.value for a in lhs.args if a.op == "var"] if lhs.op == "tuple" else []
    is_label = lhs.op in ("var", "call") or (lhs.op == "tuple" and lhs.value == ("(", ")") and len(names) == len(
        lhs.args) == len(set(names)))
    return (lhs, rhs) if is_label else (None, node)


def members(node: Node) -> list[Node] | None:
    """The members of an order-free collection (a set, a bare list, a ``\\pm`` answer), labels
    dropped; ``None`` for anything else."""
    if node.op in ("set", "list"):
        items = list(node.args)
    elif _has_pm(node) or (node.op == "rel" and _has_pm(split_label(node)[1])):
        items = [node]
    else:
        return None
    out: list[Node] = []
    for item in items:
        out.extend(_expand_pm(split_label(item)[1]))
        if len(out) > _MAX_ITEMS:
            raise Unreadable("too many members")
    return out


def _has_pm(node: Node) -> bool:
    return node.op in ("pm", "mp") or (node.op not in _STRUCTURES and any(_has_pm(a) for a in node.args))


def _expand_pm(node: Node) -> list[Node]:
    """Every sign choice of the ``\\pm`` in an expression: ``1 \\pm \\sqrt{2}`` → 1 + √2, 1 - √2."""
    if node.op in _STRUCTURES:
        return [node]
    if node.op in ("pm", "mp"):
        a, b = node.args
        first, second = ("+", "-") if node.op == "pm" else ("-", "+")
        return _capped([Node(op, (u, v)) for op in (first, second) for u in _expand_pm(a) for v in _expand_pm(b)])
    variants: list[tuple[Node, ...]] = [()]
    for child in node.args:
        variants = _capped([v + (c,) for v in variants for c in _expand_pm(child)])
    return [Node(node.op, v, node.value) for v in variants]


def _capped(variants: list) -> list:
    if len(variants) > _MAX_VARIANTS:
        raise Unreadable("too many sign choices")  # dropping some would compare the wrong sets
    return variants


def same_members(xs: list[Node], ys: list[Node]) -> bool:
    """The same collection, in any order, repeats ignored."""
    xs, ys = _distinct(xs), _distinct(ys)
    if len(xs) != len(ys):
        return False
    prints = [_fingerprint(y) for y in ys]
    unused = list(range(len(ys)))
    for item in xs:
        mark = _fingerprint(item)
        match = next((k for k in unused if _may_match(mark, prints[k]) and _part(item, ys[k])), None)
        if match is None:
            return False
        unused.remove(match)
    return True


def _distinct(items: list[Node]) -> list[Node]:
    out: list[Node] = []
    prints: list[tuple[frozenset[str], complex] | None] = []
    for item in items:
        mark = _fingerprint(item)
        if not any(_may_match(mark, p) and _part(item, kept) for kept, p in zip(out, prints)):
            out.append(item)
            prints.append(mark)
    return out


def _fingerprint(node: Node) -> tuple[frozenset[str], complex] | None:
    """A scalar's variables and its value at the first test point: members whose fingerprints
    differ cannot be equal, so comparing two collections costs one evaluation a member, not one a
    pair. ``None`` (no fingerprint) for structures, infinities and what is undefined there."""
    if node.op in _STRUCTURES or infinity_sign(node) is not None:
        return None
    names = free_variables(node)
    try:
        return names, complex(evaluate(node, dict(zip(sorted(names), _points(len(names))[0]))))
    except Unreadable:
        return None


def _may_match(a: tuple[frozenset[str], complex] | None, b: tuple[frozenset[str], complex] | None) -> bool:
    if a is None or b is None:
        return True
    return a[0] == b[0] and abs(a[1] - b[1]) <= _REL_TOL * max(abs(a[1]), abs(b[1])) + _ABS_TOL


def same_tuples(x: Node, y: Node) -> bool:
    if len(x.args) != len(y.args):
        return False
    # (a, b) and [a, b] are a point / an open interval and a closed interval: the brackets matter;
    # longer lists may use either pair.
    matched = (("(", ")"), ("[", "]"))
    if x.value != y.value and (len(x.args) == 2 or x.value not in matched or y.value not in matched):
        return False
    return all(_part(a, b) for a, b in zip(x.args, y.args))


def _canonical(rel: Node) -> tuple[tuple[Node, ...], tuple[str, ...]]:
    """A relation written with ``<``/``<=`` (``5 \\ge x`` → ``x \\le 5``)."""
    sides, ops = rel.args, rel.value
    if any(op in (">", ">=") for op in ops):
        return tuple(reversed(sides)), tuple(_FLIP[op] for op in reversed(ops))
    return sides, ops


def same_relations(x: Node, y: Node) -> bool:
    (xs, xo), (ys, yo) = _canonical(x), _canonical(y)
    if xo != yo or len(xs) != len(ys):
        return False
    names = free_variables(x) | free_variables(y)
    if len(xs) != 2 or not names or free_variables(x) != free_variables(y):
        return all(_part(a, b) for a, b in zip(xs, ys))
    # lhs - rhs up to a factor: nonzero for = and !=, positive for < and <= (a flip reverses it).
    dx = Node("-", (xs[1], xs[0]))
    dy = Node("-", (ys[1], ys[0]))
    return _proportional(dx, dy, sorted(names), positive=xo[0] in ("<", "<="))


def _proportional(dx: Node, dy: Node, names: list[str], positive: bool) -> bool:
    ratio: complex | None = None
    agreed = 0
    for point in _points(len(names)):
        env = dict(zip(names, point))
        try:
            a, b = complex(evaluate(dx, env)), complex(evaluate(dy, env))
        except Unreadable:
            continue
        if abs(b) <= _ABS_TOL or abs(a) <= _ABS_TOL:
            if abs(b) <= _ABS_TOL and abs(a) <= _ABS_TOL:
                continue
            return False
        r = a / b
        if ratio is None:
            ratio = r
        elif abs(r - ratio) > _REL_TOL * max(abs(r), abs(ratio)):
            return False
        agreed += 1
    if ratio is None or agreed < _MIN_POINTS:
        return False
    return not positive or (abs(ratio.imag) <= _REL_TOL * abs(ratio) and ratio.real > 0)


def infinity_sign(node: Node) -> int | None:
    if node.op == "const" and node.value == "inf":
        return 1
    if node.op == "neg":
        inner = infinity_sign(node.args[0])
        return None if inner is None else -inner
    return None


def scalar_same(x: Node, y: Node, approximate: bool = True) -> bool:
    """Two expressions: infinities by sign, constants exactly or numerically (or as a decimal
    approximation), expressions in variables by an identity test at fixed points."""
    sx, sy = infinity_sign(x), infinity_sign(y)
    if sx is not None or sy is not None:
        return sx == sy
    if x.op in _STRUCTURES or y.op in _STRUCTURES:
        return False
    names = free_variables(x)
    if names != free_variables(y):
        return False
    if not names:
        a, b = evaluate(x, {}), evaluate(y, {})
        if close(a, b):
            return True
        # Two plain numbers never approximate each other: 3.14 is not 3.14159. A decimal gold answer
        # is more often exact than rounded: it stands for an exact given one only with 3 digits.
        return approximate and ((not _is_literal(y) and approximates(x, a, b, _GIVEN_DIGITS))
                                or (not _is_literal(x) and approximates(y, b, a, _GOLD_DIGITS)))
    agreed = 0
    for point in _points(len(names)):
        env = dict(zip(sorted(names), point))
        try:
            a, b = evaluate(x, env), evaluate(y, env)
        except Unreadable:
            continue  # a pole or an overflow at this point: not evidence either way
        if not close(a, b):
            return False
        agreed += 1
    return agreed >= _MIN_POINTS


def close(a: Value, b: Value) -> bool:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    a, b = complex(a), complex(b)
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b)) + _ABS_TOL


def _is_literal(node: Node) -> bool:
    return node.op == "num" or (node.op == "neg" and _is_literal(node.args[0]))


def _decimal_literal(node: Node) -> str | None:
    if node.op == "neg":
        return _decimal_literal(node.args[0])
    if node.op == "num" and node.value[1] is not None and "." in node.value[1] and "e" not in node.value[1].lower():
        return node.value[1]
    return None


def approximates(decimal: Node, value: Value, exact: Value, digits: int) -> bool:
    """Whether ``decimal`` (a literal such as 1.41, of value ``value``) is ``exact`` rounded to its own
    number of decimals, with at least ``digits`` significant digits. Strictly within half a unit of
    the last digit: a tie (1/8 against 0.12 or 0.13) is no approximation."""
    text = _decimal_literal(decimal)
    if text is None or not isinstance(value, Fraction):
        return False
    decimals = len(text.split(".")[1])
    significant = len(text.replace(".", "").lstrip("0"))
    if decimals < 1 or significant < digits:
        return False
    half_unit = Fraction(1, 2 * 10 ** decimals)
    if isinstance(exact, Fraction):
        return abs(value - exact) < half_unit
    if abs(exact.imag) > _ABS_TOL:
        return False
    return abs(float(value) - exact.real) < float(half_unit)
