"""The tiny VLM builds offline and reloads with the Auto classes; rollouts and generate() behave."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from seethink_local.backend import LocalBackend  # noqa: E402
from seethink_local.options import LocalOptions  # noqa: E402
from seethink_local.rollout import completion_logprobs, encode_prompts, generate  # noqa: E402

from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.types.sample import Sample  # noqa: E402


def test_tiny_vlm_reloads_with_auto_classes(tiny_dir):
    import seethink_local.processing  # noqa: F401  (registers the image-only processor)
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(tiny_dir)
    processor = AutoProcessor.from_pretrained(tiny_dir)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(processor).__name__ == "SeethinkVLProcessor"
    assert model.config.text_config.hidden_size == 64
    from PIL import Image

    enc = processor(text=["<|vision_start|><|image_pad|><|vision_end|>hi"], images=[Image.new("RGB", (112, 112))],
                    return_tensors="pt")
    # 112 px -> 8x8 patches of 14 px -> 16 tokens after the 2x2 merge
    assert int((enc["input_ids"] == model.config.image_token_id).sum()) == 16


def test_build_is_deterministic_for_a_seed(tmp_path):
    from safetensors.torch import load_file
    from seethink_local.options import TinyVLMOptions
    from seethink_local.tiny_model import build_tiny_vlm

    a = load_file(build_tiny_vlm(TinyVLMOptions(seed=3), tmp_path / "a") / "model.safetensors")
    b = load_file(build_tiny_vlm(TinyVLMOptions(seed=3), tmp_path / "b") / "model.safetensors")
    c = load_file(build_tiny_vlm(TinyVLMOptions(seed=4), tmp_path / "c") / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_registered_name_builds_once_into_the_cache(tmp_path, monkeypatch):
    from seethink_local.modeling import resolve_model_path

    monkeypatch.setenv("SEETHINK_CACHE", str(tmp_path))
    first = resolve_model_path("tiny-vlm", LocalOptions())
    assert (tmp_path / "models").exists() and first.startswith(str(tmp_path))
    assert resolve_model_path("tiny-vlm", LocalOptions()) == first
    assert resolve_model_path(str(tmp_path), LocalOptions()) == str(tmp_path)  # a folder stays a folder


def test_a_changed_corpus_builds_a_fresh_model(tmp_path, monkeypatch):
    """The cache key holds the corpus's hash: a family whose templates change must not reuse a cached
    model whose vocabulary came from the old text."""
    import seethink_synthetic.corpus as corpus
    from seethink_local.modeling import resolve_model_path

    monkeypatch.setenv("SEETHINK_CACHE", str(tmp_path))
    # The key only, not the build: the builder is replaced by one that writes a marker config.
    monkeypatch.setattr("seethink_local.tiny_model.build_tiny_vlm",
                        lambda options, dest: (dest.mkdir(parents=True), (dest / "config.json").write_text("{}")))
    before = resolve_model_path("tiny-vlm", LocalOptions())
    assert resolve_model_path("tiny-vlm", LocalOptions()) == before
    original = corpus.vocabulary
    monkeypatch.setattr(corpus, "vocabulary", lambda: (text.replace("circle", "disc") for text in original()))
    after = resolve_model_path("tiny-vlm", LocalOptions())
    assert after != before


def test_shared_vision_logprobs_equal_a_per_row_forward(warm, kit):
    """The update runs the vision tower once per prompt; the result must equal one forward per completion."""
    from seethink_local.modeling import load_model

    loaded = load_model(str(warm.path), LocalOptions(device="cpu"), torch.device("cpu"))
    model, proc = loaded.model.eval(), loaded.processor
    samples = kit.counting_samples(2, seed=5) + [Sample(id="t", prompt="Two plus one?", answer="3")]
    batch = encode_prompts(proc, samples, None)
    gen = torch.Generator().manual_seed(0)
    ro = generate(model, batch, group=3, max_new_tokens=6, temperature=1.0, top_p=1.0,
                  eos_ids=[proc.tokenizer.eos_token_id], pad_id=proc.tokenizer.pad_token_id, generator=gen)
    rows = torch.arange(3).repeat_interleave(3)
    with torch.no_grad():
        shared, _ = completion_logprobs(model, batch, rows, ro.tokens, ro.mask, group=3)
        single = torch.cat([completion_logprobs(model, batch, rows[i:i + 1], ro.tokens[i:i + 1], ro.mask[i:i + 1],
                                                group=1)[0] for i in range(9)])
    assert torch.allclose(shared * ro.mask, single * ro.mask, atol=1e-4)


def test_greedy_rollout_matches_transformers_generate(warm, kit):
    from seethink_local.modeling import load_model

    loaded = load_model(str(warm.path), LocalOptions(device="cpu"), torch.device("cpu"))
    model, proc = loaded.model.eval(), loaded.processor
    batch = encode_prompts(proc, kit.counting_samples(3, seed=8), None)
    eos = proc.tokenizer.eos_token_id
    ours = generate(model, batch, group=1, max_new_tokens=5, temperature=0.0, top_p=1.0, eos_ids=[eos],
                    pad_id=proc.tokenizer.pad_token_id)
    model.model.rope_deltas = None
    ref = model.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **batch.extra,
                         mm_token_type_ids=(batch.input_ids == model.config.image_token_id).int(),
                         max_new_tokens=5, do_sample=False)[:, batch.input_ids.shape[1]:]
    for i in range(3):
        n = int(ours.lengths[i])
        assert ours.tokens[i, :n].tolist() == ref[i, :n].tolist()


def test_generate_shapes_greedy_determinism_and_facts(warm, kit):
    backend = LocalBackend(LocalOptions(device="cpu"))
    samples = kit.counting_samples(3, seed=11)
    out = backend.generate(Checkpoint(str(warm.path)), samples, n=2, temperature=0.0, max_new_tokens=6)
    assert len(out) == 3 and all(len(c) == 2 for c in out)
    for pair in out:
        assert pair[0].text == pair[1].text  # greedy: every sample of a prompt is the same
        assert 1 <= pair[0].tokens <= 6
    again = backend.generate(Checkpoint(str(warm.path)), samples, n=1, temperature=0.0, max_new_tokens=6)
    assert [c[0].text for c in again] == [c[0].text for c in out]
    sampled = backend.generate(Checkpoint(str(warm.path)), samples, n=4, temperature=1.0, max_new_tokens=6)
    assert all(len(c) == 4 for c in sampled)
    facts = backend.generate(Checkpoint(str(warm.path)), samples, n=1, temperature=0.0, max_new_tokens=6,
                             use_facts=True, prompt_template="{question} Answer:")
    assert len(facts) == 3 and all(isinstance(c[0].text, str) for c in facts)


def test_greedy_rollout_is_the_same_alone_and_beside_a_long_prompt(warm, kit):
    """Left padding must not move a row's decode positions (mrope deltas are relative to the unpadded
    prompt); otherwise generation disagrees with the teacher forcing the model was trained with."""
    from seethink_local.modeling import load_model

    loaded = load_model(str(warm.path), LocalOptions(device="cpu"), torch.device("cpu"))
    model, proc = loaded.model.eval(), loaded.processor
    eos, pad = proc.tokenizer.eos_token_id, proc.tokenizer.pad_token_id
    short = kit.counting_samples(1, seed=3)
    long_text = Sample(id="long", prompt="How many squares? " * 30, answer="1")

    def greedy(samples):
        batch = encode_prompts(proc, samples, None)
        out = generate(model, batch, group=2, max_new_tokens=8, temperature=0.0, top_p=1.0, eos_ids=[eos],
                       pad_id=pad)
        return out.tokens[0, :int(out.lengths[0])].tolist(), batch

    alone, _ = greedy(short)
    padded, batch = greedy(short + [long_text])
    assert int(batch.attention_mask[0].sum()) < batch.input_ids.shape[1]  # row 0 really is padded
    assert padded == alone
    model.model.rope_deltas = None
    ref = model.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **batch.extra,
                         mm_token_type_ids=(batch.input_ids == model.config.image_token_id).int(),
                         max_new_tokens=8, do_sample=False)[:, batch.input_ids.shape[1]:]
    assert ref[0, :len(alone)].tolist() == alone
