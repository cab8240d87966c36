"""Every shipped curriculum (curricula/*.curr) compiles with the installed plugins, every curriculum in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethink_core.compiler import check_paths
from seethink_core.errors import render

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "curricula").glob("*.curr"))


@pytest.mark.parametrize("path", SHIPPED or [None], ids=lambda p: p.name if p else "none-yet")
def test_shipped_curriculum_compiles(path):
    if path is None:
        pytest.skip("no curricula shipped yet (they land with the plugins whose names they use)")
    [result] = check_paths([path])
    assert result.ok, "\n".join(render(d) for d in result.diagnostics)
    assert result.curricula >= 1 and result.phases >= 1
