"""The difficulty histogram: 10 equal bins over [0, 1] and a unicode-block rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seethink_core.run.difficulty import histogram, render_histogram


def test_bins_edges_and_the_last_bin_is_closed() -> None:
    assert histogram([0.0, 0.05, 0.1, 0.55, 0.999, 1.0]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert histogram([0.25, 0.5, 0.75, 1.0], bins=4) == [0, 1, 1, 2]
    assert histogram([]) == [0] * 10


def test_values_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        histogram([1.5])
    with pytest.raises(ValueError, match="bins"):
        histogram([0.5], bins=0)


@given(st.lists(st.floats(0.0, 1.0), max_size=200), st.integers(1, 20))
def test_every_value_is_counted_once(values: list[float], bins: int) -> None:
    assert sum(histogram(values, bins)) == len(values)


def test_the_rendering_has_a_proportional_bar_per_bin() -> None:
    text = render_histogram([10, 5, 0, 1, 0, 0, 0, 0, 0, 20], width=20)
    lines = text.splitlines()
    assert len(lines) == 12 and lines[-1].strip() == "total 36"
    bars = [line.split("│")[1] for line in lines[1:11]]
    assert bars[9] == "█" * 20 and bars[0].rstrip() == "█" * 10 and bars[2].strip() == ""
    assert bars[3].rstrip() == "█" and bars[1].rstrip() == "█" * 5
    assert lines[1].startswith("[0.00, 0.10)") and lines[10].startswith("[0.90, 1.00]")
    assert lines[10].endswith(" 20")


def test_eighth_blocks_show_small_differences() -> None:
    bars = [line.split("│")[1].rstrip() for line in render_histogram([8, 1, 3], width=1).splitlines()[1:4]]
    assert bars == ["█", "▏", "▍"]
