"""A phase's data in training order: the ``SampleStream`` every backend reads (docs/architecture.md §7).

``build_stream`` opens each source of the phase's mixture through the registry
and serves batches. The rules, in the order they apply:

1. **Range filter** — only samples with ``difficulty`` in ``[min, max]`` are in the catalogue;
   a sample of unknown difficulty cannot be judged and is kept.
2. **Mixture** — an *epoch* is one pass over the weighted union. Its length is ``N``, the
   number of catalogued samples (of sources with a weight above 0); source ``s`` (``n_s`` samples, weight ``w_s``) gets
   ``k_s = N * w_s * n_s / sum(w * n)`` places (largest-remainder rounding). So equal weights
   give the plain union, each sample once, and weight 2 doubles a source's share. A source's
   places are filled by seeded permutations of its samples (whole passes, then a prefix of
   a fresh one), drawn anew each epoch.
3. **Order** — ``shuffle``: a seeded shuffle, new every epoch; ``easy_to_hard`` /
   ``hard_to_easy``: sorted by difficulty with seeded tie-breaks that stay the same every
   epoch, never shuffled (unknown difficulty sorts as 0.5). With ``mix blocks`` the sources
   are not interleaved: each is one block, served in the order the phase lists them, and the
   order applies inside each block (so every epoch cycles through the blocks, as a stitched
   file trained without shuffling does).
   With ``drop_last`` (EasyR1's loader) an epoch keeps whole rollout batches only: its order is
   cut to a multiple of the rollout batch, so with a sorted order the same hardest tail is left
   out of every epoch, as in the reference's unshuffled curriculum runs.
4. **Pacing** — at step ``t`` of ``T`` (``set_total_steps``) only the easiest part of the range
   is admitted (the hardest part for ``hard_to_easy``); the admitted share grows from
   ``start`` to 1 at ``full_at * T`` by ``linear``, ``root`` (sqrt) or ``step`` (``stages``
   jumps). A sample not yet admitted waits in its place; an epoch ends when no admitted
   sample is left in it, and samples never admitted during it are dropped from it. The
   easiest difficulty present is always admitted, so a batch can always be filled.

Bad records: a source that skips them (``on_error: "skip"``) reports, after the pass that
reads it into the catalogue, ``skipped`` / ``skip_reasons`` / ``problems``; ``build_stream``
prints one warning line per such source (counts by reason and the first bad record's place)
and ``Stream.skipped_records()`` gives the counts, so no record is dropped unsaid.

Batches cross epoch boundaries when needed. Position, epoch and the set of samples taken
out of order are the whole state: every order is a pure function of (seed, epoch), so
``state_dict`` is small, JSON-able and resumes exactly.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seethink_core.errors import DataError
from seethink_core.hooks.registry import Registry
from seethink_core.run.pacing import admitted_range, epoch_length, mixture_quotas
from seethink_core.run.sources import Catalogue, decode_image, open_source, skip_note
from seethink_core.types.plan import Difficulty, Phase
from seethink_core.types.sample import Sample

STATE_VERSION = 1
UNKNOWN_DIFFICULTY = 0.5  # where a sample without a difficulty sorts


@dataclass
class _Cursor:
    epoch: int = 0
    pos: int = 0  # every place before it has been served
    taken: set[int] = dataclasses.field(default_factory=set)  # places at or after pos, served early
    served: int = 0


class Stream:
    """The ``SampleStream`` of one phase (see the module docstring for the rules)."""

    def __init__(self, catalogues: list[Catalogue], difficulty: Difficulty, seed: int, *,
                 decode_images: bool = True, mixture: str = "interleave", epoch_multiple: int = 1):
        self.catalogues = catalogues
        self.difficulty = difficulty
        self.mixture = mixture
        self.epoch_multiple = max(1, epoch_multiple)
        self.seed = seed
        self.decode_images = decode_images
        self.total_steps: int | None = None
        lo, hi = difficulty.min, difficulty.max
        # Catalogue = (source, item) pairs inside the range, with their difficulty.
        self.pool: list[list[int]] = [
            [i for i, d in enumerate(c.difficulties) if d is None or lo <= d <= hi] for c in catalogues]
        self.weights = [c.ref.weight for c in catalogues]
        self.quotas = mixture_quotas([len(p) for p in self.pool], self.weights)
        if sum(self.quotas) // self.epoch_multiple == 0 and sum(self.quotas):
            raise DataError(f"an epoch of {sum(self.quotas)} samples holds no whole rollout batch of "
                            f"{self.epoch_multiple}, so drop_last leaves nothing to train on",
                            hint="lower rollout_batch_size, or set drop_last: false")
        if sum(self.quotas) == 0:
            names = ", ".join(c.ref.source for c in catalogues)
            raise DataError(f"no samples to train on from {names}: every sample is outside the difficulty "
                            f"range [{lo}, {hi}] or has weight 0")
        known = [d for c, pool, quota in zip(catalogues, self.pool, self.quotas, strict=True) if quota
                 for d in (c.difficulties[i] for i in pool) if d is not None]
        self._known = (min(known), max(known)) if known else None
        self._cursor = _Cursor()
        self._order: list[tuple[int, int]] = self._epoch_order(0)

    # -- the protocol ---------------------------------------------------------------------------

    def skipped_records(self) -> dict[str, dict[str, int]]:
        """Bad records skipped per source (as the curriculum names it) and reason; {} when none."""
        out: dict[str, dict[str, int]] = {}
        for c in self.catalogues:
            for kind, n in c.skipped().items():
                counts = out.setdefault(c.ref.label, {})
                counts[kind] = counts.get(kind, 0) + n
        return out

    def set_total_steps(self, n: int) -> None:
        """The phase's length in steps; pacing needs it (without it everything is admitted)."""
        self.total_steps = n

    def total_samples(self) -> int:
        """Samples in one epoch (whole rollout batches only with ``drop_last``)."""
        return sum(self.quotas) // self.epoch_multiple * self.epoch_multiple

    def next_batch(self, n: int, step: int) -> list[Sample]:
        lo, hi = self._admitted(step)
        out: list[Sample] = []
        while len(out) < n:
            place = self._next_place(lo, hi)
            if place is None:
                if self._cursor.pos == 0 and not self._cursor.taken:
                    # Nothing of this epoch is admitted (a downsampled source left out the easiest
                    # samples): admit this epoch's easiest ones rather than start an empty epoch.
                    lo, hi = self._widen(lo, hi)
                else:
                    self._new_epoch(self._cursor.epoch + 1)
                continue
            s, i = self._order[place]
            out.append(self._serve(self.catalogues[s].get(i), self.catalogues[s].ref.label))
        return out

    def state_dict(self) -> dict[str, Any]:
        c = self._cursor
        return {"version": STATE_VERSION, "seed": self.seed, "epoch_size": self.total_samples(),
                "epoch": c.epoch, "pos": c.pos, "taken": sorted(c.taken), "served": c.served,
                "total_steps": self.total_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise DataError(f"cannot resume the data stream: state version {state.get('version')} "
                            f"is not {STATE_VERSION}")
        if state["seed"] != self.seed or state["epoch_size"] != self.total_samples():
            raise DataError("cannot resume the data stream: its seed or data changed since the state was "
                            f"saved (seed {state['seed']} vs {self.seed}, epoch of {state['epoch_size']} vs "
                            f"{self.total_samples()} samples)")
        self._new_epoch(int(state["epoch"]))
        self._cursor.pos = int(state["pos"])
        self._cursor.taken = set(state["taken"])
        self._cursor.served = int(state["served"])
        if state.get("total_steps") is not None:
            self.total_steps = int(state["total_steps"])

    # -- epochs -----------------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        return self._cursor.epoch

    def _epoch_order(self, epoch: int) -> list[tuple[int, int]]:
        return self._full_epoch_order(epoch)[: self.total_samples()]

    def _full_epoch_order(self, epoch: int) -> list[tuple[int, int]]:
        places: list[tuple[int, int]] = []
        for s, (pool, quota) in enumerate(zip(self.pool, self.quotas, strict=True)):
            rng = random.Random(f"seethink-stream:{self.seed}:{epoch}:{s}")
            chosen: list[int] = []
            while len(chosen) < quota:
                perm = pool[:]
                rng.shuffle(perm)
                chosen.extend(perm[: quota - len(chosen)])
            places.extend((s, i) for i in chosen)
        if self.mixture == "blocks":
            blocks = [[p for p in places if p[0] == s] for s in range(len(self.catalogues))]
            return [p for s, block in enumerate(blocks) for p in self._ordered(block, epoch, f":block{s}")]
        return self._ordered(places, epoch, "")

    def _ordered(self, places: list[tuple[int, int]], epoch: int, tag: str) -> list[tuple[int, int]]:
        order = self.difficulty.order
        if order == "shuffle":
            random.Random(f"seethink-stream:{self.seed}:{epoch}:order{tag}").shuffle(places)
            return places
        # Seeded tie-breaks that do not change with the epoch: fix the order of the places by
        # their identity first, then a stable sort by difficulty.
        places.sort()
        random.Random(f"seethink-stream:{self.seed}:ties{tag}").shuffle(places)
        places.sort(key=lambda p: self._difficulty(p), reverse=order == "hard_to_easy")
        return places

    def _difficulty(self, place: tuple[int, int]) -> float:
        d = self.catalogues[place[0]].difficulties[place[1]]
        return UNKNOWN_DIFFICULTY if d is None else d

    def _new_epoch(self, epoch: int) -> None:
        self._order = self._epoch_order(epoch)
        served = self._cursor.served
        self._cursor = _Cursor(epoch=epoch, served=served)

    def _admitted(self, step: int) -> tuple[float, float]:
        lo, hi = admitted_range(self.difficulty, step, self.total_steps)
        if self._known is not None:  # the easiest (or hardest) difficulty present is always admitted
            if self.difficulty.order == "hard_to_easy":
                lo = min(lo, self._known[1])
            else:
                hi = max(hi, self._known[0])
        return lo, hi

    def _widen(self, lo: float, hi: float) -> tuple[float, float]:
        present = [self._difficulty(p) for p in self._order]
        if self.difficulty.order == "hard_to_easy":
            return min(lo, max(present)), hi
        return lo, max(hi, min(present))

    def _next_place(self, lo: float, hi: float) -> int | None:
        c = self._cursor
        while c.pos < len(self._order) and c.pos in c.taken:
            c.taken.discard(c.pos)
            c.pos += 1
        for place in range(c.pos, len(self._order)):
            if place in c.taken:
                continue
            s, i = self._order[place]
            d = self.catalogues[s].difficulties[i]
            if d is None or lo - 1e-12 <= d <= hi + 1e-12:
                if place == c.pos:
                    c.pos += 1
                else:
                    c.taken.add(place)
                c.served += 1
                return place
        return None

    def _serve(self, sample: Sample, label: str) -> Sample:
        if not self.decode_images or not any(isinstance(im, (bytes, bytearray, dict)) for im in sample.images):
            return sample
        return dataclasses.replace(sample, images=[decode_image(im, sample, label) for im in sample.images])


class UnavailableStream:
    """A dry run's stand-in for a phase whose data cannot be opened on this machine (a hub data set
    offline, a file not copied yet): it says why, and serves nothing."""

    def __init__(self, reason: str):
        self.unavailable = reason

    def next_batch(self, n: int, step: int) -> list[Sample]:
        raise DataError(f"the data is not available here: {self.unavailable}")

    def total_samples(self) -> int | None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def build_stream(phase: Phase, registry: Registry, *, seed: int, batch_hint: int | None = None,
                 difficulties: Mapping[str, float] | None = None) -> Any:
    """The phase's ``SampleStream``. ``difficulties``: per-sample-id difficulty (e.g. 1 - the pass
    rates a ``pass_rate`` estimator measured) that replaces what the sources say.

    ``batch_hint`` is accepted for backends that know their batch size; the order does not depend on it.
    A phase with a replay gets a ``replay.ReplayStream`` over its own stream and the replayed one.
    """
    del batch_hint
    if not phase.data:
        raise DataError(f"phase '{phase.name}' has no data")
    catalogues = [Catalogue(ref, open_source(ref, registry, seed=seed + k), difficulties)
                  for k, ref in enumerate(phase.data)]
    for c in catalogues:
        note = skip_note(c.ref.label, c.source)
        if note:  # stderr: a live progress bar on stdout keeps it above the bar
            print(f"phase {phase.name}: {note}", file=sys.stderr, flush=True)
    algo = phase.algorithm
    multiple = getattr(algo, "rollout_batch_size", 1) if getattr(algo, "drop_last", False) else 1
    own = Stream(catalogues, phase.difficulty, seed, mixture=phase.mixture, epoch_multiple=multiple)
    if phase.replay is None:
        return own
    from seethink_core.run.replay import ReplayStream

    # The replayed lines: their own sources' seeds (after the phase's), shuffled over their whole range.
    first = len(phase.data)
    replayed = [Catalogue(ref, open_source(ref, registry, seed=seed + first + k), difficulties)
                for k, ref in enumerate(phase.replay.data)]
    for c in replayed:
        note = skip_note(c.ref.label, c.source)
        if note:
            print(f"phase {phase.name} (replay): {note}", file=sys.stderr, flush=True)
    return ReplayStream(own, Stream(replayed, Difficulty(), seed + 1), phase.replay.share, seed)


def count_samples(phase: Phase, registry: Registry, seed: int) -> int:
    """Samples in one epoch of the phase (to turn an ``epochs`` budget into steps)."""
    d = phase.difficulty
    if d.min <= 0.0 and d.max >= 1.0 and phase.replay is None:
        # No range filter: the epoch is the sum of the sources' sizes, when they know them.
        sizes = []
        for k, ref in enumerate(phase.data):
            src = open_source(ref, registry, seed=seed + k)
            sizes.append(src.size() if hasattr(src, "size") else None)
        if all(n is not None for n in sizes):
            n = epoch_length(sizes, [ref.weight for ref in phase.data])
            if getattr(phase.algorithm, "drop_last", False):
                multiple = max(1, getattr(phase.algorithm, "rollout_batch_size", 1))
                n = n // multiple * multiple
            return n
    return build_stream(phase, registry, seed=seed).total_samples()
