"""``seethink difficulty FILE``: compile, estimate the pass_rate phases with the plan's backend, print a
histogram per phase, write the values; a re-run is served from the cache."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from difficulty_doubles import ScriptedGenerator, difficulty_plugin, expected_pass_rate  # noqa: E402

from seethink_core.cli.difficulty import (  # noqa: E402
    estimate_plan,
    open_generator,
    select_phases,
    starting_checkpoint,
    write_values,
)
from seethink_core.cli.main import main  # noqa: E402
from seethink_core.errors import ConfigError  # noqa: E402
from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.run.difficulty import DifficultyError  # noqa: E402
from seethink_core.run.run_state import PhaseState, RunState  # noqa: E402
from seethink_core.run.rundir import RunDir  # noqa: E402
from seethink_core.types.plan import BackendRef, Difficulty  # noqa: E402

CURR = """
curriculum est {
    model     "base-model"
    backend   scripted
    algorithm grpo(group: 2, batch_size: 5)
    prompt    "{question} Answer."
    reward    exact weight 1.0
    difficulty pass_rate(samples: 4) order easy_to_hard
    stage reasoning {
        capability textual_reasoning
        data items(count: 10)
        steps 3
    }
    stage later {
        capability textual_reasoning
        data items(count: 5, start: 10)
        difficulty none order shuffle
        steps 3
    }
}
"""


@pytest.fixture
def registry(with_plugins):
    return with_plugins(("difficulty_test", difficulty_plugin())).registry


@pytest.fixture
def curr(tmp_path: Path) -> Path:
    path = tmp_path / "est.curr"
    path.write_text(CURR)
    return path


def compile_plan(curr: Path, registry, **kw):
    from seethink_core.compiler import compile_path

    return compile_path(curr, registry=registry, **kw)


def test_end_to_end_with_a_histogram_and_a_free_rerun(registry, curr: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "d.json"
    argv = ["difficulty", str(curr), "--cache-dir", str(tmp_path / "cache"), "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    flat = " ".join(text.split())  # rich wraps long lines
    assert "reasoning: 10 items (0 cached, 10 estimated" in flat and "graded by exact" in flat
    assert "later" not in text  # only the pass_rate phase
    assert "[0.00, 0.10)" in text and "█" in text and "total 10" in text
    data = json.loads(out.read_text())
    assert data["curriculum"] == "est"
    values = data["phases"]["reasoning"]["difficulty"]
    assert values == {f"item-{i}": 1.0 - expected_pass_rate(f"item-{i}", 4) for i in range(10)}
    assert main(argv) == 0  # the re-run is answered by the cache
    assert "reasoning: 10 items (10 cached, 0 estimated" in " ".join(capsys.readouterr().out.split())
    assert json.loads(out.read_text())["phases"]["reasoning"]["difficulty"] == values


def test_phase_flag_csv_and_progress_bar(registry, curr: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "sub" / "d.csv"
    assert main(["difficulty", str(curr), "--phase", "later", "--no-cache", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == [f"item-{i}" for i in range(10, 15)]
    assert all(r["phase"] == "later" for r in rows)
    assert {float(r["pass_rate"]) + float(r["difficulty"]) for r in rows} == {1.0}
    assert "later: 5 items" in capsys.readouterr().out


def test_a_backend_without_generate_is_one_clear_error(registry, curr: Path, capsys) -> None:
    assert main(["difficulty", str(curr), "--backend", "train_only", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "backend 'train_only' cannot generate completions" in err and "Traceback" not in err
    plan = compile_plan(curr, registry)
    claims = open_generator(replace(plan, backend=BackendRef("claims_generate")), registry)  # built lazily
    with pytest.raises(DifficultyError, match="backend 'claims_generate' cannot generate"):
        claims.generate(Checkpoint("m"), [], n=1)


def test_a_fully_cached_rerun_never_builds_the_backend(registry, curr: Path, tmp_path: Path) -> None:
    built: list[object] = []
    plan = compile_plan(curr, registry)
    gen = open_generator(plan, registry)
    inner = gen._build
    gen._build = lambda: built.append(inner()) or built[-1]
    estimate_plan(plan, registry, cache_dir=tmp_path, show_progress=False, generator=gen, reward_timeout=None)
    assert len(built) == 1 and len(built[0].calls) == 1
    again = open_generator(plan, registry)
    again._build = lambda: pytest.fail("the backend was built for a cached re-run")
    results = estimate_plan(plan, registry, cache_dir=tmp_path, show_progress=False, generator=again,
                            reward_timeout=None)
    assert results[0].stats.cached == 10


def test_phase_selection(registry, curr: Path) -> None:
    plan = compile_plan(curr, registry)
    assert [p.name for p in select_phases(plan, None)] == ["reasoning"]
    assert [p.name for p in select_phases(plan, "later")] == ["later"]
    with pytest.raises(ConfigError, match="no phase 'reasonin'") as e:
        select_phases(plan, "reasonin")
    assert "did you mean 'reasoning'" in str(e.value)
    plain = replace(plan, phases=[replace(p, difficulty=Difficulty()) for p in plan.phases])
    with pytest.raises(DifficultyError, match="no phase of curriculum 'est' estimates its difficulty"):
        select_phases(plain, None)


def test_phase_init_needs_the_finished_previous_phase(registry, curr: Path, tmp_path: Path) -> None:
    plan = compile_plan(curr, registry)
    later = plan.phase("later")
    later = replace(later, difficulty=Difficulty(source="pass_rate", estimator={"samples": 2, "model": "phase_init"}))
    with pytest.raises(DifficultyError, match="phase 'reasoning', which has not finished"):
        starting_checkpoint(later, None)
    run_dir = RunDir(tmp_path / "run")
    run_dir.root.mkdir()
    ckpt = str(tmp_path / "run" / "ckpt")
    run_dir.save_state(RunState("h", {"reasoning": PhaseState(status="done", checkpoint=ckpt)}))
    assert starting_checkpoint(later, run_dir.root).path == ckpt
    assert starting_checkpoint(plan.phase("reasoning"), None).path == "base-model"


def test_inner_function_with_a_given_generator(registry, curr: Path, tmp_path: Path) -> None:
    from rich.console import Console

    plan = compile_plan(curr, registry)
    console = Console(record=True, width=100)
    gen = ScriptedGenerator()
    results = estimate_plan(plan, registry, cache_dir=None, show_progress=True, console=console, generator=gen,
                            reward_timeout=None)
    assert [r.phase for r in results] == ["reasoning"] and len(results[0].values) == 10
    assert len(gen.calls) == 1 and not gen.closed  # a generator the caller gave is not closed
    assert "total 10" in console.export_text()
    write_values(tmp_path / "v.json", plan, results)
    assert json.loads((tmp_path / "v.json").read_text())["phases"]["reasoning"]["model"] == "base-model"
