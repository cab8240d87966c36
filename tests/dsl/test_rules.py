"""Each rule of docs/dsl.md's rules table, pinned by a golden plan (golden/plans/rNN_*.curr → .yaml).

Each file's ``# compile:`` lines say what to compile; the golden YAML holds a summary of each plan
(options only where they differ from their defaults). SEETHINK_UPDATE_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import pytest
import seethink_test_support as support

from seethink_core.compiler import compile_path

PLAN_FILES = sorted((support.GOLDEN / "plans").glob("r*.curr"))


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda p: p.stem)
def test_rule_golden_plan(path, fakes, monkeypatch):
    monkeypatch.chdir(path.parent)
    out = []
    for label, kwargs in support.compile_lines(path):
        plan = compile_path(path.name, registry=fakes, **kwargs)
        out.append({"compile": label, **support.summarize(plan)})
    assert out, f"{path.name} has no '# compile:' line"
    support.compare_golden(path.with_suffix(".yaml"), support.dump(out))


def test_every_rule_is_documented():
    docs = (support.HERE.parents[1] / "docs" / "dsl.md").read_text(encoding="utf-8")
    for path in PLAN_FILES:
        rule = path.stem.split("_")[0].upper()  # r01 -> R01
        assert f"| {rule} " in docs, f"docs/dsl.md's rules table has no row {rule} (pinned by {path.name})"
        assert path.name in docs, f"docs/dsl.md does not name {path.name}"


def test_docs_examples_compile(tmp_path):
    """Every curriculum shown in docs/dsl.md compiles with the installed plugins (imports dropped: the
    examples stand alone); tests/cli/test_docs_examples.py checks README.md and every doc the same way."""
    import re

    from seethink_core.compiler import check_paths

    docs = (support.HERE.parents[1] / "docs" / "dsl.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```\n(.*?)```", docs, re.S) if re.search(r"^curriculum \w+", b, re.M)]
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        path = tmp_path / f"example{i}.curr"
        path.write_text("\n".join(line for line in block.splitlines() if not line.startswith("import ")))
        [result] = check_paths([path])
        assert result.ok, [d.message for d in result.diagnostics]
