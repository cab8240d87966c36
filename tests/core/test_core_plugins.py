"""The plugin manager: registration, duplicates, switches, and meta-tests over the hooks."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from seethink_core.errors import PluginError
from seethink_core.hooks import hookspecs
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.manager import load_plugins
from seethink_core.hooks.registry import BackendSpec, DataSourceSpec, EvaluatorSpec, ModelSpec, RewardSpec
from seethink_core.types.options import opt


@dataclass(frozen=True)
class ThresholdOptions:
    threshold: float = opt(0.5, doc="pass mark", min=0, max=1)


def make_plugin(name: str, **hooks) -> types.SimpleNamespace:
    ns = types.SimpleNamespace(__name__=name)
    for hook_name, fn in hooks.items():
        setattr(ns, hook_name, hookimpl(fn))
    return ns


def reward_plugin(reward_name: str):
    def register_rewards(register):
        register(RewardSpec(name=reward_name, options=ThresholdOptions, factory=lambda o: None, needs={"answer"}))

    return make_plugin(f"p_{reward_name}", register_rewards=register_rewards)


def test_every_kind_registers_and_remembers_its_plugin():
    def register_data_sources(register):
        register(DataSourceSpec(name="toy", factory=lambda o, **k: [], columns=frozenset({"prompt"})))

    def register_rewards(register):
        register(RewardSpec(name="toy_reward", factory=lambda o: None))

    def register_backends(register):
        register(BackendSpec(name="toy_backend", factory=lambda o: None, methods=frozenset({"grpo"})))

    def register_evaluators(register):
        register(EvaluatorSpec(name="toy_eval", factory=lambda o: None))

    def register_models(register):
        register(ModelSpec(name="toy_model", factory=lambda o, d: d))

    plugin = make_plugin("toy", register_data_sources=register_data_sources, register_rewards=register_rewards,
                         register_backends=register_backends, register_evaluators=register_evaluators,
                         register_models=register_models)
    loaded = load_plugins(extra=[("toy", plugin)])
    reg = loaded.registry
    for kind, name in [("data_source", "toy"), ("reward", "toy_reward"), ("backend", "toy_backend"),
                       ("evaluator", "toy_eval"), ("model", "toy_model")]:
        assert reg.get(kind, name).name == name
        assert reg.plugin_of(kind, name) == "toy"
    assert {s.name for _, s in reg.by_plugin("toy")} == {"toy", "toy_reward", "toy_backend", "toy_eval", "toy_model"}


def test_duplicate_name_is_an_error_naming_both_plugins():
    with pytest.raises(PluginError) as err:
        load_plugins(extra=[("first", reward_plugin("same")), ("second", reward_plugin("same"))])
    text = str(err.value)
    assert "'first'" in text and "'second'" in text and "reward 'same'" in text


def test_same_name_in_different_kinds_is_fine():
    def register_data_sources(register):
        register(DataSourceSpec(name="shared", factory=lambda o, **k: []))

    def register_evaluators(register):
        register(EvaluatorSpec(name="shared", factory=lambda o: None))

    loaded = load_plugins(extra=[("both", make_plugin("both", register_data_sources=register_data_sources,
                                                      register_evaluators=register_evaluators))])
    assert loaded.registry.get("data_source", "shared") and loaded.registry.get("evaluator", "shared")


def test_unknown_name_suggests_the_closest():
    loaded = load_plugins(extra=[("p", reward_plugin("toy_precision"))])
    with pytest.raises(PluginError) as err:
        loaded.registry.get("reward", "toy_precison")
    assert "did you mean 'toy_precision'" in str(err.value)


def test_wrong_spec_type_and_bad_name_are_errors():
    def register_rewards(register):
        register(DataSourceSpec(name="oops", factory=lambda o: None))

    with pytest.raises(PluginError, match="expected a RewardSpec"):
        load_plugins(extra=[("bad", make_plugin("bad", register_rewards=register_rewards))])

    def register_rewards2(register):
        register(RewardSpec(name="not valid", factory=lambda o: None))

    with pytest.raises(PluginError, match="invalid name"):
        load_plugins(extra=[("bad2", make_plugin("bad2", register_rewards=register_rewards2))])


def test_misspelled_hook_fails_check_pending():
    plugin = make_plugin("typo", register_reward=lambda register: None)  # missing the final 's'
    with pytest.raises(PluginError, match="unknown hook"):
        load_plugins(extra=[("typo", plugin)])


def test_exception_inside_a_hook_names_the_plugin():
    def register_rewards(register):
        raise RuntimeError("boom")

    with pytest.raises(PluginError, match="plugin 'broken' failed in register_rewards: RuntimeError: boom"):
        load_plugins(extra=[("broken", make_plugin("broken", register_rewards=register_rewards))])


def test_block_list_skips_plugins(monkeypatch):
    monkeypatch.setenv("SEETHINK_BLOCK_PLUGINS", "second, data")
    loaded = load_plugins(extra=[("first", reward_plugin("a")), ("second", reward_plugin("a"))])
    assert "second" not in loaded.info and "data" not in loaded.info
    assert loaded.registry.plugin_of("reward", "a") == "first"


def test_first_party_plugins_load_through_entry_points():
    loaded = load_plugins()
    first_party = {n for n, i in loaded.info.items() if i.first_party}
    assert {"data", "synthetic", "rewards", "local", "openrlhf", "eval"} <= first_party
    assert all(loaded.info[n].module.startswith("seethink_") for n in first_party)


def test_disable_autoload_keeps_first_party_only(monkeypatch):
    from importlib import metadata

    fake_dist = types.SimpleNamespace(name="someone-elses-plugin", version="9.9")
    fake_ep = types.SimpleNamespace(name="intruder", value="nowhere:x", dist=fake_dist,
                                    load=lambda: pytest.fail("a third-party plugin was imported"))
    real = metadata.entry_points

    def entry_points(**kw):
        return list(real(**kw)) + [fake_ep]

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setenv("SEETHINK_DISABLE_PLUGIN_AUTOLOAD", "1")
    loaded = load_plugins()
    assert "intruder" not in loaded.info and "rewards" in loaded.info


def test_broken_third_party_plugin_is_named(monkeypatch):
    from importlib import metadata

    def boom():
        raise ImportError("No module named 'missing_dep'")

    fake_ep = types.SimpleNamespace(name="fragile", value="fragile.plugin", load=boom,
                                    dist=types.SimpleNamespace(name="fragile-plugin", version="1.0"))
    real = metadata.entry_points
    monkeypatch.setattr(metadata, "entry_points", lambda **kw: list(real(**kw)) + [fake_ep])
    with pytest.raises(PluginError, match="plugin 'fragile' .from fragile-plugin. failed to import"):
        load_plugins()


def test_trace_switch_prints_every_hook_call(capsys, monkeypatch):
    monkeypatch.setenv("SEETHINK_TRACE_HOOKS", "1")
    loaded = load_plugins(extra=[("p", reward_plugin("traced"))])
    loaded.hook.on_log(phase=None, step=1, metrics={})
    err = capsys.readouterr().err
    assert "[seethink hook] register_rewards(register) -> p" in err
    assert "[seethink hook] on_log(" in err


def test_hook_on_log_on_phase_start_on_phase_end_reach_plugins():
    seen = []

    def on_log(phase, step, metrics):
        seen.append(("log", step, metrics["x"]))

    def on_phase_start(plan, phase, run_dir):
        seen.append(("start", phase))

    def on_phase_end(plan, phase, run_dir, result):
        seen.append(("end", result))

    loaded = load_plugins(extra=[("ev", make_plugin("ev", on_log=on_log, on_phase_start=on_phase_start,
                                                    on_phase_end=on_phase_end))])
    loaded.hook.on_phase_start(plan=None, phase="p", run_dir=".")
    loaded.hook.on_log(phase="p", step=3, metrics={"x": 1.5})
    loaded.hook.on_phase_end(plan=None, phase="p", run_dir=".", result="r")
    assert seen == [("start", "p"), ("log", 3, 1.5), ("end", "r")]


# -- meta-tests (datasette's habit): every hook is documented and has a test --------------------------

HOOK_NAMES = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
              if hasattr(f, "seethink_spec")]


def test_hooks_found():
    assert set(HOOK_NAMES) == set(hookspecs.REGISTRATION_HOOKS) | set(hookspecs.EVENT_HOOKS)


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_every_hook_is_documented(hook):
    fn = getattr(hookspecs, hook)
    assert fn.__doc__ and len(fn.__doc__.strip()) > 40
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"`{hook}`" in readme, f"README's plugin section does not document {hook}"


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_every_hook_has_a_test(hook):
    """Each hook is named by a test ``test_hook_...<hook>...`` somewhere under tests/."""
    tests_dir = Path(__file__).resolve().parents[1]
    pattern = re.compile(rf"def test_hook_\w*{hook}\w*\(")
    assert any(pattern.search(p.read_text(encoding="utf-8")) for p in tests_dir.rglob("test_*.py"))


def _one_kind(hook_name: str, kind: str, spec) -> None:
    plugin = make_plugin("one", **{hook_name: lambda register: register(spec)})
    loaded = load_plugins(extra=[("one", plugin)])
    assert loaded.registry.get(kind, spec.name) is spec
    assert loaded.registry.plugin_of(kind, spec.name) == "one"


def test_hook_register_data_sources():
    _one_kind("register_data_sources", "data_source",
              DataSourceSpec(name="toy_source", factory=lambda o, **k: [], columns=frozenset({"prompt"})))


def test_hook_register_rewards():
    _one_kind("register_rewards", "reward", RewardSpec(name="toy_reward2", factory=lambda o: None))


def test_hook_register_backends():
    _one_kind("register_backends", "backend", BackendSpec(name="toy_backend2", factory=lambda o: None))


def test_hook_register_evaluators():
    _one_kind("register_evaluators", "evaluator", EvaluatorSpec(name="toy_eval2", factory=lambda o: None))


def test_hook_register_models():
    _one_kind("register_models", "model", ModelSpec(name="toy_model2", factory=lambda o, d: d))


def test_plugins_command_lists_first_party_plugins():
    out = subprocess.run([sys.executable, "-m", "seethink_core.cli.main", "plugins", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert '"plugin": "rewards"' in out.stdout and '"plugin": "local"' in out.stdout
