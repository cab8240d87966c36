"""The LaTeX / plain math parser behind the seethink grader: what tree each notation becomes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from seethink_rewards.evaluate import evaluate
from seethink_rewards.latex import Node, Unreadable, parse, tokenize
from seethink_rewards.normalise import surface


def value(text: str, **env: complex):
    return evaluate(parse(surface(text).text), env)


def var(name: str) -> Node:
    return Node("var", value=name)


@pytest.mark.parametrize("text, expected", [
    ("12", Fraction(12)), ("3.50", Fraction(7, 2)), ("1.2e-3", Fraction(3, 2500)), (".5", Fraction(1, 2)),
    ("1+2*3^2", Fraction(19)), ("2^3^2", Fraction(512)), ("6/2/3", Fraction(1)), ("-2^2", Fraction(-4)),
    (r"\frac12", Fraction(1, 2)), (r"\frac{1}{2}+\frac13", Fraction(5, 6)), (r"2\frac{1}{2}", Fraction(5, 2)),
    (r"-2\frac{1}{2}", Fraction(-5, 2)), (r"3\times 10^{-2}", Fraction(3, 100)), ("4!", Fraction(24)),
    (r"\binom{5}{2}", Fraction(10)), (r"\sqrt{16}", Fraction(4)), (r"\sqrt[3]{-27}", Fraction(-3)),
    ("2(3+4)", Fraction(14)), (r"|-3|", Fraction(3)), ("8^{2/3}", Fraction(4)), (r"6\div 4", Fraction(3, 2)),
])
def test_exact_values(text: str, expected: Fraction) -> None:
    got = value(text)
    assert isinstance(got, Fraction) and got == expected


@pytest.mark.parametrize("text, expected", [
    (r"\sqrt{2}", 2 ** 0.5), (r"\pi", 3.141592653589793), ("e", 2.718281828459045), ("i^2", -1),
    (r"\sin\frac{\pi}{6}", 0.5), (r"\sin^2 x + \cos^2 x", 1), (r"\log_2 8", 3), (r"\log 100", 2),
    (r"\ln e^2", 2), (r"\sin^{-1} 1", 3.141592653589793 / 2), (r"\sqrt{-4}", 2j), ("2^{0.5}", 2 ** 0.5),
])
def test_inexact_values(text: str, expected: complex) -> None:
    assert abs(complex(value(text, x=0.7 + 0.2j)) - expected) < 1e-12


def test_implicit_multiplication_and_precedence() -> None:
    two = Node("num", value=(Fraction(2), "2"))
    assert parse("2x") == Node("*", (two, var("x")))
    assert parse("xy") == Node("*", (var("x"), var("y")))
    assert parse("-x^2") == Node("neg", (Node("^", (var("x"), two)),))
    assert value("2x^2", x=3) == 18 and value("x(x+1)", x=2) == 6 and value("(x+1)(x-1)", x=3) == 8


def test_functions_take_a_product_but_not_the_next_function() -> None:
    assert value(r"\sin 2x", x=0.3) == value(r"\sin(2x)", x=0.3)
    s, c = value(r"\sin x", x=0.3), value(r"\cos x", x=0.3)
    assert abs(value(r"\sin x \cos x", x=0.3) - s * c) < 1e-15
    assert parse(r"\sin^2 x").op == "^" and parse(r"\sin^{-1} x").value == "arcsin"


def test_subscripts_name_one_variable() -> None:
    assert parse("x_1") == var("x_1") and parse("a_{12}") == var("a_12")


@pytest.mark.parametrize("text, op, delimiters", [
    ("(1,2]", "tuple", ("(", "]")), ("[0,1)", "tuple", ("[", ")")), (r"\langle 1, 2\rangle", "tuple", ("(", ")")),
    (r"\{1,2\}", "set", None), ("{1, 2}", "set", None), (r"\emptyset", "set", None),
])
def test_brackets(text: str, op: str, delimiters) -> None:
    node = parse(text)
    assert node.op == op and (delimiters is None or node.value == delimiters)


def test_grouping_brackets_around_one_item_are_not_tuples() -> None:
    assert parse("(x+1)") == parse("x+1") == parse("[x+1]") == parse("{x+1}")


def test_lists_unions_and_relation_chains() -> None:
    listed = parse("1, 2; 3")
    assert listed.op == "list" and len(listed.args) == 3 and listed.value == frozenset({","})
    assert parse(r"x<1 \lor x>2").value == frozenset({"or"}) and parse("2 and 3").value == frozenset({"and"})
    union = parse(r"(-\infty,1)\cup(2,\infty)")
    assert union.op == "union" and [p.value for p in union.args] == [("(", ")"), ("(", ")")]
    chain = parse(r"a \le x < b")
    assert chain.op == "rel" and chain.value == ("<=", "<") and chain.args[1] == var("x")
    assert parse(r"x \geqslant 2").value == (">=",) and parse("x != 3").value == ("!=",)


def test_a_function_label_only_before_an_equals_sign() -> None:
    assert parse("f(x)=1").args[0] == Node("call", (var("x"),), "f")
    assert parse("g(s,t)=1").args[0].op == "call"
    assert parse("f(x)").op == "*"  # f times x: no label without "="
    assert parse("f(x+1)=2").args[0].op == "*"


def test_pm_is_kept_for_the_comparator() -> None:
    assert parse(r"1\pm\sqrt{2}").op == "pm" and parse(r"\pm 3").op == "pm"


@pytest.mark.parametrize("text", [r"\foo{1}", "(1", "2 3", "", "[3)", "1)", r"\frac{1}", "x^", "?"])
def test_what_it_cannot_read_is_unreadable(text: str) -> None:
    with pytest.raises(Unreadable):
        parse(text)


def test_words_are_functions_constants_or_letters() -> None:
    assert [t.kind for t in tokenize("sin pi or xy")] == ["fn", "const", "sep", "id", "id"]
    assert [t.text for t in tokenize("2e")] == ["2", "e"] and tokenize("3e8")[0].text == "3e8"
