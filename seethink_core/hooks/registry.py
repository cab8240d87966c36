"""What plugins register: one spec type per kind, and the registry that holds them.

Specs are cheap to build: a factory is a ``"module:attribute"`` string that is
imported only when the thing is used, so registering the local backend does
not import torch.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from seethink_core.errors import PluginError, did_you_mean
from seethink_core.types.options import NoOptions

Factory = Callable[..., Any] | str


def load_factory(factory: Factory, what: str) -> Callable[..., Any]:
    if callable(factory):
        return factory
    module_name, _, attr = factory.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except ImportError as e:
        raise PluginError(f"{what} cannot be used here: importing '{module_name}' failed: {e}",
                          hint="install the extra it needs (see the README)") from None
    except AttributeError:
        raise PluginError(f"{what}: '{factory}' names nothing") from None
    return obj


@dataclass(frozen=True, kw_only=True)
class Spec:
    name: str
    factory: Factory
    options: type = NoOptions
    doc: str = ""
    kind = "component"

    def load(self) -> Callable[..., Any]:
        return load_factory(self.factory, f"{self.kind} '{self.name}'")


@dataclass(frozen=True, kw_only=True)
class DataSourceSpec(Spec):
    """``factory(options, *, seed) -> source``; a source iterates ``Sample`` values.

    ``columns``: the ``Sample`` fields it fills (``answer``, ``images``, ``facts``, ...).
    ``needs_network``: loading it contacts a hub (preflight says so offline).
    ``mappable``: it reads records with named fields, so a ``.curr`` file may map ``Sample``
    fields onto them (``prompt: "problem"``); the factory then gets ``mapping=``.
    ``vocabulary``: a ``"module:function"`` (or callable) returning the source's typical text (its
    questions, facts, solutions, answers) in a fixed order: a tokenizer built offline, such as the
    local backend's tiny models', learns its words from it.
    """

    columns: frozenset[str] = frozenset({"prompt", "answer"})
    needs_network: bool = False
    mappable: bool = False
    vocabulary: Factory | None = None
    kind = "data source"


@dataclass(frozen=True, kw_only=True)
class RewardSpec(Spec):
    """``factory(options) -> reward``; ``needs``: the ``Sample`` columns the reward reads."""

    needs: frozenset[str] = frozenset()
    kind = "reward"


@dataclass(frozen=True, kw_only=True)
class BackendSpec(Spec):
    """``factory(options) -> backend``. ``methods``: the training methods it runs;
    ``features``: optional abilities (``"generate"``, ``"lora"``, ``"resume_in_phase"`` ...)."""

    methods: frozenset[str] = frozenset()
    features: frozenset[str] = frozenset()
    check: Factory | None = None  # optional ``check(plan) -> list[Diagnostic]`` for backend-specific rules
    kind = "backend"


@dataclass(frozen=True, kw_only=True)
class EvaluatorSpec(Spec):
    needs: frozenset[str] = frozenset()
    kind = "evaluator"


@dataclass(frozen=True, kw_only=True)
class ModelSpec(Spec):
    """``factory(options, dest_dir) -> path of a Hugging Face model folder``."""

    kind = "model"


SPEC_TYPES: dict[str, type[Spec]] = {
    "data_source": DataSourceSpec,
    "reward": RewardSpec,
    "backend": BackendSpec,
    "evaluator": EvaluatorSpec,
    "model": ModelSpec,
}

KIND_WORDS = {
    "data_source": "data source",
    "reward": "reward",
    "backend": "backend",
    "evaluator": "evaluator",
    "model": "model",
}


_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _valid_name(kind: str, name: object) -> bool:
    """Models are named by strings in a .curr file (`model "tiny-vlm"`), everything else by bare words."""
    if not isinstance(name, str):
        return False
    if kind == "model":
        return bool(_MODEL_NAME.match(name)) and "/" not in name
    return name.isidentifier()


@dataclass
class Entry:
    spec: Spec
    plugin: str


@dataclass
class Registry:
    """Everything registered, by kind and name, with the plugin that registered it."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=lambda: {k: {} for k in SPEC_TYPES})

    def add(self, kind: str, spec: Any, plugin: str) -> None:
        want = SPEC_TYPES[kind]
        if not isinstance(spec, want):
            raise PluginError(f"plugin '{plugin}' registered {spec!r} as a {KIND_WORDS[kind]}; "
                              f"expected a {want.__name__}")
        if not _valid_name(kind, spec.name):
            rule = "letters, digits, '_', '-' and '.'" if kind == "model" else "an identifier"
            raise PluginError(f"plugin '{plugin}' registered a {KIND_WORDS[kind]} with an invalid name "
                              f"{spec.name!r} (a name usable in a .curr file: {rule})")
        existing = self.entries[kind].get(spec.name)
        if existing is not None:
            raise PluginError(f"{KIND_WORDS[kind]} '{spec.name}' is registered twice: by plugin "
                              f"'{existing.plugin}' and by plugin '{plugin}'",
                              hint="block one of them with SEETHINK_BLOCK_PLUGINS")
        self.entries[kind][spec.name] = Entry(spec, plugin)

    def get(self, kind: str, name: str) -> Any:
        entry = self.entries[kind].get(name)
        if entry is None:
            raise PluginError(self.unknown_message(kind, name), hint=did_you_mean(name, self.names(kind)))
        return entry.spec

    def find(self, kind: str, name: str) -> Any | None:
        entry = self.entries[kind].get(name)
        if entry is None and kind == "model":
            # "tiny-vlm" and "tiny_vlm" name the same model: users type either.
            entry = self.entries[kind].get(name.replace("-", "_")) or self.entries[kind].get(name.replace("_", "-"))
        return entry.spec if entry else None

    def plugin_of(self, kind: str, name: str) -> str:
        return self.entries[kind][name].plugin

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def unknown_message(self, kind: str, name: str) -> str:
        return f"unknown {KIND_WORDS[kind]} '{name}'"

    def by_plugin(self, plugin: str) -> Iterator[tuple[str, Spec]]:
        for kind, entries in self.entries.items():
            for entry in entries.values():
                if entry.plugin == plugin:
                    yield kind, entry.spec
