"""Intervals and unions of intervals, written as intervals (``[-2, 7)``, ``(3, \\infty)``,
``(-\\infty, 1) \\cup (2, \\infty)``) or as inequalities in one variable (``-2 \\le x < 7``, ``x > 3``,
``x < 1 \\text{ or } x > 2``, ``x \\ne 0``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seethink_rewards.evaluate import evaluate, free_variables
from seethink_rewards.latex import Node, Unreadable

_INF = Node("const", value="inf")
_NEG_INF = Node("neg", (_INF,))
_LESS = {"<": False, "<=": True}  # the operator and whether the endpoint is included
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass(frozen=True, slots=True)
class Interval:
    low: Node
    low_closed: bool
    high: Node
    high_closed: bool


def _infinite(node: Node) -> bool:
    return node in (_INF, _NEG_INF)


def is_interval(node: Node) -> bool:
    """Whether ``node`` can only be read as intervals: a union, a half-open or infinite pair, an
    inequality in one variable. ``(1, 2)`` and ``[1, 2]`` alone could be points or lists: not these."""
    if node.op == "union":
        return True
    if node.op == "tuple" and len(node.args) == 2:
        return node.value in (("(", "]"), ("[", ")")) or any(_infinite(a) for a in node.args)
    if node.op == "rel":
        return _from_relation(node) is not None
    if node.op == "list" and "and" not in node.value:
        return all(item.op == "rel" and _from_relation(item) is not None for item in node.args)
    return False


def as_intervals(node: Node) -> list[Interval] | None:
    """The intervals ``node`` is the union of, or ``None`` when it is not one."""
    if node.op == "union":
        out: list[Interval] = []
        for part in node.args:
            found = as_intervals(part)
            if found is None:
                return None
            out.extend(found)
        return out
    if node.op == "tuple" and len(node.args) == 2:
        low, high = node.args
        return [Interval(low, node.value[0] == "[", high, node.value[1] == "]")]
    if node.op == "rel":
        return _from_relation(node)
    if node.op == "list" and "and" not in node.value:
        if len({free_variables(item) for item in node.args}) != 1:
            return None  # x < 1 or y > 2 is no set of numbers
        out = []
        for item in node.args:
            found = _from_relation(item) if item.op == "rel" else None
            if found is None:
                return None
            out.extend(found)
        return out
    return None


def _from_relation(rel: Node) -> list[Interval] | None:
    sides, ops = rel.args, rel.value
    if any(op not in ("<", "<=", ">", ">=", "!=") for op in ops):
        return None
    if len(sides) == 2:
        left, right = sides
        if left.op == "var" and not free_variables(right):
            bound, op = right, ops[0]
        elif right.op == "var" and not free_variables(left):
            bound, op = left, _FLIP.get(ops[0], ops[0])
        else:
            return None
        if op == "!=":
            return [Interval(_NEG_INF, False, bound, False), Interval(bound, False, _INF, False)]
        if op in _LESS:
            return [Interval(_NEG_INF, False, bound, _LESS[op])]
        return [Interval(bound, op == ">=", _INF, False)]
    if len(sides) == 3 and sides[1].op == "var" and not free_variables(sides[0]) | free_variables(sides[2]):
        low, high = sides[0], sides[2]
        if all(op in _LESS for op in ops):
            return [Interval(low, _LESS[ops[0]], high, _LESS[ops[1]])]
        if all(op in (">", ">=") for op in ops):
            return [Interval(high, ops[1] == ">=", low, ops[0] == ">=")]
    return None


def _position(node: Node) -> float:
    """Where an endpoint lies on the line, to put intervals in order."""
    if node == _NEG_INF:
        return float("-inf")
    if node == _INF:
        return float("inf")
    try:
        return complex(evaluate(node, {})).real
    except Unreadable:
        return 0.0


def same_intervals(xs: list[Interval], ys: list[Interval], same: Callable[[Node, Node], bool]) -> bool:
    """Equal unions: the same intervals, in any order, with the same endpoints and openness
    (``[0, \\infty]`` is not ``[0, \\infty)``: a closed infinite end is read as written)."""
    if len(xs) != len(ys):
        return False
    key = lambda iv: (_position(iv.low), _position(iv.high))  # noqa: E731
    for a, b in zip(sorted(xs, key=key), sorted(ys, key=key)):
        if not (same(a.low, b.low) and same(a.high, b.high)):
            return False
        if a.low_closed != b.low_closed or a.high_closed != b.high_closed:
            return False
    return True
