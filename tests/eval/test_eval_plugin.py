"""The eval plugin registers the built-in evaluators through the entry point, each documented and buildable."""

from __future__ import annotations

from seethink_core.hooks.manager import load_plugins
from seethink_core.run.eval_types import DEFAULT_EVALUATORS, build_evaluators


def test_builtin_evaluators_are_registered_by_the_eval_plugin():
    plugins = load_plugins()
    reg = plugins.registry
    assert set(DEFAULT_EVALUATORS) <= set(reg.names("evaluator"))
    for name in DEFAULT_EVALUATORS:
        assert reg.plugin_of("evaluator", name) == "eval"
        assert reg.get("evaluator", name).doc
    loaded = build_evaluators([], reg)  # empty list = the defaults
    assert [e.name for e in loaded] == list(DEFAULT_EVALUATORS)
    assert [e.name for e in loaded if "facts" in e.needs] == ["perception_split"]
    assert all(e.fn([]) == {} for e in loaded)  # no records, no metrics (and no division by zero)
