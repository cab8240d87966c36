"""The OpenRLHF export writes images already bounded (min/max_pixels) and drops overlong prompts."""

from __future__ import annotations

import base64
import io
import json
import sys

import pytest
from PIL import Image
from seethink_openrlhf.backend import OpenRLHFBackend
from seethink_openrlhf.export import export_phase
from seethink_openrlhf.options import OpenRLHFOptions
from seethink_openrlhf.tokens import prompt_token_counter

from seethink_core.errors import BackendError, DataError
from seethink_core.hooks.backend import Checkpoint
from seethink_core.samples.images import bounded_size
from seethink_core.samples.overlong import DROPPED_METRIC
from seethink_core.types.plan import RewardRef
from seethink_core.types.sample import Sample

LONG_TEXT = " Count every circle in the picture, one by one, carefully." * 4


def rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def png_bytes(size: tuple[int, int], color=(200, 10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def data_uri(size: tuple[int, int]) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(size)).decode()


def test_every_kind_of_image_is_written_bounded(orl, tmp_path):
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.new("RGB", (120, 80), "blue").save(big)
    Image.new("RGB", (60, 40), "blue").save(small)
    inside_uri = data_uri((50, 50))
    samples = [
        Sample(id="pil", prompt="q", images=[Image.new("RGB", (28, 28), "red")]),  # in memory, too small
        Sample(id="bytes", prompt="q", images=[png_bytes((30, 20))]),  # bytes, too small
        Sample(id="files", prompt="q", images=[str(big), str(small)]),  # one too big, one inside
        Sample(id="uris", prompt="q", images=[data_uri((10, 10)), inside_uri]),
    ]
    phase = orl.make_phase("grpo", min_pixels=1600, max_pixels=6000)
    out = rows(export_phase(phase, orl.ListStream(samples), n_prompts=4, out_dir=tmp_path / "x").path)
    sizes = [[Image.open(io.BytesIO(base64.b64decode(p.split(",", 1)[1]))).size if p.startswith("data:")
              else Image.open(p).size for p in r["images"]] for r in out]
    expected = [[bounded_size(28, 28, 1600, 6000)], [bounded_size(30, 20, 1600, 6000)],
                [bounded_size(120, 80, 1600, 6000), (60, 40)], [bounded_size(10, 10, 1600, 6000), (50, 50)]]
    # up by sqrt(1600/784), sqrt(1600/600) and 4; down by sqrt(6000/9600); 2400 and 2500 px are inside
    assert sizes == expected == [[(40, 40)], [(48, 32)], [(94, 63), (60, 40)], [(40, 40), (50, 50)]]
    files, uris = out[2]["images"], out[3]["images"]
    assert files[1] == str(small.resolve())  # inside the bounds: the source file itself
    assert files[0] != str(big.resolve()) and "/images/" in files[0]  # resized: a written copy
    assert Image.open(big).size == (120, 80)  # the source is never touched
    assert uris[1] == inside_uri and uris[0].endswith(".png")  # a URI inside the bounds stays a URI
    assert out[2]["label"] and json.loads(out[2]["label"])["images"] == files  # the reward bridge sees the same


def test_unbounded_exports_are_as_before(orl, tmp_path):
    img = tmp_path / "big.png"
    Image.new("RGB", (120, 80)).save(img)
    uri = data_uri((10, 10))
    out = rows(export_phase(orl.make_phase("grpo"), orl.ListStream([Sample(id="a", prompt="q",
                                                                           images=[str(img), uri])]),
                            n_prompts=1, out_dir=tmp_path / "x").path)
    assert out[0]["images"] == [str(img.resolve()), uri]


def test_a_remote_image_cannot_be_bounded(orl, tmp_path):
    phase = orl.make_phase("grpo", max_pixels=6000)
    stream = orl.ListStream([Sample(id="u", prompt="q", images=["https://example.org/a.png"])])
    with pytest.raises(DataError, match="sample 'u': a remote image .* cannot be bounded"):
        export_phase(phase, stream, n_prompts=1, out_dir=tmp_path)


# ---- overlong prompts -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_processor_dir(tmp_path_factory):
    """The tiny model's processor saved as a model folder would hold it (OpenRLHF loads AutoProcessor)."""
    pytest.importorskip("transformers")
    from seethink_local.tiny_model import build_processor

    folder = tmp_path_factory.mktemp("tiny-processor")
    build_processor().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_processor(tiny_processor_dir):
    import seethink_local.processing  # noqa: F401  (registers the tiny models' processor class)
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_processor_dir)


def alternating(orl, n: int) -> list[Sample]:
    """Odd samples get a long prompt; every sample has one 28x28 image."""
    out = orl.image_samples(n)
    for i, s in enumerate(out):
        s.id = f"{'long' if i % 2 else 'short'}{i}"
        if i % 2:
            s.prompt += LONG_TEXT
    return out


def test_the_count_is_what_the_model_is_fed(orl, tmp_path, tiny_processor):
    """Counted from the exported row, as OpenRLHF tokenizes it, it equals the local backend's prompt length."""
    pytest.importorskip("torch")
    from seethink_local.rollout import encode_prompts

    phase = orl.make_phase("grpo", max_pixels=500)
    samples = alternating(orl, 2) + [Sample(id="text", prompt="What is 2+3?")]
    out = rows(export_phase(phase, orl.ListStream(samples), n_prompts=3, out_dir=tmp_path).path)
    count = prompt_token_counter(tiny_processor)
    from seethink_core.samples.images import ImageBounds

    local = encode_prompts(tiny_processor, samples, phase.prompt, image_bounds=ImageBounds(max_pixels=500))
    assert [count(r) for r in out] == local.attention_mask.sum(1).tolist()
    assert count(out[1]) > count(out[0]) > count(out[2])


def limit_between(orl, processor, tmp_path) -> int:
    """A max_prompt_tokens the short prompts fit and the long ones do not."""
    count = prompt_token_counter(processor)
    probe = rows(export_phase(orl.make_phase("grpo"), orl.ListStream(alternating(orl, 2)), n_prompts=2,
                              out_dir=tmp_path / "probe").path)
    short, long = count(probe[0]), count(probe[1])
    assert long > short + 20
    return (short + long) // 2


def test_drop_leaves_out_overlong_prompts_and_draws_the_next(orl, tmp_path, tiny_processor):
    count = prompt_token_counter(tiny_processor)
    limit = limit_between(orl, tiny_processor, tmp_path)
    phase = orl.make_phase("grpo", batch_size=4, max_prompt_tokens=limit, overlong_prompts="drop")
    stream = orl.ListStream(alternating(orl, 40))
    summary = export_phase(phase, stream, n_prompts=6, out_dir=tmp_path / "x", count_tokens=count)
    out = rows(summary.path)
    ids = [json.loads(r["label"])["id"] for r in out]
    assert ids == ["short0", "short2", "short4", "short6", "short8", "short10"]
    assert summary.prompts == 6 and summary.measured and summary.dropped_overlong == 5
    # step 0: s0 l1 s2 l3, then s4 l5, then s6 (3 dropped); step 1 wants 2: l7 s8, then l9, then s10 (2 dropped)
    assert stream.calls == [(4, 0), (2, 0), (1, 0), (2, 1), (1, 1), (1, 1)]
    # the images written for dropped prompts are gone: only the exported rows' remain
    assert sorted(p.name for p in (tmp_path / "x" / "images").iterdir()) == sorted(
        p.rsplit("/", 1)[1] for r in out for p in r["images"])
    # the same phase without a counter, or truncating, exports every prompt
    assert export_phase(phase, orl.ListStream(alternating(orl, 40)), n_prompts=6,
                        out_dir=tmp_path / "y").dropped_overlong == 0


def backend(**kw) -> OpenRLHFBackend:
    return OpenRLHFBackend(OpenRLHFOptions(ray_address="127.0.0.1:6379", poll_seconds=0.2, python=sys.executable,
                                           gpus_per_node=1, **kw))


def drop_phase(orl, limit: int, **kw):
    phase = orl.make_phase("grpo", batch_size=2, rollout_batch_size=2, max_prompt_tokens=limit,
                           overlong_prompts="drop", **kw)
    return orl.replace(phase, rewards=[RewardRef("accuracy", 0.9), RewardRef("format", 0.1)])


def test_a_dry_run_with_the_processor_drops_and_reports(orl, tmp_path, tiny_processor_dir, tiny_processor):
    phase = drop_phase(orl, limit_between(orl, tiny_processor, tmp_path))
    plan = orl.make_plan([phase], dry_run=True, gpus_per_node=1)
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(alternating(orl, 20)), total_steps=2)
    b = backend(dry_run=True)
    result = b.run_phase(phase, Checkpoint(str(tiny_processor_dir)), ctx)
    recorded = json.loads((ctx.phase_dir / "openrlhf" / "command.json").read_text())
    # 2 steps of 2: s0 l1, s2 (1 dropped); l3 s4, l5, s6 (2 dropped)
    assert recorded["prompts"] == 4 and recorded["overlong_prompts"] == {"dropped": 3, "measured": True}
    assert result.metrics[DROPPED_METRIC] == 3.0


def test_a_dry_run_offline_says_it_did_not_drop(orl, tmp_path, capsys):
    phase = drop_phase(orl, 60)  # its model is a hub id, not in any cache here
    plan = orl.make_plan([phase], dry_run=True, gpus_per_node=1)
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(alternating(orl, 20)), total_steps=2)
    result = backend(dry_run=True).run_phase(phase, Checkpoint(str(tmp_path / "no-such-folder")), ctx)
    recorded = json.loads((ctx.phase_dir / "openrlhf" / "command.json").read_text())
    assert recorded["prompts"] == 4 and recorded["overlong_prompts"]["measured"] is False
    assert "Qwen/Qwen2.5-VL-7B-Instruct" in recorded["overlong_prompts"]["not_measured_because"]
    assert DROPPED_METRIC not in result.metrics  # nothing was measured: no count pretends otherwise
    err = capsys.readouterr().err
    assert "overlong_prompts: drop is not applied in this dry run" in err and "prompts.jsonl holds every" in err


def test_a_real_run_without_the_processor_is_an_error_before_anything_starts(orl, tmp_path):
    phase = orl.replace(drop_phase(orl, 60), model=str(tmp_path / "no-base"))
    plan = orl.make_plan([phase], gpus_per_node=1)
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(alternating(orl, 20)), total_steps=2)
    with pytest.raises(BackendError, match="overlong_prompts: drop needs the model's processor"):
        backend().run_phase(phase, Checkpoint(str(tmp_path / "no-init")), ctx)
    assert not (ctx.phase_dir / "openrlhf" / "prompts.jsonl").exists()


def test_the_job_logs_the_drop_count(orl, tmp_path, standin, tiny_processor_dir, tiny_processor):
    phase = drop_phase(orl, limit_between(orl, tiny_processor, tmp_path))
    plan = orl.make_plan([phase], gpus_per_node=1)
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(alternating(orl, 20)), total_steps=2)
    result = backend().run_phase(phase, Checkpoint(str(tiny_processor_dir)), ctx)
    # every drop happened in the export, so each logged row carries the phase's total
    assert ctx.log.rows and all(m[DROPPED_METRIC] == 3.0 for _, m in ctx.log.rows)
    assert result.metrics[DROPPED_METRIC] == 3.0
