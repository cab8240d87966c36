"""Fixtures for evaluation and report tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from eval_doubles import eval_plugin  # noqa: E402


@pytest.fixture
def eval_plugins(with_plugins):
    """The installed plugins (real rewards and evaluators) plus the toy eval source."""
    return with_plugins(("evaltoy", eval_plugin()))
