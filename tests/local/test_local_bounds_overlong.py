"""The local backend honours ``min_pixels``/``max_pixels`` (training, generation) and ``overlong_prompts: drop``."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from seethink_local.backend import LocalBackend  # noqa: E402
from seethink_local.options import LocalOptions  # noqa: E402
from seethink_local.processing import SeethinkVLProcessor  # noqa: E402

from seethink_core.errors import BackendError, DataError  # noqa: E402
from seethink_core.hooks.backend import Checkpoint, RewardBatch  # noqa: E402
from seethink_core.samples.images import ImageBounds, bounded_size  # noqa: E402
from seethink_core.samples.overlong import DROPPED_METRIC  # noqa: E402
from seethink_core.types.methods import GRPOOptions, SFTOptions  # noqa: E402
from seethink_core.types.sample import Sample  # noqa: E402

CPU = LocalOptions(device="cpu", memory_estimate=False, rollout_dump_every=0)
RL = dict(lr=1e-4, batch_size=2, rollout_batch_size=4, group=2, max_response_tokens=3, kl=0.0)
LONG_TEXT = " Count every red square in the picture carefully." * 4  # the tiny model's prompt: 124 tokens, not 32


@pytest.fixture
def seen_sizes(monkeypatch):
    """The size of every image the processor is handed (it is where the pixels enter the model)."""
    sizes: list[tuple[int, int]] = []
    original = SeethinkVLProcessor.__call__

    def recording(self, *args, images=None, **kwargs):
        sizes.extend(im.size for im in images or [])
        return original(self, *args, images=images, **kwargs)

    monkeypatch.setattr(SeethinkVLProcessor, "__call__", recording)
    return sizes


def wide_samples(kit, n: int) -> list[Sample]:
    """The counting world, its images stretched to 150x90 so the two sides scale differently."""
    out = kit.counting_samples(n)
    for s in out:
        s.images = [s.images[0].resize((150, 90))]
    return out


def test_sft_and_rl_phases_feed_the_processor_bounded_images(tiny_dir, kit, tmp_path, seen_sizes):
    up = bounded_size(150, 90, 20000, 0)
    assert up == (182, 109)  # scaled by sqrt(20000 / 13500)
    phase = kit.make_phase("sft", SFTOptions(lr=1e-4, batch_size=2, min_pixels=20000), steps=1, name="sft")
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), kit.make_ctx(tmp_path, phase, wide_samples(kit, 4)))
    assert seen_sizes and set(seen_sizes) == {up}

    seen_sizes.clear()
    down = bounded_size(150, 90, 0, 5000)
    assert down == (91, 54)
    phase = kit.make_phase("grpo", GRPOOptions(**RL, max_pixels=5000), steps=1, name="rl")
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), kit.make_ctx(tmp_path, phase, wide_samples(kit, 4)))
    assert seen_sizes and set(seen_sizes) == {down}


def test_generate_bounds_images_only_when_asked(tiny_dir, kit, seen_sizes):
    backend = LocalBackend(CPU)
    samples = wide_samples(kit, 2)
    backend.generate(Checkpoint(str(tiny_dir)), samples, n=1, temperature=0.0, max_new_tokens=2)
    assert set(seen_sizes) == {(150, 90)}  # no bounds: the images as they are (the default path)
    seen_sizes.clear()
    backend.generate(Checkpoint(str(tiny_dir)), samples, n=1, temperature=0.0, max_new_tokens=2,
                     image_bounds=ImageBounds(max_pixels=5000))
    assert set(seen_sizes) == {(91, 54)}


def alternating(kit, n: int) -> list[Sample]:
    """Sample i has a prompt of 32 tokens when i is even, 124 when odd (text and one image each)."""
    out = kit.counting_samples(n)
    for i, s in enumerate(out):
        s.id = f"{'long' if i % 2 else 'short'}{i}"
        if i % 2:
            s.prompt += LONG_TEXT
    return out


class Scoring:
    """A reward that records which samples were scored; ``spread``: 1 for the first completion of a
    group and 0 for the rest (groups with spread, for dynamic sampling) on the samples it names."""

    def __init__(self, spread=lambda s: False):
        self.ids: list[str] = []
        self.spread = spread

    def __call__(self, prompts, completions, samples, **_):
        self.ids.extend(s.id for s in samples)
        total = [1.0 if self.spread(s) and (i == 0 or samples[i - 1].id != s.id) else 0.0
                 for i, s in enumerate(samples)]
        return RewardBatch(total=total, components={"accuracy": list(total)})


def test_drop_skips_overlong_prompts_draws_the_next_and_counts_them(tiny_dir, kit, tmp_path, capsys):
    rec, reward = kit.Recorder(), Scoring()
    phase = kit.make_phase("grpo", GRPOOptions(**RL, max_prompt_tokens=64, overlong_prompts="drop"), steps=4)
    ctx = kit.make_ctx(tmp_path, phase, alternating(kit, 40), reward=reward, recorder=rec)
    result = LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    assert result.steps == 4
    assert reward.ids and all(i.startswith("short") for i in reward.ids)
    # Rollout 1 draws s0 l1 s2 l3, then 2 more (s4 l5), then 1 (s6): 3 dropped. Rollout 2 (step 2): l7 s8 l9 s10,
    # l11 s12, l13, s14: 4 more. The metric is the phase's running total.
    assert ctx.data.calls == [(4, 0), (2, 0), (1, 0), (4, 2), (2, 2), (1, 2), (1, 2)]
    assert rec.series(DROPPED_METRIC) == [3.0, 3.0, 7.0, 7.0]
    assert result.samples_seen == 8  # prompts trained on; dropped ones never reached the model
    note = capsys.readouterr().err
    assert note.count("dropping prompts longer than max_prompt_tokens (64; the first had 124 tokens)") == 1


def test_drop_also_filters_the_refills_of_dynamic_sampling(tiny_dir, kit, tmp_path):
    rec = kit.Recorder()
    reward = Scoring(spread=lambda s: int(s.id.removeprefix("short").removeprefix("long")) % 4 == 0)
    algo = GRPOOptions(**RL, max_prompt_tokens=64, overlong_prompts="drop", dynamic_sampling=True)
    phase = kit.make_phase("grpo", algo, steps=2)
    ctx = kit.make_ctx(tmp_path, phase, alternating(kit, 400), reward=reward, recorder=rec)
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    assert len(ctx.data.calls) > 3 and all(i.startswith("short") for i in reward.ids)
    # every odd sample drawn from the stream was dropped, refills included
    assert rec.series(DROPPED_METRIC)[-1] == ctx.data.pos // 2


def test_truncate_stays_the_default_behaviour(tiny_dir, kit, tmp_path):
    rec = kit.Recorder()
    phase = kit.make_phase("grpo", GRPOOptions(**RL), steps=1)
    ctx = kit.make_ctx(tmp_path, phase, alternating(kit, 4), recorder=rec)
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    assert ctx.data.calls == [(2, 0)] and DROPPED_METRIC not in rec.logs[-1][1]  # one step: 2 prompts
    # an image prompt over the limit is still refused when truncating (an image cannot be cut)
    phase = kit.make_phase("grpo", GRPOOptions(**RL, max_prompt_tokens=64), steps=1)
    with pytest.raises((DataError, BackendError), match="longer than max_prompt_tokens"):
        LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), kit.make_ctx(tmp_path, phase,
                                                                                   alternating(kit, 4)))


def test_the_drop_count_survives_a_resume(tiny_dir, kit, tmp_path):
    import json

    from seethink_local.resume import LOOP

    opts = LocalOptions(device="cpu", memory_estimate=False, rollout_dump_every=0, checkpoint_every=2)
    phase = kit.make_phase("grpo", GRPOOptions(**RL, max_prompt_tokens=64, overlong_prompts="drop"), steps=4)
    ctx = kit.make_ctx(tmp_path / "full", phase, alternating(kit, 40), reward=Scoring())
    ctx.resume_dir = tmp_path / "full" / "resume"
    LocalBackend(opts).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    saved = ctx.resume_dir / "step-00000002"
    assert json.loads((saved / LOOP).read_text())["extra"]["dropped_overlong"] == 3
    rec = kit.Recorder()
    again = kit.make_ctx(tmp_path / "again", phase, alternating(kit, 40), reward=Scoring(), recorder=rec)
    again.resume_dir, again.resume_from = tmp_path / "again" / "resume", saved
    LocalBackend(opts).run_phase(phase, Checkpoint(str(tiny_dir)), again)
    assert rec.series(DROPPED_METRIC) == [7.0, 7.0]  # the running total goes on from the checkpoint's 3
