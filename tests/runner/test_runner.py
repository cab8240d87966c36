"""The runner: phases in order, hand-off, state, metrics, resume, transitions, and hooks."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_backend import FakeBackend, fake_plugin, tree_hashes  # noqa: E402

from seethink_core.errors import BackendError, RunError  # noqa: E402
from seethink_core.hooks.hookspecs import hookimpl  # noqa: E402
from seethink_core.run.metrics import read_metrics  # noqa: E402
from seethink_core.run.rundir import RunDir  # noqa: E402
from seethink_core.run.runner import Runner  # noqa: E402
from seethink_core.types.methods import GRPOOptions, SFTOptions  # noqa: E402
from seethink_core.types.plan import (  # noqa: E402
    BackendRef,
    Budget,
    Condition,
    DataRef,
    HandOff,
    Phase,
    RewardRef,
    TrainingPlan,
    Transition,
)


def make_plan(steps=(3, 4), backend_options=None, transition=None, handoff=HandOff()) -> TrainingPlan:
    phases = []
    names = ["warmup", "perception"]
    for i, (name, n) in enumerate(zip(names, steps)):
        algo = SFTOptions(batch_size=4) if i == 0 else GRPOOptions(batch_size=4, group=2)
        phases.append(Phase(
            index=i, name=name, stages=[name], capabilities=["perception"], model="base-model",
            init_from="base" if i == 0 else names[i - 1], method="sft" if i == 0 else "grpo", algorithm=algo,
            data=[DataRef("toy", {"count": 40})], rewards=[RewardRef("exact", 1.0)], budget=Budget(steps=n),
            transition=transition if i == 1 else None, handoff=handoff, seed=i,
        ))
    return TrainingPlan("t", "base-model", BackendRef("fake", backend_options or {}), phases)


@pytest.fixture
def plugins(with_plugins):
    FakeBackend.calls.clear()
    return with_plugins(("fake", fake_plugin()))


def run(plan, root, plugins, **kw):
    return Runner(plan, RunDir(root), plugins=plugins, **kw).run()


def test_phases_run_in_order_and_hand_off_checkpoints(tmp_path, plugins):
    reports = run(make_plan(), tmp_path / "r", plugins)
    root = tmp_path / "r"
    assert [r.phase.name for r in reports] == ["warmup", "perception"]
    assert FakeBackend.calls[0] == ("warmup", "base-model")
    warm_ckpt = root / "phases" / "00-warmup" / "checkpoint"
    assert FakeBackend.calls[1] == ("perception", str(warm_ckpt))
    state = json.loads((root / "state.json").read_text())
    assert {k: v["status"] for k, v in state["phases"].items()} == {"warmup": "done", "perception": "done"}
    assert json.loads((warm_ckpt / "weights.json").read_text())["init"] == "base-model"
    assert not (root / "phases" / "00-warmup" / "checkpoint.partial").exists()
    # the run directory of docs/architecture.md §12
    for rel in ("plan.json", "env.json", "phases/01-perception/metrics.jsonl", "phases/01-perception/data.json",
                "phases/01-perception/data_order.jsonl", "phases/01-perception/rollouts.jsonl"):
        assert (root / rel).exists(), rel
    assert list((root / "phases" / "01-perception" / "tensorboard").iterdir())
    rows = read_metrics(root / "phases" / "01-perception" / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["reward.exact"] == 1.0 and rows[0]["reward.exact"] == 0.25
    order = [json.loads(line) for line in (root / "phases/01-perception/data_order.jsonl").open()]
    assert len(order) == 4 and all(len(b["ids"]) == 4 for b in order)
    assert [b["step"] for b in order] == [1, 2, 3, 4]  # the step each batch feeds, as in metrics.jsonl
    readme = (root / "README.md").read_text()  # the layout in words, with the commands that use it
    assert "00-warmup (" in readme and f"seethink report {root}" in readme and "--run-dir" in readme
    env = json.loads((root / "env.json").read_text())
    assert env["packages"]["seethink"] and env["python"]


def test_rerun_skips_finished_phases_and_rewrites_nothing(tmp_path, plugins):
    plan = make_plan()
    run(plan, tmp_path / "r", plugins)
    before = tree_hashes(tmp_path / "r" / "phases")
    FakeBackend.calls.clear()
    reports = run(plan, tmp_path / "r", plugins)
    assert FakeBackend.calls == [] and all(r.skipped for r in reports)
    assert tree_hashes(tmp_path / "r" / "phases") == before


def test_a_different_plan_is_refused_with_a_diff(tmp_path, plugins):
    run(make_plan(), tmp_path / "r", plugins)
    with pytest.raises(RunError) as err:
        run(make_plan(steps=(3, 5)), tmp_path / "r", plugins)
    text = str(err.value)
    assert "holds a different plan:\n    phase 'perception': budget.steps 4 → 5" in text


def test_an_execution_only_change_resumes_the_same_run(tmp_path, plugins):
    plan = make_plan()
    run(plan, tmp_path / "r", plugins)
    p1 = plan.phases[1]
    guard = dataclasses.replace(p1, algorithm=dataclasses.replace(p1.algorithm, max_reward_failures=0.5))
    FakeBackend.calls.clear()
    reports = run(dataclasses.replace(plan, phases=[plan.phases[0], guard]), tmp_path / "r", plugins)
    assert FakeBackend.calls == [] and all(r.skipped for r in reports)


def test_a_plan_from_another_file_names_it(tmp_path, plugins):
    first, second = tmp_path / "a.curr", tmp_path / "b.curr"
    first.write_text("x")
    second.write_text("y")
    run(dataclasses.replace(make_plan(), source=str(first)), tmp_path / "r", plugins)
    with pytest.raises(RunError, match=f"it was made from {first}, another file with a curriculum 't'"):
        run(dataclasses.replace(make_plan(steps=(3, 5)), source=str(second)), tmp_path / "r", plugins)


def test_a_crash_keeps_finished_phases_and_rerun_resumes(tmp_path, plugins):
    crashing = make_plan(backend_options={"fail_in_phase": "perception", "fail_at_step": 2})
    with pytest.raises(BackendError, match="phase 'perception' failed in backend 'fake': RuntimeError"):
        run(crashing, tmp_path / "r", plugins)
    state = json.loads((tmp_path / "r" / "state.json").read_text())
    assert state["phases"]["warmup"]["status"] == "done"
    assert state["phases"]["perception"]["status"] == "running"
    assert (tmp_path / "r" / "phases" / "00-warmup" / "checkpoint" / "weights.json").exists()
    assert not (tmp_path / "r" / "phases" / "01-perception" / "checkpoint").exists()


def test_resume_reruns_only_the_unfinished_phase(tmp_path, plugins, monkeypatch):
    plan = make_plan()
    original = FakeBackend.run_phase

    def crash_in_perception(self, phase, init, ctx):
        if phase.name == "perception":
            raise RuntimeError("node lost")
        return original(self, phase, init, ctx)

    monkeypatch.setattr(FakeBackend, "run_phase", crash_in_perception)
    with pytest.raises(BackendError):
        run(plan, tmp_path / "r", plugins)
    warm = tree_hashes(tmp_path / "r" / "phases" / "00-warmup")
    monkeypatch.setattr(FakeBackend, "run_phase", original)
    FakeBackend.calls.clear()
    reports = run(plan, tmp_path / "r", plugins)
    assert [c[0] for c in FakeBackend.calls] == ["perception"]
    assert [r.skipped for r in reports] == [True, False]
    assert tree_hashes(tmp_path / "r" / "phases" / "00-warmup") == warm


def test_from_phase_reruns_from_there(tmp_path, plugins):
    plan = make_plan()
    run(plan, tmp_path / "r", plugins)
    FakeBackend.calls.clear()
    run(plan, tmp_path / "r", plugins, from_phase="perception")
    assert [c[0] for c in FakeBackend.calls] == ["perception"]
    with pytest.raises(RunError, match="did you mean 'perception'"):
        run(plan, tmp_path / "r", plugins, from_phase="perceptoin")


def test_until_transition_is_smoothed_and_waits_for_min_steps(tmp_path, plugins):
    transition = Transition([Condition("reward.exact", ">=", 0.5)], window=2, min_steps=2)
    reports = run(make_plan(steps=(1, 4), transition=transition), tmp_path / "r", plugins)
    # reward.exact per step: 0.25, 0.5, 0.75, 1.0 → window mean of steps 2-3 is 0.625 ≥ 0.5 at step 3;
    # at step 2 the mean (0.375) is below.
    perception = reports[1].state
    assert perception.steps == 3 and perception.stopped_by.startswith("until reward.exact >= 0.5")


def test_base_reference_handoff_and_state_of_reference(tmp_path, plugins, monkeypatch):
    seen = {}
    original = FakeBackend.run_phase

    def spy(self, phase, init, ctx):
        seen[phase.name] = ctx.reference
        return original(self, phase, init, ctx)

    monkeypatch.setattr(FakeBackend, "run_phase", spy)
    run(make_plan(handoff=HandOff(reference="base")), tmp_path / "r", plugins)
    assert seen["warmup"] is None  # SFT: no KL, no reference model
    assert seen["perception"].path == "base-model"


def test_hook_on_phase_start_and_on_phase_end_and_on_log_fire(tmp_path, with_plugins):
    events = []
    ns = types.SimpleNamespace(__name__="listener")
    ns.on_phase_start = hookimpl(lambda plan, phase, run_dir: events.append(("start", phase.name)))
    ns.on_phase_end = hookimpl(lambda plan, phase, run_dir, result: events.append(("end", phase.name, result.steps)))
    ns.on_log = hookimpl(lambda phase, step, metrics: events.append(("log", phase.name, step)))
    plugins = with_plugins(("fake", fake_plugin()), ("listener", ns))
    run(make_plan(steps=(1, 2)), tmp_path / "r", plugins)
    assert events == [("start", "warmup"), ("log", "warmup", 1), ("end", "warmup", 1),
                      ("start", "perception"), ("log", "perception", 1), ("log", "perception", 2),
                      ("end", "perception", 2)]


def test_epochs_budget_converts_to_steps(tmp_path, plugins):
    import dataclasses

    plan = make_plan()
    p = dataclasses.replace(plan.phases[1], budget=Budget(epochs=1.5))  # 40 samples × 1.5 / 4 per step = 15
    plan = dataclasses.replace(plan, phases=[plan.phases[0], p])
    reports = run(plan, tmp_path / "r", plugins)
    assert reports[1].state.steps == 15


def test_unknown_backend_option_is_refused_before_anything_runs(tmp_path, plugins):
    with pytest.raises(RunError, match="unknown option 'fail_in_phse'"):
        run(make_plan(backend_options={"fail_in_phse": "x"}), tmp_path / "r", plugins)
    assert not (tmp_path / "r").exists()


def test_data_json_counts_the_bad_records_a_phase_skipped(tmp_path, plugins):
    data = tmp_path / "d.jsonl"
    rows = [json.dumps({"prompt": f"q{i}", "answer": "1"}) for i in range(12)] + ['{"answer": "2"}', "{oops"]
    data.write_text("\n".join(rows) + "\n")
    plan = make_plan(steps=(2, 2))
    for p in plan.phases:
        p.data[0] = DataRef("jsonl", {"path": str(data), "on_error": "skip"}, name="geo")
    run(plan, tmp_path / "r", plugins)
    written = json.loads((tmp_path / "r" / "phases" / "00-warmup" / "data.json").read_text())
    assert written["skipped_records"] == {"geo": {"missing field": 1, "not JSON": 1}}
