"""The metric functions: pass@k against brute force, length statistics, the error split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from seethink_eval import metrics as m
from seethink_eval.evaluators import Accuracy, FormatRate, Length, PassAtK, PerceptionSplit

from seethink_core.hooks.backend import Completion
from seethink_core.run.eval_types import EvalRecord
from seethink_core.types.sample import Sample


@given(st.integers(1, 8).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_equals_the_share_of_k_subsets_with_a_correct_one(nck):
    n, c, k = nck
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    brute = sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)
    assert m.pass_at_k(n, c, k) == pytest.approx(brute)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError):
        m.pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        m.pass_at_k(4, 1, 5)


def test_k_values_are_one_powers_of_two_and_n():
    assert m.k_values(1) == [1]
    assert m.k_values(5) == [1, 2, 4, 5]
    assert m.k_values(8) == [1, 2, 4, 8]


def test_length_stats():
    assert m.length_stats([3, 1, 2, 10]) == {"mean": 4.0, "median": 2.5, "max": 10.0}
    assert m.length_stats([]) == {}


def record(i: int, image: list[bool], facts: bool | None, cap: str = "perception", tokens: int = 5,
           fmt: float | None = 1.0) -> EvalRecord:
    s = Sample(id=str(i), prompt="q", answer="a", capability=cap, facts="f" if facts is not None else None)
    comps = [Completion("x", tokens) for _ in image]
    return EvalRecord(s, "set", comps, list(image), [1.0 if c else 0.0 for c in image], [fmt] * len(image),
                      Completion("y", 3) if facts is not None else None, facts)


def test_error_split_counts_and_shares():
    records = [
        record(0, [True], True),    # right from the image: no error
        record(1, [False], True),   # perception
        record(2, [False], True),   # perception
        record(3, [False], False),  # reasoning
        record(4, [True], False),   # right from the image, wrong from facts: no error
        record(5, [False], None),   # no facts pass: not judged
    ]
    split = m.error_split(records)
    assert split == {"split.samples": 5.0, "split.errors": 3.0, "split.perception_errors": 2.0,
                     "split.reasoning_errors": 1.0, "split.image_accuracy": 0.4, "split.facts_accuracy": 0.6,
                     "split.perception_share": 2 / 3, "split.reasoning_share": 1 / 3}
    assert [r.error_kind() for r in records] == [None, "perception", "perception", "reasoning", None, None]


def test_error_split_without_errors_leaves_shares_out():
    split = m.error_split([record(0, [True], True)])
    assert split["split.errors"] == 0.0 and "split.perception_share" not in split
    assert m.error_split([record(0, [True], None)]) == {}


def test_evaluators_on_hand_made_records():
    records = [record(0, [True, False, False, False], True, "perception", tokens=4, fmt=1.0),
               record(1, [False, False, False, False], False, "textual_reasoning", tokens=8, fmt=0.0)]
    acc = Accuracy()(records)
    assert acc["accuracy"] == 0.125
    assert acc["accuracy.capability.perception"] == 0.25 and acc["accuracy.capability.textual_reasoning"] == 0.0
    assert acc["accuracy.set.set"] == 0.125 and acc["samples"] == 2.0
    pk = PassAtK()(records)
    assert pk["pass@1"] == pytest.approx(0.125) and pk["pass@4"] == 0.5 and pk["mean@4"] == 0.125
    assert pk["pass@2"] == pytest.approx((1 - 3 / 6) / 2)
    assert FormatRate()(records) == {"format_rate": 0.5}
    assert Length()(records) == {"length.mean": 6.0, "length.median": 6.0, "length.max": 8.0,
                                 "length.capability.perception": 4.0, "length.capability.textual_reasoning": 8.0}
    split = PerceptionSplit()(records)
    assert split["split.perception_errors"] == 0.0 and split["split.reasoning_errors"] == 1.0
    assert split["split.perception_share.textual_reasoning"] == 0.0


def test_pass_at_k_is_silent_for_single_completions():
    assert PassAtK()([record(0, [True], None)]) == {}
    assert FormatRate()([record(0, [True], None, fmt=None)]) == {}
