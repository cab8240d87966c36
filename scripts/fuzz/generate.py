"""Fuzz inputs, each a pure function of ``(seed, kind, index)``: any one can be made again alone."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator

from scripts.fuzz.grammar_walk import walked
from scripts.fuzz.mutate import mutated
from scripts.fuzz.noise import noise

KINDS = ("mutate", "grammar", "noise")


@dataclass(frozen=True)
class FuzzInput:
    kind: str
    index: int  # within its kind
    seed: int
    data: bytes
    note: str  # how it was made, for the report

    @property
    def label(self) -> str:
        return f"{self.kind}-s{self.seed}-{self.index:05d}"


def make_input(kind: str, index: int, seed: int) -> FuzzInput:
    # A string seed: random.Random hashes it with SHA-512, the same on every platform and Python run.
    rng = random.Random(f"{seed}:{kind}:{index}")
    if kind == "mutate":
        text, note = mutated(rng)
        data = text.encode("utf-8", errors="surrogatepass")
    elif kind == "grammar":
        text, note = walked(rng)
        data = text.encode("utf-8", errors="surrogatepass")
    elif kind == "noise":
        data, note = noise(rng)
    else:
        raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")
    return FuzzInput(kind, index, seed, data, note)


def make_inputs(total: int, seed: int, kinds: tuple[str, ...] = KINDS) -> Iterator[FuzzInput]:
    """``total`` inputs, the kinds taken in turn (so a short run still sees all of them)."""
    for i in range(total):
        yield make_input(kinds[i % len(kinds)], i // len(kinds), seed)
