"""``--set steps=N`` reaches every stage's budget, and stages that ``stages a, b`` leaves out are still checked."""

from __future__ import annotations

import pytest

from seethink_core.compiler import compile_text
from seethink_core.errors import DslError

MIXED = """
curriculum c {
    model  "tiny_vlm"
    reward accuracy
    data   synthetic
    stage a { steps 10 }
    stage b { steps 20 }
    stage e { epochs 2 }
    stage u { until reward.accuracy >= 0.9 or steps 30 }
    stages a, b, u
}
curriculum all extends c {
    stages a, b, e
}
curriculum joined extends c {
    stages a, b
    merge a, b as ab { steps 50 }
}
"""


def budgets(plan):
    return {p.name: (p.budget.steps, p.budget.epochs) for p in plan.phases}


def test_a_curriculum_level_steps_sets_every_stage_with_steps(fakes):
    plan = compile_text(MIXED, "m.curr", registry=fakes, overrides={"steps": "3"})
    assert budgets(plan) == {"a": (3, None), "b": (3, None), "u": (3, None)}
    assert plan.phases[2].transition is not None  # the until stays; only its cap is the new budget


def test_a_stage_level_set_beats_the_curriculum_level_one(fakes):
    plan = compile_text(MIXED, "m.curr", registry=fakes, overrides={"steps": "3", "stage.b.steps": "7"})
    assert budgets(plan)["b"] == (7, None) and budgets(plan)["a"] == (3, None)


def test_a_stage_counted_in_another_unit_is_named(fakes):
    with pytest.raises(DslError) as e:
        compile_text(MIXED, "m.curr", curriculum="all", registry=fakes, overrides={"steps": "3"})
    (d,) = e.value.diagnostics
    assert d.message == ("--set steps=3 sets the budget of every stage, but stage 'e' (epochs 2) counts it in "
                         "another unit")
    assert d.hint == "set those per stage, in their own unit or in steps: --set stage.e.steps=3"
    plan = compile_text(MIXED, "m.curr", curriculum="all", registry=fakes,
                        overrides={"steps": "3", "stage.e.epochs": "1"})
    assert budgets(plan) == {"a": (3, None), "b": (3, None), "e": (None, 1.0)}


def test_a_merge_blocks_own_budget_is_set_too(fakes):
    plan = compile_text(MIXED, "m.curr", curriculum="joined", registry=fakes, overrides={"steps": "4"})
    assert budgets(plan) == {"ab": (4, None)}
    assert budgets(compile_text(MIXED, "m.curr", curriculum="joined", registry=fakes)) == {"ab": (50, None)}


def test_errors_in_stages_not_selected_are_reported(fakes):
    text = MIXED.replace("stage e { epochs 2 }", "stage e { epochs 2  data synthetic(levle: 1) }")
    with pytest.raises(DslError) as e:
        compile_text(text, "m.curr", registry=fakes)  # curriculum c runs a, b, u: not e
    assert any("unknown option 'levle'" in d.message and d.pos.line == 8 for d in e.value.diagnostics)
    # a curriculum whose selected stages are fine still makes only their phases
    assert [p.name for p in compile_text(MIXED, "m.curr", registry=fakes).phases] == ["a", "b", "u"]
