"""The ``doubles`` fixture: the rewards of rewards_doubles.py, importable by plain name here and in
the reward workers (which unpickle them by module name)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def doubles():
    sys.path.insert(0, str(HERE))
    try:
        yield importlib.import_module("rewards_doubles")
    finally:
        sys.path.remove(str(HERE))
