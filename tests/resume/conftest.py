"""The tiny model, built once for the in-process tests of this folder, and a fork server for the
tests that run ``seethink`` as separate processes (forkrun.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    from seethink_local.tiny_model import build_tiny_vlm

    return build_tiny_vlm(None, tmp_path_factory.mktemp("tiny") / "tiny-vlm")


@pytest.fixture(scope="session")
def fork_runner(tmp_path_factory) -> Iterator[Any]:
    """One server that imported the CLI and torch once; each ``start``/``main``/``run`` forks a child."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    sys.path.insert(0, str(Path(__file__).parent))
    from forkrun import ForkRunner

    root = tmp_path_factory.mktemp("forked")
    runner = ForkRunner({"SEETHINK_CACHE": str(root / "cache"), "HF_HUB_OFFLINE": "1",
                         "TOKENIZERS_PARALLELISM": "false"})
    try:
        yield runner
    finally:
        runner.close()
