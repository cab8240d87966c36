"""The phase's sample stream: order, filters, pacing, mixture weights, exact resume."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from seethink_core.errors import DataError, PluginError
from seethink_core.run.pacing import admitted_range, admitted_share
from seethink_core.run.stream import build_stream, count_samples
from seethink_core.types.plan import DataRef, Difficulty, Pacing


def jsonl_ref(tmp_path, n: int = 40, name: str = "d", capability: str | None = None, **kw) -> DataRef:
    """``n`` text records with difficulties 0, 1/(n-1), ..., 1."""
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"id": f"{name}{i}", "prompt": f"{name} {i}", "difficulty": i / (n - 1)})
                            + "\n" for i in range(n)))
    return DataRef("jsonl", {"path": str(path)}, capability=capability, **kw)


def synthetic(count: int = 40, **options) -> DataRef:
    return DataRef("synthetic", {"count": count, "capability": "textual_reasoning", **options})


def drain(stream, n: int, step: int = 0):
    return stream.next_batch(n, step)


def test_easy_to_hard_serves_difficulty_in_order_with_seeded_ties(registry, make_phase):
    phase = make_phase(synthetic(60), difficulty=Difficulty(order="easy_to_hard"))
    stream = build_stream(phase, registry, seed=1)
    epoch = drain(stream, stream.total_samples())
    ds = [s.difficulty for s in epoch]
    assert ds == sorted(ds) and len({s.id for s in epoch}) == 60
    again = drain(build_stream(phase, registry, seed=1), 60)
    assert [s.id for s in again] == [s.id for s in epoch]
    # Ties are broken by the seed, not by source order, and the same way in every epoch.
    other = drain(build_stream(phase, registry, seed=2), 60)
    assert sorted(s.difficulty for s in other) == [s.difficulty for s in other]
    second_epoch = drain(stream, 60)
    assert [s.id for s in second_epoch] == [s.id for s in epoch]


def test_hard_to_easy(registry, make_phase, tmp_path):
    stream = build_stream(make_phase(jsonl_ref(tmp_path), difficulty=Difficulty(order="hard_to_easy")),
                          registry, seed=0)
    ds = [s.difficulty for s in drain(stream, 40)]
    assert ds == sorted(ds, reverse=True)


def test_shuffle_gives_each_sample_once_per_epoch_and_reshuffles(registry, make_phase, tmp_path):
    stream = build_stream(make_phase(jsonl_ref(tmp_path)), registry, seed=3)
    first, second = drain(stream, 40), drain(stream, 40)
    assert sorted(s.id for s in first) == sorted(s.id for s in second) == sorted(f"jsonl-d{i}" for i in range(40))
    assert [s.id for s in first] != [s.id for s in second]
    assert stream.epoch == 1


def test_batches_cross_epoch_boundaries(registry, make_phase, tmp_path):
    stream = build_stream(make_phase(jsonl_ref(tmp_path, n=10)), registry, seed=0)
    batches = [drain(stream, 4) for _ in range(5)]  # 20 samples = 2 epochs
    ids = [s.id for b in batches for s in b]
    assert Counter(ids) == Counter({f"jsonl-d{i}": 2 for i in range(10)})


def test_range_filter_never_serves_a_filtered_sample(registry, make_phase, tmp_path):
    phase = make_phase(jsonl_ref(tmp_path), difficulty=Difficulty(min=0.2, max=0.7))
    stream = build_stream(phase, registry, seed=0)
    served = [s for _ in range(10) for s in drain(stream, 7)]
    assert all(0.2 <= s.difficulty <= 0.7 for s in served)
    inside = sum(0.2 <= i / 39 <= 0.7 for i in range(40))
    assert stream.total_samples() == inside == count_samples(phase, registry, 0)


def test_a_filter_that_leaves_nothing_is_an_error(registry, make_phase):
    with pytest.raises(DataError, match="no samples to train on"):
        build_stream(make_phase(synthetic(10, level=0), difficulty=Difficulty(min=0.5)), registry, seed=0)


@pytest.mark.parametrize("kind, step, share", [
    ("linear", 0, 0.2), ("linear", 40, 0.6), ("linear", 80, 1.0), ("linear", 100, 1.0),
    ("root", 20, 0.2 + 0.8 * 0.5), ("step", 26, 0.2), ("step", 27, 0.2 + 0.8 / 3), ("step", 79, 0.2 + 1.6 / 3),
])
def test_pacing_share(kind, step, share):
    pacing = Pacing(kind=kind, start=0.2, full_at=0.8, stages=3)
    assert admitted_share(pacing, step, 100) == pytest.approx(share)


def test_pacing_admits_the_easy_range_first_then_widens(registry, make_phase, tmp_path):
    difficulty = Difficulty(min=0.0, max=1.0, pacing=Pacing(kind="linear", start=0.25, full_at=0.5))
    stream = build_stream(make_phase(jsonl_ref(tmp_path, n=41), difficulty=difficulty), registry, seed=0)
    stream.set_total_steps(100)
    assert admitted_range(difficulty, 0, 100) == (0.0, 0.25)
    early = drain(stream, 8, step=0)
    assert all(s.difficulty <= 0.25 for s in early)
    middle = drain(stream, 8, step=25)  # share 0.625
    assert all(s.difficulty <= 0.625 + 1e-9 for s in middle)
    late = [s for _ in range(6) for s in drain(stream, 8, step=60)]
    assert max(s.difficulty for s in late) > 0.625  # everything admitted from step 50
    assert len({s.id for s in early + middle}) == 16  # no repeats inside an epoch


def test_hard_to_easy_pacing_widens_from_the_hard_end(registry, make_phase, tmp_path):
    difficulty = Difficulty(order="hard_to_easy", pacing=Pacing(kind="step", start=0.5, full_at=1.0, stages=2))
    stream = build_stream(make_phase(jsonl_ref(tmp_path), difficulty=difficulty), registry, seed=0)
    stream.set_total_steps(10)
    assert all(s.difficulty >= 0.5 for s in drain(stream, 10, step=0))


def test_pacing_never_starves_when_the_easiest_source_has_no_weight(registry, make_phase, tmp_path):
    easy = jsonl_ref(tmp_path, n=5, name="a", weight=0.0)
    hard = DataRef("synthetic", {"count": 20, "level": 3, "capability": "textual_reasoning"})
    difficulty = Difficulty(pacing=Pacing(kind="linear", start=0.1, full_at=1.0))
    stream = build_stream(make_phase(easy, hard, difficulty=difficulty), registry, seed=0)
    stream.set_total_steps(100)
    batch = drain(stream, 30, step=0)
    assert {s.source for s in batch} == {"synthetic"} and stream.epoch == 1


def test_weights_set_each_sources_share(registry, make_phase, tmp_path):
    a = jsonl_ref(tmp_path, n=40, name="a", weight=3.0)
    b = jsonl_ref(tmp_path, n=40, name="b", weight=1.0)
    stream = build_stream(make_phase(a, b), registry, seed=0)
    assert stream.total_samples() == 80
    counts = Counter(s.id.split("-")[1][0] for s in drain(stream, 80))
    assert counts == {"a": 60, "b": 20}  # source a is upsampled: its samples repeat
    equal = build_stream(make_phase(jsonl_ref(tmp_path, n=30, name="c"), jsonl_ref(tmp_path, n=10, name="e")),
                         registry, seed=0)
    assert Counter(s.id.split("-")[1][0] for s in drain(equal, 40)) == {"c": 30, "e": 10}  # plain union


def test_resume_reproduces_the_exact_sequence(registry, make_phase, tmp_path):
    difficulty = Difficulty(pacing=Pacing(kind="root", start=0.3, full_at=0.7))
    phase = make_phase(jsonl_ref(tmp_path, n=23), synthetic(17), difficulty=difficulty)
    original = build_stream(phase, registry, seed=4)
    original.set_total_steps(30)
    for step in range(7):
        drain(original, 5, step)
    state = json.loads(json.dumps(original.state_dict()))  # JSON-able
    expected = [[s.id for s in drain(original, 5, step)] for step in range(7, 20)]
    resumed = build_stream(phase, registry, seed=4)
    resumed.load_state_dict(state)
    assert [[s.id for s in drain(resumed, 5, step)] for step in range(7, 20)] == expected
    with pytest.raises(DataError, match="cannot resume"):
        build_stream(phase, registry, seed=5).load_state_dict(state)


def test_capability_is_stamped_where_the_source_leaves_it_empty(registry, make_phase, tmp_path):
    stream = build_stream(make_phase(jsonl_ref(tmp_path, capability="textual_reasoning")), registry, seed=0)
    assert {s.capability for s in drain(stream, 40)} == {"textual_reasoning"}


def test_synthetic_is_served_lazily(registry, make_phase):
    stream = build_stream(make_phase(DataRef("synthetic", {"count": 5000})), registry, seed=0)
    assert stream.catalogues[0].items is None  # nothing drawn up front
    assert stream.total_samples() == count_samples(make_phase(DataRef("synthetic", {"count": 5000})), registry, 0)
    batch = drain(stream, 4)
    assert len(batch) == 4 and all(s.source == "synthetic" for s in batch)


def test_encoded_images_are_decoded_for_the_batch(registry, make_phase, tmp_path, png_bytes, write_parquet):
    write_parquet(tmp_path / "x.parquet", [{"prompt": "p", "image": png_bytes()}])
    (s,) = drain(build_stream(make_phase(DataRef("parquet", {"path": str(tmp_path / "x.parquet")})),
                              registry, seed=0), 1)
    assert s.images[0].size == (8, 8)


def test_difficulty_overrides_replace_what_the_source_says(registry, make_phase, tmp_path):
    phase = make_phase(jsonl_ref(tmp_path, n=4), difficulty=Difficulty(order="easy_to_hard"))
    overrides = {"jsonl-d0": 0.9, "jsonl-d1": 0.1, "jsonl-d2": 0.2, "jsonl-d3": 0.3}
    stream = build_stream(phase, registry, seed=0, difficulties=overrides)
    assert [s.id for s in drain(stream, 4)] == ["jsonl-d1", "jsonl-d2", "jsonl-d3", "jsonl-d0"]


def test_difficulty_overrides_keep_synthetic_lazy(registry, make_phase):
    phase = make_phase(synthetic(30, level=0), difficulty=Difficulty(order="hard_to_easy"))
    stream = build_stream(phase, registry, seed=0, difficulties={"synthetic-0-17": 0.9})
    assert stream.catalogues[0].items is None
    first = drain(stream, 1)[0]
    assert first.id == "synthetic-0-17" and first.difficulty == 0.9


def test_open_errors_name_the_source(registry, make_phase, tmp_path):
    with pytest.raises(PluginError, match="unknown data source 'synthetc'"):
        build_stream(make_phase(DataRef("synthetc")), registry, seed=0)
    with pytest.raises(DataError, match="takes no field mapping"):
        build_stream(make_phase(DataRef("synthetic", {"count": 3}, mapping={"prompt": "q"})), registry, seed=0)
    with pytest.raises(DataError, match="option 'count' must be an integer"):
        build_stream(make_phase(DataRef("synthetic", {"count": "many"})), registry, seed=0)


def test_mix_blocks_serves_each_source_as_a_sorted_block_and_cycles_every_epoch(registry, make_phase, tmp_path):
    """The reference's stitched capability×difficulty file: perception → text → visual, each easy → hard,
    the same cycle every epoch (a 15-epoch job over one unshuffled file)."""
    from dataclasses import replace

    refs = [jsonl_ref(tmp_path, 12, "per"), jsonl_ref(tmp_path, 8, "txt"), jsonl_ref(tmp_path, 10, "vis")]
    phase = replace(make_phase(*refs, difficulty=Difficulty(order="easy_to_hard")), mixture="blocks")
    stream = build_stream(phase, registry, seed=5)
    assert stream.total_samples() == 30
    first, second = drain(stream, 30), drain(stream, 30)
    names = [s.id.split("-")[1].rstrip("0123456789") for s in first]
    assert names == ["per"] * 12 + ["txt"] * 8 + ["vis"] * 10
    for lo, hi in ((0, 12), (12, 20), (20, 30)):
        block = [s.difficulty for s in first[lo:hi]]
        assert block == sorted(block)
    assert [s.id for s in second] == [s.id for s in first]
    # The interleaved mix of the same data sorts across sources instead.
    mixed = drain(build_stream(make_phase(*refs, difficulty=Difficulty(order="easy_to_hard")), registry, seed=5), 30)
    assert [s.id.split("-")[1].rstrip("0123456789") for s in mixed] != names
    # Shuffled blocks keep the block order, reshuffling inside each block every epoch.
    shuffled = build_stream(replace(phase, difficulty=Difficulty()), registry, seed=5)
    a, b = drain(shuffled, 30), drain(shuffled, 30)
    assert [s.id.split("-")[1].rstrip("0123456789") for s in a] == names
    assert [s.id for s in a] != [s.id for s in b] and sorted(s.id for s in a) == sorted(s.id for s in b)
    # Resuming mid-block continues exactly.
    resumed = build_stream(phase, registry, seed=5)
    drain(resumed, 17)
    state = resumed.state_dict()
    again = build_stream(phase, registry, seed=5)
    again.load_state_dict(state)
    assert [s.id for s in drain(again, 13)] == [s.id for s in first[17:]]


def test_drop_last_keeps_whole_rollout_batches_and_leaves_the_same_hard_tail_out(registry, make_phase, tmp_path):
    """EasyR1's loader (drop_last=True): 3,360 perception items at rollout batch 512 train 6 rollouts an
    epoch, not 6.56; sorted easy → hard, the hardest 288 are left out of every epoch."""
    from dataclasses import replace

    from seethink_core.run.runner import resolve_total_steps
    from seethink_core.types.methods import GRPOOptions

    phase = make_phase(jsonl_ref(tmp_path, 50), difficulty=Difficulty(order="easy_to_hard"))
    phase = replace(phase, algorithm=GRPOOptions(rollout_batch_size=16, batch_size=4, drop_last=True))
    stream = build_stream(phase, registry, seed=0)
    assert stream.total_samples() == 48 and count_samples(phase, registry, 0) == 48
    first, second = drain(stream, 48), drain(stream, 48)
    assert [s.id for s in first] == [s.id for s in second]
    assert max(s.difficulty for s in first) < 48.5 / 49  # the two hardest never come
    from seethink_core.types.plan import Budget

    assert resolve_total_steps(replace(phase, budget=Budget(epochs=16)), stream.total_samples()) == 16 * 48 // 4
    kept = build_stream(replace(phase, algorithm=GRPOOptions(rollout_batch_size=16, batch_size=4)), registry, seed=0)
    assert kept.total_samples() == 50
    with pytest.raises(DataError, match="no whole rollout batch"):
        build_stream(replace(phase, algorithm=GRPOOptions(rollout_batch_size=64, batch_size=4, drop_last=True)),
                     registry, seed=0)
