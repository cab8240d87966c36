"""Option schemas bind values with types, bounds and did-you-mean, reporting every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seethink_core.errors import SourcePos
from seethink_core.types.methods import METHODS, DAPOOptions, DrGRPOOptions, GRPOOptions
from seethink_core.types.options import describe, opt, validate


@dataclass(frozen=True)
class Schema:
    path: str
    lr: float = opt(1e-6, min=0)
    group: int = opt(5, min=1)
    mode: Literal["fast", "slow"] = "fast"
    tags: list[str] = field(default_factory=list)
    flag: bool = False
    limit: int | None = None


def test_binds_and_converts():
    obj, problems = validate(Schema, {"path": "x", "lr": 1, "group": 3.0, "tags": "a", "limit": None})
    assert problems == []
    assert obj == Schema(path="x", lr=1.0, group=3, tags=["a"], limit=None)
    assert isinstance(obj.lr, float) and isinstance(obj.group, int)


def test_reports_every_problem_with_its_position():
    def where(name):
        return SourcePos("f.curr", 3, {"lr": 10, "grop": 20, "mode": 30, "flag": 40}.get(name, 1))

    obj, problems = validate(Schema, {"lr": -1.0, "grop": 2, "mode": "medium", "flag": 1}, what="algorithm grpo",
                             where=where)
    assert obj is None
    messages = {p.message: p for p in problems}
    assert "algorithm grpo: option 'lr' must be at least 0, not -1" in messages
    assert messages["algorithm grpo: unknown option 'grop'"].hint == "did you mean 'group'?"
    assert messages["algorithm grpo: unknown option 'grop'"].pos.col == 20
    assert "algorithm grpo: option 'mode' must be one of 'fast', 'slow', not a string" in messages
    assert "algorithm grpo: option 'flag' must be a boolean (true or false), not an integer" in messages
    assert "algorithm grpo: missing required option 'path'" in messages


def test_bool_is_not_an_int_and_float_is_not_an_int():
    _, problems = validate(Schema, {"path": "p", "group": True})
    assert problems and "must be an integer" in problems[0].message
    _, problems = validate(Schema, {"path": "p", "group": 2.5})
    assert problems and "must be an integer" in problems[0].message


def test_describe_lists_types_defaults_and_docs():
    info = {o.name: o for o in describe(GRPOOptions)}
    assert info["lr"].default == 1e-6 and "learning rate" in info["lr"].doc
    assert info["kl_estimator"].type == "'k1' | 'k2' | 'k3'"
    assert not info["group"].required


def test_method_defaults_follow_the_method_table():
    assert GRPOOptions().std_normalize and GRPOOptions().loss_agg == "seq_mean_token_mean"
    assert GRPOOptions().kl_estimator == "k3" and GRPOOptions().kl == 0.01 and GRPOOptions().group == 5
    assert not DrGRPOOptions().std_normalize and DrGRPOOptions().loss_agg == "seq_mean_token_sum_norm"
    dapo = DAPOOptions()
    assert (dapo.clip_low, dapo.clip_high, dapo.loss_agg, dapo.dynamic_sampling) == (0.2, 0.28, "token_mean", True)
    assert set(METHODS) == {"grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline", "sft"}
