"""Difficulty in the compiler: pass_rate options are the estimator's own schema, estimation needs a
backend that generates, and what a backend cannot honour is a warning that `seethink check` prints
without failing."""

from __future__ import annotations

import dataclasses

import pytest

from seethink_core.cli.main import main
from seethink_core.compiler import check_paths, compile_text
from seethink_core.compiler.resolve import DIFFICULTY_SOURCES
from seethink_core.errors import DslError
from seethink_core.types.settings import PassRateOptions


def curriculum(difficulty: str, backend: str = "local") -> str:
    return f"""
curriculum c {{
    model   "tiny_vlm"
    backend {backend}
    reward  accuracy weight 0.9
    reward  format weight 0.1
    stage s {{
        data       synthetic
        difficulty {difficulty}
        steps      5
    }}
}}
"""


def test_pass_rate_options_are_the_estimators_schema(fakes):
    assert DIFFICULTY_SOURCES["pass_rate"] is PassRateOptions
    plan = compile_text(curriculum("pass_rate(8, model: phase_init, component: format, threshold: 1.0)"),
                        "c.curr", registry=fakes)
    expected = PassRateOptions(samples=8, model="phase_init", component="format", threshold=1.0)
    assert plan.phases[0].difficulty.estimator == dataclasses.asdict(expected)
    assert plan.phases[0].difficulty.source == "pass_rate"


@pytest.mark.parametrize("args,message", [
    ("model: latest", "option 'model' must be one of 'base', 'phase_init'"),
    ("top_p: 0", "top_p"),
    ("samples: 0", "samples"),
])
def test_bad_pass_rate_options_are_positioned_errors(fakes, args, message):
    with pytest.raises(DslError) as e:
        compile_text(curriculum(f"pass_rate({args})"), "c.curr", registry=fakes)
    [d] = e.value.diagnostics
    assert message in d.message and d.pos.file == "c.curr" and d.pos.line == 9


def test_the_grading_component_must_be_a_reward_of_the_stage(fakes):
    with pytest.raises(DslError) as e:
        compile_text(curriculum('pass_rate(component: "acuracy")'), "c.curr", registry=fakes)
    [d] = e.value.diagnostics
    assert "component 'acuracy' is not a reward of stage 's'" in d.message
    assert d.hint == "did you mean 'accuracy'?" and (d.pos.line, d.pos.col) == (9, 20)


def test_pass_rate_on_a_backend_that_cannot_generate_names_the_phase(fakes):
    with pytest.raises(DslError) as e:
        compile_text(curriculum("pass_rate(samples: 16) order easy_to_hard", backend="openrlhf"), "c.curr",
                     registry=fakes)
    [d] = e.value.diagnostics
    assert d.message == ("phase 's': backend 'openrlhf' cannot generate completions, so it cannot estimate "
                         "difficulty pass_rate(...)")
    assert (d.pos.line, d.pos.col) == (9, 20)
    assert "seethink difficulty" in d.hint and "difficulty column" in d.hint
    # The data's own column, or another backend, is fine.
    compile_text(curriculum("column order easy_to_hard", backend="openrlhf"), "c.curr", registry=fakes)
    plan = compile_text(curriculum("pass_rate(samples: 16)", backend="openrlhf"), "c.curr", registry=fakes,
                        backend="local")
    assert plan.backend.name == "local"


def test_check_prints_backend_warnings_and_does_not_fail(with_plugins, tmp_path, capsys):
    with_plugins()  # the installed first-party plugins: the real OpenRLHF checks
    path = tmp_path / "ordered.curr"
    path.write_text(curriculum("column order easy_to_hard", backend="openrlhf"))
    [result] = check_paths([path])
    assert result.ok and result.errors == [] and result.warnings == []  # the ordered launcher keeps the order
    path.write_text(curriculum("column order easy_to_hard", backend="openrlhf")
                    .replace("stage s {", "stage s {\n        algorithm dapo(batch_size: 64, rollout_batch_size: 64)"))
    [result] = check_paths([path])
    assert result.ok and result.errors == []
    assert [d.severity for d in result.warnings] == ["warning"]
    assert "with dynamic sampling OpenRLHF refills" in result.warnings[0].message
    assert result.warnings[0].pos is not None  # placed at the backend statement
    assert main(["check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"{path}:4:5: warning: phase 's': with dynamic sampling" in err and "hint: turn dynamic sampling off" in err
    assert f"ok: {path} (1 curriculum, 1 phase, 1 warning)" in out


def test_pacing_on_openrlhf_is_a_warning(with_plugins, tmp_path):
    with_plugins()
    path = tmp_path / "paced.curr"
    path.write_text(curriculum("column", backend="openrlhf").replace("steps      5",
                                                                     "pacing linear(start: 0.5)\n        steps 5"))
    [result] = check_paths([path])
    assert result.ok
    assert result.warnings == []  # the export pulls the paced stream step by step, served in file order
