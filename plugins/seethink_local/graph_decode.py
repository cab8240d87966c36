"""Decode steps replayed as a CUDA graph: one launch per sampled token instead of one per kernel.

On a GPU the lean decode step (``fast_decode``) is launch-bound for models of a few billion parameters
and batches of a few dozen rows: some 20 kernels per layer, each launched from Python, cost more than
the arithmetic they do (the local backend decoded about 200 tokens/s with a 3B model on an H200). A
CUDA graph records the step's kernels once and replays them with one launch. A graph replays the same
kernels on the same memory, so the step must have the same shapes every time: ``StaticDecoder``'s step
attends over the whole KV buffer (prompt and room for the completion) with the slots not yet written
masked by ``-inf``, and takes the slot to write as a tensor, where ``FastDecoder`` slices the filled
part by a Python length. Masked slots get an attention weight of exactly zero, so the logits are the
lean step's up to the order of float sums (``tests/local/test_graph_decode.py``).

``GraphedDecoder`` copies each step's tokens and positions into the graph's input tensors, replays it
and returns its output tensor (overwritten by the next step: the caller samples from it first). It
captures on the first step of a rollout, after two warm-up runs on a side stream (cuBLAS handles and
the allocator's blocks are made outside the graph, as torch.cuda.graphs requires). The graph holds the
rollout's KV buffers and is dropped with the rollout; the model's weights are read in place, so the
optimizer's in-place updates between rollouts are what the next rollout's graph reads. Under autocast
the capture runs with autocast's weight-cast cache off: a cast cached during capture would be freed
when the autocast block ends, and the graph would read freed memory.

Decisions.md 59 records why this is a hand-made graph of seethink's own step rather than
transformers' static cache under ``torch.compile``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from seethink_local.fast_decode import _PROJS, FastDecoder, _Layer, _Proj
from seethink_local.fast_decode import supports as fast_decode_supports

# Warm-up runs before capture (torch.cuda.graphs' own examples use a few; the first makes cuBLAS's handle
# and workspace, the second runs with the allocator's blocks in place).
WARMUP = 2


class StaticDecoder(FastDecoder):
    """``FastDecoder`` with a step of fixed shapes: full-buffer attention and a tensor slot."""

    def __init__(self, core: Any, layers: list[Any], padding: torch.Tensor):
        super().__init__(core, layers, padding)
        # Unwritten slots are read by every step, so they must hold numbers: uninitialised memory may
        # hold NaN, and a NaN key or value poisons the row even under a zero weight (NaN * 0 = NaN).
        for layer in self.layers:
            layer.keys[:, :, self.length:].zero_()
            layer.values[:, :, self.length:].zero_()
        # The bias masks the slots not yet written as well as the prompt's padding; each step opens its slot.
        self.bias[..., self.length:] = float("-inf")
        device_type = padding.device.type
        if torch.is_autocast_enabled(device_type):
            self._cast_for_autocast(torch.get_autocast_dtype(device_type))

    def _cast_for_autocast(self, dtype: torch.dtype) -> None:
        """Give the products their weights in autocast's dtype, cast once for the rollout.

        A graph is captured with autocast's cast cache off, so every replayed step would cast every weight
        again: for a 3B model that is some 22 GB of memory traffic per token, several times the step's own.
        Eager autocast caches those casts for the rollout, holding the same copies; autocast casts a
        weight already in its dtype to nothing, so the products and their rounding are the same.
        """
        def cast(t: torch.Tensor | None) -> torch.Tensor | None:
            return t if t is None or t.dtype == dtype or not t.is_floating_point() else t.to(dtype)

        def proj(p: _Proj) -> _Proj:
            lora = tuple((cast(a), cast(b), cast(b_bias), scaling) for a, b, b_bias, scaling in p.lora)
            return _Proj(cast(p.weight), cast(p.bias), lora)

        for layer in self.layers:
            for name in _PROJS:
                setattr(layer, name, proj(getattr(layer, name)))
        self.lm_head = cast(self.lm_head)

    @torch.no_grad()
    def step_at(self, tokens: torch.Tensor, positions: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
        """``FastDecoder.step`` writing the token's keys and values at ``slot`` (a (1,) long tensor) and
        attending over every slot; leaves ``self.length`` alone (the caller counts)."""
        self._slot = slot
        self.bias.index_fill_(-1, slot, 0.0)
        return self._forward(tokens, positions)

    def _write(self, layer: _Layer, k: torch.Tensor, v: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        layer.keys.index_copy_(2, self._slot, k.unsqueeze(2).to(layer.keys.dtype))
        layer.values.index_copy_(2, self._slot, v.unsqueeze(2).to(layer.values.dtype))
        return layer.keys, layer.values, self.bias

    def step(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        slot = torch.full((1,), self.length, dtype=torch.long, device=tokens.device)
        logits = self.step_at(tokens, positions, slot)
        self.length += 1
        return logits


# ``capture(fn)`` runs ``fn`` as a graph: returns (the graph, kept alive while it is replayed; a function
# that replays it; ``fn``'s output tensor, which each replay overwrites).
Capture = Callable[[Callable[[], torch.Tensor]], tuple[Any, Callable[[], None], torch.Tensor]]


def cuda_capture(fn: Callable[[], torch.Tensor]) -> tuple[Any, Callable[[], None], torch.Tensor]:
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(WARMUP):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    return graph, graph.replay, out


class GraphedDecoder:
    """``StaticDecoder`` steps replayed as one graph per rollout; ``step`` as ``FastDecoder.step``."""

    def __init__(self, decoder: StaticDecoder, rows: int, device: torch.device, capture: Capture | None = None):
        self.decoder = decoder
        self.tokens = torch.zeros(rows, dtype=torch.long, device=device)
        self.positions = torch.zeros(rows, dtype=torch.long, device=device)
        self.slot = torch.full((1,), decoder.length, dtype=torch.long, device=device)
        self._capture = capture or cuda_capture
        self._graph: Any = None
        self._replay: Callable[[], None] | None = None
        self._logits: torch.Tensor | None = None
        # The autocast in force where the rollout makes this decoder, re-entered around each run of the step
        # without its weight-cast cache.
        self._amp = (torch.is_autocast_enabled(device.type), torch.get_autocast_dtype(device.type), device.type)

    @property
    def length(self) -> int:
        return self.decoder.length

    def _run(self) -> torch.Tensor:
        enabled, dtype, device_type = self._amp
        with torch.autocast(device_type, dtype=dtype, enabled=enabled, cache_enabled=False):
            return self.decoder.step_at(self.tokens, self.positions, self.slot)

    def step(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        self.tokens.copy_(tokens)
        self.positions.copy_(positions)
        self.slot.fill_(self.decoder.length)
        if self._replay is None:
            # Warm-up and capture run on this step's inputs: each run writes the same keys and values
            # into the same slot, so running it more than once leaves what one run leaves.
            self._graph, self._replay, self._logits = self._capture(self._run)
        self._replay()
        self.decoder.length += 1
        assert self._logits is not None
        return self._logits


def graphs_apply(device: torch.device) -> bool:
    """Whether decode steps on ``device`` can be CUDA graphs."""
    return device.type == "cuda"


def graphs_problem(core: Any, device: torch.device) -> str | None:
    """Why ``cuda_graphs`` cannot apply to ``core`` (a transformers model; under peft, the model inside)
    on ``device``; None when it applies."""
    if not graphs_apply(device):
        return f"no CUDA device (decoding on {device.type})"
    if not fast_decode_supports(core):
        return ("the lean decode step does not apply to this model (it needs a Qwen2.5-VL with full attention and "
                "plain linear layers, LoRA allowed: no quantization, no DoRA)")
    return None


def decoder_for(core: Any, layers: list[Any], padding: torch.Tensor, cuda_graphs: bool) -> FastDecoder | GraphedDecoder:
    """The decode step of a rollout whose buffered cache has ``layers`` and whose prompt rows ``padding``:
    replayed as a CUDA graph when asked for and on a CUDA device, else the lean step."""
    if cuda_graphs and graphs_apply(padding.device):
        return GraphedDecoder(StaticDecoder(core, layers, padding), padding.shape[0], padding.device)
    return FastDecoder(core, layers, padding)
