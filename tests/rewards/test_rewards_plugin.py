"""The rewards plugin: what it registers, option checking, and that registering imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seethink_core.errors import ConfigError
from seethink_core.hooks.manager import load_plugins
from seethink_core.run.rewards.combine import build_components
from seethink_core.types.options import validate
from seethink_core.types.plan import RewardRef

NAMES = {"format", "accuracy", "choice", "numeric", "iou", "count", "length", "overlong"}


@pytest.fixture(scope="module")
def registry():
    return load_plugins().registry


def test_every_reward_is_registered_by_the_rewards_plugin(registry) -> None:
    assert NAMES <= set(registry.names("reward"))
    for name in NAMES:
        assert registry.plugin_of("reward", name) == "rewards"
        spec = registry.get("reward", name)
        assert spec.doc
        fn = spec.load()(validate(spec.options, {})[0])
        assert fn.__name__ == name
    assert "answer" in registry.get("reward", "accuracy").needs
    assert not registry.get("reward", "format").needs


def test_every_reward_is_rebuilt_by_its_constructors_where_it_is_unpickled(registry) -> None:
    # A reward worker gets its rewards by pickle. Rebuilt through the constructors (not by filling in
    # their dictionaries), a copy grades as fast as the original; and what the constructor sets up, the
    # copy has afresh (the accuracy reward imports its graders again).
    import pickle

    for name in NAMES:
        spec = registry.get("reward", name)
        fn = spec.load()(validate(spec.options, {})[0])
        if hasattr(fn, "warmup"):
            fn.warmup()
        again = pickle.loads(pickle.dumps(fn))
        assert type(again) is type(fn) and again.options == fn.options and again.__name__ == name
        assert again.options is not fn.options
        assert again.__dict__.keys() == fn.__dict__.keys()
        if name == "accuracy":
            assert fn._graders and again._graders is None


def test_registering_imports_no_grader() -> None:
    code = ("import sys; from seethink_core.hooks.manager import load_plugins; load_plugins(); "
            "print(sorted(m for m in ('sympy', 'mathruler', 'math_verify') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_options_are_config_errors(registry) -> None:
    with pytest.raises(ConfigError) as err:
        build_components([RewardRef("accuracy", 1.0, {"grader": "sympy", "tolrance": 0.1})], registry)
    text = str(err.value)
    assert "reward 'accuracy': option 'grader' must be one of 'seethink', 'mathruler', 'math_verify', 'any'" in text
    assert "unknown option 'tolrance' (did you mean 'tolerance'?)" in text
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        build_components([RewardRef("format", 1.0, {"pattern": "(<think>"})], registry)
    with pytest.raises(ConfigError, match="must be at most 1"):
        build_components([RewardRef("iou", 1.0, {"threshold": 2})], registry)


def test_unknown_reward_suggests_a_name(registry) -> None:
    from seethink_core.errors import PluginError

    with pytest.raises(PluginError, match="unknown reward 'acuracy'") as err:
        build_components([RewardRef("acuracy")], registry)
    assert "did you mean 'accuracy'" in str(err.value)


def test_repeated_rewards_get_distinct_component_names(registry) -> None:
    parts = build_components([RewardRef("numeric", 0.5), RewardRef("numeric", 0.5, {"tolerance": 0.1})], registry)
    assert [p.name for p in parts] == ["numeric", "numeric_2"]
