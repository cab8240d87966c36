"""Inputs that are not curricula at all: random bytes, odd unicode, huge lines, deep nesting.

They return bytes, not text: a file need not be UTF-8, and the reader's checks (NUL, encoding, size)
are part of what is fuzzed.
"""

from __future__ import annotations

import random
from typing import Callable

from scripts.fuzz.corpus import corpus

# Characters a text editor rarely shows: NUL, controls, a BOM, bidi marks, combining marks, line and
# paragraph separators (which str.splitlines() splits on but the grammar does not), astral symbols.
ODD_CHARS = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\xa0\u00ad\u0301\u200b\u200e\u202e\u2028\u2029\ufeff\ufffd\U0001f600"
ASCII_SYNTAX = ' \t\n{}()[]:,.="#\\<>=+-_aAzZ09'

Noise = Callable[[random.Random], bytes]


def random_bytes(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 7, 64, 512, 4096])))


def random_unicode(rng: random.Random) -> bytes:
    """Printable syntax mixed with odd characters; sometimes an unpaired surrogate (invalid UTF-8)."""
    size = rng.choice([1, 16, 200, 3000])
    chars = [rng.choice(ODD_CHARS) if rng.random() < 0.2 else rng.choice(ASCII_SYNTAX) for _ in range(size)]
    if rng.random() < 0.1:
        chars.insert(rng.randrange(len(chars) + 1), "\ud800")
    return "".join(chars).encode("utf-8", errors="surrogatepass")


def long_line(rng: random.Random) -> bytes:
    """One line of up to 2 MB: letters, digits, an unclosed string, commas, or a comment."""
    size = rng.choice([10_000, 200_000, 2_000_000])
    unit = rng.choice(["a", "1", "a1", '"', "x,", ",", "#", " ", ".", "..", "-", "é", "\t", "\\"])
    prefix = rng.choice(["", "curriculum c { seed ", "curriculum c { prompt \"", "curriculum c { freeze ",
                         "curriculum c { algorithm a(", "curriculum c { model ", "import \""])
    return (prefix + unit * (size // len(unit))).encode()


def deep_nesting(rng: random.Random) -> bytes:
    """Brackets, parentheses or braces nested up to 200,000 deep, closed or not."""
    depth = rng.choice([10, 33, 100, 1000, 20_000, 200_000])
    open_, close = rng.choice([("[", "]"), ("(", ")"), ("{", "}"), ("a(", ")"), ("[a(x: ", ")]"),
                               ("stage s {", "}"), ("curriculum c {", "}")])
    closed = rng.random() < 0.5
    body = open_ * depth + (close * depth if closed else "")
    prefix = rng.choice(["", "curriculum c { seed ", "curriculum c { algorithm grpo(lr: ", "curriculum c { ",
                         "curriculum c { handoff init: "])
    return (prefix + body + (" }" if prefix else "")).encode()


def damaged_curriculum(rng: random.Random) -> bytes:
    """A shipped curriculum with bytes overwritten: a NUL, an invalid UTF-8 byte, a stray BOM, a CR."""
    _, text = rng.choice(corpus())
    data = bytearray(text.encode())
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.choice([b"\x00", b"\xff", b"\xc3", b"\xe2\x80", b"\xef\xbb\xbf", b"\r", b"\x85",
                                  b"\xe2\x80\xa8", b"\xed\xa0\x80"])
    return bytes(data)


def oversized(rng: random.Random) -> bytes:
    """Just under or just over the 16 MiB source limit (rare: each one is written to disk)."""
    from seethink_core.errors import MAX_SOURCE_BYTES

    size = MAX_SOURCE_BYTES + rng.choice([-1, 0, 1])
    return b"#" * size if rng.random() < 0.5 else (b"curriculum c { }\n" * (size // 17 + 1))[:size]


NOISES: tuple[Noise, ...] = (random_bytes, random_unicode, random_unicode, long_line, deep_nesting, deep_nesting,
                             damaged_curriculum, damaged_curriculum)


def noise(rng: random.Random) -> tuple[bytes, str]:
    make = oversized if rng.random() < 0.002 else rng.choice(NOISES)
    return make(rng), make.__name__
