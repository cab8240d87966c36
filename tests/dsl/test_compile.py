"""The compiler's API: the reference curriculum, plans, overrides, backends, imports, check."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethink_core import compile_file
from seethink_core.compiler import check_paths, compile_path, compile_text, list_curricula
from seethink_core.errors import DslError
from seethink_core.types.methods import GRPOOptions, SFTOptions
from seethink_core.types.plan import TrainingPlan

HERE = Path(__file__).parent
PAPER = HERE / "curricula" / "paper.curr"

SMALL = """
curriculum small {
    model  "tiny_vlm"
    reward accuracy
    data   synthetic
    stage a { steps 10 }
    stage b { steps 20 }
}
"""


def test_reference_curriculum_compiles(fakes):
    assert list_curricula(PAPER) == ["see_then_think", "merged", "capability_x_difficulty"]
    staged = compile_path(PAPER, registry=fakes)
    assert staged.curriculum == "see_then_think"  # the file's first curriculum by default
    assert [p.name for p in staged.phases] == ["perception", "textual_reasoning", "visual_reasoning"]
    assert [p.init_from for p in staged.phases] == ["base", "perception", "textual_reasoning"]
    assert [p.index for p in staged.phases] == [0, 1, 2]
    assert [p.budget.epochs for p in staged.phases] == [16, 15, 15]
    assert [p.freeze for p in staged.phases] == [[], ["vision"], []]
    p0 = staged.phases[0]
    assert isinstance(p0.algorithm, GRPOOptions) and p0.algorithm.group == 5 and p0.algorithm.lr == 1e-6
    assert [(r.name, r.weight) for r in p0.rewards] == [("accuracy", 0.9), ("format", 0.1)]
    assert p0.data[0].capability == "perception" and p0.capabilities == ["perception"]
    assert p0.eval.every_steps == 50 and p0.eval.sets[0].source == "geometry3k_test"
    assert p0.prompt.endswith("\\boxed{}.") and "{question}" in p0.prompt
    assert staged.backend.name == "openrlhf" and staged.backend.options == {"vllm_engines": 4, "zero_stage": 3}

    merged = compile_path(PAPER, curriculum="merged", registry=fakes)
    [phase] = merged.phases
    assert phase.name == "all" and len(phase.data) == 3 and phase.budget.epochs == 16

    cxd = compile_path(PAPER, curriculum="capability_x_difficulty", registry=fakes)
    assert len(cxd.phases) == 3  # order sorts inside a phase; it does not split
    assert {p.difficulty.order for p in cxd.phases} == {"easy_to_hard"}
    assert cxd.phases[0].difficulty.estimator["samples"] == 16


def test_plan_round_trips_and_hash_is_stable(fakes):
    plan = compile_path(PAPER, curriculum="capability_x_difficulty", registry=fakes)
    assert TrainingPlan.from_json(plan.to_json()) == plan
    assert TrainingPlan.from_yaml(plan.to_yaml()) == plan
    again = compile_text(PAPER.read_text(), "elsewhere/other_name.curr", curriculum="capability_x_difficulty",
                         registry=fakes)
    assert again.hash() == plan.hash()  # file paths are provenance, not part of the hash
    other = compile_path(PAPER, curriculum="capability_x_difficulty", overrides={"seed": 1}, registry=fakes)
    assert other.hash() != plan.hash()


def test_public_compile_file_uses_the_process_plugins(fakes):
    plan = compile_file(str(PAPER), curriculum="merged")
    assert plan.curriculum == "merged"


def test_unknown_curriculum_name(fakes):
    with pytest.raises(DslError) as e:
        compile_path(PAPER, curriculum="mergd", registry=fakes)
    assert "did you mean 'merged'" in str(e.value)


def test_overrides(fakes):
    plan = compile_text(SMALL, "s.curr", registry=fakes, overrides={
        "seed": "4", "algorithm.lr": "2e-6", "stage.b.steps": "5", "stage.a.method": "sft", "model": "Qwen/X"})
    a, b = plan.phases
    assert plan.seed == 4 and a.seed == 4
    assert a.method == "sft" and isinstance(a.algorithm, SFTOptions)
    assert b.algorithm.lr == 2e-6 and b.budget.steps == 5
    assert plan.model == "Qwen/X"


def test_override_errors_are_positioned(fakes):
    with pytest.raises(DslError) as e:
        compile_text(SMALL, "s.curr", registry=fakes,
                     overrides={"stage.c.steps": "5", "nonsense": "1", "algorithm.lrr": "1", "seed": "x"})
    messages = [(d.pos.file, d.message) for d in e.value.diagnostics]
    assert ("--set", "--set names an unknown stage 'c'") in messages
    assert ("--set", "unknown --set key 'nonsense'") in messages
    assert any("unknown option 'lrr'" in m for _, m in messages)
    assert any(m == "seed must be a whole number, not the word 'x'" for _, m in messages)


def test_backend_override_and_default(fakes):
    plan = compile_path(PAPER, backend="local", registry=fakes)
    assert plan.backend.name == "local" and plan.backend.options == {"device": "auto", "dtype": "float32"}
    plan = compile_text(SMALL, "s.curr", registry=fakes)
    assert plan.backend.name == "local"
    neutral = compile_text(SMALL.replace('model  "tiny_vlm"', 'model "tiny_vlm"  backend elsewhere(x: 1)'),
                           "s.curr", registry=fakes)
    assert neutral.backend.name == "elsewhere" and neutral.backend.options == {"x": 1}


def test_backend_methods_are_checked_only_when_registered(fakes):
    text = SMALL.replace("stage a { steps 10 }", "stage a { method sft  steps 10 }")
    assert compile_text(text, "s.curr", registry=fakes).phases[0].method == "sft"
    with pytest.raises(DslError) as e:
        compile_text(text, "s.curr", backend="openrlhf", registry=fakes)
    assert "does not run method 'sft'" in str(e.value)
    assert compile_text(text, "s.curr", backend="not_installed_here", registry=fakes).phases[0].method == "sft"


def test_all_errors_of_a_curriculum_come_together(fakes):
    text = """
curriculum c {
    model "tiny_vlm"
    reward acuracy
    stage a { data synthtic  steps 0 }
    stage b { data synthetic  epochs -1  freeze visoin }
}
"""
    with pytest.raises(DslError) as e:
        compile_text(text, "c.curr", registry=fakes)
    assert len(e.value.diagnostics) == 5
    assert all(d.pos is not None and d.pos.file == "c.curr" for d in e.value.diagnostics)


def test_imports_and_scopes(fakes, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "base.curr").write_text(
        'import "deep.curr"\nsource geo = hf("x/y", answer: "a")\n'
        'curriculum base { model "tiny_vlm"  reward accuracy  steps 1  stage s { data geo } }\n')
    (tmp_path / "lib" / "deep.curr").write_text('source deep = hf("x/z", answer: "a")\n')
    (tmp_path / "main.curr").write_text('import "lib/base.curr"\ncurriculum child extends base { }\n')
    plan = compile_path(tmp_path / "main.curr", registry=fakes)
    assert plan.phases[0].data[0].name == "geo"
    (tmp_path / "bad.curr").write_text('import "lib/base.curr"\n'
                                       'curriculum own { model "tiny_vlm"  reward accuracy  steps 1 '
                                       'stage s { data deep } }\n')
    with pytest.raises(DslError) as e:  # imports are not transitive
        compile_path(tmp_path / "bad.curr", registry=fakes)
    assert "unknown data source 'deep'" in str(e.value)
    assert list_curricula(tmp_path / "main.curr") == ["child"]


def test_check_paths_counts_and_collects(fakes, tmp_path):
    good = tmp_path / "good.curr"
    good.write_text(SMALL)
    bad = tmp_path / "bad.curr"
    bad.write_text(SMALL.replace("steps 20", "steps 0") + "curriculum other extends small { seed -1 }\n")
    results = check_paths([good, bad, tmp_path / "missing.curr"], registry=fakes)
    assert [(r.ok, r.curricula, r.phases) for r in results[:1]] == [(True, 1, 2)]
    assert not results[1].ok and len(results[1].diagnostics) == 2  # shared stage error once, seed once
    assert "no such file" in results[2].diagnostics[0].message


def test_stage_model_must_start_from_base(fakes):
    text = SMALL.replace("stage b { steps 20 }", 'stage b { steps 20  model "Qwen/Other" }')
    with pytest.raises(DslError) as e:
        compile_text(text, "s.curr", registry=fakes)
    assert "handoff init: base" in str(e.value)


def test_until_cap_and_transition(fakes):
    text = SMALL.replace("stage a { steps 10 }", "stage a { until reward.accuracy >= 0.8 or steps 50 window 5 }")
    a = compile_text(text, "s.curr", registry=fakes).phases[0]
    assert a.budget.steps == 50 and a.transition.window == 5 and a.transition.min_steps == 20
    assert a.transition.any_of[0].metric == "reward.accuracy" and a.transition.any_of[0].op == ">="


def test_hyphenated_registered_model_name_is_accepted(fakes):
    plan = compile_text(SMALL.replace('"tiny_vlm"', '"tiny-vlm"'), "s.curr", registry=fakes)
    assert plan.model == "tiny-vlm"
