"""Every syntax and semantic error message, pinned by golden files (golden/errors/NAME.curr → NAME.txt).

Each message is ``file:line:col: message``, the source line and a caret; all semantic errors of a
curriculum come together. SEETHINK_UPDATE_GOLDEN=1 rewrites the .txt files.
"""

from __future__ import annotations

import pytest
import seethink_test_support as support

from seethink_core.compiler import check_paths
from seethink_core.errors import SOURCES, render

ERROR_FILES = sorted((support.GOLDEN / "errors").glob("*.curr"))


@pytest.mark.parametrize("path", ERROR_FILES, ids=lambda p: p.stem)
def test_error_golden(path, fakes, monkeypatch):
    monkeypatch.chdir(path.parent)
    [result] = check_paths([path.name], registry=fakes)
    assert not result.ok, f"{path.name} compiled without errors"
    for d in result.diagnostics:
        assert d.pos is not None, f"unpositioned: {d.message}"
    text = "\n".join(render(d, SOURCES) for d in result.diagnostics) + "\n"
    assert "LBRACE" not in text and "RBRACE" not in text and "$END" not in text and "Traceback" not in text
    support.compare_golden(path.with_suffix(".txt"), text)
