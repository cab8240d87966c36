"""The runner evaluates the base model, every phase, and (with `every N steps`) snapshots during a phase."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "eval"))
from eval_doubles import ScriptedGenerator, eval_plugin  # noqa: E402
from fake_backend import FakeBackend, FakeOptions, ToyOptions, ToySource  # noqa: E402

from seethink_core.hooks.hookspecs import hookimpl  # noqa: E402
from seethink_core.hooks.registry import BackendSpec, DataSourceSpec  # noqa: E402
from seethink_core.run.metrics import read_metrics  # noqa: E402
from seethink_core.run.rundir import RunDir  # noqa: E402
from seethink_core.run.runner import Runner  # noqa: E402
from seethink_core.types.methods import GRPOOptions  # noqa: E402
from seethink_core.types.plan import BackendRef, Budget, DataRef, EvalSpec, Phase, RewardRef, TrainingPlan  # noqa: E402


class GeneratingFake(FakeBackend):
    """The fake trainer plus a scripted `generate`, and it offers a snapshot after every step."""

    def __init__(self, options: FakeOptions):
        super().__init__(options)
        self.scripted = ScriptedGenerator()
        self.snapshots: list[int] = []

    def generate(self, model, samples, **kw):
        return self.scripted.generate(model, samples, **kw)

    def run_phase(self, phase, init, ctx):
        inner_log = ctx.log

        def log(step, metrics):
            inner_log(step, metrics)
            if ctx.evaluate is not None:
                ctx.evaluate(step, lambda folder: (folder.mkdir(parents=True), self.snapshots.append(step)))

        ctx.log = log
        return super().run_phase(phase, init, ctx)


def plugin() -> types.SimpleNamespace:
    ns = types.SimpleNamespace(__name__="gen_fake")
    ns.register_backends = hookimpl(lambda register: register(BackendSpec(
        name="genfake", options=FakeOptions, factory=GeneratingFake, methods=frozenset({"grpo"}),
        features=frozenset({"generate"}))))
    ns.register_data_sources = hookimpl(lambda register: register(DataSourceSpec(
        name="toy2", options=ToyOptions, factory=ToySource, columns=ToySource.columns)))
    return ns


def test_interval_base_and_phase_evaluations(tmp_path, with_plugins):
    plugins = with_plugins(("genfake", plugin()), ("evaltoy", eval_plugin()))
    phase = Phase(index=0, name="p", stages=["p"], capabilities=["perception"], model="base-model",
                  init_from="base", method="grpo", algorithm=GRPOOptions(batch_size=4, group=2),
                  data=[DataRef("toy2", {"count": 40})],
                  rewards=[RewardRef("accuracy", 0.9), RewardRef("format", 0.1)], budget=Budget(steps=5),
                  eval=EvalSpec(sets=[DataRef("evaltoy", {"count": 6})], every_steps=2))
    plan = TrainingPlan("t", "base-model", BackendRef("genfake"), [phase])
    root = tmp_path / "r"
    Runner(plan, RunDir(root), plugins=plugins).run()
    phase_dir = root / "phases" / "00-p"
    assert sorted(p.name for p in (phase_dir / "eval").iterdir()) == ["step-000002.json", "step-000004.json"]
    assert (root / "eval" / "00-base.json").exists() and (phase_dir / "eval.json").exists()
    at2 = json.loads((phase_dir / "eval" / "step-000002.json").read_text())
    assert "accuracy" in at2["metrics"]
    eval_rows = [r for r in read_metrics(phase_dir / "metrics.jsonl") if r["kind"] == "eval"]
    assert [r["step"] for r in eval_rows] == [2, 4, 5]  # two in-phase evaluations, then the phase's own


def _phase(name: str, index: int, eval_spec: EvalSpec, steps: int = 4) -> Phase:
    return Phase(index=index, name=name, stages=[name], capabilities=["perception"], model="base-model",
                 init_from="base" if index == 0 else "p", method="grpo", algorithm=GRPOOptions(batch_size=4, group=2),
                 data=[DataRef("toy2", {"count": 40})], rewards=[RewardRef("accuracy", 0.9), RewardRef("format", 0.1)],
                 budget=Budget(steps=steps), eval=eval_spec)


def test_each_phase_keeps_its_own_cadence_and_before_false_skips_row_zero(tmp_path, with_plugins):
    plugins = with_plugins(("genfake", plugin()), ("evaltoy", eval_plugin()))
    sets = [DataRef("evaltoy", {"count": 6})]
    plan = TrainingPlan("t", "base-model", BackendRef("genfake"), [
        _phase("p", 0, EvalSpec(sets=sets, every_steps=3, before=False)),
        _phase("q", 1, EvalSpec(sets=sets, every_steps=2, before=False))])
    root = tmp_path / "r"
    Runner(plan, RunDir(root), plugins=plugins).run()
    assert not (root / "eval" / "00-base.json").exists()  # `eval settings before: false`
    steps = {name: sorted(p.name for p in (root / "phases" / name / "eval").iterdir()) for name in ("00-p", "01-q")}
    assert steps == {"00-p": ["step-000003.json"], "01-q": ["step-000002.json", "step-000004.json"]}
    assert all((root / "phases" / name / "eval.json").exists() for name in steps)  # after each phase, as before
