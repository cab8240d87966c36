"""Property tests: every input gives a plan or a DslError whose every diagnostic has a position.

Inputs come from the grammar itself (hypothesis ``from_lark``: raw, and with tokens spaced apart and
names drawn from the registry so that most inputs get past the parser) and from mutations of the
test curricula.
"""

from __future__ import annotations

import functools
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark
from lark import Lark

from seethink_core.compiler import compile_text
from seethink_core.dsl.parser import grammar_text
from seethink_core.errors import DslError, render_all
from seethink_core.types.plan import TrainingPlan

HERE = Path(__file__).parent
CORPUS = sorted(HERE.glob("curricula/*.curr")) + sorted((HERE / "golden" / "plans").glob("*.curr"))
TEXTS = [(p, p.read_text(encoding="utf-8")) for p in CORPUS]
GRAMMAR = Lark(grammar_text(), parser="lalr", start=["start", "literal"])  # hypothesis needs the grammar object

NAMES = ["synthetic", "hf", "jsonl", "captions", "accuracy", "format", "local", "openrlhf", "geometry3k_test",
         "grpo", "sft", "dapo", "a", "b", "perception", "reasoning", "all", "vision", "language", "none",
         "easy_to_hard", "pass_rate", "column", "linear", "previous", "base", "init", "lr", "group", "n",
         "capability", "prompt", "answer", "split", "steps", "epochs", "samples", "reward", "eval", "x_y"]
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


@functools.lru_cache(maxsize=1)
def registry():
    """The fake plugins' registry (a plain function: hypothesis would print a fixture's value)."""
    import seethink_test_fakes

    return seethink_test_fakes.fake_plugins().registry


def spaced(s: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return s.map(lambda t: f" {t} ")


def _explicit() -> dict[str, st.SearchStrategy[str]]:
    out: dict[str, st.SearchStrategy[str]] = {
        "NAME": spaced(st.sampled_from(NAMES)),
        "NUMBER": spaced(st.sampled_from(["0", "1", "2", "16", "-1", "0.5", "1e-6", "2.5e3", "0.99"])),
        "STRING": spaced(st.sampled_from(['"{question} go"', '"tiny_vlm"', '"x/y"', '""', '"a\\\\b"', '"lib.curr"'])),
    }
    for term in GRAMMAR.terminals:
        if term.name not in out and type(term.pattern).__name__ == "PatternStr":
            out[term.name] = st.just(f" {term.pattern.value} ")
    return out


RAW = from_lark(GRAMMAR, start="start")
STRUCTURED = from_lark(GRAMMAR, start="start", explicit=_explicit())


def plan_or_positioned_error(text: str, filename: str = "gen.curr", registry=None) -> None:
    try:
        plan = compile_text(text, filename, registry=registry)
    except DslError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.pos is not None, f"unpositioned: {d.message}"
            assert d.pos.line >= 1 and d.pos.col >= 1
        render_all(e)
    else:
        assert isinstance(plan, TrainingPlan)
        assert TrainingPlan.from_json(plan.to_json()) == plan
        plan.hash()


@SETTINGS
@given(text=RAW)
def test_raw_grammar_inputs(text):
    plan_or_positioned_error(text, registry=registry())


@SETTINGS
@given(text=STRUCTURED)
def test_structured_grammar_inputs(text):
    plan_or_positioned_error(text, registry=registry())


MUTATION_TOKENS = ["{", "}", "(", ")", ",", ":", "=", "..", "[", "]", '"', "#", "\n", "stage", "curriculum",
                   "merge", "as", "extends", "steps", "0", "-1", "1e999", "weight", "data", "synthetic", "until",
                   "or", ">=", "levels", "import", '"missing.curr"', "\x00", "\udcff", "é", "stages"]


@st.composite
def mutated(draw):
    path, text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "replace", "swap_lines"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(MUTATION_TOKENS)) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "replace":
            text = text[:i] + draw(st.sampled_from(MUTATION_TOKENS)) + text[j:]
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return path, text


@SETTINGS
@given(case=mutated())
def test_mutated_curricula(case):
    path, text = case
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot come from a file; the reader rejects such bytes
        return
    plan_or_positioned_error(text, str(path), registry=registry())


def test_unmutated_corpus_compiles():
    for path, text in TEXTS:
        plan = compile_text(text, str(path), registry=registry())
        assert plan.phases
