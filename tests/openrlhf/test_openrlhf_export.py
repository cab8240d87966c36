"""A phase's data as OpenRLHF VLM JSONL: order kept, template applied, images saved, labels decodable."""

from __future__ import annotations

import json

import pytest
from seethink_openrlhf.export import export_phase

from seethink_core.errors import DataError
from seethink_core.samples.labels import decode_label
from seethink_core.types.sample import Sample


def rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_follow_the_stream_order_with_template_and_images(orl, tmp_path):
    samples = orl.image_samples(6)
    stream = orl.ListStream(samples)
    phase = orl.make_phase("grpo", batch_size=4)
    summary = export_phase(phase, stream, n_prompts=10, out_dir=tmp_path)
    assert summary.prompts == 10 and summary.max_images == 1
    assert stream.calls == [(4, 0), (4, 1), (2, 2)]  # pulled step by step, like a trainer
    out = rows(summary.path)
    assert [decode_label(r["label"]).id for r in out] == [f"s{i % 6}" for i in range(10)]
    first = out[0]
    (message,) = first["prompt"]
    assert message["role"] == "user"
    assert message["content"][0] == {"type": "image"}
    text = message["content"][1]["text"]
    assert text.startswith("How many circles are there? (0) You FIRST think") and "\\boxed{}" in text
    assert len(first["images"]) == 1 and first["images"][0].endswith(".png")
    from PIL import Image

    assert Image.open(first["images"][0]).size == (28, 28)
    assert first["datasource"] == "synthetic"


def test_label_carries_what_rewards_need(orl, tmp_path):
    summary = export_phase(orl.make_phase("grpo"), orl.ListStream(orl.image_samples(2)), n_prompts=2,
                           out_dir=tmp_path)
    sample = decode_label(rows(summary.path)[1]["label"])
    assert sample.answer == "1" and sample.capability == "perception" and sample.facts == "1 circles"
    assert sample.meta == {"choices": ["1", "2", "3", "4"], "level": "easy"}
    assert sample.difficulty == pytest.approx(0.5) and sample.images[0].endswith(".png")


def test_text_only_and_path_images(orl, tmp_path):
    from PIL import Image

    img = tmp_path / "given.png"
    Image.new("RGB", (8, 8)).save(img)
    samples = [Sample(id="t1", prompt="What is 2+3?", answer="5", capability="textual_reasoning"),
               Sample(id="p/1", prompt="Two images?", images=[str(img), img.read_bytes()], answer="yes",
                      meta={"odd": {1, 2}})]
    summary = export_phase(orl.make_phase("grpo"), orl.ListStream(samples), n_prompts=2, out_dir=tmp_path / "x")
    text_row, image_row = rows(summary.path)
    assert text_row["images"] == [] and text_row["prompt"][0]["content"][0]["type"] == "text"
    assert image_row["images"][0] == str(img.resolve()) and summary.max_images == 2
    assert "p_1" in image_row["images"][1]  # an id never becomes a path separator
    remote = ["https://example.org/a.png", "data:image/png;base64,AAAA"]  # OpenRLHF's load_images reads both
    summary = export_phase(orl.make_phase("grpo"), orl.ListStream([Sample(id="u", prompt="q", images=remote)]),
                           n_prompts=1, out_dir=tmp_path / "y")
    assert rows(summary.path)[0]["images"] == remote
    assert decode_label(image_row["label"]).meta["odd"] in ("{1, 2}", "{2, 1}")  # odd meta is stringified


def test_the_jsonl_loads_as_a_dataset_like_openrlhf_does(orl, tmp_path):
    """blending_datasets loads a .jsonl with datasets' json builder: mixed rows must share one schema."""
    datasets = pytest.importorskip("datasets")
    samples = orl.image_samples(2) + [Sample(id="t", prompt="2+2?", answer="4")]
    summary = export_phase(orl.make_phase("grpo"), orl.ListStream(samples), n_prompts=3, out_dir=tmp_path)
    ds = datasets.load_dataset("json", data_files=str(summary.path), split="train",
                               cache_dir=str(tmp_path / "hf-cache"))
    assert len(ds) == 3 and ds[2]["images"] == []
    assert ds[0]["prompt"][0]["content"][0]["type"] == "image"


def test_bad_data_is_one_clear_error(orl, tmp_path):
    missing = [Sample(id="m", prompt="q", images=[str(tmp_path / "nope.png")])]
    with pytest.raises(DataError, match="phase 'perception', sample 'm': image file not found"):
        export_phase(orl.make_phase("grpo"), orl.ListStream(missing), n_prompts=1, out_dir=tmp_path / "a")
    corrupt = [Sample(id="c", prompt="q", images=[b"not an image"])]
    with pytest.raises(DataError, match="cannot decode an image"):
        export_phase(orl.make_phase("grpo"), orl.ListStream(corrupt), n_prompts=1, out_dir=tmp_path / "b")

    class Empty(orl.ListStream):
        def next_batch(self, n, step):
            return []

    with pytest.raises(DataError, match="gave no samples"):
        export_phase(orl.make_phase("grpo"), Empty([]), n_prompts=4, out_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "prompts.jsonl").exists()


def test_a_system_prompt_is_the_first_message(orl, tmp_path):
    import dataclasses

    phase = dataclasses.replace(orl.make_phase("grpo", batch_size=2), prompt="{question|trim} Go.",
                                system="Think first. ({question|trim})")
    samples = [Sample(id="s0", prompt="  Count the circles.  ", answer="2", source="synthetic")]
    out = rows(export_phase(phase, orl.ListStream(samples), n_prompts=1, out_dir=tmp_path).path)
    assert out[0]["prompt"] == [
        {"role": "system", "content": "Think first. (Count the circles.)"},
        {"role": "user", "content": [{"type": "text", "text": "Count the circles. Go."}]},
    ]


def test_a_replay_reaches_the_exported_prompts_in_its_share(orl, tmp_path):
    """OpenRLHF trains on the exported rows in order, so a phase's replay is in them as the runner's
    stream places it: a quarter of every 8 prompts here."""
    import dataclasses

    from seethink_core.hooks.manager import load_plugins
    from seethink_core.run.stream import build_stream
    from seethink_core.types.plan import DataRef, Replay

    def ref(name: str, capability: str) -> DataRef:
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"id": f"{name}{i}", "prompt": f"q {i}", "answer": "1"}) + "\n"
                                for i in range(20)))
        return DataRef("jsonl", {"path": str(path)}, capability=capability)

    phase = dataclasses.replace(orl.make_phase("grpo", batch_size=8), data=[ref("own", "visual_reasoning")],
                                replay=Replay(share=0.25, stages=["p"], data=[ref("old", "perception")]))
    stream = build_stream(phase, load_plugins().registry, seed=0)
    out = rows(export_phase(phase, stream, n_prompts=32, out_dir=tmp_path / "x").path)
    labels = [decode_label(r["label"]) for r in out]
    assert len(labels) == 32
    assert [sum(s.capability == "perception" for s in labels[i:i + 8]) for i in range(0, 32, 8)] == [2, 2, 2, 2]
