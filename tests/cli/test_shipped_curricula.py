"""Every shipped curriculum compiles, with its own backend and, where it names none, the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethink_core.compiler import compile_path, list_curricula

CURRICULA = sorted((Path(__file__).resolve().parents[2] / "curricula").glob("*.curr"))


def _cases():
    for path in CURRICULA:
        for name in list_curricula(str(path)):
            yield pytest.param(path, name, id=f"{path.name}:{name}")


@pytest.mark.parametrize("path,name", list(_cases()))
def test_shipped_curriculum_compiles(path, name):
    plan = compile_path(str(path), curriculum=name)
    assert plan.phases, f"{path.name}:{name} has no phases"
    assert plan.backend.name in {"local", "openrlhf"}


def test_paper_recipe_matches_the_reference():
    plan = compile_path(str(CURRICULA[0].parent / "paper.curr"), curriculum="see_then_think")
    assert [p.name for p in plan.phases] == ["perception", "textual_reasoning", "visual_reasoning"]
    assert [p.budget.epochs for p in plan.phases] == [16, 15, 15]
    assert [p.freeze for p in plan.phases] == [[], ["vision"], []]
    a = plan.phases[0].algorithm
    assert (a.group, a.lr, a.kl, a.kl_estimator, a.temperature, a.rollout_batch_size, a.batch_size,
            a.max_response_tokens) == (5, 1e-6, 0.01, "k3", 1.0, 512, 128, 2048)
    assert [(r.name, r.weight) for r in plan.phases[0].rewards] == [("accuracy", 0.9), ("format", 0.1)]
    assert plan.phases[1].init_from == "perception" and plan.phases[1].handoff.optimizer == "reset"
    merged = compile_path(str(CURRICULA[0].parent / "paper.curr"), curriculum="merged")
    assert len(merged.phases) == 1 and len(merged.phases[0].data) == 3 and merged.phases[0].freeze == ["vision"]
    reversed_ = compile_path(str(CURRICULA[0].parent / "paper.curr"), curriculum="reversed")
    assert [p.name for p in reversed_.phases] == ["visual_reasoning", "textual_reasoning", "perception"]
