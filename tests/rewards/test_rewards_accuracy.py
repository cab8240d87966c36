"""The accuracy reward on realistic completions: LaTeX vs plain, MCQ spellings, tolerance, the guard."""

from __future__ import annotations

import pytest
from seethink_rewards.accuracy import Accuracy, too_complex
from seethink_rewards.schemas import AccuracyOptions

THINK = "<think>Let me work it out.</think> "


def score(completion: str, gold: str | None, meta: dict | None = None, **options) -> float | None:
    reward = Accuracy(AccuracyOptions(**options))
    return reward([""], [completion], answer=[gold], meta=[meta or {}])[0]


@pytest.mark.parametrize("boxed, gold", [
    (r"\frac{1}{2}", "0.5"),
    (r"\dfrac{1}{2}", r"\frac{1}{2}"),
    ("0.5", r"\frac{1}{2}"),
    (r"\frac{\sqrt{2}}{2}", r"\sqrt{2}/2"),
    ("(x+1)^2", "x^2+2x+1"),
    ("3.0", "3"),
    ("1,000", "1000"),
    (r"\text{ 12 }", "12"),
    ("$6$", "6"),
    (r"60^\circ", "60"),
])
def test_equivalent_answers_score_one(boxed: str, gold: str) -> None:
    assert score(THINK + rf"\boxed{{{boxed}}}", gold) == 1.0


@pytest.mark.parametrize("boxed, gold", [
    (r"\frac{1}{3}", "0.5"),
    ("3", "4"),
    ("x^2", "(x+1)^2"),
    ("", "4"),
])
def test_wrong_answers_score_zero(boxed: str, gold: str) -> None:
    assert score(THINK + rf"\boxed{{{boxed}}}", gold) == 0.0


def test_missing_box_scores_zero_and_missing_gold_is_not_applicable() -> None:
    assert score("I think it is 4", "4") == 0.0
    assert score(r"\boxed{4}", None) is None


@pytest.mark.parametrize("spelling", ["B", "(B)", "B.", "B)", "B: a red cube", "[B]", r"\text{B}",
                                      "Option B", "The answer is (B)", "a red cube"])
def test_multiple_choice_spellings(spelling: str) -> None:
    meta = {"choices": ["a blue ball", "a red cube", "a green cone", "a tree"]}
    assert score(THINK + rf"\boxed{{{spelling}}}", "B", meta) == 1.0


@pytest.mark.parametrize("spelling", ["C", "(A)", "a tree", "B: a tree", "E", "BC"])
def test_multiple_choice_wrong_or_invalid(spelling: str) -> None:
    meta = {"choices": ["a blue ball", "a red cube", "a green cone", "a tree"]}
    assert score(THINK + rf"\boxed{{{spelling}}}", "B", meta) == 0.0


def test_letter_gold_without_choices_and_text_gold_with_choices() -> None:
    assert score(r"\boxed{(C)}", "C") == 1.0
    assert score(r"\boxed{D}", "C") == 0.0
    assert score(r"\boxed{B}", "cube", {"choices": ["ball", "cube"]}) == 1.0


def test_numeric_tolerance_relative_and_absolute() -> None:
    assert score(r"\boxed{3.14}", "3.14159") == 0.0
    assert score(r"\boxed{3.14}", "3.14159", tolerance=0.001) == 1.0
    assert score(r"\boxed{3.14}", "3.14159", tolerance=0.001, tolerance_mode="absolute") == 0.0
    assert score(r"\boxed{3.14}", "3.14159", tolerance=0.01, tolerance_mode="absolute") == 1.0


@pytest.mark.parametrize("expr", [
    "1" * 201,
    "x^1" + "^1" * 10,
    "(" * 41,
    "{" * 41,
    "12345678901234567890123456789012345678901234567890",
])
def test_too_complex_guard(expr: str) -> None:
    assert too_complex(expr)
    assert score(rf"\boxed{{{expr}}}", expr) == 0.0  # even when it equals the gold answer


def test_simple_answers_are_not_too_complex() -> None:
    assert not too_complex(r"\frac{1}{2}") and not too_complex("9^{9^{9^9}}")


def test_answer_tag_and_last_line_rules() -> None:
    assert score("<think>x</think><answer>12</answer>", "12", extract="answer_tag") == 1.0
    assert score("<think>x</think>\nSo the total is\n12", "12", extract="last_line") == 1.0
    assert score("<think>x</think><answer>12</answer>", "12") == 0.0  # default rule wants a box


def test_reference_tag_spaces_are_tolerated() -> None:
    assert score(r"< think >x</ think > \boxed{1 / 2}", "1/2") == 1.0


@pytest.mark.parametrize("grader", ["seethink", "mathruler", "math_verify", "any"])
def test_each_grader_finds_symbolic_equivalence(grader: str) -> None:
    assert score(r"\boxed{2\sqrt{2}}", r"\sqrt{8}", grader=grader) == 1.0
    assert score(r"\boxed{2\sqrt{3}}", r"\sqrt{8}", grader=grader) == 0.0


def test_batch_call_and_pickling_keep_scores() -> None:
    import pickle

    reward = Accuracy(AccuracyOptions())
    reward.warmup()
    again = pickle.loads(pickle.dumps(reward))
    assert again.__name__ == "accuracy"
    out = again(["", ""], [r"\boxed{2}", r"\boxed{3}"], answer=["2", "2"], meta=[{}, {}])
    assert out == [1.0, 0.0]


def test_a_missing_grader_is_reported_when_the_reward_is_built(monkeypatch) -> None:
    import importlib.util

    from seethink_core.errors import PluginError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pylatexenc" else real(name, *a))
    with pytest.raises(PluginError, match=r"grader 'mathruler'\) needs pylatexenc") as err:
        Accuracy(AccuracyOptions(grader="mathruler"))
    assert "seethink[rewards]" in str(err.value)
    Accuracy(AccuracyOptions(grader="math_verify"))  # the other graders do not need it
    Accuracy(AccuracyOptions())


def _reference_accuracy(response: str, gold: str) -> float:
    """training/reward_functions/math.py of the reference, step for step (whitespace around <, > and /
    removed by its compute_score first)."""
    import re

    from mathruler.grader import extract_boxed_content, grade_answer

    response = re.sub(r"\s*(<|>|/)\s*", r"\1", response)
    answer = extract_boxed_content(response)
    if not answer:
        return 0.0
    return 1.0 if (not too_complex(answer) and grade_answer(answer, gold)) else 0.0


@pytest.mark.parametrize("completion, gold", [
    (THINK + r"\boxed{B}", "B"),
    (THINK + r"\boxed{B.}", "B"),            # the lenient default accepts this one; the reference does not
    (THINK + r"\boxed{(B)}", "B"),
    (THINK + r"The answer is B.", "B"),      # no box: the extractor gives "None"
    (THINK + r"\boxed{\frac{1}{2}}", "0.5"),
    (THINK + r"\boxed{1 / 2}", r"\frac{1}{2}"),
    (THINK + r"\boxed{3.0}", "3"),
    (THINK + r"\boxed{1,000}", "1000"),
    (THINK + r"\boxed{}", "0"),
    (THINK + r"\boxed{x} then \boxed{7}", "7"),
    (THINK + r"\boxed{" + "9" * 60 + "}", "9" * 60),
    (THINK + r"\boxed{60^\circ}", "60"),
    (THINK + r"\boxed{\text{ 12 }}", "12"),
])
def test_strict_grades_exactly_as_the_reference_math_py(completion, gold):
    assert score(completion, gold, strict=True, grader="mathruler") == _reference_accuracy(completion, gold)


def test_strict_is_stricter_than_the_default_where_the_reference_is():
    assert score(THINK + r"\boxed{B.}", "B") == 1.0
    assert score(THINK + r"\boxed{B.}", "B", strict=True, grader="mathruler") == _reference_accuracy(
        THINK + r"\boxed{B.}", "B")
    for grader in ("any", "seethink"):  # the default grader too: strict says which grader it keeps
        with pytest.raises(ValueError, match="strict"):
            AccuracyOptions(strict=True, grader=grader)
