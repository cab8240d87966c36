"""A backend per stage: each phase trains on its own backend, the checkpoint crosses between them."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_backend import FakeBackend, FakeOptions, fake_plugin  # noqa: E402

from seethink_core.compiler import compile_text  # noqa: E402
from seethink_core.hooks.hookspecs import hookimpl  # noqa: E402
from seethink_core.hooks.registry import BackendSpec  # noqa: E402
from seethink_core.run.rundir import RunDir  # noqa: E402
from seethink_core.run.runner import Runner  # noqa: E402
from seethink_core.types.plan import BackendRef, TrainingPlan  # noqa: E402


class SFTOnly(FakeBackend):
    """A second backend (a double) that only runs SFT, recording what it was prepared with."""

    events: list[tuple[str, object]] = []

    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None:
        SFTOnly.events.append(("prepare", [p.name for p in plan.phases], plan.backend.name))

    def run_phase(self, phase, init, ctx):
        SFTOnly.events.append(("run", phase.name))
        return super().run_phase(phase, init, ctx)

    def close(self) -> None:
        SFTOnly.events.append(("close", None))


class RLOnly(FakeBackend):
    events: list[tuple[str, object]] = []

    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None:
        RLOnly.events.append(("prepare", [p.name for p in plan.phases], plan.backend.name))

    def close(self) -> None:
        RLOnly.events.append(("close", None))


def _check_rl_only(plan: TrainingPlan):
    """A backend check that would fail on an SFT phase: it must only ever see its own phases."""
    return [f"rl_only cannot run '{p.name}'" for p in plan.phases if p.method == "sft"]


def two_backends() -> types.SimpleNamespace:
    def register_backends(register):
        register(BackendSpec(name="sft_only", options=FakeOptions, factory=SFTOnly, methods=frozenset({"sft"})))
        register(BackendSpec(name="rl_only", options=FakeOptions, factory=RLOnly, methods=frozenset({"grpo"}),
                             check=_check_rl_only))

    ns = types.SimpleNamespace(__name__="two_backends_test_plugin")
    ns.register_backends = hookimpl(register_backends)
    return ns


CURRICULUM = """
curriculum mixed {
    model   "base-model"
    backend rl_only
    reward  exact
    algorithm grpo(batch_size: 4, group: 2)
    stage captions {
        backend sft_only(fail_at_step: 0)
        method  sft(batch_size: 4)
        data    toy(count: 16)
        steps   2
    }
    stage perception {
        data    toy(count: 16)
        steps   3
    }
}
"""


@pytest.fixture
def plugins(with_plugins):
    FakeBackend.calls.clear()
    SFTOnly.events.clear()
    RLOnly.events.clear()
    return with_plugins(("fake", fake_plugin()), ("two", two_backends()))


def test_each_phase_compiles_and_checks_against_its_own_backend(plugins):
    plan = compile_text(CURRICULUM, registry=plugins.registry)
    assert plan.backend == BackendRef("rl_only", {"fail_in_phase": "", "fail_at_step": 0})
    captions, perception = plan.phases
    assert captions.backend is not None and captions.backend.name == "sft_only"
    assert perception.backend is None and plan.backend_of(perception).name == "rl_only"
    assert [b.name for b in plan.backends()] == ["rl_only", "sft_only"]
    assert [p.name for p in plan.for_backend(plan.backend).phases] == ["perception"]
    # The plan round-trips with the per-phase backend, and it is part of the hash.
    again = TrainingPlan.from_json(plan.to_json())
    assert again == plan and again.hash() == plan.hash()
    moved = compile_text(CURRICULUM.replace("fail_at_step: 0", "fail_at_step: 1"), registry=plugins.registry)
    assert moved.hash() != plan.hash()


def test_a_backend_override_runs_every_phase_on_one_backend(plugins):
    from seethink_core.errors import DslError

    plan = compile_text(CURRICULUM.replace("method  sft(batch_size: 4)", ""), backend="fake",
                        registry=plugins.registry)
    assert all(p.backend is None for p in plan.phases) and plan.backend.name == "fake"
    with pytest.raises(DslError, match="does not run method 'sft'"):
        compile_text(CURRICULUM, backend="rl_only", registry=plugins.registry)


def test_the_runner_hands_the_checkpoint_from_one_backend_to_the_next(tmp_path, plugins):
    plan = compile_text(CURRICULUM, registry=plugins.registry)
    root = tmp_path / "run"
    Runner(plan, RunDir(root), plugins=plugins).run()
    first_ckpt = root / "phases" / "00-captions" / "checkpoint"
    assert FakeBackend.calls == [("captions", "base-model"), ("perception", str(first_ckpt))]
    # Each backend was made once, prepared with the part of the plan it runs, and closed.
    assert SFTOnly.events == [("prepare", ["captions"], "sft_only"), ("run", "captions"), ("close", None)]
    assert RLOnly.events == [("prepare", ["perception"], "rl_only"), ("close", None)]
    state = json.loads((root / "state.json").read_text())
    assert {k: v["status"] for k, v in state["phases"].items()} == {"captions": "done", "perception": "done"}
    # A re-run skips both phases and starts neither backend.
    SFTOnly.events.clear()
    RLOnly.events.clear()
    Runner(plan, RunDir(root), plugins=plugins).run()
    assert SFTOnly.events == [] and RLOnly.events == []
