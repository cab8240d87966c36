"""The parser: text in, a syntax tree with a position on every node out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from seethink_core.dsl import ast, parse, parse_literal
from seethink_core.errors import DslError, SourcePos


def nodes(obj):
    """Every node under ``obj`` (iteratively)."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, ast.Node):
            yield x
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x))
        elif isinstance(x, (tuple, list)):
            stack.extend(x)


def test_every_node_has_a_position():
    text = (Path(__file__).parent / "curricula" / "paper.curr").read_text(encoding="utf-8")
    module = parse(text, "paper.curr")
    found = list(nodes(module))
    assert len(found) > 50
    for n in found:
        assert isinstance(n.pos, SourcePos) and n.pos.file == "paper.curr" and n.pos.line >= 1 and n.pos.col >= 1


def test_positions_point_at_the_words():
    module = parse('curriculum c {\n  stage s {\n    data synthetic(n: 4) weight 2\n  }\n}\n', "f.curr")
    [curr] = module.items
    [stage] = curr.body
    [data] = stage.body
    assert (curr.name.pos.line, curr.name.pos.col) == (1, 12)
    assert (stage.pos.line, stage.pos.col) == (2, 3)
    assert (data.pos.line, data.pos.col) == (3, 5)
    assert data.call.name.value == "synthetic" and data.call.name.pos.col == 10
    [arg] = data.call.args
    assert arg.key.value == "n" and arg.value.value == 4 and arg.value.pos.col == 23
    assert data.weight.value == 2


@pytest.mark.parametrize("text,value", [
    ("1", 1), ("-3", -3), ("1e-6", 1e-6), ("2.5E3", 2500.0), ("+0.5", 0.5), (".5", 0.5),
    ('"a\\\\b"', "a\\b"), ('"say \\"hi\\""', 'say "hi"'), ('"\\boxed{}"', "\\boxed{}"), ('"a\\nb"', "a\nb"),
    ('"a" "b"', "ab"), ("true", True), ("false", False), ("none", None),
    ("[1, 2.0, x, \"s\", [true]]", [1, 2.0, "x", "s", [True]]), ("[]", []), ("[1,]", [1]),
])
def test_literals(text, value):
    got = parse_literal(text)
    assert got.value == value and type(got.value) is type(value)


def test_a_bare_word_is_a_string_marked_bare():
    v = parse_literal("easy_to_hard")
    assert v.value == "easy_to_hard" and v.bare


def test_keywords_are_plain_names_where_no_statement_can_start():
    module = parse('curriculum c { difficulty pass_rate(samples: 16) stage s { data hf("x", prompt: "q") '
                   'until reward.accuracy >= 0.5 or steps 9 } }', "f.curr")
    [curr] = module.items
    diff = curr.body[0]
    assert diff.source.args[0].key.value == "samples"
    data, until = curr.body[1].body
    assert data.call.args[1].key.value == "prompt"
    assert until.conditions[0].metric.value == "reward.accuracy" and until.cap.value == 9


def test_comments_and_newlines_are_whitespace():
    module = parse("# top\ncurriculum c { # here\n seed\n 3 # there\n}\n", "f.curr")
    assert module.items[0].body[0].value.value == 3


def test_ranges_and_levels_lex_without_spaces():
    module = parse("curriculum c { difficulty range 0..0.99 levels a: 0..0.5, b: 0.5..1 }", "f.curr")
    diff, levels = module.items[0].body
    assert (diff.range.lo.value, diff.range.hi.value) == (0, 0.99)
    assert [(lv.name.value, lv.span.lo.value, lv.span.hi.value) for lv in levels.levels] == [("a", 0, 0.5),
                                                                                               ("b", 0.5, 1)]


def test_too_deep_lists_are_an_error_not_a_crash():
    with pytest.raises(DslError) as e:
        parse_literal("[" * 100 + "]" * 100)
    assert "nested" in str(e.value)


def test_grammar_ships_inside_the_package():
    from importlib import resources

    text = resources.files("seethink_core.grammar").joinpath("curriculum.lark").read_text()
    assert "curriculum:" in text
