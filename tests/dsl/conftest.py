"""Fixtures for the DSL tests: fake plugins for every name the test curricula use."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _load(name: str, file: str):
    """Import a helper module of this folder under a unique name (tests use --import-mode=importlib)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fakes_module = _load("seethink_test_fakes", "fakes.py")
support_module = _load("seethink_test_support", "support.py")


@pytest.fixture
def fakes(with_plugins, monkeypatch):
    """Only the fake plugins (first-party plugins blocked: they may not exist yet); returns the registry."""
    monkeypatch.setenv("SEETHINK_BLOCK_PLUGINS", fakes_module.FIRST_PARTY)
    return with_plugins(("fakes", fakes_module.Fakes())).registry

