"""``replay share: S``: the phase's stream with S of every batch from earlier stages' data."""

from __future__ import annotations

import dataclasses
import json

import pytest

from seethink_core.errors import DataError
from seethink_core.run.replay import replayed_count
from seethink_core.run.stream import build_stream
from seethink_core.types.plan import DataRef, Difficulty, Replay


def jsonl_ref(tmp_path, name: str, n: int, capability: str) -> DataRef:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"id": f"{name}{i}", "prompt": f"{name} {i}", "difficulty": i / (n - 1)})
                            + "\n" for i in range(n)))
    return DataRef("jsonl", {"path": str(path)}, capability=capability)


@pytest.fixture
def replay_phase(tmp_path, make_phase):
    own = jsonl_ref(tmp_path, "own", 40, "visual_reasoning")
    earlier = [jsonl_ref(tmp_path, "seen", 30, "perception"), jsonl_ref(tmp_path, "text", 10, "textual_reasoning")]

    def make(share: float = 0.2, order: str = "easy_to_hard"):
        phase = make_phase(own, difficulty=Difficulty(order=order))
        return dataclasses.replace(phase, replay=Replay(share=share, stages=["a", "b"], data=earlier))
    return make


def test_the_share_is_exact_over_the_phase_and_within_one_per_batch():
    counts = [replayed_count(0.2, 8 * b, 8) for b in range(10)]
    assert counts == [2, 1, 2, 1, 2, 2, 1, 2, 1, 2] and sum(counts) == 16
    assert sum(replayed_count(0.3, 7 * b, 7) for b in range(100)) == 210


def test_batches_mix_the_share_at_seeded_places_and_keep_the_own_order(registry, replay_phase):
    stream = build_stream(replay_phase(0.25), registry, seed=0)
    batches = [stream.next_batch(8, step) for step in range(5)]
    replayed = [[s for s in b if not s.id.startswith("jsonl-own")] for b in batches]
    assert [len(r) for r in replayed] == [2, 2, 2, 2, 2]
    own = [s for b in batches for s in b if s.id.startswith("jsonl-own")]
    assert [s.difficulty for s in own] == sorted(s.difficulty for s in own)  # easy → hard, replay aside
    places = [[i for i, s in enumerate(b) if not s.id.startswith("jsonl-own")] for b in batches]
    assert len({tuple(p) for p in places}) > 1  # not always the same places
    caps = {s.capability for r in replayed for s in r}
    assert caps <= {"perception", "textual_reasoning"} and "perception" in caps
    again = build_stream(replay_phase(0.25), registry, seed=0)
    assert [s.id for b in batches for s in b] == [s.id for _ in range(5) for s in again.next_batch(8, 0)]


def test_an_epoch_is_one_pass_over_the_own_data(registry, replay_phase):
    stream = build_stream(replay_phase(0.2), registry, seed=0)
    assert stream.total_samples() == 50  # 40 own samples are 80% of what one pass serves
    served = stream.next_batch(stream.total_samples(), 0)
    assert sorted(s.id for s in served if s.id.startswith("jsonl-own")) == sorted(f"jsonl-own{i}" for i in range(40))
    assert stream.epoch == 0


def test_the_stream_resumes_exactly(registry, replay_phase):
    a = build_stream(replay_phase(0.3, order="shuffle"), registry, seed=4)
    for step in range(3):
        a.next_batch(6, step)
    state = json.loads(json.dumps(a.state_dict()))
    b = build_stream(replay_phase(0.3, order="shuffle"), registry, seed=4)
    b.load_state_dict(state)
    assert [s.id for s in a.next_batch(12, 3)] == [s.id for s in b.next_batch(12, 3)]
    with pytest.raises(DataError, match="replay share changed"):
        build_stream(replay_phase(0.1, order="shuffle"), registry, seed=4).load_state_dict(state)
    with pytest.raises(DataError, match="without this phase's replay"):
        b.load_state_dict({"version": 1, "seed": 4})
