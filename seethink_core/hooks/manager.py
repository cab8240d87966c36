"""The plugin manager: pluggy, project ``seethink``, entry-point group ``seethink``.

First-party plugins (``plugins/``) load through the same entry points as
third-party ones. Environment switches:

- ``SEETHINK_DISABLE_PLUGIN_AUTOLOAD=1`` loads only seethink's own plugins;
- ``SEETHINK_BLOCK_PLUGINS=a,b`` skips the named plugins (entry-point names);
- ``SEETHINK_TRACE_HOOKS=1`` prints every hook call to stderr;
- ``SEETHINK_NO_PLUGIN_CACHE=1`` asks ``importlib.metadata`` on every start (see below).

``get_plugins()`` (what a command loads, once per process) reads the entry points from a cache file,
``$SEETHINK_CACHE/plugins.json`` (else ``~/.cache/seethink``), instead of asking ``importlib.metadata``:
that import and its scan of every installed distribution's metadata cost a cold ``seethink check`` a
large share of its start. The cache is keyed by the ``*.dist-info``/``*.egg-info`` entries of every
``sys.path`` folder with their modification times, so installing, removing, upgrading or reinstalling a
distribution (or editing an ``entry_points.txt``) is noticed on the next start.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pluggy

from seethink_core.errors import PluginError
from seethink_core.hooks import hookspecs
from seethink_core.hooks.registry import Registry
from seethink_core.user_cache import user_cache_dir

if TYPE_CHECKING:
    from importlib import metadata

ENTRY_POINT_GROUP = "seethink"
OWN_DISTRIBUTION = "seethink"


@dataclass
class PluginInfo:
    name: str
    version: str
    distribution: str
    module: str
    first_party: bool


@dataclass
class Plugins:
    """A loaded plugin manager and the registry it filled."""

    pm: pluggy.PluginManager
    registry: Registry
    info: dict[str, PluginInfo] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.pm.hook


def _env_list(name: str) -> set[str]:
    return {p.strip() for p in os.environ.get(name, "").split(",") if p.strip()}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("seethink")
    pm.add_hookspecs(hookspecs)
    if _truthy("SEETHINK_TRACE_HOOKS"):
        def before(hook_name: str, impls: list, kwargs: dict) -> None:
            names = ", ".join(i.plugin_name for i in impls)
            print(f"[seethink hook] {hook_name}({', '.join(kwargs)}) -> {names}", file=sys.stderr)

        def after(outcome: Any, hook_name: str, impls: list, kwargs: dict) -> None:
            pass

        pm.add_hookcall_monitoring(before, after)
    return pm


def _entry_points(discovery_cache: bool = False) -> Iterable[metadata.EntryPoint | CachedEntryPoint]:
    """The group's entry points by name: from the disk cache when asked and still valid, else (and then
    refreshing the cache) from ``importlib.metadata``."""
    if not discovery_cache or _truthy("SEETHINK_NO_PLUGIN_CACHE"):
        return _discover()
    try:
        cache = _cache_file()
    except RuntimeError:  # no home folder to keep a cache in
        return _discover()
    key = installed_key()
    found = _read_cache(cache, key)
    if found is not None:
        return found
    eps = _discover()
    _write_cache(cache, key, eps)
    return eps


def _discover() -> list[metadata.EntryPoint]:
    from importlib import metadata  # tens of ms of imports (email, zipfile, csv) and file reads: only when asked

    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


# --- the entry-point cache -----------------------------------------------------------------------------

CACHE_FORMAT = 1
CACHE_KEYS = 8  # digests kept: each virtualenv, and each working folder holding an .egg-info, finds its own
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


# Plain classes, not dataclasses: a dataclass costs its module a millisecond of import, on every start.
class CachedDistribution:
    __slots__ = ("name", "version")

    def __init__(self, name: str, version: str):
        self.name, self.version = name, version


class CachedEntryPoint:
    """An entry point as the cache keeps it, loaded as ``importlib.metadata.EntryPoint.load`` does."""

    __slots__ = ("name", "value", "dist")

    def __init__(self, name: str, value: str, dist: CachedDistribution | None):
        self.name = name
        self.value = value  # "module" or "module:attribute.path", optionally followed by "[extras]"
        self.dist = dist

    def __repr__(self) -> str:
        return f"CachedEntryPoint(name={self.name!r}, value={self.value!r})"

    def load(self) -> Any:
        module_name, _, attrs = self.value.partition("[")[0].partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def installed_key() -> str:
    """A digest of what ``importlib.metadata`` would find: per ``sys.path`` entry, in order, the name and
    modification time of each distribution's metadata folder and of its ``entry_points.txt`` (pip
    writes a new folder on install, upgrade and reinstall, and removes it on uninstall)."""
    parts: list[object] = [CACHE_FORMAT, sys.version, ENTRY_POINT_GROUP,
                           [type(f).__qualname__ for f in sys.meta_path if hasattr(f, "find_distributions")]]
    for entry in sys.path:
        folder = entry or os.getcwd()  # "" is the working folder, as importlib.metadata reads it
        try:
            with os.scandir(folder) as it:
                dists = sorted((d.name, d.stat().st_mtime_ns) for d in it if d.name.endswith(_METADATA_SUFFIXES))
        except NotADirectoryError:  # a zip file or an .egg: its own time stands for what is inside
            parts.append((folder, "file", _mtime(folder)))
            continue
        except OSError:  # not there (yet): it holds nothing, as an empty folder
            continue
        if dists:  # a folder without distributions adds nothing to find, so a working folder adds no key
            parts.append((folder, [(name, mtime, _mtime(os.path.join(folder, name, "entry_points.txt")))
                                   for name, mtime in dists]))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _cache_file() -> Path:
    return user_cache_dir("plugins.json")


def _read_cache(path: Path, key: str) -> list[CachedEntryPoint] | None:
    """The cached entry points for ``key``; None when there are none (or the file is unreadable)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["keys"][key]
        return [CachedEntryPoint(name, value, CachedDistribution(*dist) if dist else None)
                for name, value, dist in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(path: Path, key: str, eps: Iterable[Any]) -> None:
    """Remember ``eps`` under ``key`` (atomically: a concurrent start reads the old file or the new)."""
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))["keys"]
        if not isinstance(keys, dict):
            keys = {}
    except (OSError, ValueError, KeyError, TypeError):
        keys = {}
    keys.pop(key, None)
    keys[key] = [[ep.name, ep.value, [ep.dist.name, ep.dist.version] if ep.dist else None] for ep in eps]
    keys = dict(list(keys.items())[-CACHE_KEYS:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps({"format": CACHE_FORMAT, "keys": keys}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only home: discovery just is not cached
        pass


def load_plugins(extra: Iterable[tuple[str, object]] = (), *, entry_points: bool = True,
                 discovery_cache: bool = False) -> Plugins:
    """Load every plugin, call the registration hooks, and return the filled registry.

    ``extra``: ``(name, module_or_object)`` pairs registered in-process (tests, scripts).
    ``discovery_cache``: take the entry points from the disk cache (module docstring) instead of asking
    ``importlib.metadata``; off by default, so a script that changes what is installed (or patches
    ``importlib.metadata``) in-process sees the change at once.
    """
    pm = new_manager()
    info: dict[str, PluginInfo] = {}
    blocked = _env_list("SEETHINK_BLOCK_PLUGINS")
    third_party_off = _truthy("SEETHINK_DISABLE_PLUGIN_AUTOLOAD")
    if entry_points:
        seen: set[str] = set()
        for ep in _entry_points(discovery_cache):
            dist = ep.dist.name if ep.dist else "?"
            if ep.name in blocked or ep.name in seen:
                continue
            first_party = dist.lower() == OWN_DISTRIBUTION
            if third_party_off and not first_party:
                continue
            try:
                plugin = ep.load()
            except Exception as e:  # a broken plugin must be named, not a bare traceback
                raise PluginError(f"plugin '{ep.name}' (from {dist}) failed to import: "
                                  f"{type(e).__name__}: {e}",
                                  hint=f"uninstall it or set SEETHINK_BLOCK_PLUGINS={ep.name}") from None
            seen.add(ep.name)
            pm.register(plugin, name=ep.name)
            info[ep.name] = PluginInfo(ep.name, ep.dist.version if ep.dist else "?", dist, ep.value,
                                       first_party)
    for name, plugin in extra:
        if name in blocked:
            continue
        if pm.has_plugin(name):
            raise PluginError(f"plugin name '{name}' is used twice")
        pm.register(plugin, name=name)
        info[name] = PluginInfo(name, "-", "(in-process)", getattr(plugin, "__name__", repr(plugin)), False)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        raise PluginError(f"plugin '{e.plugin_name if hasattr(e, 'plugin_name') else '?'}' "
                          f"implements an unknown hook: {e}",
                          hint="hook names are listed in seethink_core.hooks.hookspecs") from None
    registry = Registry()
    _fill(pm, registry)
    return Plugins(pm, registry, info)


def _fill(pm: pluggy.PluginManager, registry: Registry) -> None:
    """Call each registration hook once per plugin so each register() knows its caller."""
    trace = _truthy("SEETHINK_TRACE_HOOKS")
    for hook_name, kind in hookspecs.REGISTRATION_HOOKS.items():
        caller = getattr(pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):  # registration order
            plugin_name = impl.plugin_name

            def register(spec: Any, _kind: str = kind, _plugin: str = plugin_name) -> None:
                registry.add(_kind, spec, _plugin)

            if trace:
                print(f"[seethink hook] {hook_name}(register) -> {plugin_name}", file=sys.stderr)
            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as e:
                raise PluginError(f"plugin '{plugin_name}' failed in {hook_name}: "
                                  f"{type(e).__name__}: {e}") from None


_CACHED: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugins, loaded on first use (entry points from the discovery cache)."""
    global _CACHED
    if _CACHED is None:
        _CACHED = load_plugins(discovery_cache=True)
    return _CACHED


def set_plugins(plugins: Plugins | None) -> None:
    """Replace the process-wide plugins (tests use this to add in-process plugins)."""
    global _CACHED
    _CACHED = plugins
