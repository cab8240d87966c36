"""``overlong_prompts: drop``: skip prompts longer than ``max_prompt_tokens`` and draw others instead.

The reference (EasyR1's ``filter_overlong_prompts``) removes such prompts from its data set before
training; seethink's data is a stream in the runner's order, so a backend drops them as it draws and
pulls the next samples in their place. How a prompt is measured is the backend's business (it must
count what it really feeds the model: chat template applied, images processed); this module only
does the drawing, so the local trainer and the OpenRLHF export drop the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from seethink_core.errors import DataError

T = TypeVar("T")

DROPPED_METRIC = "data.dropped_overlong"  # cumulative over the phase: prompts dropped since it began
# A fill that has dropped this many prompts (or DROP_LIMIT_PER_PROMPT per prompt wanted, if more) is
# stopped with an error: with a stream that never ends (epochs, a generated world) a limit that no
# prompt fits would otherwise draw forever.
DROP_LIMIT = 256
DROP_LIMIT_PER_PROMPT = 16


@dataclass
class Fill(Generic[T]):
    items: list[T]  # the prompts that fit, in the stream's order (fewer than asked only when it ran dry)
    dropped: int  # prompts drawn and dropped while filling
    lengths: list[int]  # token lengths of the dropped prompts, in the order drawn
    draws: int  # calls to the stream (1: the first draw fitted, nothing was re-drawn)


def fill_fitting(draw: Callable[[int], list[T]], n: int, measure: Callable[[list[T]], Sequence[int]],
                 limit: int, *, where: str) -> Fill[T]:
    """Draw ``n`` items with ``draw(k)``, dropping each whose ``measure``d length exceeds ``limit`` and
    drawing again for the missing ones until ``n`` fit or the stream runs dry.

    ``measure`` gets a whole draw at once (a backend measures a batch in one processor call).
    """
    kept: list[T] = []
    dropped = draws = 0
    too_long: list[int] = []
    cap = max(DROP_LIMIT, DROP_LIMIT_PER_PROMPT * n)
    while len(kept) < n:
        batch = draw(n - len(kept))
        draws += 1
        if not batch:
            break
        lengths = list(measure(batch))
        for item, length in zip(batch, lengths, strict=True):
            if length <= limit:
                kept.append(item)
            else:
                dropped += 1
                too_long.append(int(length))
        if dropped >= cap and len(kept) < n:
            raise DataError(f"{where}: {dropped} prompts were longer than max_prompt_tokens ({limit}) while "
                            f"drawing {n} (the longest had {max(too_long)} tokens), so overlong_prompts: drop "
                            "cannot fill a batch",
                            hint="raise max_prompt_tokens, lower max_pixels, or use shorter prompts")
    return Fill(kept, dropped, too_long, draws)


def dropped_note(where: str, limit: int, length: int) -> str:
    """The one note a phase prints at its first drop (the metric carries the count from then on)."""
    return (f"{where}: dropping prompts longer than max_prompt_tokens ({limit}; the first had {length} tokens) "
            f"and drawing the next samples instead; the count is metric {DROPPED_METRIC}")
