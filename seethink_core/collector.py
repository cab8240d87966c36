"""Pausing Python's cyclic garbage collector while a big syntax tree, plan or reward batch is built.

Parsing and compiling allocate hundreds of thousands of small objects that live on, and each one
counts towards the collector's next pass over everything alive: with it running, a 3,000-stage file
compiled in twice the time it takes without, and the cost grew faster than the file. The trees and
plans hold no reference cycles, so nothing is lost by collecting after the build instead of during it.

Resuming alone is not enough after a big build: everything made during the pause is still in the
youngest generation, so the first allocation after it walks all of it (half a second for a 10,000-stage
compile). Then the objects alive are moved to the oldest generation instead (``gc.freeze`` then
``gc.unfreeze``, two list splices), where they wait for the next full pass, as objects that outlive two
passes do anyway. A small build (most files) resumes plainly, so what it leaves in cycles is collected
soon; and none is moved when something else froze objects (``gc.unfreeze`` would thaw them too).

The reward layer pauses it for a batch's bookkeeping (its columns, its identical rows, the scores
put back), which makes thousands of short-lived containers in a trainer's process: each pass they
set off walks that whole heap. The foundation layer holds it, so that the DSL and the run use one.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator

# Young objects alive at the resume from which they are moved rather than walked (walking this many
# takes some ten milliseconds).
BIG_BUILD = 100_000


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside (nested pauses resume only at the outermost one's end)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > BIG_BUILD and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
