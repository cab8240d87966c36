"""The entry-point discovery cache (seethink_core.hooks.manager): what ``get_plugins()`` reads instead of asking
``importlib.metadata`` on every start. It must see an install, an uninstall and an edited
``entry_points.txt`` on the next start, and say what ``importlib.metadata`` says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seethink_core.hooks.manager import CachedDistribution, CachedEntryPoint, _entry_points, load_plugins

PLUGIN_MODULE = '''
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import RewardSpec


@hookimpl
def register_rewards(register):
    register(RewardSpec(name="{reward}", factory="{module}:make"))


def make(options):
    return lambda prompts, completions, **columns: [1.0] * len(completions)
'''


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A folder on sys.path holding a plugin module that no distribution declares yet, and a fresh cache."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "fakeplug_mod.py").write_text(PLUGIN_MODULE.format(reward="fake_reward", module="fakeplug_mod"))
    (folder / "otherplug_mod.py").write_text(PLUGIN_MODULE.format(reward="other_reward", module="otherplug_mod"))
    monkeypatch.setenv("SEETHINK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SEETHINK_NO_PLUGIN_CACHE", raising=False)
    monkeypatch.syspath_prepend(str(folder))
    for name in ("fakeplug_mod", "otherplug_mod"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return folder


def install(site: Path, dist: str, version: str, entry_points: str) -> Path:
    """What pip leaves behind: a ``NAME-VERSION.dist-info`` folder with METADATA and entry_points.txt."""
    info = site / f"{dist}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    return info


def cache_file(site: Path) -> Path:
    return site.parent / "cache" / "plugins.json"


def test_a_plugin_installed_after_the_cache_was_written_is_found_and_gone_after_uninstall(site):
    before = load_plugins(discovery_cache=True)
    assert "fakeplug" not in before.info
    assert cache_file(site).exists()  # written by the first start

    info = install(site, "fakeplug", "1.0", "[seethink]\nfakeplug = fakeplug_mod\n")
    after = load_plugins(discovery_cache=True)
    assert after.info["fakeplug"].version == "1.0"
    assert after.info["fakeplug"].distribution == "fakeplug"
    assert not after.info["fakeplug"].first_party
    assert after.registry.plugin_of("reward", "fake_reward") == "fakeplug"

    shutil.rmtree(info)
    assert "fakeplug" not in load_plugins(discovery_cache=True).info


def test_an_upgrade_and_an_edited_entry_points_file_are_noticed(site):
    info = install(site, "fakeplug", "1.0", "[seethink]\nfakeplug = fakeplug_mod\n")
    assert load_plugins(discovery_cache=True).info["fakeplug"].version == "1.0"

    info.rename(site / "fakeplug-1.1.dist-info")  # pip replaces the folder; its name carries the version
    (site / "fakeplug-1.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.1\n")
    assert load_plugins(discovery_cache=True).info["fakeplug"].version == "1.1"

    # An editable install's entry points edited in place: the folder keeps its name, the file changes.
    eps = site / "fakeplug-1.1.dist-info" / "entry_points.txt"
    eps.write_text("[seethink]\nfakeplug = fakeplug_mod\notherplug = otherplug_mod\n")
    stat = eps.stat()
    os.utime(eps, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    loaded = load_plugins(discovery_cache=True)
    assert {"fakeplug", "otherplug"} <= set(loaded.info)
    assert loaded.registry.plugin_of("reward", "other_reward") == "otherplug"


def test_the_cache_says_what_importlib_metadata_says(site):
    install(site, "fakeplug", "2.0", "[seethink]\nfakeplug = fakeplug_mod\n")
    fresh = load_plugins()
    load_plugins(discovery_cache=True)  # writes the cache
    cached = load_plugins(discovery_cache=True)  # reads it
    assert [type(ep) for ep in _entry_points(discovery_cache=True)] == [CachedEntryPoint] * len(fresh.info)
    assert {n: vars(i) for n, i in cached.info.items()} == {n: vars(i) for n, i in fresh.info.items()}
    assert {"data", "synthetic", "rewards", "local", "openrlhf", "eval", "fakeplug"} <= set(cached.info)


def test_an_unreadable_cache_is_rebuilt(site):
    cache_file(site).parent.mkdir(parents=True)
    cache_file(site).write_text("{not json")
    assert "rewards" in load_plugins(discovery_cache=True).info
    keys = json.loads(cache_file(site).read_text())["keys"]
    assert len(keys) == 1 and any(row[0] == "rewards" for row in next(iter(keys.values())))


def test_the_switch_turns_the_cache_off(site, monkeypatch):
    monkeypatch.setenv("SEETHINK_NO_PLUGIN_CACHE", "1")
    assert "rewards" in load_plugins(discovery_cache=True).info
    assert not cache_file(site).exists()


def test_a_cached_entry_point_loads_as_importlib_metadata_loads_one():
    dist = CachedDistribution("x", "1")
    assert CachedEntryPoint("j", "os.path:join", dist).load() is os.path.join
    assert CachedEntryPoint("j", "os:path.join [extra]", dist).load() is os.path.join
    assert CachedEntryPoint("m", "json", None).load() is json


def test_a_cache_hit_does_not_import_importlib_metadata(tmp_path):
    """The point of the cache: a start that finds it valid skips importlib.metadata's imports and scan."""
    code = textwrap.dedent("""
        import sys
        from seethink_core.hooks.manager import get_plugins
        assert "rewards" in get_plugins().info
        print("importlib.metadata" in sys.modules)
    """)
    env = {**os.environ, "SEETHINK_CACHE": str(tmp_path / "cache")}
    env.pop("SEETHINK_NO_PLUGIN_CACHE", None)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                           cwd=tmp_path) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert [r.stdout.strip() for r in runs] == ["True", "False"]
