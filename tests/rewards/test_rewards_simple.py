"""format, choice, numeric, iou, count, length and overlong on realistic completions."""

from __future__ import annotations

import pytest
from seethink_rewards.boxes import Iou, iou, parse_box
from seethink_rewards.choice import Choice, parse_letter
from seethink_rewards.count import Count, parse_count
from seethink_rewards.formatting import Format
from seethink_rewards.length import Length, Overlong
from seethink_rewards.numeric import Numeric, parse_number
from seethink_rewards.schemas import (
    ChoiceOptions,
    CountOptions,
    FormatOptions,
    IouOptions,
    LengthOptions,
    NumericOptions,
    OverlongOptions,
)


@pytest.mark.parametrize("text, want", [
    ("<think>reason</think> so \\boxed{4}", 1.0),
    ("<think>multi\nline\nreasoning</think>\n\nThe answer is \\boxed{\\frac{1}{2}}.\n", 1.0),
    ("< think >spaced tags</ think > \\boxed{4}", 1.0),  # the reference strips spaces around < > /
    ("\\boxed{4}", 0.0),
    ("<think>no box</think> 4", 0.0),
    ("\\boxed{4} <think>late</think>", 0.0),
])
def test_format_reference_pattern(text: str, want: float) -> None:
    assert Format(FormatOptions())([""], [text]) == [want]


def test_format_pattern_is_an_option_and_spaces_can_be_kept() -> None:
    tags = Format(FormatOptions(pattern=r"<think>.*</think>\s*<answer>.*</answer>"))
    assert tags([""] * 2, ["<think>a</think> <answer>1</answer>", "<think>a</think> \\boxed{1}"]) == [1.0, 0.0]
    strict = Format(FormatOptions(strip_tag_spaces=False))
    assert strict([""], ["< think >x</ think > \\boxed{1}"]) == [0.0]


def test_format_rejects_a_broken_pattern() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        FormatOptions(pattern="<think>(")


@pytest.mark.parametrize("answer, choices, want", [
    ("B", None, "B"), ("(b)", None, "B"), ("C.", None, "C"), ("D: the tree", None, "D"),
    ("Option A", None, "A"), ("the correct answer is (C)", None, "C"),
    ("green", ["red", "green"], "B"), ("E", ["a", "b", "c", "d"], None), ("maybe", None, None),
])
def test_parse_letter_spellings(answer: str, choices: list[str] | None, want: str | None) -> None:
    assert parse_letter(answer, choices) == want


def test_choice_reward() -> None:
    reward = Choice(ChoiceOptions())
    meta = [{"choices": ["cat", "dog", "cow"]}] * 4 + [{}]
    out = reward([""] * 5, ["\\boxed{B}", "\\boxed{dog}", "\\boxed{(A)}", "no box", "\\boxed{B}"],
                 answer=["B", "B", "B", "B", None], meta=meta)
    assert out == [1.0, 1.0, 0.0, 0.0, None]


@pytest.mark.parametrize("text, want", [
    ("42", 42.0), ("-3.5", -3.5), ("1,234", 1234.0), ("2e3", 2000.0), ("\\frac{3}{4}", 0.75),
    ("-\\frac{1}{2}", -0.5), ("3/4", 0.75), ("50\\%", 50.0), ("$7$", 7.0), ("x+1", None), ("1/0", None),
])
def test_parse_number(text: str, want: float | None) -> None:
    assert parse_number(text) == want


def test_numeric_reward_tolerance_modes() -> None:
    rel = Numeric(NumericOptions(tolerance=0.01))
    absolute = Numeric(NumericOptions(tolerance=0.5, tolerance_mode="absolute"))
    texts = ["\\boxed{100.5}", "\\boxed{x = 102 cm}", "\\boxed{\\frac{201}{2}}", "\\boxed{seven}"]
    assert rel([""] * 4, texts, answer=["100"] * 4) == [1.0, 0.0, 1.0, 0.0]
    assert absolute([""] * 4, texts, answer=["100"] * 4) == [1.0, 0.0, 1.0, 0.0]
    assert absolute([""], ["\\boxed{100.4}"], answer=[100]) == [1.0]
    assert rel([""], ["\\boxed{1}"], answer=["a word"]) == [None]


def test_iou_geometry_and_parsing() -> None:
    assert iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert parse_box("the box is [10, 20, 30, 40].") == (10, 20, 30, 40)
    assert parse_box([1, 1, 0, 5]) is None  # x2 < x1: degenerate
    assert parse_box("no box") is None


def test_iou_reward_threshold_and_continuous() -> None:
    texts = ["\\boxed{[0, 0, 10, 10]}", "\\boxed{[0, 0, 10, 5]}", "\\boxed{[20, 20, 30, 30]}", "nothing"]
    gold = ["[0, 0, 10, 10]"] * 4
    assert Iou(IouOptions())([""] * 4, texts, answer=gold) == [1.0, 1.0, 0.0, 0.0]
    assert Iou(IouOptions(threshold=0.6))([""] * 4, texts, answer=gold) == [1.0, 0.0, 0.0, 0.0]
    cont = Iou(IouOptions(mode="continuous"))([""] * 4, texts, answer=gold)
    assert cont == [1.0, 0.5, 0.0, 0.0]
    assert Iou(IouOptions())([""], ["\\boxed{[0,0,1,1]}"], answer=["B"]) == [None]


def test_count_reward() -> None:
    assert parse_count("There are three circles.") == 3
    assert parse_count("\\text{4}") == 4 and parse_count("-2") is None and parse_count("2.5") is None
    exact = Count(CountOptions())
    rel = Count(CountOptions(mode="relative"))
    texts = ["\\boxed{4}", "\\boxed{four}", "\\boxed{5}", "no"]
    assert exact([""] * 4, texts, answer=["4"] * 4) == [1.0, 1.0, 0.0, 0.0]
    assert rel([""] * 4, texts, answer=[4] * 4) == [1.0, 1.0, 0.75, 0.0]
    assert exact([""], ["\\boxed{1}"], answer=["blue"]) == [None]


def test_length_penalise_and_target() -> None:
    pen = Length(LengthOptions())
    assert pen([""] * 3, ["a"] * 3, completion_tokens=[0, 512, 4096], max_response_tokens=1024) == [-0.0, -0.5, -1.0]
    tgt = Length(LengthOptions(mode="target", target=100))
    assert tgt([""] * 3, ["a"] * 3, completion_tokens=[100, 50, 300]) == [1.0, 0.5, 0.0]
    assert pen.max_value == 0.0 and tgt.max_value == 1.0


def test_length_needs_token_counts() -> None:
    with pytest.raises(ValueError, match="needs completion_tokens"):
        Length(LengthOptions())([""], ["a"])
    with pytest.raises(ValueError, match="needs max_response_tokens"):
        Length(LengthOptions())([""], ["a"], completion_tokens=[3])


def test_overlong_is_dapos_soft_penalty() -> None:
    reward = Overlong(OverlongOptions(buffer=100, penalty=1.0))
    tokens = [0, 900, 950, 1000, 1200]
    assert reward([""] * 5, ["a"] * 5, completion_tokens=tokens, max_response_tokens=1000) == [
        0.0, 0.0, -0.5, -1.0, -1.0]
    own_max = Overlong(OverlongOptions(buffer=10, penalty=0.5, max_tokens=20))
    assert own_max([""], ["a"], completion_tokens=[15]) == [-0.25]
