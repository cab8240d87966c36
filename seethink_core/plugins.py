"""The plugin manager: pluggy, project ``seethink``, entry-point group ``seethink``.

First-party plugins (``plugins/``) load through the same entry points as
third-party ones. Environment switches:

- ``SEETHINK_DISABLE_PLUGIN_AUTOLOAD=1`` loads only seethink's own plugins;
- ``SEETHINK_BLOCK_PLUGINS=a,b`` skips the named plugins (entry-point names);
- ``SEETHINK_TRACE_HOOKS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable

import pluggy

from seethink_core import hookspecs
from seethink_core.errors import PluginError
from seethink_core.registry import Registry

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


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def load_plugins(extra: Iterable[tuple[str, object]] = (), *, entry_points: bool = True) -> Plugins:
    """Load every plugin, call the registration hooks, and return the filled registry.

    ``extra``: ``(name, module_or_object)`` pairs registered in-process (tests, scripts).
    """
    pm = new_manager()
    info: dict[str, PluginInfo] = {}
    blocked = _env_list("SEETHINK_BLOCK_PLUGINS")
    third_party_off = _truthy("SEETHINK_DISABLE_PLUGIN_AUTOLOAD")
    if entry_points:
        seen: set[str] = set()
        for ep in _entry_points():
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
                          hint="hook names are listed in seethink_core.hookspecs") from None
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
    """The process-wide plugins, loaded on first use."""
    global _CACHED
    if _CACHED is None:
        _CACHED = load_plugins()
    return _CACHED


def set_plugins(plugins: Plugins | None) -> None:
    """Replace the process-wide plugins (tests use this to add in-process plugins)."""
    global _CACHED
    _CACHED = plugins
