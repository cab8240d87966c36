"""Shared fixtures. Test doubles (fake backends, scripted models) live under tests/."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from seethink_core.hooks import manager as plugins_mod  # noqa: E402


@pytest.fixture
def with_plugins() -> Iterator:
    """``with_plugins(("name", module_or_obj), ...)`` loads the installed plugins plus in-process ones
    and makes them the process-wide plugins for the test."""
    previous = plugins_mod._CACHED

    def load(*extra):
        loaded = plugins_mod.load_plugins(extra=extra)
        plugins_mod.set_plugins(loaded)
        return loaded

    yield load
    plugins_mod.set_plugins(previous)
