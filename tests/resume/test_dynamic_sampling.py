"""DAPO dynamic sampling: groups without reward spread never reach the loss; the batch is refilled.

A scripted reward makes every third prompt's group constant at 0.5 (a mean-based "all 0 / all 1"
filter would keep it), every third constant at 1.0, and the rest graded with spread.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from seethink_local import trainer  # noqa: E402
from seethink_local.dynamic_sampling import groups_with_spread  # noqa: E402

from seethink_core.errors import BackendError  # noqa: E402
from seethink_core.hooks.backend import RewardBatch  # noqa: E402
from seethink_core.types.methods import DAPOOptions, GRPOOptions, RLOptions  # noqa: E402
from seethink_core.types.sample import Sample  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from doubles import Logs, run_phase  # noqa: E402

GROUP = 3
GRADED = (0.2, 0.7, 0.45)  # non-binary rewards with spread


def kind(sample_id: str) -> str:
    return ("half", "one", "graded")[int(sample_id[1:]) % 3]


def scripted_reward(prompts: Any, completions: list[str], samples: list[Sample], **_: Any) -> RewardBatch:
    total = []
    for k, s in enumerate(samples):
        total.append({"half": 0.5, "one": 1.0}.get(kind(s.id), GRADED[k % GROUP]))
    return RewardBatch(total=total, components={"scripted": list(total)})


def always_one(prompts: Any, completions: list[str], samples: list[Sample], **_: Any) -> RewardBatch:
    return RewardBatch(total=[1.0] * len(samples), components={"scripted": [1.0] * len(samples)})


def run(tiny: Path, tmp: Path, method: str, algo: RLOptions, reward: Any, steps: int) -> Logs:
    return run_phase(tiny, tmp, method, algo, reward, steps).logs


def test_spread_is_judged_by_variance_not_by_the_mean():
    rewards = [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.2, 0.7, 0.45, 0.0, 1.0, 0.0, 0.3, 0.3, 0.3 + 1e-9]
    assert groups_with_spread(rewards, 3) == [False, False, False, True, True, False]


def test_groups_without_spread_never_reach_the_loss(tiny, tmp_path, monkeypatch):
    trained: list[list[str]] = []
    real_finish = trainer.finish_rollout

    def spy(session, phase, scored, steps):
        trained.append([s.id for s in scored.samples])
        return real_finish(session, phase, scored, steps)

    monkeypatch.setattr(trainer, "finish_rollout", spy)
    algo = DAPOOptions(lr=1e-3, batch_size=3, rollout_batch_size=3, group=GROUP, max_response_tokens=3,
                       overlong_buffer=0)
    assert algo.dynamic_sampling  # on by default for dapo
    logs = run(tiny, tmp_path, "dapo", algo, scripted_reward, steps=3)
    assert len(trained) == 3
    assert all(kind(i) == "graded" for batch in trained for i in batch)
    assert all(len(batch) == 3 for batch in trained)  # refilled to the full batch
    assert trained[0] == ["s2", "s5", "s8"]  # the first draw's only graded prompt, then refills in order
    kept = [m["dynamic_sampling.kept_fraction"] for _, m in logs.rows]
    assert kept == [pytest.approx(1 / 3)] * 3
    assert [m["dynamic_sampling.extra_prompts"] for _, m in logs.rows] == [6.0, 6.0, 6.0]
    assert all(m["dynamic_sampling.batch_fill"] == 1.0 for _, m in logs.rows)
    assert logs.rows[-1][1]["samples_seen"] == 27.0  # every prompt drawn counts, kept or not


def test_without_dynamic_sampling_every_group_is_trained(tiny, tmp_path, monkeypatch):
    trained: list[str] = []
    real_finish = trainer.finish_rollout
    monkeypatch.setattr(trainer, "finish_rollout",
                        lambda session, phase, scored, steps: trained.extend(s.id for s in scored.samples)
                        or real_finish(session, phase, scored, steps))
    algo = GRPOOptions(lr=1e-3, batch_size=3, rollout_batch_size=3, group=GROUP, max_response_tokens=3, kl=0.0)
    logs = run(tiny, tmp_path, "grpo", algo, scripted_reward, steps=2)
    assert trained == ["s0", "s1", "s2", "s3", "s4", "s5"]
    assert not any(k.startswith("dynamic_sampling.") for _, m in logs.rows for k in m)


def test_a_phase_with_no_spread_at_all_stops_with_a_clear_error(tiny, tmp_path):
    algo = DAPOOptions(lr=1e-3, batch_size=2, rollout_batch_size=2, group=2, max_response_tokens=2,
                       overlong_buffer=0)
    with pytest.raises(BackendError, match="no prompt whose completions differ in reward in 4 rollouts"):
        run(tiny, tmp_path, "dapo", algo, always_one, steps=2)
