"""``seethink eval CHECKPOINT``: --data, --n, --file (compiled plan), the built-in suite, and errors."""

from __future__ import annotations

import json
import sys
import types

import pytest
from eval_doubles import ScriptedGenerator, eval_plugin

from seethink_core.cli.eval_cmd import SUITE, default_out, parse_values, refuse_other_result
from seethink_core.cli.main import main
from seethink_core.errors import ConfigError
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import BackendRef, Budget, DataRef, EvalSpec, Phase, RewardRef, TrainingPlan

MADE: list[ScriptedGenerator] = []


def make_scripted(options: object) -> ScriptedGenerator:
    gen = ScriptedGenerator()
    MADE.append(gen)
    return gen


def scripted_backend() -> types.SimpleNamespace:
    def register_backends(register):
        register(BackendSpec(name="scripted", factory=make_scripted, methods=frozenset({"grpo"}),
                             features=frozenset({"generate"})))
        register(BackendSpec(name="trainonly", factory=make_scripted, methods=frozenset({"grpo"})))

    ns = types.SimpleNamespace(__name__="scripted_backend")
    ns.register_backends = hookimpl(register_backends)
    return ns


@pytest.fixture
def cli_plugins(with_plugins):
    MADE.clear()
    return with_plugins(("evaltoy", eval_plugin()), ("scripted", scripted_backend()))


def test_eval_on_one_data_source(cli_plugins, tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["eval", "ckpt/a", "--data", "evaltoy", "--option", "count=12", "--backend", "scripted",
                 "--out", str(out), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    data = json.loads(out.read_text())
    assert data["metrics"] == metrics and data["samples"] == 12 and data["checkpoint"] == "ckpt/a"
    assert metrics["samples"] == 12 and "split.perception_share" in metrics
    assert MADE[0].calls[0]["temperature"] == 0.0 and MADE[0].calls[0]["n"] == 1


def test_sampling_flags_give_pass_at_k(cli_plugins, tmp_path, capsys):
    assert main(["eval", "ckpt/a", "-d", "evaltoy", "-o", "count=6", "-b", "scripted", "--n", "4",
                 "--temperature", "0.7", "--out", str(tmp_path / "e.json"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {"pass@1", "pass@2", "pass@4", "mean@4"} <= set(metrics)
    assert MADE[0].calls[0]["n"] == 4 and MADE[0].calls[0]["temperature"] == 0.7


def test_file_uses_the_last_phase_eval_rewards_and_prompt(cli_plugins, tmp_path, monkeypatch, capsys):
    phase = Phase(index=0, name="perception", stages=["perception"], capabilities=["perception"], model="m",
                  init_from="base", method="grpo", algorithm=GRPOOptions(max_response_tokens=48),
                  data=[DataRef("evaltoy")], rewards=[RewardRef("accuracy", 0.9), RewardRef("format", 0.1)],
                  budget=Budget(steps=1), prompt="Q: {question}",
                  eval=EvalSpec(sets=[DataRef("evaltoy", {"count": 9})]))
    plan = TrainingPlan("c", "m", BackendRef("scripted"), [phase])
    seen = {}

    def compile_path(path, curriculum=None, backend=None, overrides=None):
        seen.update(path=path, curriculum=curriculum)
        return plan

    monkeypatch.setitem(sys.modules, "seethink_core.compiler", types.SimpleNamespace(compile_path=compile_path))
    out = tmp_path / "e.json"
    assert main(["eval", "ckpt", "--file", "x.curr", "-c", "c", "-b", "scripted", "--out", str(out)]) == 0
    assert seen == {"path": "x.curr", "curriculum": "c"}
    call = MADE[0].calls[0]
    assert call["template"] == "Q: {question}" and call["max_new_tokens"] == 48 and call["count"] == 9
    assert json.loads(out.read_text())["settings"]["rewards"] == ["accuracy", "format"]
    assert "accuracy" in capsys.readouterr().out


def test_default_is_the_synthetic_suite(cli_plugins, tmp_path, capsys):
    assert main(["eval", "ckpt", "-b", "scripted", "--max-samples", "6", "--out", str(tmp_path / "e.json"),
                 "--json"]) == 0
    data = json.loads((tmp_path / "e.json").read_text())
    assert data["sets"] == [{"name": SUITE.name, "samples": 6}]
    assert data["metrics"]["split.samples"] == 4  # every item with a picture gets a facts pass (2 of 6 are textual)


def test_errors_are_one_line_not_a_traceback(cli_plugins, tmp_path, capsys):
    assert main(["eval", "ckpt", "-b", "trainonly"]) == 2
    assert "cannot generate" in capsys.readouterr().err
    assert main(["eval", "ckpt", "-b", "scripted", "--greedy", "--n", "3"]) == 2
    assert "--greedy contradicts" in capsys.readouterr().err
    assert main(["eval", "ckpt", "-b", "scripted", "--data", "evaltoy", "--option", "cnt=3"]) == 2
    assert "unknown option 'cnt'" in capsys.readouterr().err
    assert main(["eval", "ckpt", "-b", "scripted", "--data", "nosuch"]) == 2
    assert "unknown data source 'nosuch'" in capsys.readouterr().err


def test_option_values_and_default_output_name():
    assert parse_values(["a=3", "b=true", "c=x y", "d=[1,2]"], "--option") == {"a": 3, "b": True, "c": "x y",
                                                                                  "d": [1, 2]}
    with pytest.raises(ConfigError):
        parse_values(["novalue"], "--option")
    # every phase's folder is called checkpoint: the run and phase name the file, so two never share one
    assert str(default_out("runs/c/phases/01-x/checkpoint/")) == "eval/c-01-x.json"
    assert str(default_out("runs/c/phases/02-y/checkpoint")) == "eval/c-02-y.json"
    assert str(default_out("Qwen/Qwen3-VL-8B-Instruct")) == "eval/Qwen3-VL-8B-Instruct.json"


def test_the_default_output_never_replaces_another_checkpoints_result(cli_plugins, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ["-d", "evaltoy", "-o", "count=2", "-b", "scripted", "--json"]
    assert main(["eval", "a/model", *flags]) == 0
    assert main(["eval", "b/model", *flags]) == 2  # same file name, another model: refused, not clobbered
    assert "holds the evaluation of another checkpoint (a/model)" in capsys.readouterr().err
    assert json.loads((tmp_path / "eval" / "model.json").read_text())["checkpoint"] == "a/model"
    assert len(MADE) == 1  # refused before any model was loaded
    refuse_other_result(tmp_path / "eval" / "model.json", "a/model")  # the same checkpoint: redone in place


def test_a_checkpoint_inside_a_run_directory_reuses_its_phase(cli_plugins, tmp_path, capsys):
    phase = Phase(index=1, name="visual", stages=["visual"], capabilities=["visual_reasoning"], model="m",
                  init_from="base", method="grpo", algorithm=GRPOOptions(max_response_tokens=40),
                  data=[DataRef("evaltoy")], rewards=[RewardRef("accuracy")], budget=Budget(steps=1),
                  prompt="P: {question}", eval=EvalSpec(sets=[DataRef("evaltoy", {"count": 5})]))
    first = Phase(index=0, name="p", stages=["p"], capabilities=["perception"], model="m", init_from="base",
                  method="grpo", algorithm=GRPOOptions(), data=[DataRef("evaltoy")], rewards=[],
                  budget=Budget(steps=1))
    plan = TrainingPlan("c", "m", BackendRef("scripted"), [first, phase])
    ckpt = tmp_path / "run" / "phases" / "01-visual" / "checkpoint"
    ckpt.mkdir(parents=True)
    (tmp_path / "run" / "plan.json").write_text(plan.to_json())
    out = tmp_path / "e.json"
    assert main(["eval", str(ckpt), "-b", "scripted", "--out", str(out), "--json"]) == 0
    call = MADE[0].calls[0]
    assert (call["template"], call["max_new_tokens"], call["count"]) == ("P: {question}", 40, 5)
    assert json.loads(out.read_text())["settings"]["rewards"] == ["accuracy"]
    # --data replaces the sets but keeps the phase's prompt
    assert main(["eval", str(ckpt), "-b", "scripted", "-d", "evaltoy", "-o", "count=2", "--out", str(out)]) == 0
    assert (MADE[1].calls[0]["template"], MADE[1].calls[0]["count"]) == ("P: {question}", 2)


def test_top_p_and_system_flags_reach_the_generator(cli_plugins, tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["eval", "ckpt/a", "-d", "evaltoy", "-o", "count=3", "-b", "scripted", "--top-p", "0.9",
                 "--system", "Think first.", "--prompt", "{question|trim}", "--out", str(out), "--json"]) == 0
    call = MADE[0].calls[0]
    assert (call["n"], call["temperature"], call["top_p"], call["system"], call["template"]) == (
        1, 1.0, 0.9, "Think first.", "{question|trim}")  # --top-p alone samples at the default temperature
    settings = json.loads(out.read_text())["settings"]
    assert (settings["greedy"], settings["top_p"], settings["system"]) == (False, 0.9, "Think first.")


@pytest.mark.parametrize("flags, message", [
    (["--top-p", "0"], "--top-p must be above 0"),
    (["--greedy", "--top-p", "0.5"], "--greedy contradicts"),
    (["--prompt", "{qestion}"], "--prompt: unknown placeholder {qestion}"),
    (["--system", "{question|trm}"], "--system: {question|trm}: unknown filter 'trm'"),
    (["--prompt", "Answer."], "--prompt must contain {question}"),
])
def test_bad_flags_are_one_clear_error(cli_plugins, tmp_path, capsys, flags, message):
    assert main(["eval", "ckpt/a", "-d", "evaltoy", "-b", "scripted", "--out", str(tmp_path / "e.json"),
                 *flags]) != 0
    assert message in capsys.readouterr().err
