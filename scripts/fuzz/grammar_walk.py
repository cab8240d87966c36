"""Random curricula from grammar/curriculum.lark: a walk of the rules that Lark compiles from it.

Lark's rule list (``Lark(...).rules``) has ``?``, ``*`` and ``[...]`` already expanded into plain
alternatives, so the walk needs no EBNF of its own. Past a random depth budget each rule takes its
cheapest alternative, so every walk ends. Names come mostly from the shipped curricula (plugin names,
option keys) so that many files get past the parser into the compiler.
"""

from __future__ import annotations

import functools
import random
import string
from typing import Any

from scripts.fuzz.corpus import EXTREME_NUMBERS, names, strings

_ORDINARY_NUMBERS = ("0", "1", "2", "3", "8", "16", "100", "0.5", "0.9", "1e-6", "5e-7", "0.01", "-2")


@functools.lru_cache(maxsize=1)
def _grammar() -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, str]]:
    """Alternatives by rule name, and the text of each fixed terminal (``LBRACE`` -> ``{``)."""
    from lark import Lark

    from seethink_core.dsl.parser import grammar_text

    lark = Lark(grammar_text(), parser="lalr", start=["start", "literal"])
    rules: dict[str, list[tuple[Any, ...]]] = {}
    for rule in lark.rules:
        rules.setdefault(rule.origin.name, []).append(tuple(rule.expansion))
    fixed = {t.name: t.pattern.value for t in lark.terminals if type(t.pattern).__name__ == "PatternStr"}
    return rules, fixed


@functools.lru_cache(maxsize=1)
def _costs() -> dict[str, int]:
    """The fewest rule expansions a rule needs to end (a fixed point over the grammar)."""
    rules, _ = _grammar()
    cost = {name: 10**9 for name in rules}
    changed = True
    while changed:
        changed = False
        for name, alternatives in rules.items():
            best = min(1 + sum(0 if s.is_term else cost[s.name] for s in alt) for alt in alternatives)
            if best < cost[name]:
                cost[name], changed = best, True
    return cost


def _alt_cost(alt: tuple[Any, ...]) -> int:
    costs = _costs()
    return sum(0 if s.is_term else costs[s.name] for s in alt)


def _name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.75:
        return rng.choice(names())
    if roll < 0.98:
        first = rng.choice(string.ascii_letters + "_")
        return first + "".join(rng.choice(string.ascii_letters + string.digits + "_") for _ in range(rng.randrange(8)))
    return "n" * rng.choice([1000, 50_000])


def _string(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5 and strings():
        return rng.choice(strings())
    alphabet = string.printable.replace('"', "").replace("\\", "").replace("\n", "") + "éλ中🙂\u200b"
    body = "".join(rng.choice(alphabet) for _ in range(rng.randrange(20)))
    if roll > 0.95:
        body += rng.choice(["\\\\", '\\"', "\\n", "\\t", "\\q", "{question}", "{", "}"]) * rng.randrange(1, 500)
    return f'"{body}"'


def terminal(rng: random.Random, name: str) -> str:
    _, fixed = _grammar()
    if name in fixed:
        return fixed[name]
    if name == "NAME":
        return _name(rng)
    if name == "NUMBER":
        return rng.choice(EXTREME_NUMBERS if rng.random() < 0.3 else _ORDINARY_NUMBERS)
    if name == "STRING":
        return _string(rng)
    if name == "COMPARE":
        return rng.choice([">=", "<=", "==", ">", "<"])
    raise KeyError(name)


def _expand(rng: random.Random, symbol: Any, depth: int, budget: int, out: list[str]) -> None:
    if symbol.is_term:
        out.append(terminal(rng, symbol.name))
        return
    rules, _ = _grammar()
    alternatives = rules[symbol.name]
    if depth >= budget:
        alt = min(alternatives, key=_alt_cost)
    else:
        # Mostly a non-empty alternative: uniform choice would end half the files at `start: <empty>`.
        filled = [a for a in alternatives if a] if rng.random() < 0.85 else alternatives
        alt = rng.choice(filled or alternatives)
    for sub in alt:
        _expand(rng, sub, depth + 1, budget, out)


def _separator(rng: random.Random) -> str:
    roll = rng.random()
    return " " if roll < 0.8 else "\n" if roll < 0.97 else "" if roll < 0.99 else "  # note\n"


def walked(rng: random.Random) -> tuple[str, str]:
    """One random curriculum file; returns the text and the depth budget it was walked with."""
    from lark.grammar import NonTerminal

    budget = rng.randrange(4, 16)
    out: list[str] = []
    _expand(rng, NonTerminal("start"), 0, budget, out)
    text = "".join(tok + _separator(rng) for tok in out)
    return text, f"grammar walk, depth budget {budget}, {len(out)} tokens"
