"""A phase's stream with a replay of earlier stages' data (``replay share: 0.2``, ``Phase.replay``).

Every batch holds the replay's share of samples from the replayed data, exactly over the phase: batch
``b`` of ``n`` gets ``⌊r(S + n) + ½⌋ - ⌊rS + ½⌋`` of them, ``S`` being the samples served before
it (rounding the running total), so with ``n = 8`` and ``r = 0.2`` the batches hold 2, 1, 2, 1, 2, ... replayed
samples, and every five batches exactly eight. They sit at seeded places in the batch. The phase's own
data keep their order, difficulty range and pacing; the replayed data are the merged union of the
replayed lines (the stream's mixture rule), shuffled, over their whole range, from a seed of their own.
An epoch is still one pass over the phase's own data, so it serves ``own / (1 - r)`` samples, and an
``epochs`` budget counts passes over the phase's own data.
"""

from __future__ import annotations

import math
import random
from typing import Any

from seethink_core.errors import DataError
from seethink_core.types.sample import Sample

STATE_VERSION = 1


def replayed_count(share: float, served: int, n: int) -> int:
    """How many of the next ``n`` samples are replayed, ``served`` having been served before."""
    # floor(x + 0.5), not round(): Python rounds halves to even, which would depend on parity.
    return math.floor(share * (served + n) + 0.5) - math.floor(share * served + 0.5)


class ReplayStream:
    """``own`` with ``share`` of each batch from ``replay``; both are the stream's own ``Stream``s."""

    def __init__(self, own: Any, replay: Any, share: float, seed: int):
        if not 0.0 < share < 1.0:
            raise DataError(f"a replay share must be in (0, 1), not {share}")
        self.own = own
        self.replay = replay
        self.share = share
        self.seed = seed
        self.served = 0

    def next_batch(self, n: int, step: int) -> list[Sample]:
        k = replayed_count(self.share, self.served, n)
        own = self.own.next_batch(n - k, step) if n - k else []
        replayed = self.replay.next_batch(k, step) if k else []
        rng = random.Random(f"seethink-replay:{self.seed}:{self.served}")
        places = set(rng.sample(range(n), k))
        own_it, replay_it = iter(own), iter(replayed)
        self.served += n
        return [next(replay_it) if i in places else next(own_it) for i in range(n)]

    def total_samples(self) -> int:
        """Samples served in one pass over the phase's own data."""
        return math.ceil(self.own.total_samples() / (1.0 - self.share))

    def set_total_steps(self, n: int) -> None:
        self.own.set_total_steps(n)  # pacing is the phase's own data's

    @property
    def epoch(self) -> int:
        return self.own.epoch

    def skipped_records(self) -> dict[str, dict[str, int]]:
        out = {k: dict(v) for k, v in self.own.skipped_records().items()}
        for label, counts in self.replay.skipped_records().items():
            mine = out.setdefault(label, {})
            for kind, n in counts.items():
                mine[kind] = mine.get(kind, 0) + n
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "replay_share": self.share, "served": self.served,
                "own": self.own.state_dict(), "replay": self.replay.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION or "own" not in state:
            raise DataError("cannot resume the data stream: it was saved without this phase's replay")
        if state["replay_share"] != self.share:
            raise DataError(f"cannot resume the data stream: its replay share changed since the state was "
                            f"saved ({state['replay_share']} vs {self.share})")
        self.own.load_state_dict(state["own"])
        self.replay.load_state_dict(state["replay"])
        self.served = int(state["served"])
