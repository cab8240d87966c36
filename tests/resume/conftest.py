"""The tiny model, built once for the in-process tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    from seethink_local.tiny_model import build_tiny_vlm

    return build_tiny_vlm(None, tmp_path_factory.mktemp("tiny") / "tiny-vlm")
