"""Linear weights repacked once into oneDNN's blocked layout, for the products of CPU forwards.

On this build ``F.linear`` is MKL's sgemm, which repacks its weight into its own panels on every call,
and on AMD processors takes a path slower than oneDNN's. Measured on the 2-core development machine
(AMD EPYC, one thread, 24 different weights in turn as a model's layers are): 32 × 256 × 1024
products (a decode step of the ~10M tiny VLM) at 37 GFLOP/s through ``F.linear`` and 70 through
oneDNN with the weight packed beforehand; 992 × 256 × 1024 (its teacher-forced forward) at 60–70
and 91. Weights do not change within a rollout, nor between an update's forward and the optimizer
step, so they are packed at the start of such a stretch and the copies dropped at its end
(decisions.md 60).

``packed_linears(model)`` is that stretch: inside it every plain ``nn.Linear`` of ``model`` computes
through its packed copy (its backward is ``F.linear``'s: the same two products on the weight
itself), and ``pack`` hands the lean decode step the same copies. It does nothing unless every such
weight is float32 on the CPU, there is no CPU autocast (which casts ``F.linear``'s inputs and does
not know this operator), this torch has oneDNN, and the copies fit in ``MAX_PACKED_BYTES``, as they
live beside the weights while the stretch lasts. Under activation checkpointing the caller leaves it
closed (``Session.packed``): a forward recomputed in the backward would run outside the stretch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

MAX_PACKED_BYTES = 1 << 30  # 1 GiB of copies: the built-in tiny VLMs pack, a 7B model on a CPU does not
# oneDNN costs some 12-17 µs a call more than MKL (measured here), so it pays only on large products:
# 32 rows × 256 × 1024 (8.4M multiply-adds) ran 1.64× faster packed, 32 × 256 × 256 (2.1M) 0.95×,
# 256 × 64 × 64 0.77×, 256 × 256 × 256 (16.8M) 1.12×; the ~0.4M tiny VLM's products are all small, and
# packing them made its runs 20% slower. Smaller weights are not packed; smaller products take F.linear.
MIN_PACKED_ELEMENTS = 1 << 16
MIN_PACKED_PRODUCT = 1 << 23  # rows × in × out

_active: dict[int, torch.Tensor] = {}  # id(weight) -> its packed copy while packed_linears is open


def available() -> bool:
    """Whether this torch has oneDNN's packed linear (PyPI's x86 and arm64 builds do)."""
    mkldnn = torch.ops.mkldnn
    return torch.backends.mkldnn.is_available() and hasattr(mkldnn, "_reorder_linear_weight") and \
        hasattr(mkldnn, "_linear_pointwise")


def worth_packing(weights: list[torch.Tensor]) -> list[torch.Tensor]:
    """Those of ``weights`` to pack, none unless all are float32 on the CPU, with no CPU autocast, and
    the copies fit in ``MAX_PACKED_BYTES``: those of ``MIN_PACKED_ELEMENTS`` or more."""
    if not weights or not available() or torch.is_autocast_enabled("cpu"):
        return []
    if any(w.device.type != "cpu" or w.dtype != torch.float32 or w.layout != torch.strided for w in weights):
        return []
    large = [w for w in weights if w.numel() >= MIN_PACKED_ELEMENTS]
    return large if sum(w.numel() * w.element_size() for w in large) <= MAX_PACKED_BYTES else []


def _reorder(weight: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach(), None)


def pack(weight: torch.Tensor) -> torch.Tensor:
    """``weight`` (out, in) as oneDNN's opaque packed tensor for ``linear``: the copy an open
    ``packed_linears`` made of it, or a new one."""
    copy = _active.get(id(weight))
    return copy if copy is not None else _reorder(weight)


def linear(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` with ``weight`` as ``pack`` returned it; no autograd."""
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


def takes_packed(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether ``x @ weight.T`` is large enough to be faster on the packed copy."""
    return x.numel() // max(1, x.shape[-1]) * weight.numel() >= MIN_PACKED_PRODUCT


def product(x: torch.Tensor, weight: torch.Tensor, packed: torch.Tensor | None,
            bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(x, weight, bias)``, on ``packed`` (``weight``'s copy, or None) when that is faster."""
    if packed is not None and takes_packed(x, weight):
        return linear(x, packed, bias)
    return F.linear(x, weight, bias)


class _PackedLinear(torch.autograd.Function):
    """``F.linear`` whose forward product runs on the packed copy; the backward is ``F.linear``'s."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                packed: torch.Tensor) -> torch.Tensor:
        needs_x, needs_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        # Only what the backward reads is kept (a frozen base weight under LoRA keeps no input).
        ctx.save_for_backward(x if needs_w else None, weight if needs_x else None)
        return linear(x, packed, bias)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        flat = grad.reshape(-1, grad.shape[-1])
        grad_x = grad.matmul(weight) if needs_x else None
        grad_w = flat.t().mm(x.reshape(-1, x.shape[-1])) if needs_w else None
        grad_b = flat.sum(0) if needs_b else None
        return grad_x, grad_w, grad_b, None


def _packed_forward(module: torch.nn.Linear, packed: torch.Tensor):
    plain = type(module).forward.__get__(module)

    def forward(x: torch.Tensor) -> torch.Tensor:
        weight, bias = module.weight, module.bias
        if x.dtype != torch.float32 or x.device.type != "cpu" or not takes_packed(x, weight):
            return plain(x)
        if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad or
                                        (bias is not None and bias.requires_grad)):
            return _PackedLinear.apply(x, weight, bias, packed)
        return linear(x, packed, bias)

    return forward


@contextlib.contextmanager
def packed_linears(*models: Any) -> Iterator[bool]:
    """Inside, every plain ``nn.Linear`` of ``models`` computes through a packed copy of its weight;
    yields whether it does. The weights must not change inside (the copies would be stale)."""
    if _active:  # already inside one: the copies are there
        yield True
        return
    # A layer whose forward is already replaced on the instance (accelerate's offloading hooks) keeps it.
    linears = [m for model in models if isinstance(model, torch.nn.Module)
               for m in model.modules() if type(m) is torch.nn.Linear and "forward" not in m.__dict__]
    # Tied weights (an LM head on the embeddings) are packed once.
    chosen = worth_packing(list({id(m.weight): m.weight for m in linears}.values()))
    if not chosen:
        yield False
        return
    try:
        for w in chosen:
            _active[id(w)] = _reorder(w)
        linears = [m for m in linears if id(m.weight) in _active]  # the layers of the chosen weights
        for m in linears:
            m.forward = _packed_forward(m, _active[id(m.weight)])
        yield True
    finally:
        for m in linears:
            m.__dict__.pop("forward", None)
        _active.clear()
