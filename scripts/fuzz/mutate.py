"""Token-level mutations of the shipped curricula: inputs that are almost right, where errors hide."""

from __future__ import annotations

import random
from typing import Callable

from scripts.fuzz.corpus import EXTREME_NUMBERS, corpus, is_space, keywords, names, strings, tokens

Mutation = Callable[[random.Random, list[str]], list[str]]

MAX_REPEATED = 2_000_000  # characters a repetition adds: past the token limit, short of the size limit


def _solid(toks: list[str]) -> list[int]:
    """Indices of the tokens that are not whitespace or comments."""
    return [i for i, t in enumerate(toks) if not is_space(t)] or [0]


def _huge_string(rng: random.Random) -> str:
    body = rng.choice(["a", "é", "\\\\", "{", "x y ", "\\n", "ab\\\"c"]) * rng.choice([1000, 20_000, 200_000])
    return f'"{body}"'


def delete(rng: random.Random, toks: list[str]) -> list[str]:
    i = rng.choice(_solid(toks))
    return toks[:i] + toks[i + 1:]


def duplicate(rng: random.Random, toks: list[str]) -> list[str]:
    i = rng.choice(_solid(toks))
    return toks[:i + 1] + [" ", toks[i]] + toks[i + 1:]


def swap(rng: random.Random, toks: list[str]) -> list[str]:
    solid = _solid(toks)
    i, j = rng.choice(solid), rng.choice(solid)
    out = list(toks)
    out[i], out[j] = out[j], out[i]
    return out


def extreme_number(rng: random.Random, toks: list[str]) -> list[str]:
    numbers = [i for i, t in enumerate(toks) if t[:1].isdigit() or t[:1] in "+-." and len(t) > 1]
    i = rng.choice(numbers or _solid(toks))
    return toks[:i] + [rng.choice(EXTREME_NUMBERS)] + toks[i + 1:]


def huge_value(rng: random.Random, toks: list[str]) -> list[str]:
    """A string, name or number of 1,000 to 200,000 characters where a value or a name stood."""
    solid = [i for i in _solid(toks) if toks[i][:1].isalnum() or toks[i][:1] in '"_']
    i = rng.choice(solid or _solid(toks))
    size = rng.choice([1000, 20_000, 200_000])
    value = rng.choice([_huge_string(rng), "a" * size, "1" * size, "1." + "0" * size, "[" + "1," * (size // 2) + "]"])
    return toks[:i] + [value] + toks[i + 1:]


def glue(rng: random.Random, toks: list[str]) -> list[str]:
    """Remove a run of whitespace: ``seed 3`` becomes ``seed3``, ``} stage`` becomes ``}stage``."""
    spaces = [i for i, t in enumerate(toks) if t.isspace()]
    if not spaces:
        return toks
    i = rng.choice(spaces)
    return toks[:i] + toks[i + 1:]


def split(rng: random.Random, toks: list[str]) -> list[str]:
    words = [i for i, t in enumerate(toks) if len(t) > 1 and not is_space(t)]
    if not words:
        return toks
    i = rng.choice(words)
    cut = rng.randrange(1, len(toks[i]))
    return toks[:i] + [toks[i][:cut], rng.choice([" ", "\n", "\t"]), toks[i][cut:]] + toks[i + 1:]


def truncate(rng: random.Random, toks: list[str]) -> list[str]:
    text = "".join(toks)
    return [text[:rng.randrange(len(text) + 1)]]


def insert_keyword(rng: random.Random, toks: list[str]) -> list[str]:
    i = rng.randrange(len(toks) + 1)
    return toks[:i] + [" ", rng.choice(keywords()), " "] + toks[i:]


def replace_word(rng: random.Random, toks: list[str]) -> list[str]:
    """A name, keyword or string of the corpus in another token's place (right kind, wrong place)."""
    i = rng.choice(_solid(toks))
    pool = rng.choice([names(), keywords(), strings() or ('""',)])
    return toks[:i] + [rng.choice(pool)] + toks[i + 1:]


def insert_import(rng: random.Random, toks: list[str]) -> list[str]:
    """An ``import`` of an odd target: itself, a folder, a device, a missing or a binary file."""
    target = rng.choice(["fuzz.curr", ".", "..", "/dev/null", "/dev/zero", "/proc/self/status", "missing.curr",
                         "", " ", "/", "a\\\\b.curr", "\\u0000", "/etc/hostname", "../" * 30 + "x.curr"])
    return [f'import "{target}"\n'] + toks


def repeat(rng: random.Random, toks: list[str]) -> list[str]:
    """A line (most statements are one) or a run of tokens repeated up to 5,000 times: what is linear
    per item but quadratic per file (a did-you-mean over every other name) shows here."""
    if rng.random() < 0.5:
        lines = "".join(toks).split("\n")
        k = rng.randrange(len(lines))
        times = min(rng.choice([100, 1000, 5000]), MAX_REPEATED // (len(lines[k]) + 1))
        return ["\n".join(lines[:k + 1] + [lines[k]] * times + lines[k + 1:])]
    solid = _solid(toks)
    start = rng.randrange(len(solid))
    stop = min(len(solid) - 1, start + rng.randrange(1, 30))
    i, j = solid[start], solid[stop] + 1
    size = sum(len(t) for t in toks[i:j]) + 1
    times = min(rng.choice([10, 100, 1000, 5000]), MAX_REPEATED // size)  # not 5,000 copies of a 200 kB string
    return toks[:j] + [" "] + (toks[i:j] + [" "]) * times + toks[j:]


MUTATIONS: tuple[Mutation, ...] = (delete, duplicate, swap, extreme_number, extreme_number, huge_value, glue,
                                   split, truncate, insert_keyword, insert_keyword, replace_word, replace_word,
                                   insert_import, repeat)


def mutated(rng: random.Random) -> tuple[str, str]:
    """A corpus file with one to four mutations; returns the text and what was done to it."""
    # The shipped curricula compile with the installed plugins, so their mutants reach the compiler; the
    # test corpus (fake plugin names, wrong on purpose) mostly exercises the error paths.
    files = corpus()
    weights = [8 if path.startswith("curricula/") else 1 for path, _ in files]
    path, text = rng.choices(files, weights)[0]
    toks = tokens(text)
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        op = rng.choice(MUTATIONS)
        toks = op(rng, toks) or [""]
        done.append(op.__name__)
    return "".join(toks), f"{path}: {', '.join(done)}"
