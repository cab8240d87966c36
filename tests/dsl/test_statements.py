"""The statement declarations (dsl/statements.py) against what reads them: the grammar, both parsers, the
compiler's layers, merge, ``--set`` and the resolver. A keyword declared in one place and missing in
another fails here, not in a user's file."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources

import pytest

from seethink_core.compiler import compile_text
from seethink_core.compiler.resolve import Resolver
from seethink_core.compiler.stage_spec import StageSpec
from seethink_core.dsl import ast
from seethink_core.dsl.fast_parser import Reader
from seethink_core.dsl.lark_builder import TreeBuilder
from seethink_core.dsl.lark_parser import get_parser
from seethink_core.dsl.statements import (
    BY_KIND,
    BY_NODE,
    KEYED,
    LIST,
    SAME,
    SET_PLAN,
    SINGLE,
    STATEMENTS,
)
from seethink_core.types import plan as P


def _setting_alternatives() -> set[str]:
    text = resources.files("seethink_core.grammar").joinpath("curriculum.lark").read_text()
    body = re.search(r"^_setting:(.*?)^\n", text, re.S | re.M).group(1)
    return {alt.strip().split()[0] for alt in body.split("|")}


def test_the_grammar_and_the_declarations_name_the_same_statements():
    assert {s.grammar_rule for s in STATEMENTS} == _setting_alternatives()


def test_every_setting_node_is_declared_once():
    nodes, todo = set(), [ast.Setting]  # those of ast.py and those made by a declaration (ast.setting_node)
    while todo:
        for sub in todo.pop().__subclasses__():
            nodes.add(sub)
            todo.append(sub)
    assert set(BY_NODE) == nodes
    assert len(BY_NODE) == len(STATEMENTS) == len(BY_KIND)


def test_the_tree_builder_has_a_callback_for_every_tree_a_statement_makes():
    """Lark calls back by rule name, or by alias (``eval_every``, ``steps``): each one a statement's
    rule produces must exist, whether written by hand or made from the declaration's shape."""
    rules = {s.grammar_rule for s in STATEMENTS}
    made = {r.alias or r.origin.name for r in get_parser().rules if r.origin.name in rules}
    assert made and all(callable(getattr(TreeBuilder, name, None)) for name in made), made


def test_the_fast_reader_reads_every_keyword():
    for s in STATEMENTS:
        for word in s.keywords:
            assert word in Reader.__dict__ or s.shape is not None or hasattr(Reader, "s_" + word), word


def test_the_compiler_parts_a_declaration_names_exist():
    spec_fields = {f.name for f in dataclasses.fields(StageSpec)}
    phase_fields = {f.name for f in dataclasses.fields(P.Phase)}
    for s in STATEMENTS:
        assert set(s.fields) <= spec_fields, s.name
        if s.resolve is not None:
            assert s.layering in (SINGLE, KEYED) and callable(getattr(Resolver, s.resolve, None)), s.name
        if s.merge == SAME:
            assert s.fields, s.name
        for part in s.positions + s.clauses:
            assert part in s.node._fields, (s.name, part)
        if s.layering == LIST:
            assert s.resolve is None
        # The plan's phase keeps each field under the same name; three are compiled away: the eval
        # prompts fold into the phase's eval, levels split a stage into one phase per level, and the
        # replay's options become the phase's replay once the earlier phases are known.
        assert set(s.fields) - {"eval_text", "levels", "replay_options"} <= phase_fields, s.name


SMALL = """
curriculum c {
    model "tiny_vlm"
    reward accuracy
    data synthetic
    stage a { steps 10 }
    stage b { %s steps 20 }
}
"""

# (statement as written in stage b, the same as --set keys of stage b)
ROUND_TRIPS = [
    ('model "other/model" handoff init: base', {"model": "other/model", "handoff.init": "base"}),
    ('prompt "Look: {question}"', {"prompt": "Look: {question}"}),
    ('system "Be brief."', {"system": "Be brief."}),
    ("system none", {"system": "none"}),
    ("seed 7", {"seed": "7"}),
    ("freeze vision, projector", {"freeze": "[vision, projector]"}),
    ("capability perception", {"capability": "perception"}),
    ("algorithm dr_grpo(lr: 3e-6)", {"algorithm": "dr_grpo", "algorithm.lr": "3e-6"}),
    ("handoff init: base, optimizer: carry", {"handoff.init": "base", "handoff.optimizer": "carry"}),
    ("eval settings temperature: 0.6, n: 4", {"eval.temperature": "0.6", "eval.n": "4"}),
    ("difficulty column order hard_to_easy", {"difficulty.order": "hard_to_easy"}),
]


@pytest.mark.parametrize("written, keys", ROUND_TRIPS, ids=[w.split()[0] for w, _ in ROUND_TRIPS])
def test_set_and_the_written_statement_make_the_same_plan(fakes, written, keys):
    """``--set stage.b.KEY=VALUE`` is the statement written in stage b: same plan, for every declared
    ``--set`` form. (``difficulty column`` is written in both, since --set takes only the order.)"""
    base = SMALL % ("difficulty column" if written.startswith("difficulty") else "")
    by_file = compile_text(SMALL % written, "s.curr", registry=fakes)
    by_set = compile_text(base, "s.curr", registry=fakes, overrides={f"stage.b.{k}": v for k, v in keys.items()})
    assert by_set.to_json() == by_file.to_json()
    assert by_set.phases[0] == by_file.phases[0]


@pytest.mark.parametrize("kind", ["steps", "epochs", "samples"])
def test_set_budget_words_round_trip(fakes, kind):
    value = "3" if kind != "samples" else "64"
    text = SMALL.replace("stage b { %s steps 20 }", f"stage b {{ {kind} {value} }}")
    by_set = compile_text(SMALL % "", "s.curr", registry=fakes, overrides={f"stage.b.{kind}": value})
    assert by_set.to_json() == compile_text(text, "s.curr", registry=fakes).to_json()


def test_every_declared_set_key_is_accepted_and_the_plan_s_own_only_at_the_top(fakes):
    from seethink_core.compiler.overrides import KEY_HELP, _statement

    for s in STATEMENTS:
        for key in s.set_keys:
            parts = key.replace("OPTION", "x").split(".")
            found = _statement(parts)
            assert found is not None and found[0] is s, key
        if s.set_keys:  # listed under its first key (`method` is a synonym of `algorithm`)
            assert s.set_keys[0].split(".")[0] in KEY_HELP
    plan_keys = [s for s in STATEMENTS if s.set_form == SET_PLAN]
    assert [s.name for s in plan_keys] == ["backend"]
    from seethink_core.errors import DslError

    with pytest.raises(DslError, match="the backend is one per plan"):
        compile_text(SMALL % "", "s.curr", registry=fakes, overrides={"stage.b.backend": "local"})
