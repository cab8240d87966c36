"""Stand-ins, named as such, for the two modules verl's config checks import but never call here.

Importing ``verl.workers.config`` (the config dataclasses ``validate_config`` builds) runs
``verl/__init__.py`` → ``verl.protocol`` → ``verl.utils.transferqueue_utils``, which imports
``tensordict`` (GPU-batch containers) at the top, and ``verl.utils.profiler`` → ``verl.utils.tracking``,
which imports ``orjson`` (its file logger). Neither is used by any check; neither is installed here. While
``installed()`` is active, importing one that is not installed gives a module whose every attribute is a
do-nothing class, so the verl modules on that path import and their real checks run. Installed packages
are never shadowed.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterator

NAMES = ("tensordict", "orjson")


class StandIn:
    """Any attribute, call, subscript or base class: nothing happens."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> object:
        return args[0] if len(args) == 1 and isinstance(args[0], type) else StandIn()  # decorators keep classes

    def __getattr__(self, name: str) -> object:
        return StandIn()

    def __class_getitem__(cls, item: object) -> type:
        return cls


class _Module(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return StandIn


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, name, path, target=None):  # noqa: ANN001 (importlib's signature)
        if name.split(".")[0] in self.names:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):  # noqa: ANN001
        module = _Module(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:  # noqa: ANN001
        return None


def missing() -> set[str]:
    return {n for n in NAMES if n not in sys.modules and importlib.util.find_spec(n) is None}


@contextlib.contextmanager
def installed() -> Iterator[set[str]]:
    """Stand-ins for the names of ``NAMES`` that are not installed, for the duration."""
    names = missing()
    finder = _Finder(names)
    sys.meta_path.insert(0, finder)
    try:
        yield names
    finally:
        sys.meta_path.remove(finder)
