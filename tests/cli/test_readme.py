"""The README stays true: its DSL example compiles and its two commands are what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from seethink_core.compiler import compile_text, list_curricula

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_dsl_example_compiles():
    section = README.split("## The DSL by example", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    path = ROOT / "README.md"
    names = []
    for name in ("see_then_think", "until_mastered", "merged", "capability_x_difficulty", "reversed"):
        plan = compile_text(block, str(path), curriculum=name)
        names.append(plan.curriculum)
        assert plan.phases
    assert names == ["see_then_think", "until_mastered", "merged", "capability_x_difficulty", "reversed"]


def test_readme_commands_are_the_ci_commands():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in README and "python -m pytest" in ci
    assert "pip install -c constraints/cpu.txt -e '.[all,dev]'" in README
    assert "pip install -q -c constraints/cpu.txt -e '.[all,dev]'" in ci
    assert "seethink run curricula/demo.curr" in README
    assert "demo" in list_curricula(str(ROOT / "curricula" / "demo.curr"))
