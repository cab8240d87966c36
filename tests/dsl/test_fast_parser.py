"""The fast reader (seethink_core/dsl/fast_parser.py) against Lark, the grammar's own parser.

The reader must accept only what Lark accepts, build the same tree (nodes and positions), and leave
every mistake to Lark: so each error message stays the one Lark's path gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from seethink_core.dsl import parser
from seethink_core.dsl.fast_parser import (
    CONDITION_KEYWORDS,
    DIFFICULTY_KEYWORDS,
    EVAL_KEYWORDS,
    VALUE_KEYWORDS,
    NotReadable,
    read_literal,
    read_module,
)
from seethink_core.errors import DslError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # scripts/ is not installed

from scripts.fuzz.generate import make_input  # noqa: E402

CURRICULA = sorted(p for p in ROOT.rglob("*.curr") if not {".venv", "build"} & set(p.relative_to(ROOT).parts))


def lark_outcome(text: str) -> tuple:
    try:
        return "ok", parser.parse_with_lark(text, "f.curr").items
    except DslError as e:
        return "error", e.diagnostics


def fast_outcome(text: str) -> tuple:
    try:
        return "ok", read_module(text, "f.curr")
    except NotReadable:
        return "not read", None


def fuzzed(kinds: tuple[str, ...], count: int, seed: int) -> list[tuple[str, str]]:
    out = []
    for kind in kinds:
        for i in range(count):
            fuzz = make_input(kind, i, seed)
            try:
                text = fuzz.data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(text) < 200_000:  # Lark takes seconds past that
                out.append((fuzz.label, text))
    return out


def test_the_shipped_curricula_read_as_lark_reads_them():
    assert len(CURRICULA) > 20
    for path in CURRICULA:
        text = path.read_text(encoding="utf-8")
        lark, fast = lark_outcome(text), fast_outcome(text)
        if lark[0] == "ok":
            assert fast == lark, path
        else:
            assert fast[0] == "not read", path


def test_fuzzed_text_reads_as_lark_reads_it():
    """Almost-right curricula and grammar walks: what the reader takes, Lark takes, as the same tree."""
    inputs = fuzzed(("mutate", "grammar"), 150, seed=23)
    read = 0
    for label, text in inputs:
        fast = fast_outcome(text)
        if fast[0] == "ok":
            read += 1
            assert lark_outcome(text) == fast, label
    assert read > 50  # the slice reaches the reader's accepting paths, not only its refusals


@pytest.mark.parametrize("text", ['1e-5', '"x" "y"', "[a, [true, none], -3,]", "easy_to_hard", "[]", "2..3", "",
                                  "[" * 40 + "]" * 40, "1e999"])
def test_literals_read_as_lark_reads_them(text):
    try:
        with parser.lexing(text, "<value>"):
            expected = parser.get_parser().parse(text, start="literal")
    except Exception:
        with pytest.raises(NotReadable):
            read_literal(text, "<value>")
        return
    assert read_literal(text, "<value>") == expected


def _state_words(prefix: str) -> set[str]:
    """The keywords Lark's contextual lexer reads after ``prefix`` (the terminals of the parser state)."""
    interactive = parser.get_parser().parse_interactive(prefix, start="start")
    with parser.lexing(prefix):
        interactive.exhaust_lexer()
    state = interactive.parser_state
    names = set(state.parse_conf.states[state.position])
    return {t.lower() for t in names if t.lower() in set(parser._keywords(parser.grammar_text()))}


@pytest.mark.parametrize("prefix, expected", [
    # Where the grammar takes a name and no keyword, any word is a name.
    ("source ", set()), ("curriculum ", set()), ("curriculum c extends ", set()), ("curriculum c { stage ", set()),
    ("curriculum c { data ", set()), ("curriculum c { stage s { reward ", set()), ("curriculum c { backend ", set()),
    ("curriculum c { algorithm ", set()), ("curriculum c { pacing ", set()), ("curriculum c { capability ", set()),
    ("curriculum c { mix ", set()), ("curriculum c { freeze ", set()), ("curriculum c { freeze a, ", set()),
    ("curriculum c { stages ", set()), ("curriculum c { merge a, b as ", set()), ("curriculum c { handoff ", set()),
    ("curriculum c { handoff init: base, ", set()), ("curriculum c { eval settings ", set()),
    ("curriculum c { eval a, ", set()), ("curriculum c { levels ", set()), ("curriculum c { levels a: 0..1, ", set()),
    ("curriculum c { until a.", set()), ("curriculum c { difficulty order ", set()),
    ("source s = a(b: 1, ", VALUE_KEYWORDS),
    # Where a value may be a bare word, or a call may start after a keyword.
    ("curriculum c { data d(", VALUE_KEYWORDS), ("curriculum c { data d(x, ", VALUE_KEYWORDS),
    ("curriculum c { data d(x: ", VALUE_KEYWORDS), ("curriculum c { data d(x: [", VALUE_KEYWORDS),
    ("curriculum c { data d(x: [1, ", VALUE_KEYWORDS), ("curriculum c { handoff init: ", VALUE_KEYWORDS),
    ("curriculum c { difficulty ", DIFFICULTY_KEYWORDS), ("curriculum c { stage s { difficulty ", DIFFICULTY_KEYWORDS),
    ("curriculum c { eval ", EVAL_KEYWORDS), ("curriculum c { until ", CONDITION_KEYWORDS),
    ("curriculum c { until a > 1 or ", CONDITION_KEYWORDS),
])
def test_keyword_sets_are_lark_s(prefix, expected):
    assert _state_words(prefix) == set(expected)


def _errors_of(text: str) -> list:
    try:
        parser.parse(text, "f.curr")
    except DslError as e:
        return e.diagnostics
    return []


def test_a_long_file_s_error_is_the_whole_file_s(monkeypatch):
    """Past LARK_MAX_TOKENS, Lark reads only the statements around the mistake: its message is the one
    a parse of the whole file gives (checked here on small files, with the limit lowered)."""
    inputs = fuzzed(("mutate",), 120, seed=29)
    golden = sorted((ROOT / "tests/dsl/golden/errors").glob("*.curr"))
    inputs += [(p.name, p.read_text(encoding="utf-8")) for p in golden]
    compared = 0
    for label, text in inputs:
        if len(text) > 50_000:
            continue
        whole = lark_outcome(text)
        if whole[0] == "ok":
            continue
        monkeypatch.setattr(parser, "LARK_MAX_TOKENS", 5)
        near = _errors_of(text)
        monkeypatch.undo()
        assert near == whole[1], label
        compared += 1
    assert compared > 50


def test_a_mistake_in_a_10_000_stage_file_is_found_fast():
    """Lark reads the statements around the mistake, not the 220,000 tokens before it: finding the error
    costs about what reading the file without it does (Lark alone would take five times that)."""
    from time import process_time

    stage = "  stage s{i} {{ data d(n: {i}) weight 2 steps {i} algorithm grpo(lr: 1e-6) }}\n"
    body = "".join(stage.format(i=i) for i in range(10_000))
    start = process_time()
    parser.parse("curriculum big {\n" + body + "}\n", "f.curr")
    well_formed = process_time() - start
    start = process_time()
    [d] = _errors_of("curriculum big {\n" + body + "  stage broken { steps 10 seed }\n}\n")
    assert process_time() - start < 2 * well_formed + 0.5
    assert d.message == "missing value after 'seed'" and (d.pos.line, d.pos.col) == (10_002, 32)


def test_every_node_class_lists_its_dataclass_fields():
    """``ast.Node`` equality, hash and repr read ``_fields``; ``dataclasses.fields`` must agree."""
    import dataclasses

    from seethink_core.dsl import ast

    classes = [c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, ast.Node)]
    assert len(classes) > 25
    for cls in classes:
        assert cls._fields == tuple(f.name for f in dataclasses.fields(cls)), cls.__name__
