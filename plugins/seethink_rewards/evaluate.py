"""The value of an expression tree (``latex.Node``): exact (``Fraction``) while only rationals are
involved, a complex float once anything irrational is (``\\sqrt{2}``, ``\\pi``, a variable's value).

Every operation is bounded: exact powers only for small integer exponents and results, factorials
and binomials of small integers, float overflow and division by zero are ``Unreadable``. So one
evaluation costs time linear in the tree, whatever the answer.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping
from fractions import Fraction

from seethink_rewards.latex import Node, Unreadable

Value = Fraction | complex

_MAX_EXACT_BITS = 4096  # an exact power whose result would be longer is done in floats
_MAX_EXPONENT = 1000.0
_MAX_FACTORIAL = 170  # 171! overflows a float
_MAX_BINOM = 1000
_MAX_ROOT_INDEX = 64
_MAX_MAGNITUDE = 1e150  # beyond it, differences lose all meaning: not comparable
_FUNCTIONS = {"sin": cmath.sin, "cos": cmath.cos, "tan": cmath.tan, "arcsin": cmath.asin,
              "arccos": cmath.acos, "arctan": cmath.atan, "sinh": cmath.sinh, "cosh": cmath.cosh,
              "tanh": cmath.tanh, "exp": cmath.exp, "ln": cmath.log}
_RECIPROCALS = {"cot": cmath.tan, "sec": cmath.cos, "csc": cmath.sin}
_CONSTANTS: dict[str, complex] = {"pi": complex(math.pi), "e": complex(math.e), "i": 1j}


def evaluate(node: Node, env: Mapping[str, complex]) -> Value:
    """The value of ``node`` with variables bound by ``env``; ``Unreadable`` when it has none."""
    try:
        value = _eval(node, env)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as e:
        raise Unreadable(str(e)) from None
    if isinstance(value, complex) and not (abs(value) < _MAX_MAGNITUDE):  # also catches nan
        raise Unreadable("too large to compare")
    return value


def free_variables(node: Node) -> frozenset[str]:
    if node.op == "var":
        return frozenset({node.value})
    out: frozenset[str] = frozenset()
    for child in node.args:
        out |= free_variables(child)
    return out


def _eval(node: Node, env: Mapping[str, complex]) -> Value:
    op = node.op
    if op == "num":
        return node.value[0]
    if op == "var":
        if node.value not in env:
            raise Unreadable(f"unbound {node.value}")
        return env[node.value]
    if op == "const":
        if node.value == "inf":
            raise Unreadable("infinity is not a number")
        return _CONSTANTS[node.value]
    args = [_eval(a, env) for a in node.args]
    if op == "+":
        return _mix(args[0]) + _mix(args[1]) if _inexact(args) else args[0] + args[1]
    if op == "-":
        return _mix(args[0]) - _mix(args[1]) if _inexact(args) else args[0] - args[1]
    if op == "neg":
        return -args[0]
    if op == "*":
        return _mix(args[0]) * _mix(args[1]) if _inexact(args) else args[0] * args[1]
    if op == "/":
        if args[1] == 0:
            raise ZeroDivisionError("division by zero")
        return _mix(args[0]) / _mix(args[1]) if _inexact(args) else args[0] / args[1]
    if op == "^":
        return power(args[0], args[1])
    if op == "root":
        return root(args[0], args[1])
    if op == "!":
        return Fraction(math.factorial(_small_int(args[0], _MAX_FACTORIAL)))
    if op == "binom":
        return Fraction(math.comb(_small_int(args[0], _MAX_BINOM), _small_int(args[1], _MAX_BINOM)))
    if op == "abs":
        return abs(args[0]) if isinstance(args[0], Fraction) else complex(abs(args[0]))
    if op == "fn":
        return _function(node.value, args)
    raise Unreadable(f"{op} is not a number")


def _inexact(args: list[Value]) -> bool:
    return not all(isinstance(a, Fraction) for a in args)


def _mix(v: Value) -> complex:
    return complex(v) if isinstance(v, Fraction) else v


def _small_int(v: Value, limit: int) -> int:
    if isinstance(v, Fraction) and v.denominator == 1 and 0 <= v <= limit:
        return int(v)
    raise Unreadable("needs a small non-negative integer")


def power(base: Value, exponent: Value) -> Value:
    if isinstance(base, Fraction) and isinstance(exponent, Fraction):
        if exponent.denominator == 1:
            n = abs(int(exponent)) if abs(exponent) <= _MAX_EXPONENT else None
            size = max(base.numerator.bit_length(), base.denominator.bit_length())
            if n is not None and size * n <= _MAX_EXACT_BITS:
                if base == 0 and exponent < 0:
                    raise ZeroDivisionError("0 to a negative power")
                return base ** int(exponent)
        elif base > 0 and exponent.denominator <= _MAX_ROOT_INDEX:
            exact = _exact_root(base, exponent.denominator)
            if exact is not None:
                return power(exact, Fraction(exponent.numerator))
    b, x = _mix(base), _mix(exponent)
    if abs(x) > _MAX_EXPONENT:
        raise Unreadable("exponent too large")
    if b == 0:
        if x.real > 0:
            return 0j
        raise ZeroDivisionError("0 to a non-positive power")
    return b ** x


def root(radicand: Value, index: Value) -> Value:
    if not (isinstance(index, Fraction) and index.denominator == 1 and 2 <= index <= _MAX_ROOT_INDEX):
        raise Unreadable("a root needs a small integer index")
    n = int(index)
    if isinstance(radicand, Fraction):
        if radicand >= 0:
            exact = _exact_root(radicand, n)
            return exact if exact is not None else complex(float(radicand) ** (1.0 / n))
        if n % 2 == 1:  # the real odd root: \sqrt[3]{-8} = -2
            value = root(-radicand, index)
            return -value
    if isinstance(radicand, complex) and radicand.imag == 0 and radicand.real < 0 and n % 2 == 1:
        return -complex((-radicand.real) ** (1.0 / n))
    return cmath.sqrt(_mix(radicand)) if n == 2 else _mix(radicand) ** (1.0 / n)


def _exact_root(value: Fraction, n: int) -> Fraction | None:
    """The exact positive n-th root of a non-negative rational, or ``None`` when it is irrational."""
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > _MAX_EXACT_BITS:
        return None
    num, den = _int_root(value.numerator, n), _int_root(value.denominator, n)
    return Fraction(num, den) if num is not None and den is not None else None


def _int_root(k: int, n: int) -> int | None:
    if k < 2:
        return k
    guess = round(k ** (1.0 / n)) if k.bit_length() < 1000 else None
    if guess is None:
        return None
    for r in (guess - 1, guess, guess + 1):
        if r >= 0 and r ** n == k:
            return r
    return None


def _function(name: str, args: list[Value]) -> Value:
    arg = _mix(args[0])
    if name == "log":
        base = _mix(args[1]) if len(args) > 1 else complex(10)  # \log without a base: base 10
        return cmath.log(arg) / cmath.log(base)
    if name in _RECIPROCALS:
        return 1 / _RECIPROCALS[name](arg)
    if name == "exp" and arg.real > 700:
        raise Unreadable("exponent too large")
    return _FUNCTIONS[name](arg)
