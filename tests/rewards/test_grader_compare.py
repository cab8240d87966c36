"""The seethink grader's rules, one behaviour each: normalisation, labels, relations, intervals,
sets and tuples, percent, decimal commas, approximations, identities; and that it is bounded, never
raises, memoises, and lets the reward layer batch it."""

from __future__ import annotations

import pickle
import random
import time

import pytest
from seethink_rewards import equivalence
from seethink_rewards.accuracy import Accuracy
from seethink_rewards.equivalence import MAX_LENGTH, equivalent
from seethink_rewards.evaluate import evaluate
from seethink_rewards.latex import Unreadable, parse
from seethink_rewards.normalise import surface
from seethink_rewards.schemas import AccuracyOptions

from seethink_core.run.rewards.scores import _risky


@pytest.mark.parametrize("raw, text, percent, unit", [
    ("$5$", "5", False, None), (r"\text{ 12 }", "12", False, None), (r"\textbf{(D)}", "(D)", False, None),
    (r"28\%", "28", True, None), ("28 percent", "28", True, None), (r"5 \text{ cm}", "5", False, "cm"),
    (r"15\text{ cm}^2", "15", False, "cm^2"), ("7 units", "7", False, "unit"), ("1,000", "1000", False, None),
    ("1,2", "1,2", False, None), ("3{,}5", "3.5", False, None), ("1{,}000", "1000", False, None),
    (r"60^\circ", "60", False, None), (r"\left(x\right)", "(x)", False, None),
    (r"\dfrac{1}{2}", r"\frac{1}{2}", False, None),
    (r"1\!000", "1000", False, None), ("x = 3.", "x = 3", False, None), ("π", r"\pi", False, None),
    (r"x \in [1, 2]", "[1, 2]", False, None), (r"\approx 1.41", "1.41", False, None),
    (r"\mathbb{R}", r"(-\infty,\infty)", False, None), (r"\cfrac{1}{2}", r"\frac{1}{2}", False, None),
    (r"60\circ", "60", False, None), (r"\textstyle 5", "5", False, None),
])
def test_surface(raw: str, text: str, percent: bool, unit: str | None) -> None:
    s = surface(raw)
    assert (s.text, s.percent, s.unit) == (text, percent, unit)


def test_text_or_and_become_list_joiners() -> None:
    assert parse(surface(r"x<1 \text{ or } x>2").text).value == frozenset({"or"})


@pytest.mark.parametrize("given, gold, want", [
    ("x=11", "11", True), ("11", "x=11", True), ("f(x)=1", "1", True), ("(p,q)=(3,2)", "(3,2)", True),
    ("y=2x+1", "2x+1", True), ("y=2x+2", "y=2x+1", False), ("x=2", "y=2", False), ("(p,q)=(2,3)", "(3,2)", False),
    ("(x,x)=(1,2)", "(1,2)", False),  # not a label: the names repeat
])
def test_labels(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    (r"5 \geq x", r"x \leq 5", True), ("2x+1=y", "y=2x+1", True), ("2y=4x+2", "y=2x+1", True),
    ("2x<10", "x<5", True), ("-2x<-10", "x<5", False), ("x<5", r"x \le 5", False), (r"x \ne 3", "x=3", False),
    ("y=x^3", "y=x^2", False), ("y<3", "x<3", False),
])
def test_relations(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    (r"-2 \le x \le 7", "[-2,7]", True), ("x>3", r"(3,\infty)", True),
    (r"x<1 \text{ or } x>2", r"(-\infty,1)\cup(2,\infty)", True),
    (r"(2,\infty)\cup(-\infty,1)", r"(-\infty,1)\cup(2,\infty)", True),
    (r"x \ne 2", r"(-\infty,2)\cup(2,\infty)", True),
    ("(-2,7]", "[-2,7]", False), (r"x \ge 3", r"(3,\infty)", False), (r"[0,\infty]", r"[0,\infty)", False),
    (r"x<1 \text{ and } x>2", r"(-\infty,1)\cup(2,\infty)", False),
    (r"x<1 \text{ or } y>2", r"(-\infty,1)\cup(2,\infty)", False),
    ("(1,2)", "1<x<2", True), ("(1,2)", "[1,2]", False),
])
def test_intervals(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    (r"\{2,1\}", r"\{1,2\}", True), ("2, 1", r"\{1,2\}", True), ("2 and 3", "3, 2", True), ("2", r"\{2\}", True),
    (r"\pm 3", "3, -3", True), (r"1\pm\sqrt2", r"1-\sqrt2, 1+\sqrt2", True), (r"x=\pm 1", "-1, 1", True),
    ("1, 1, 2", "1, 2", True), ("(2,1)", "(1,2)", False), (r"\{1,2,3\}", r"\{1,2\}", False), (r"\pm 3", "3", False),
    ("x=2, y=3", "(2,3)", True), ("y=3, x=2", "(2,3)", False), ("[1,2,3]", "(1,2,3)", True),
    ("(1,2,3]", "(1,2,3)", False),
])
def test_sets_and_tuples(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    (r"28\%", "28", True), ("28", r"28\%", True), ("0.28", r"28\%", True), (r"28\%", "0.28", True),
    (r"28.5\%", "0.28", False), ("2.8", r"28\%", False), ("0.28", "28", False),
])
def test_percent_reads_as_the_number_or_as_hundredths(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    ("1,000", "1000", True), (r"1\,000", "1000", True), ("1,234,567", "1234567", True), ("3{,}5", "3.5", True),
    ("3,5", "3.5", False), ("1,5", "1.5", False), ("1,2", "12", False), ("10,00", "1000", False),
])
def test_thousands_separators_and_decimal_commas(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    ("1.41", r"\sqrt2", True), ("1.414", r"\sqrt2", True), ("1.4", r"\sqrt2", True), ("1.42", r"\sqrt2", False),
    ("3.1415", r"\pi", False),  # truncated, not rounded
    ("0.33", r"\frac13", True), ("0.3", r"\frac13", False),  # one significant digit is too few
    ("0.12", r"\frac18", False), ("0.13", r"\frac18", False),  # a tie is no approximation
    ("3.14", "3.14159", False),  # two plain numbers: exact only
    (r"\sqrt2", "1.41", True), (r"2\sqrt3", "3.5", False),  # a decimal gold needs three digits
    ("[0, 3.14]", r"[0,\pi]", False), ("(1.41, 2)", r"(\sqrt2, 2)", False),  # only whole answers
])
def test_approximations_at_the_decimal_s_own_precision(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


@pytest.mark.parametrize("given, gold, want", [
    ("x^2+2x+1", "(x+1)^2", True), ("x^2+x+1", "(x+1)^2", False), (r"\sqrt8", r"2\sqrt2", True),
    (r"\frac{\sqrt2}{2}", r"\frac{1}{\sqrt2}", True), (r"\frac{x+y}{xy}", r"\frac1x+\frac1y", True),
    ("x", r"\sqrt{x^2}", False),  # |x|, not x: the test points have both signs
    ("x", "y", False), ("x-x+y", "y", False),  # the sides must use the same variables
    ("-1", r"e^{i\pi}", True), ("2i", r"\sqrt{-4}", True), ("120", "5!", True),
])
def test_identities(given: str, gold: str, want: bool) -> None:
    assert equivalent(given, gold) is want


def test_units_matter_only_when_both_sides_have_one() -> None:
    assert equivalent(r"5\text{ cm}", "5") and equivalent("5", r"5 \text{ cm}")
    assert not equivalent(r"5\text{ m}", r"5\text{ cm}") and not equivalent(r"50 \text{ cm}", "5")


@pytest.mark.parametrize("given", [
    "9^{9^{9^{9}}}", "2^{100000}", "171!", "(10^{400})!", r"\binom{10^9}{2}", r"\sqrt[1000]{2}", "0^{-1}",
    r"\frac{1}{0}", "(" * 150 + "1" + ")" * 150, "(" * 199 + "1" + ")" * 199, "x^{x^{x^{x^{x^{x}}}}}",
    r"e^{e^{e^{e^{10}}}}",
    r"\sin(10^{300})", "1" * 190, "x" * 199,
])
def test_hard_inputs_are_quick_and_just_not_equal(given: str) -> None:
    start = time.perf_counter()
    assert equivalent(given, "2") is False
    assert time.perf_counter() - start < 0.5


def test_bounded_pieces_raise_unreadable_not_arithmetic_errors() -> None:
    for text in ("2^{100000}", "171!", "0^{-1}"):
        node = parse(text)
        with pytest.raises(Unreadable):
            complex(evaluate(node, {}))  # a float power too large is refused, not computed


def test_too_long_is_not_graded() -> None:
    long = "1+" * (MAX_LENGTH // 2) + "1"
    assert not equivalent(long, long + "+0")


def test_random_garbage_never_raises() -> None:
    rng = random.Random(7)
    alphabet = list("0123456789xy+-*/^_!()[]{}|,.=<> ") + [r"\frac", r"\sqrt", r"\pm", r"\infty", r"\le", r"\{",
                                                           r"\}", r"\cup", r"\text{", "e", "i", r"\%", "$"]
    for _ in range(600):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 25)))
        assert equivalent(text, rng.choice(["1", "x+1", "(1,2)", r"\{1,2\}", "x<2"])) in (True, False)


def test_answers_are_memoised_and_long_ones_are_not_kept() -> None:
    equivalence.cached.cache_clear()
    for _ in range(8):
        equivalent(r"\frac{2}{4}", "0.5")
    equivalent("1" * (MAX_LENGTH + 1), "1")
    info = equivalence.cached.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 7, 1)


def test_the_seethink_grader_is_batched_by_the_reward_layer_and_the_sympy_ones_are_not() -> None:
    assert AccuracyOptions().grader == "seethink"
    default = Accuracy(AccuracyOptions())
    assert _risky(default) is False and _risky(pickle.loads(pickle.dumps(default))) is False
    for options in ({"grader": "mathruler"}, {"grader": "any"}, {"grader": "math_verify"},
                    {"grader": "mathruler", "strict": True}):
        assert _risky(Accuracy(AccuracyOptions(**options))) is True


def test_the_reward_reads_percent_and_approximations_through_its_number_shortcut() -> None:
    reward = Accuracy(AccuracyOptions())
    out = reward(["", "", ""], [r"\boxed{0.28}", r"\boxed{0.33}", r"\boxed{3.14}"],
                 answer=[r"28\%", r"\frac{1}{3}", "3.14159"])
    assert out == [1.0, 1.0, 0.0]
    tolerant = Accuracy(AccuracyOptions(tolerance=0.01))  # a tolerance decides numbers alone, as before
    assert tolerant([""], [r"\boxed{0.28}"], answer=[r"28\%"]) == [0.0]
