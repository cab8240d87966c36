"""The fixed-shape decode step CUDA graphs replay (seethink_local.graph_decode) computes the lean step's
logits, and a rollout decoded through a graph samples the tokens an eager rollout samples.

CUDA graphs need a GPU. Here ``replay_by_rerunning`` stands in for capture: it runs the step once where
a capture records it, and each replay runs it again on the graph's input tensors and copies the result
into the tensor the capture returned, which is what a replayed graph does with the memory it recorded.
scripts/gpu_check.py runs the real capture on a GPU.
"""

from __future__ import annotations

import pytest
import torch
from seethink_local import fast_decode, graph_decode
from seethink_local import rollout as R

from seethink_core.types.sample import Sample

from .test_fast_decode import ATOL, _load, _mixed, _sharpen, gqa_model, prefilled


def replay_by_rerunning(fn):
    out = fn()
    calls = {"replays": 0}

    def replay() -> None:
        calls["replays"] += 1
        out.copy_(fn())

    return calls, replay, out


def _steps(make, model, batch, *, group: int, steps: int, poison: bool = False) -> torch.Tensor:
    cache, attn, first = prefilled(model, batch, group, steps + 3)
    if poison:  # what uninitialised memory may hold in the slots not yet written
        for layer in cache.layers:
            layer._keys[:, :, layer._length:] = float("nan")
            layer._values[:, :, layer._length:] = float("nan")
    decoder = make(model, cache.layers, attn)
    n = attn.shape[0]
    tokens = torch.arange(n) % 50 + 3
    got = []
    for t in range(steps):
        got.append(decoder.step(tokens, first + t).clone())  # a graph's output is overwritten by the next step
        tokens = (tokens * 7 + t) % 50 + 3
    return torch.stack(got)


def _graphed(model, layers, attn):
    return graph_decode.GraphedDecoder(graph_decode.StaticDecoder(model, layers, attn), attn.shape[0],
                                       attn.device, capture=replay_by_rerunning)


@pytest.mark.parametrize("make", [graph_decode.StaticDecoder, _graphed], ids=["static", "graphed"])
def test_static_steps_equal_the_lean_steps_with_pictures_and_padding(tiny_dir, kit, make):
    model, proc = _load(tiny_dir)
    _sharpen(model)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    assert int(batch.attention_mask.sum(-1).min()) < batch.input_ids.shape[1]  # a row really is padded
    lean = _steps(fast_decode.FastDecoder, model, batch, group=2, steps=6)
    static = _steps(make, model, batch, group=2, steps=6, poison=True)
    assert torch.isfinite(static).all()
    assert torch.allclose(static, lean, atol=ATOL, rtol=0)


def test_grouped_query_attention(tiny_dir, kit):
    model, proc = gqa_model(tiny_dir)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    lean = _steps(fast_decode.FastDecoder, model, batch, group=2, steps=4)
    static = _steps(_graphed, model, batch, group=2, steps=4)
    assert torch.allclose(static, lean, atol=ATOL, rtol=0)


def test_one_capture_per_rollout_and_one_replay_per_step(tiny_dir, kit):
    model, proc = _load(tiny_dir)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    cache, attn, first = prefilled(model, batch, 1, 8)
    decoder = graph_decode.GraphedDecoder(graph_decode.StaticDecoder(model, cache.layers, attn), attn.shape[0],
                                          attn.device, capture=replay_by_rerunning)
    start = decoder.length
    outs = [decoder.step(torch.full((attn.shape[0],), 5), first + t) for t in range(4)]
    assert decoder._graph["replays"] == 4 and decoder.length == start + 4
    assert all(o is outs[0] for o in outs)  # the graph's one output tensor, refilled by every replay


def _rollout(model, proc, batch, *, graphs: bool, monkeypatch, temperature: float):
    monkeypatch.setattr(graph_decode, "graphs_apply", lambda device: True)  # as on a CUDA device
    monkeypatch.setattr(graph_decode, "cuda_capture", replay_by_rerunning)
    gen = torch.Generator().manual_seed(0)
    return R.generate(model, batch, group=3, max_new_tokens=12, temperature=temperature, top_p=1.0,
                      eos_ids=[-1], pad_id=proc.tokenizer.pad_token_id, generator=gen, cuda_graphs=graphs)


def test_rollouts_through_the_graph_sample_what_eager_rollouts_sample(tiny_dir, kit, monkeypatch):
    model, proc = _load(tiny_dir)
    taken = []
    real = graph_decode.GraphedDecoder.step
    monkeypatch.setattr(graph_decode.GraphedDecoder, "step", lambda self, *a: taken.append(1) or real(self, *a))
    for samples in (_mixed(kit), [Sample(id="a", prompt="Two plus one?", answer="3")]):
        batch = R.encode_prompts(proc, samples, None)
        for temperature in (0.0, 1.0):
            graphed = _rollout(model, proc, batch, graphs=True, monkeypatch=monkeypatch, temperature=temperature)
            eager = _rollout(model, proc, batch, graphs=False, monkeypatch=monkeypatch, temperature=temperature)
            assert torch.equal(graphed.tokens, eager.tokens)
            assert torch.equal(graphed.lengths, eager.lengths)
    assert taken  # the graphed rollouts did decode through the graph


def test_on_a_cpu_the_option_decodes_eagerly(tiny_dir, kit):
    model, proc = _load(tiny_dir)
    assert not graph_decode.graphs_apply(torch.device("cpu"))
    batch = R.encode_prompts(proc, _mixed(kit), None)
    args = dict(group=2, max_new_tokens=6, temperature=0.0, top_p=1.0, eos_ids=[-1],
                pad_id=proc.tokenizer.pad_token_id)
    assert torch.equal(R.generate(model, batch, cuda_graphs=True, **args).tokens,
                       R.generate(model, batch, **args).tokens)


def test_why_the_option_cannot_apply_is_said(tiny_dir, monkeypatch):
    model, _ = _load(tiny_dir)
    assert "no CUDA device" in graph_decode.graphs_problem(model, torch.device("cpu"))
    pytest.importorskip("peft")
    from seethink_local.modeling import add_lora
    from seethink_local.options import LocalOptions

    monkeypatch.setattr(graph_decode, "graphs_apply", lambda device: True)  # as on a CUDA device
    assert graph_decode.graphs_problem(model, torch.device("cpu")) is None
    wrapped = add_lora(model, LocalOptions(lora_rank=4)).eval()
    # LoRA adapters are computed by the step
    assert graph_decode.graphs_problem(R.base_model(wrapped), torch.device("cpu")) is None

    class Quantized(torch.nn.Linear):  # a quantized layer is some other module than nn.Linear
        pass

    attn = R.base_model(wrapped).model.language_model.layers[1].self_attn
    attn.o_proj.base_layer.__class__ = Quantized
    assert "no quantization" in graph_decode.graphs_problem(R.base_model(wrapped), torch.device("cpu"))


def test_cuda_graphs_on_a_cpu_device_is_a_curriculum_error():
    from seethink_core.compiler import compile_text
    from seethink_core.errors import DslError

    text = """curriculum c {
    model "tiny-vlm"
    backend local(device: "cpu", cuda_graphs: true)
    reward accuracy
    stage s { data synthetic(count: 4) algorithm grpo steps 1 }
}
"""
    with pytest.raises(DslError) as e:
        compile_text(text, "c.curr")
    [d] = e.value.diagnostics
    assert "option 'cuda_graphs' needs a CUDA device" in d.message and (d.pos.line, d.pos.col) == (3, 47)
    compile_text(text.replace('device: "cpu", ', ""), "c.curr")  # auto: decided where it runs


def test_a_phase_that_cannot_use_graphs_says_so_once_and_trains(warm, kit, tmp_path, capsys):
    from seethink_local.backend import LocalBackend
    from seethink_local.options import LocalOptions

    from seethink_core.hooks.backend import Checkpoint
    from seethink_core.types.methods import GRPOOptions

    phase = kit.make_phase("grpo", GRPOOptions(lr=5e-4, batch_size=4, rollout_batch_size=4, group=2,
                                               max_response_tokens=4), steps=2)
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(8))
    options = LocalOptions(device="auto", cuda_graphs=True, memory_estimate=False, rollout_dump_every=0)
    result = LocalBackend(options).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    assert result.steps == 2
    notes = [line for line in capsys.readouterr().err.splitlines() if "cuda_graphs" in line]
    if torch.cuda.is_available():
        assert notes == []
    else:
        assert notes == [f"[local] phase {phase.name}: cuda_graphs is set but no CUDA device (decoding on cpu); "
                         "decoding without graphs"]


def test_under_autocast_the_weights_are_cast_once_and_the_logits_stay_autocasts(tiny_dir, kit):
    model, proc = _load(tiny_dir)
    batch = R.encode_prompts(proc, _mixed(kit), None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        lean = _steps(fast_decode.FastDecoder, model, batch, group=2, steps=4)
        cache, attn, _ = prefilled(model, batch, 2, 4)
        decoder = graph_decode.StaticDecoder(model, cache.layers, attn)
        static = _steps(_graphed, model, batch, group=2, steps=4)
    layer = decoder.layers[0]
    assert layer.q.weight.dtype == torch.bfloat16 and decoder.lm_head.dtype == torch.bfloat16
    assert model.model.language_model.layers[0].self_attn.q_proj.weight.dtype == torch.float32  # copies
    assert torch.isfinite(static).all()
    # The same bf16 roundings of the same weights (equal here; the tolerance leaves room for the sums over
    # the whole buffer on another machine's kernels).
    assert torch.allclose(static.float(), lean.float(), atol=1e-2, rtol=0)
