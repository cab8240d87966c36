"""What a run shows while it runs: phase i of N, ETAs, eval progress, plain lines off a terminal, the
end-of-run summary, and the "no reward signal" warning."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import types
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from fake_backend import FakeBackend, fake_plugin  # noqa: E402
from test_runner import make_plan  # noqa: E402

from seethink_core.hooks.hookspecs import hookimpl  # noqa: E402
from seethink_core.hooks.registry import RewardSpec  # noqa: E402
from seethink_core.report.progress import NoRewardSignal, RunProgress, fmt_duration  # noqa: E402
from seethink_core.report.summary import stop_notes, summary_rows, summary_table  # noqa: E402
from seethink_core.run.run_state import PhaseState, RunState  # noqa: E402
from seethink_core.run.rundir import RunDir  # noqa: E402
from seethink_core.run.runner import PhaseReport, Runner  # noqa: E402
from seethink_core.types.plan import Budget, EvalSpec, RewardRef  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_fmt_duration():
    assert [fmt_duration(s) for s in (None, 4.4, 59.6, 245, 3720)] == ["?", "4s", "1m00s", "4m05s", "1h02m"]


def test_plain_lines_say_phase_i_of_n_the_phase_eta_and_the_runs_estimate(capsys):
    plan = make_plan(steps=(3, 4))
    clock = Clock()
    progress = RunProgress(False, plan=plan, clock=clock, plain_every_s=30)
    with progress:
        task = progress.start(plan.phases[0], 3)
        for step in (1, 2):
            progress.update(task, step, {"loss": 0.5})
            clock.t += 2.0
        progress.update(task, 3, {"loss": 0.25})  # the last step is always said
        progress.finish(task, plan.phases[0], PhaseState(steps=3, wall_s=6.0, stopped_by="budget"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[phase 1/2 warmup (sft)] step 1/3 · measuring speed · loss=0.5000"
    # step 2 came 2 s after step 1, inside the 30 s interval: not printed
    assert lines[1] == ("[phase 1/2 warmup (sft)] step 3/3 · 2.00 s/step · eta 0s · run ≈ 8s left (est.) · "
                        "loss=0.2500")  # the 4 steps of phase 2 at this phase's 2 s a step
    assert lines[2] == "[phase 1/2 warmup (sft)] done: 3 steps in 6s (stopped by budget)"


def test_run_eta_skips_done_phases_and_is_unknown_past_an_epochs_budget():
    plan = make_plan(steps=(3, 4))
    clock = Clock()
    state = RunState("h", {"warmup": PhaseState(), "perception": PhaseState(status="done")})
    progress = RunProgress(False, plan=plan, state=state, clock=clock)
    task = progress.start(plan.phases[0], 3)
    progress.update(task, 1, {})
    clock.t = 10.0
    progress.update(task, 2, {})
    assert progress.run_eta(task) == "run ≈ 10s left (est.)"  # phase 2 is done: only this phase's last step
    state.phases["perception"] = PhaseState()
    first, second = make_plan(steps=(3, 4)).phases
    progress.plan = dataclasses.replace(plan, phases=[first, dataclasses.replace(second, budget=Budget(epochs=1))])
    assert progress.run_eta(task) == "run: time left unknown"


def test_bars_on_a_terminal_show_the_status_line_and_eval_progress():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, force_interactive=True, width=100)
    plan = make_plan(steps=(3, 4))
    clock = Clock()
    progress = RunProgress(True, plan=plan, clock=clock, console=console)
    assert progress.enabled
    with progress:
        task = progress.start(plan.phases[1], 4)
        progress.update(task, 1, {"reward.total": 0.5})
        clock.t = 3.0
        progress.update(task, 2, {"reward.total": 0.5})
        assert progress.status_line().startswith("perception: total=0.500 · run ≈ 6s left (estimate: 2 steps at")
        answers = progress.eval_progress("base model")
        answers(4, 8)
        assert [t.description for t in progress._bars.tasks] == ["phase 2/2 perception (grpo)", "eval base model"]
        answers(8, 8)
        assert len(progress._bars.tasks) == 1  # a finished evaluation's bar goes
        progress.note("a note with [brackets]")
    text = out.getvalue()
    assert "phase 2/2 perception (grpo)" in text and "a note with [brackets]" in text
    # a long phase name, a full row: still 100 columns, nothing squeezed out
    long_name = dataclasses.replace(plan.phases[1], name="visual_reasoning.hard")
    row = Console(width=100, record=True, file=io.StringIO())
    bars = RunProgress(True, plan=plan, clock=clock, console=Console(file=io.StringIO(), force_terminal=True,
                                                                       force_interactive=True, width=100))
    with bars:
        t = bars.start(long_name, 600)
        bars.update(t, 300, {"reward.total": 0.5, "reward.accuracy": 0.25, "reward.format": 1.0})
        row.print(bars._bars.make_tasks_table(bars._bars.tasks))
    shown = row.export_text()
    assert "300/600" in shown and "reward=0.500" in shown and max(map(len, shown.splitlines())) <= 100


def test_off_a_terminal_bars_become_plain_lines():
    console = Console(file=io.StringIO())  # not a terminal
    assert not RunProgress(True, console=console).enabled


def test_no_reward_signal_warns_once_after_the_window_or_the_whole_phase():
    plan = make_plan(steps=(3, 4))
    said: list[str] = []
    watch = NoRewardSignal(plan.phases[1], 40, note=said.append)
    zero = {"reward.total": 0.0, "reward.exact": 0.0, "reward_failures.exact": 0}
    for step in range(1, 10):
        watch(step, zero)
    watch(10, {"reward.total": 0.1, "reward.exact": 0.1})  # one scored sample breaks the streak
    for step in range(11, 30):
        watch(step, zero)
    assert said == ["warning: phase perception: no reward signal: every completion of the last 10 steps scored 0; "
                    "a random or untrained model needs a supervised warm-up first (see curricula/demo.curr's "
                    "warmup stage)"]
    short: list[str] = []
    watch = NoRewardSignal(plan.phases[1], 2, note=short.append)
    watch(1, zero)
    watch(2, zero)
    assert len(short) == 1 and "of the last 2 steps" in short[0]
    sft: list[str] = []
    watch = NoRewardSignal(plan.phases[0], 2, note=sft.append)  # an SFT phase is not judged by its reward
    watch(1, zero)
    watch(2, zero)
    assert sft == []


class ZeroReward:
    __name__ = "zero"

    def __init__(self, options: object):
        pass

    def __call__(self, prompts, completions, **columns):
        return [0.0 for _ in completions]


def test_the_runner_warns_about_an_rl_phase_without_reward_signal(tmp_path, with_plugins, capsys):
    zero = types.SimpleNamespace(__name__="zero_reward", register_rewards=hookimpl(
        lambda register: register(RewardSpec(name="zero", factory=ZeroReward))))
    plugins = with_plugins(("fake", fake_plugin()), ("zero", zero))
    FakeBackend.calls.clear()
    plan = make_plan(steps=(2, 3))
    plan = dataclasses.replace(plan, phases=[dataclasses.replace(p, rewards=[RewardRef("zero", 1.0)])
                                             for p in plan.phases])
    reports = Runner(plan, RunDir(tmp_path / "r"), plugins=plugins).run()
    out = capsys.readouterr().out
    assert out.count("no reward signal") == 1 and "phase perception: no reward signal" in out
    # the summary of these short phases has numbers, fits 100 columns and says nothing about stopping
    rows = summary_rows(reports, RunDir(tmp_path / "r"))
    assert rows[1]["reward"] == (0.0, 0.0) and stop_notes(rows) == []


def test_summary_of_a_one_step_phase_shows_its_value_and_fits_100_columns(tmp_path):
    plan = make_plan(steps=(1, 3))
    run_dir = RunDir(tmp_path / "r")
    rows_of = {"warmup": [{"step": 1, "kind": "train", "loss": 6.41}],
               "perception": [{"step": s, "kind": "train", "loss": 0.0, "reward.total": 0.1 * s,
                               "reward.accuracy": 0.1 * s, "response_length.mean": 23.0 + s} for s in (1, 2, 3)]}
    reports = []
    for phase in plan.phases:
        d = run_dir.phase_dir(phase)
        d.mkdir(parents=True)
        (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_of[phase.name]))
        stopped = "until reward.accuracy >= 0.8 (mean of last 3: 0.8, at step 3)" if phase.index else "budget"
        reports.append(PhaseReport(phase, PhaseState(status="done", steps=3, wall_s=245.0, stopped_by=stopped),
                                   skipped=False))
    rows = summary_rows(reports, run_dir)
    assert rows[0]["loss"] == 6.41 and rows[0]["reward"] is None
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(summary_table("a_long_curriculum_name", rows))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "6.41 " in text and "0.10 → 0.30" in text and "4m05s" in text
    assert stop_notes(rows) == ["perception: until reward.accuracy >= 0.8 (mean of last 3: 0.8, at step 3)"]


class StubReward:
    """A combined reward in-process (no worker): the accuracy component is 1 for the gold answer."""

    def __call__(self, prompts, completions, samples, **kw):
        return types.SimpleNamespace(components={"accuracy": [float(c == s.answer) for c, s in
                                                              zip(completions, samples)]})


def test_evaluations_report_answers_done_out_of_the_total():
    from seethink_core.hooks.backend import Checkpoint
    from seethink_core.run.eval_scoring import evaluate
    from seethink_core.run.eval_types import EvalSettings, LoadedEvaluator
    from seethink_core.types.sample import Sample

    sys.path.insert(0, str(Path(__file__).parents[1] / "eval"))
    from eval_doubles import ScriptedGenerator

    sets = {name: [Sample(id=f"{name}{i}", prompt="q", answer="1", images=[b"img"] if i % 2 else [],
                          facts="one" if i % 2 else None) for i in range(5)] for name in ("a", "b")}
    needs_facts = LoadedEvaluator("split", lambda records: {}, frozenset({"facts"}))
    seen: list[tuple[int, int]] = []
    evaluate(Checkpoint("m"), ScriptedGenerator(), sets, StubReward(), [needs_facts], spec=EvalSpec(sets=[]),
             template=None, max_tokens=8, settings=EvalSettings(batch=2), on_answers=lambda d, t: seen.append((d, t)))
    # per set: 5 answers from the images in chunks of 2, then 2 from the facts (the samples with a picture and facts)
    assert seen == [(2, 14), (4, 14), (5, 14), (7, 14), (9, 14), (11, 14), (12, 14), (14, 14)]


def test_eval_progress_off_a_terminal_prints_the_first_and_the_last(capsys):
    clock = Clock()
    report = RunProgress(False, clock=clock).eval_progress("base model")
    for done in (2, 4, 6):
        report(done, 8)
        clock.t += 1
    report(8, 8)
    assert capsys.readouterr().out.splitlines() == ["[eval base model] 2/8 answers",
                                                    "[eval base model] 8/8 answers in 3s"]
