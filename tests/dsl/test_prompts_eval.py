"""System prompts, template fields, eval decoding and per-stage eval cadence, at compile level.

The rules themselves are pinned by golden plans (R15, R16) and golden errors (prompt_template); these
tests cover what a golden cannot show: `--set` layers and their positions, syntax, and that a
curriculum which uses none of it compiles as it did.
"""

from __future__ import annotations

import pytest

from seethink_core.compiler import compile_text
from seethink_core.errors import DslError

BASE = """
curriculum c {
    model  "tiny_vlm"
    reward accuracy
    data   synthetic
    steps  10
    PROMPT
    eval   geometry3k_test every 20 steps
    EXTRA
    stage a { }
    stage b { }
}
"""


def plan(fakes, extra: str = "", prompt: str = 'prompt "{question} Think."', **kw):
    return compile_text(BASE.replace("EXTRA", extra).replace("PROMPT", prompt), "c.curr", registry=fakes, **kw)


def errors(fakes, extra: str = "", **kw) -> list:
    with pytest.raises(DslError) as info:
        plan(fakes, extra, **kw)
    return info.value.diagnostics


def test_a_curriculum_without_the_new_settings_evaluates_as_before(fakes):
    for p in plan(fakes).phases:
        assert p.system is None
        e = p.eval
        assert (e.greedy, e.n, e.top_p, e.before, e.system, e.every_steps) == (True, 1, 1.0, True, None, 20)
        assert e.prompt == p.prompt == "{question} Think."  # evaluation asks as training does


def test_system_prompt_layers_and_the_eval_one_is_separate(fakes):
    p = plan(fakes, 'system "S {question|trim}"  eval settings system: "E"')
    assert [x.system for x in p.phases] == ["S {question|trim}"] * 2
    assert [x.eval.system for x in p.phases] == ["E"] * 2
    over = plan(fakes, 'system "S"', overrides={"stage.b.system": "none", "eval.prompt": '"Q: {question}"'})
    assert [x.system for x in over.phases] == ["S", None]
    assert [x.eval.system for x in over.phases] == ["S", None]  # the phase's, as it trains
    assert [x.eval.prompt for x in over.phases] == ["Q: {question}"] * 2
    assert [x.prompt for x in over.phases] == ["{question} Think."] * 2


def test_a_merge_block_prompt_is_the_eval_prompt_too(fakes):
    text = BASE.replace("PROMPT", "").replace("EXTRA", "").replace(
        "stage b { }", 'stage b { }\n merge a, b as ab { prompt "{question|trim}?"  system "S" }')
    [phase] = compile_text(text, "m.curr", registry=fakes).phases
    assert (phase.prompt, phase.system, phase.eval.prompt, phase.eval.system) == ("{question|trim}?", "S",
                                                                                 "{question|trim}?", "S")


@pytest.mark.parametrize("settings, greedy", [
    ("temperature: 0.6", False), ("top_p: 0.95", False), ("n: 4", False), ("n: 1", True),
    ("greedy: false, n: 1", False), ("temperature: 0.6, greedy: false", False),
])
def test_sampling_settings_mean_sampling(fakes, settings, greedy):
    [a, _] = plan(fakes, f"eval settings {settings}").phases
    assert a.eval.greedy is greedy


def test_greedy_beside_a_sampling_setting_is_one_positioned_error(fakes):
    [d] = errors(fakes, "eval settings greedy: true, n: 4")
    assert d.message == "eval settings: n 4 has no effect with greedy: true"
    assert (d.pos.line, d.pos.col) == (9, 33) and d.hint.startswith("set greedy: false")
    # the same over --set, positioned there
    [d] = errors(fakes, overrides={"eval.greedy": "true", "eval.top_p": "0.9"})
    assert (d.pos.file, d.pos.line, d.pos.col) == ("--set", 2, 12) and "top_p 0.9" in d.message


def test_the_top_most_layer_decides_greedy(fakes):
    p = plan(fakes, "eval settings greedy: true", overrides={"stage.b.eval.temperature": "0.7"})
    assert [(x.eval.greedy, x.eval.temperature) for x in p.phases] == [(True, 1.0), (False, 0.7)]


def test_cadence_over_set_and_in_a_stage(fakes):
    p = plan(fakes, overrides={"stage.a.eval.every": "5"})
    assert [x.eval.every_steps for x in p.phases] == [5, 20]
    text = BASE.replace("PROMPT", "").replace("EXTRA", "").replace("stage a { }", "stage a { eval every 3 steps }")
    assert [x.eval.every_steps for x in compile_text(text, "s.curr", registry=fakes).phases] == [3, 20]


def test_an_unknown_placeholder_over_set_is_positioned_in_the_value(fakes):
    [d] = errors(fakes, overrides={"seed": "1", "prompt": '"Say {qestion}"'})
    assert (d.pos.file, d.pos.line, d.pos.col, d.pos.end_col) == ("--set", 2, 13, 22)
    assert d.hint.startswith("did you mean '{question}'?")


def test_eval_every_without_a_number_is_a_syntax_error(fakes):
    with pytest.raises(DslError) as info:
        compile_text("curriculum c { stage s { eval every } }", "e.curr", registry=fakes)
    [d] = info.value.diagnostics
    assert d.message.startswith("missing value after 'every'") and (d.pos.line, d.pos.col) == (1, 37)
