"""``fill_fitting``: the drawing behind ``overlong_prompts: drop`` that both backends share."""

from __future__ import annotations

import pytest

from seethink_core.errors import DataError
from seethink_core.samples.overlong import DROP_LIMIT, fill_fitting


class Stream:
    """Items 0, 1, 2, ... (``end``: the stream runs dry there); ``calls`` records each draw's size."""

    def __init__(self, end: int | None = None):
        self.pos, self.end, self.calls = 0, end, []

    def draw(self, k: int) -> list[int]:
        self.calls.append(k)
        stop = self.pos + k if self.end is None else min(self.end, self.pos + k)
        out = list(range(self.pos, stop))
        self.pos = stop
        return out


def length(i: int) -> int:
    return 100 if i % 3 == 1 else 10  # every third item (1, 4, 7, ...) is too long


def test_overlong_items_are_replaced_by_the_next_ones_in_order():
    s = Stream()
    fill = fill_fitting(s.draw, 4, lambda items: [length(i) for i in items], 50, where="t")
    assert fill.items == [0, 2, 3, 5] and fill.dropped == 2 and fill.lengths == [100, 100]
    # 0..3 drops 1; then one more is missing: 4 is dropped too, 5 fits
    assert s.calls == [4, 1, 1] and fill.draws == 3


def test_nothing_dropped_is_one_draw():
    s = Stream()
    fill = fill_fitting(s.draw, 3, lambda items: [1] * len(items), 50, where="t")
    assert fill.items == [0, 1, 2] and fill.dropped == 0 and fill.draws == 1 and s.calls == [3]


def test_a_stream_that_runs_dry_gives_fewer():
    fill = fill_fitting(Stream(end=5).draw, 4, lambda items: [length(i) for i in items], 50, where="t")
    assert fill.items == [0, 2, 3] and fill.dropped == 2  # 1 and 4; then the stream is empty


def test_the_limit_is_inclusive():
    fill = fill_fitting(Stream().draw, 2, lambda items: [50] * len(items), 50, where="t")
    assert fill.items == [0, 1] and fill.dropped == 0


def test_a_limit_no_prompt_fits_is_an_error_not_an_endless_draw():
    s = Stream()
    with pytest.raises(DataError, match=r"phase 'p': 256 prompts were longer than max_prompt_tokens \(5\)"):
        fill_fitting(s.draw, 2, lambda items: [9] * len(items), 5, where="phase 'p'")
    assert s.pos == DROP_LIMIT
