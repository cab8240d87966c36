"""The lean decode step (seethink_local.fast_decode) computes what transformers' forward computes."""

from __future__ import annotations

import pytest
import torch
from seethink_local import fast_decode
from seethink_local import rollout as R
from seethink_local.kv_buffer import buffer_cache

from seethink_core.types.sample import Sample


def _load(path):
    import seethink_local.processing  # noqa: F401  (registers the tiny processor)
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
    proc = AutoProcessor.from_pretrained(path)
    proc.tokenizer.padding_side = "left"
    return model, proc


def _mixed(kit) -> list[Sample]:
    """Pictures and a longer text-only prompt: rows of different lengths, so some are left-padded."""
    return kit.counting_samples(2, seed=4) + [Sample(id="t", prompt="How many squares are there? " * 3, answer="2")]


def _rollout(model, proc, batch, *, fast: bool, monkeypatch, temperature=1.0, seed=0):
    monkeypatch.setattr(R, "fast_decode_supports", fast_decode.supports if fast else (lambda core: False))
    gen = torch.Generator().manual_seed(seed)
    return R.generate(model, batch, group=3, max_new_tokens=12, temperature=temperature, top_p=1.0,
                      eos_ids=[-1], pad_id=proc.tokenizer.pad_token_id, generator=gen)


def test_the_tiny_models_take_the_lean_step(tiny_dir):
    model, _ = _load(tiny_dir)
    assert fast_decode.supports(model)


def test_sampled_rollouts_equal_the_transformers_forward(tiny_dir, kit, monkeypatch):
    model, proc = _load(tiny_dir)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    assert int(batch.attention_mask.sum(-1).min()) < batch.input_ids.shape[1]  # a row really is padded
    for temperature in (0.0, 1.0):
        lean = _rollout(model, proc, batch, fast=True, monkeypatch=monkeypatch, temperature=temperature)
        plain = _rollout(model, proc, batch, fast=False, monkeypatch=monkeypatch, temperature=temperature)
        assert torch.equal(lean.tokens, plain.tokens)
        assert torch.equal(lean.lengths, plain.lengths)


def test_text_only_rollouts_equal_the_transformers_forward(tiny_dir, monkeypatch):
    """The facts pass and text stages: no pictures in the batch at all."""
    model, proc = _load(tiny_dir)
    samples = [Sample(id="a", prompt="Two plus one?", answer="3"),
               Sample(id="b", prompt="How many sides has a square? Count them.", answer="4")]
    batch = R.encode_prompts(proc, samples, None)
    assert not batch.extra
    lean = _rollout(model, proc, batch, fast=True, monkeypatch=monkeypatch)
    plain = _rollout(model, proc, batch, fast=False, monkeypatch=monkeypatch)
    assert torch.equal(lean.tokens, plain.tokens)


def _sharpen(model) -> None:
    """Larger query and key weights: a random tiny model attends almost uniformly, which would hide a
    wrong scale, mask or rotation in the attention."""
    with torch.no_grad():
        for layer in model.model.language_model.layers:
            layer.self_attn.q_proj.weight.mul_(8)
            layer.self_attn.k_proj.weight.mul_(8)


# The lean step's attention is two matmuls and a softmax where transformers calls one SDPA kernel: the same
# sums in another order, float32 rounding (~2.5e-7 on these logits).
ATOL = 2e-6


def prefilled(model, batch, group: int, room: int):
    """The prompts prefilled into buffers with ``room`` free slots, each row ``group`` times: the cache,
    the rows' attention mask and each row's first decode position."""
    mm = {"mm_token_type_ids": R.mm_token_types(model, batch.input_ids)} if batch.extra else {}
    model.model.rope_deltas = None
    with torch.no_grad():
        pre = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=True,
                    logits_to_keep=1, **batch.extra, **mm)
    cache = pre.past_key_values
    assert buffer_cache(cache, group, room)
    attn = batch.attention_mask.repeat_interleave(group, 0)
    first = attn.sum(-1) + model.model.rope_deltas.repeat_interleave(group, 0).view(-1)
    return cache, attn, first


def _step_logits(model, batch, group: int, steps: int):
    """Next-token logits of ``steps`` fed tokens through the lean step and through ``model(...)``."""
    out = []
    for lean in (True, False):
        cache, attn, first = prefilled(model, batch, group, steps + 1)
        n = attn.shape[0]
        decoder = fast_decode.FastDecoder(model, cache.layers, attn) if lean else None
        tokens = torch.arange(n) % 50 + 3
        got = []
        for t in range(steps):
            if decoder is not None:
                got.append(decoder.step(tokens, first + t))
            else:
                mask = torch.cat([attn, torch.ones(n, t + 1, dtype=attn.dtype)], dim=1)
                with torch.no_grad():
                    step = model(input_ids=tokens[:, None], attention_mask=mask, cache=cache, use_cache=True,
                                 position_ids=(first + t).view(1, n, 1).expand(3, n, 1))
                cache = step.past_key_values
                got.append(step.logits[:, -1])
            tokens = (tokens * 7 + t) % 50 + 3
        out.append(torch.stack(got))
    return out


def test_step_logits_equal_the_forward_with_pictures_and_padding(tiny_dir, kit):
    model, proc = _load(tiny_dir)
    _sharpen(model)
    lean, plain = _step_logits(model, R.encode_prompts(proc, _mixed(kit), None), group=2, steps=5)
    assert torch.allclose(lean, plain, atol=ATOL, rtol=0)


def gqa_model(tiny_dir):
    """The tiny model with half as many key/value heads as query heads, sharpened; and its processor."""
    from transformers import AutoConfig, AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(tiny_dir)
    config.text_config.num_key_value_heads = config.text_config.num_attention_heads // 2
    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_config(config).eval()
    _, proc = _load(tiny_dir)
    assert model.model.language_model.layers[0].self_attn.num_key_value_groups == 2
    _sharpen(model)
    return model, proc


def test_grouped_query_attention(tiny_dir, kit):
    """Fewer key/value heads than query heads (Qwen2.5-VL-7B has 4 for 28): each query head reads its group's."""
    model, proc = gqa_model(tiny_dir)
    lean, plain = _step_logits(model, R.encode_prompts(proc, _mixed(kit), None), group=2, steps=4)
    assert torch.allclose(lean, plain, atol=ATOL, rtol=0)


def test_bf16_autocast_runs_and_stays_close(tiny_dir, kit):
    model, proc = _load(tiny_dir)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        lean, plain = _step_logits(model, batch, group=1, steps=3)
    assert torch.isfinite(lean).all()
    assert (lean.float() - plain.float()).abs().max() < 0.1 * plain.float().abs().max()


def test_layers_it_was_not_checked_on_keep_the_transformers_forward(tiny_dir):
    model, _ = _load(tiny_dir)

    class Adapted(torch.nn.Linear):  # a LoRA or quantized layer is some other module than nn.Linear
        pass

    attn = model.model.language_model.layers[1].self_attn
    adapted = Adapted(attn.q_proj.in_features, attn.q_proj.out_features)
    adapted.load_state_dict(attn.q_proj.state_dict())
    attn.q_proj = adapted
    assert not fast_decode.supports(model)


def _lora(tiny_dir, **options):
    """The tiny model under seethink's LoRA, with the B matrices made non-zero (peft starts them at zero,
    which would make the adapters add nothing and hide a wrong scaling or a missing adapter)."""
    pytest.importorskip("peft")
    from seethink_local.modeling import add_lora
    from seethink_local.options import LocalOptions

    model, proc = _load(tiny_dir)
    wrapped = add_lora(model, LocalOptions(lora_rank=4, lora_alpha=8.0, **options)).eval()
    torch.manual_seed(1)
    with torch.no_grad():
        for name, param in wrapped.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.2)
    return wrapped, proc


def test_lora_models_take_the_lean_step_and_match_peft(tiny_dir, kit):
    wrapped, proc = _lora(tiny_dir)
    core = R.base_model(wrapped)
    assert fast_decode.supports(core)
    _sharpen(core)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    lean, plain = _step_logits(core, batch, group=2, steps=4)
    assert torch.allclose(lean, plain, atol=ATOL, rtol=0)
    with wrapped.disable_adapter():  # the KL reference's view: the base alone
        assert fast_decode.supports(core)
        lean_off, plain_off = _step_logits(core, batch, group=2, steps=3)
    assert torch.allclose(lean_off, plain_off, atol=ATOL, rtol=0)
    assert not torch.allclose(lean_off, lean[:3], atol=1e-3)  # the adapters really changed the logits


def test_lora_rollouts_equal_peft_rollouts(tiny_dir, kit, monkeypatch):
    wrapped, proc = _lora(tiny_dir)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    lean = _rollout(wrapped, proc, batch, fast=True, monkeypatch=monkeypatch)
    plain = _rollout(wrapped, proc, batch, fast=False, monkeypatch=monkeypatch)
    assert torch.equal(lean.tokens, plain.tokens)


def test_lora_the_step_does_not_compute_keeps_the_peft_forward(tiny_dir):
    wrapped, _ = _lora(tiny_dir, lora_dropout=0.1)
    core = R.base_model(wrapped)
    assert fast_decode.supports(core)  # eval mode: dropout is off, as in every rollout
    wrapped.train()
    assert not fast_decode.supports(core)  # an active dropout is randomness this step does not draw
    wrapped.eval()
    layer = core.model.language_model.layers[0].self_attn.q_proj
    layer.lora_variant["default"] = object()  # DoRA and the other variants change the forward
    assert not fast_decode.supports(core)
    del layer.lora_variant["default"]
    wrapped.merge_adapter()  # merged: the base weights hold the adapters, peft's forward is the base's
    assert fast_decode.supports(core)
    with wrapped.disable_adapter():  # a disabled merged layer unmerges in its forward
        assert not fast_decode.supports(core)
