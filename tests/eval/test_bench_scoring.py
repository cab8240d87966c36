"""The benchmark scorers against hand-computed cases: extraction rules, MathVista's answer types and
precision, MathVision/MathVerse equality, WeMath's four dimensions and both scores, POPE's F1 per split."""

from __future__ import annotations

import pytest
from seethink_eval.extraction import Extraction, answer_text, choice_letter, yes_no
from seethink_eval.mathcheck import levenshtein, math_equal, to_number
from seethink_eval.scoring_math import (
    WeMathRow,
    choices_in,
    score_mathverse,
    score_mathvision,
    score_mathvista,
    score_wemath,
    wemath_dimensions,
)
from seethink_eval.scoring_perception import PopeRow, pope_metrics, score_choice, score_pope

from seethink_core.types.sample import Sample

RULES = Extraction()


@pytest.mark.parametrize("response, expected", [
    ("<think>maybe \\boxed{3}</think> so \\boxed{5}", "5"),
    ("<think>x</think>The answer is 12.", "12"),
    ("<think>cut off \\boxed{7}", "7"),  # unclosed reasoning: the box inside it
    ("<think>\\boxed{3}</think> The final answer is 4", "4"),  # the text after the reasoning wins
    ("\\boxed{\\text{B}}", "B"),
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("just 9", "just 9"),
])
def test_answer_text(response, expected):
    assert answer_text(response) == expected


@pytest.mark.parametrize("text, choices, expected", [
    ("B", ["x", "y", "z"], "B"),
    ("(C) 6/11", ["3/11", "8/11", "6/11"], "C"),
    ("B: 8/11", ["3/11", "8/11"], "B"),
    ("8/11", ["3/11", "8/11", "6/11", "3/5"], "B"),  # the one option text the answer contains
    ("3/11 or 8/11", ["3/11", "8/11"], None),  # two options: no answer
    ("It must be C", ["p", "q", "r"], "C"),  # one option letter among the last words
    ("A cat sat on the mat, so it must be C", ["p", "q", "r"], None),  # "A" and "C": VLMEvalKit gives up
    ("C is right, as the long argument above has shown beyond doubt", ["p", "q", "r"], None),  # too early
    ("E", ["p", "q", "r"], None),  # not an option
])
def test_choice_letter(text, choices, expected):
    assert choice_letter(text, choices) == expected


def test_yes_no_needs_exactly_one_of_the_words():
    assert yes_no("Yes, there is a dog.") == "yes"
    assert yes_no("No.") == "no"
    assert yes_no("yes or no?") is None and yes_no("maybe") is None


def test_numbers_and_equality():
    assert to_number("1,000") == 1000 and to_number("\\frac{3}{4}") == 0.75 and to_number("3/4") == 0.75
    assert to_number("12 cm") == 12 and to_number("45^\\circ") == 45 and to_number("$1.45") == 1.45
    assert to_number("2\\sqrt{3}") == pytest.approx(3.4641016)
    assert to_number("x = 3") == 3 and to_number("three") is None
    assert math_equal("0.5", "\\frac{1}{2}") and math_equal("(2, 1)", "(2,1)") and not math_equal("0.51", "0.5")
    assert levenshtein("kitten", "sitting") == 3


class Judge:
    """An extractor double: answers from a table, counts calls."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, question, response, choices=()):
        self.calls.append((question, response, tuple(choices)))
        return self.answers.get(response)


def test_the_extractor_is_asked_only_where_rules_fail_and_once():
    judge = Judge({"I pick the second one": "B", "hmm": None})
    ex = Extraction(judge)
    assert ex.letter("q", "\\boxed{A}", ["x", "y"]) == "A" and judge.calls == []
    assert ex.letter("q", "I pick the second one", ["x", "y"]) == "B"
    assert ex.letter("q", "I pick the second one", ["x", "y"]) == "B"
    assert len(judge.calls) == 1 and ex.asked == 1
    assert ex.letter("q", "hmm", ["x", "y"]) is None
    assert ex.answer("q", "the value must be fourteen") == "the value must be fourteen"  # judge said nothing
    assert Extraction(Judge({"it is fourteen": "14"})).answer("q", "it is fourteen") == "14"


def vista(answer, qtype, atype, precision=None, choices=None):
    meta = {"question_type": qtype, "answer_type": atype, "precision": precision}
    if choices:
        meta["choices"] = choices
    return Sample(id="v", prompt="q", answer=answer, meta=meta)


@pytest.mark.parametrize("response, right, extracted", [
    ("\\boxed{B}", True, "8/11"),
    ("\\boxed{8/11}", True, "8/11"),
    ("\\boxed{(D)}", False, "3/5"),
    ("\\boxed{8/12}", True, "8/11"),  # the nearest option by edit distance (1), as the official scorer
    ("The correct answer is (C) 6/11.", False, "6/11"),
])
def test_mathvista_multiple_choice(response, right, extracted):
    got = score_mathvista(vista("8/11", "multi_choice", "text", choices=["3/11", "8/11", "6/11", "3/5"]),
                          response, RULES)
    assert (got.correct, got.extracted) == (right, extracted)


@pytest.mark.parametrize("sample, response, right, extracted", [
    (vista("14", "free_form", "integer"), "\\boxed{14.0}", True, "14"),
    (vista("14", "free_form", "integer"), "\\boxed{14.7}", True, "14"),  # str(int(float(x))): truncated
    (vista("14", "free_form", "integer"), "\\boxed{15}", False, "15"),
    (vista("1.45", "free_form", "float", 2.0), "\\boxed{1.449}", True, "1.45"),  # rounded to the precision
    (vista("1.45", "free_form", "float", 2.0), "\\boxed{\\$1.45}", True, "1.45"),
    (vista("1.45", "free_form", "float", 2.0), "\\boxed{1.4}", False, "1.4"),
    (vista("0.6", "free_form", "float", 1.0), "The fraction is 0.6", False, None),  # no number alone
    (vista("[2007, 2008]", "free_form", "list"), "\\boxed{[2007,2008]}", True, "[2007,2008]"),
    (vista("tokyo", "free_form", "text"), "\\boxed{tokyo}", True, "tokyo"),
])
def test_mathvista_free_answers(sample, response, right, extracted):
    got = score_mathvista(sample, response, RULES)
    assert (got.correct, got.extracted) == (right, extracted)


def test_mathvision_choices_and_values():
    mc = Sample(id="a", prompt="q", answer="C", meta={"choices": ["1", "2", "3", "4", "5"]})
    assert score_mathvision(mc, "\\boxed{C}", RULES).correct
    assert score_mathvision(mc, "\\boxed{3}", RULES).correct  # the option's value instead of its letter
    assert not score_mathvision(mc, "\\boxed{D}", RULES).correct
    free = Sample(id="b", prompt="q", answer="\\frac{1}{2}")
    assert score_mathvision(free, "\\boxed{\\frac{1}{2}}", RULES).correct
    assert score_mathvision(free, "\\boxed{0.5}", RULES).correct
    assert not score_mathvision(free, "\\boxed{0.4}", RULES).correct


def test_mathverse_letters_from_the_question_and_free_answers():
    q = "Find BC.\nChoices:\nA:2\nB:2√{3}\nC:√{3}"
    assert choices_in(q) == ["2", "2√{3}", "√{3}"]
    mc = Sample(id="m", prompt=q, answer="B", meta={"question_type": "multi-choice", "question_for_eval": q})
    assert score_mathverse(mc, "\\boxed{B}", RULES).correct
    assert score_mathverse(mc, "\\boxed{2√{3}}", RULES).correct
    assert not score_mathverse(mc, "\\boxed{C}", RULES).correct
    free = Sample(id="f", prompt="q", answer="22.3", meta={"question_type": "free-form"})
    assert score_mathverse(free, "\\boxed{22.3 m}", RULES).correct
    assert score_mathverse(free, "so d = 22.30", RULES).correct is False  # no box, no "answer is": no answer
    assert score_mathverse(free, "The answer is 22.30", RULES).correct


def test_wemath_row_is_multiple_choice():
    s = Sample(id="w", prompt="q", answer="B", meta={"choices": ["6cm²", "8cm²", "10cm²"]})
    assert score_wemath(s, "\\boxed{B}", RULES).correct and score_wemath(s, "\\boxed{8cm²}", RULES).correct
    assert not score_wemath(s, "\\boxed{A}", RULES).correct


def rows(problem, steps, parts, whole):
    return ([WeMathRow(problem, f"{steps}steps_{i + 1}", ok) for i, ok in enumerate(parts)]
            + [WeMathRow(problem, f"{steps}steps_multi", whole)])


def test_wemath_four_dimensions_and_both_scores_by_hand():
    # P1 all steps right, whole right: CM (strict and loose). P2 one step wrong, whole right: RM strict,
    # CM loose. P3 every step wrong, whole right: RM (both). P4 steps right, whole wrong: IG.
    # P5 a step wrong, whole wrong: IK. P6 lacks its composite row: left out, as the official merge does.
    data = (rows("p1", 2, [True, True], True) + rows("p2", 2, [True, False], True)
            + rows("p3", 3, [False, False, False], True) + rows("p4", 2, [True, True], False)
            + rows("p5", 3, [True, False, True], False) + rows("p6", 2, [True, True], True)[:2])
    got = wemath_dimensions(data)
    assert got["problems"] == 5 and got["incomplete"] == 1
    assert (got["ik"], got["ig"], got["cm_strict"], got["cm_loose"], got["rm_strict"], got["rm_loose"]) == \
        (1, 1, 1, 2, 2, 1)
    assert got["ik_rate"] == pytest.approx(0.2) and got["ig_rate"] == pytest.approx(0.2)
    assert got["cm_strict_rate"] == pytest.approx(0.2) and got["cm_loose_rate"] == pytest.approx(0.4)
    assert got["rm_strict_rate"] == pytest.approx(2 / 3) and got["rm_loose_rate"] == pytest.approx(1 / 3)
    # (N - 0.5 IG - RM - IK) / N
    assert got["score_strict"] == pytest.approx((5 - 0.5 - 2 - 1) / 5)  # 0.3
    assert got["score_loose"] == pytest.approx((5 - 0.5 - 1 - 1) / 5)  # 0.5
    assert got["one_step_accuracy"] == pytest.approx(7 / 12)
    assert got["2_step_accuracy"] == pytest.approx(2 / 3) and got["3_step_accuracy"] == pytest.approx(1 / 2)


def test_wemath_ids_repeat_across_step_counts():
    # The official code merges 2-step and 3-step rows apart: one ID may name one problem of each.
    got = wemath_dimensions(rows("7", 2, [True, True], True) + rows("7", 3, [True, True, True], False))
    assert got["problems"] == 2 and got["cm_strict"] == 1 and got["ig"] == 1


def test_pope_accuracy_precision_recall_f1_per_split_by_hand():
    data = [PopeRow("adversarial", "yes", "yes"), PopeRow("adversarial", "no", "yes"),
            PopeRow("adversarial", "yes", None), PopeRow("adversarial", "no", "no"),
            PopeRow("random", "yes", "yes"), PopeRow("random", "no", "no")]
    got = pope_metrics(data)
    # all rows: tp 2, fp 1, fn 1 (the unanswered "yes" counts as "no")
    assert got["precision"] == pytest.approx(2 / 3) and got["recall"] == pytest.approx(2 / 3)
    assert got["f1"] == pytest.approx(2 / 3) and got["accuracy"] == pytest.approx(4 / 6)
    assert got["yes_ratio"] == pytest.approx(0.5) and got["unknown"] == 1
    assert got["adversarial.f1"] == pytest.approx(0.5) and got["adversarial.accuracy"] == pytest.approx(0.5)
    assert got["adversarial.yes_ratio"] == pytest.approx(0.5)
    assert got["random.f1"] == 1.0 and got["random.accuracy"] == 1.0 and got["random.samples"] == 2


def test_pope_and_multiple_choice_responses():
    pope = Sample(id="p", prompt="Is there a dog?", answer="yes")
    assert score_pope(pope, "<think>no idea</think> \\boxed{Yes}", RULES).correct
    assert not score_pope(pope, "Yes and no.", RULES).correct
    mc = Sample(id="c", prompt="q", answer="B", meta={"choices": ["eating", "playing", "sleeping"]})
    assert score_choice(mc, "\\boxed{B}", RULES).correct and score_choice(mc, "The answer is playing", RULES).correct
    assert not score_choice(mc, "\\boxed{A}", RULES).correct
    open_q = Sample(id="o", prompt="How many lanes?", answer="3")
    assert score_choice(open_q, "\\boxed{3.}", RULES).correct and not score_choice(open_q, "\\boxed{4}", RULES).correct
