"""Packed linear weights on the CPU (seethink_local.cpu_packing) compute what ``F.linear`` computes,
forward and backward, and only where they apply."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from seethink_local import cpu_allocator, cpu_packing, fast_decode
from seethink_local import rollout as R
from seethink_local.options import LocalOptions
from seethink_local.session import Session

from .test_fast_decode import _load, prefilled

pytestmark = pytest.mark.skipif(not cpu_packing.available(), reason="this torch has no oneDNN")

# oneDNN sums the products in another order than MKL: float32 rounding of sums of 64-256 terms.
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(autouse=True)
def every_size_packs(request, monkeypatch):
    """These tests' layers are small: packed whatever their size, unless a test is about the sizes."""
    if "sizes" not in request.node.name:
        monkeypatch.setattr(cpu_packing, "MIN_PACKED_ELEMENTS", 0)
        monkeypatch.setattr(cpu_packing, "MIN_PACKED_PRODUCT", 0)


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.SiLU(), torch.nn.Linear(32, 16, bias=False),
                               torch.nn.Linear(16, 16))


def _count_reorders(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = cpu_packing._reorder
    monkeypatch.setattr(cpu_packing, "_reorder", lambda w: (calls.append(w.numel()), real(w))[1])
    return calls


@pytest.mark.parametrize("shape", [(5, 16), (3, 4, 16)])
@pytest.mark.parametrize("bias", [True, False])
def test_the_packed_product_is_f_linear(shape, bias):
    torch.manual_seed(1)
    x, w = torch.randn(*shape), torch.randn(24, 16)
    b = torch.randn(24) if bias else None
    torch.testing.assert_close(cpu_packing.linear(x, cpu_packing.pack(w), b), F.linear(x, w, b), **TOL)


def test_forward_and_gradients_equal_the_plain_layers(monkeypatch):
    net = _net()
    x = torch.randn(2, 7, 16, requires_grad=True)
    expected = net(x).square().sum()
    expected.backward()
    plain = [x.grad.clone(), *(p.grad.clone() for p in net.parameters())]
    x.grad = None
    net.zero_grad(set_to_none=True)
    calls = _count_reorders(monkeypatch)
    with cpu_packing.packed_linears(net) as on:
        assert on and all("forward" in m.__dict__ for m in net if isinstance(m, torch.nn.Linear))
        got = net(x).square().sum()
    got.backward()  # after the stretch: the backward needs only the weights themselves
    torch.testing.assert_close(got, expected, **TOL)
    for a, b in zip([x.grad, *(p.grad for p in net.parameters())], plain):
        torch.testing.assert_close(a, b, **TOL)
    assert len(calls) == 3  # one copy per weight
    assert all("forward" not in m.__dict__ for m in net) and not cpu_packing._active


def test_a_frozen_weight_gets_no_gradient_and_a_tied_one_is_packed_once(monkeypatch):
    net = _net()
    net[0].weight.requires_grad_(False)
    head = torch.nn.Linear(16, 16, bias=False)
    head.weight = net[3].weight  # tied, as an LM head on the embeddings
    model = torch.nn.ModuleDict({"net": net, "head": head})
    calls = _count_reorders(monkeypatch)
    x = torch.randn(4, 16)
    with cpu_packing.packed_linears(model):
        loss = head(net(x)).sum()
    loss.backward()
    assert net[0].weight.grad is None and net[0].bias.grad is not None
    assert len(calls) == 3  # net[0], net[2], and net[3] = head once
    ref = torch.nn.ModuleDict({"net": _net(), "head": torch.nn.Linear(16, 16, bias=False)})
    ref["head"].weight = ref["net"][3].weight
    ref["net"][0].weight.requires_grad_(False)
    ref["head"](ref["net"](x)).sum().backward()
    torch.testing.assert_close(net[3].weight.grad, ref["net"][3].weight.grad, **TOL)


def test_the_layers_are_restored_when_the_stretch_fails():
    net = _net()
    with pytest.raises(RuntimeError, match="boom"), cpu_packing.packed_linears(net):
        raise RuntimeError("boom")
    assert all("forward" not in m.__dict__ for m in net) and not cpu_packing._active


def test_a_layer_with_its_own_instance_forward_keeps_it():
    """accelerate's hooks (offloading, device maps) replace a layer's forward on the instance."""
    net = _net()
    calls: list[int] = []
    plain = net[0].forward
    net[0].forward = lambda x: (calls.append(1), plain(x))[1]
    hooked = net[0].forward
    with cpu_packing.packed_linears(net) as on:
        assert on and net[0].forward is hooked and "forward" in net[2].__dict__
        net(torch.randn(2, 16))
    assert calls == [1] and net[0].forward is hooked and "forward" not in net[2].__dict__


def test_a_nested_stretch_reuses_the_copies(monkeypatch):
    net = _net()
    calls = _count_reorders(monkeypatch)
    with cpu_packing.packed_linears(net), cpu_packing.packed_linears(net) as inner:
        assert inner
        net(torch.randn(2, 16))
    assert len(calls) == 3


def test_it_does_not_apply_where_the_product_would_differ(monkeypatch):
    net = _net()
    with torch.autocast("cpu", dtype=torch.bfloat16), cpu_packing.packed_linears(net) as on:
        assert not on  # autocast casts F.linear's inputs, not this operator's
    with cpu_packing.packed_linears(_net().to(torch.bfloat16)) as on:
        assert not on
    monkeypatch.setattr(cpu_packing, "MAX_PACKED_BYTES", 1000)
    with cpu_packing.packed_linears(net) as on:
        assert not on
    assert all("forward" not in m.__dict__ for m in net)


def test_only_large_weights_are_packed_and_only_large_products_use_them_sizes(tiny_dir, monkeypatch):
    model, _ = _load(tiny_dir)
    linears = [m for m in model.modules() if type(m) is torch.nn.Linear]
    with cpu_packing.packed_linears(model):
        patched = [m.weight.numel() for m in linears if "forward" in m.__dict__]
    # Of the ~0.4M tiny VLM only the vision merger's 256 × 256 is that large (64-wide language layers).
    assert patched == [1 << 16] and len(linears) > 20
    big = torch.nn.Linear(256, 1024)
    used: list[int] = []
    real = cpu_packing.linear
    monkeypatch.setattr(cpu_packing, "linear", lambda x, p, b: (used.append(x.shape[0]), real(x, p, b))[1])
    with torch.no_grad(), cpu_packing.packed_linears(torch.nn.ModuleList([big, torch.nn.Linear(64, 64)])) as on:
        assert on and "forward" in big.__dict__
        for rows in (1, 31, 32, 992):
            torch.testing.assert_close(big(torch.ones(rows, 256)), F.linear(torch.ones(rows, 256), big.weight,
                                                                             big.bias), **TOL)
    assert used == [32, 992]  # 32 × 256 × 1024 = MIN_PACKED_PRODUCT


def test_the_session_packs_only_plain_float32_cpu_runs():
    net = _net()
    session = Session(net, None, torch.device("cpu"), LocalOptions(), None)
    with session.packed() as on:
        assert on
    for options, autocast in ((LocalOptions(gradient_checkpointing=True), None), (LocalOptions(), torch.bfloat16)):
        with Session(net, None, torch.device("cpu"), options, autocast).packed() as on:
            assert not on


def test_the_decoder_packs_its_own_copies_or_takes_the_stretchs(tiny_dir, kit, monkeypatch):
    model, proc = _load(tiny_dir)
    batch = R.encode_prompts(proc, kit.counting_samples(2, seed=4), None)
    tokens = torch.zeros(6, dtype=torch.long)
    calls = _count_reorders(monkeypatch)
    with torch.no_grad():
        cache, attn, pos = prefilled(model, batch, group=3, room=4)
        alone = fast_decode.FastDecoder(model, cache.layers, attn)
        packs = len(calls)
        assert packs == 7 * len(model.model.language_model.layers) + 1  # seven projections a layer, the head
        got = alone.step(tokens, pos)
        monkeypatch.setattr(cpu_packing, "MAX_PACKED_BYTES", 0)
        cache, attn, pos = prefilled(model, batch, group=3, room=4)
        want = fast_decode.FastDecoder(model, cache.layers, attn).step(tokens, pos)
        torch.testing.assert_close(got, want, **TOL)
        monkeypatch.setattr(cpu_packing, "MAX_PACKED_BYTES", 1 << 30)
        with cpu_packing.packed_linears(model):
            before = len(calls)
            cache, attn, pos = prefilled(model, batch, group=3, room=4)
            fast_decode.FastDecoder(model, cache.layers, attn).step(tokens, pos)
            assert len(calls) == before  # the stretch's copies, none made again


@pytest.mark.skipif(not cpu_allocator.keep_freed_memory(), reason="not glibc")
def test_glibc_keeps_freed_memory_once_per_process():
    first = cpu_allocator.keep_freed_memory()
    assert first == {cpu_allocator.M_MMAP_THRESHOLD: 32 << 20, cpu_allocator.M_TRIM_THRESHOLD: 1 << 30,
                     cpu_allocator.M_TOP_PAD: 64 << 20}
    assert cpu_allocator.keep_freed_memory() is first


def test_the_updates_log_probs_and_gradients_equal_the_plain_forward(tiny_dir, kit):
    """The teacher-forced forward the update runs (the prompt once per group, the vision tower
    included) and its backward, inside and outside a stretch."""
    model, proc = _load(tiny_dir)
    model.train()
    batch = R.encode_prompts(proc, kit.counting_samples(2, seed=4), None)
    torch.manual_seed(3)
    completions = torch.randint(0, 100, (6, 5))
    mask = torch.ones_like(completions)
    rows = torch.arange(6) // 3

    def run(packed: bool):
        model.zero_grad(set_to_none=True)
        with cpu_packing.packed_linears(model if packed else None) as on:
            assert on == packed
            logp, _ = R.completion_logprobs(model, batch, rows, completions, mask, group=3)
        logp.sum().backward()
        return logp.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    plain_logp, plain_grads = run(False)
    packed_logp, packed_grads = run(True)
    torch.testing.assert_close(packed_logp, plain_logp, **TOL)
    assert packed_grads.keys() == plain_grads.keys()
    assert any("visual" in n for n in packed_grads)  # the vision tower's linears are among them
    for name, grad in plain_grads.items():
        torch.testing.assert_close(packed_grads[name], grad, rtol=1e-4, atol=1e-5, msg=name)
