"""Finding the final answer: nested braces, answer tags, last lines, the reference's tag clean-up."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from seethink_rewards.text import answer_tag, extract_answer, last_boxed, last_line, strip_tag_spaces, unwrap


@pytest.mark.parametrize("text, want", [
    (r"so \boxed{\frac{1}{2}}.", r"\frac{1}{2}"),
    (r"\boxed{1} then changed my mind: \boxed{ \sqrt{\frac{a}{b}} }", r"\sqrt{\frac{a}{b}}"),
    (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
    (r"\boxed{x^{2}+\left(y\right)}", r"x^{2}+\left(y\right)"),
    (r"\boxed{}", ""),
    ("no box at all", None),
    (r"\boxed{\frac{1}{2}", None),  # never closed
])
def test_last_boxed_balances_nested_braces(text: str, want: str | None) -> None:
    assert last_boxed(text) == want


def test_answer_tag_takes_the_last_tag_and_unwraps_a_box() -> None:
    assert answer_tag("<answer>1</answer> no wait <answer> 2 </answer>") == "2"
    assert answer_tag(r"<answer>\boxed{\frac{3}{4}}</answer>") == r"\frac{3}{4}"
    assert answer_tag("no tag") is None


def test_last_line_skips_the_reasoning_and_an_answer_prefix() -> None:
    assert last_line("<think>step 1\nstep 2</think>\nAnswer: 42\n\n") == "42"
    assert last_line("The final answer is: B") == "B"
    assert last_line("   \n  ") is None


def test_extract_answer_dispatches_on_the_rule() -> None:
    text = "<think>x</think><answer>7</answer>\n" + r"so \boxed{8}"
    assert extract_answer(text, "boxed") == "8"
    assert extract_answer(text, "answer_tag") == "7"
    assert extract_answer(text, "last_line") == "8"


def test_strip_tag_spaces_matches_the_reference_cleanup() -> None:
    assert strip_tag_spaces("< think > a </ think >") == "<think>a</think>"
    assert strip_tag_spaces("1 / 2") == "1/2"


@pytest.mark.parametrize("raw, want", [
    ("$42$", "42"), (r"\text{blue}", "blue"), ("**B**", "B"), ("7.", "7"), (r"$\text{ red }$", "red"),
])
def test_unwrap_drops_presentation(raw: str, want: str) -> None:
    assert unwrap(raw) == want


@given(st.text(alphabet="ab <>/\n\t\u00a0", max_size=40))
def test_strip_tag_spaces_equals_the_reference_regex(text: str) -> None:
    assert strip_tag_spaces(text) == re.sub(r"\s*(<|>|/)\s*", r"\1", text)
