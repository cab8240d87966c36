"""A lean decode step for Qwen2.5-VL's language model: one sampled token per row through the layers'
own weights, written into the rollout's KV buffers, without transformers' per-call machinery.

A decode step of the ~10M tiny VLM at 32 rows took 24 ms through ``model(...)`` on one CPU thread,
of which the matrix products were 9.5 ms: the rest was the forward's bookkeeping (argument
handling, output records, the causal-mask builder, ``Cache.update``, per-layer dispatch) and the
attention call. Here the step is the arithmetic only, on the parameters themselves (no copy: a
7B model's would be gigabytes): the rotary angles are computed once per step for every layer, and
attention reads the filled part of the KV buffers with the prompt's padding masked by an additive
bias made once per rollout. That took the step to 19-21 ms (decisions.md 57); concatenating the
q/k/v and gate/up weights into one product each gained nothing measurable on top. The numbers are
transformers' up to float rounding (about 2.5e-7 on the tiny models' logits):
``tests/local/test_fast_decode.py`` checks the logits, with sharpened attention, padding and grouped
key/value heads, and the sampled tokens against the model's own forward.

Only what was checked takes this path: Qwen2.5-VL text layers with full attention, SiLU MLPs,
biased q/k/v, and plain ``nn.Linear`` weights or peft's LoRA over them (each active adapter's
``B(A(x)) * scaling`` added as peft adds it; no DoRA or other variant, no active dropout). A
quantized layer is neither, so those models, and every other family, decode through ``model(...)``
as before. The prefill, and training's teacher-forced forward, stay transformers' own. On the CPU the
products run on copies of the weights packed for oneDNN once per rollout (``cpu_packing``), or on an
open ``packed_linears`` stretch's copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from seethink_local import cpu_packing

SUPPORTED_MODEL_TYPES = ("qwen2_5_vl",)


@dataclass
class _Proj:
    """A linear layer as this step computes it: ``x @ weight.T + bias``, plus each active LoRA adapter's
    ``(A, B, scaling)`` as peft's ``lora.Linear`` adds it (the parameters themselves)."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    lora: tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, float], ...] = ()
    packed: torch.Tensor | None = None  # ``weight`` in oneDNN's blocked layout (cpu_packing), or None


def _linear(x: torch.Tensor, p: _Proj) -> torch.Tensor:
    y = cpu_packing.product(x, p.weight, p.packed, p.bias)
    if not p.lora:
        return y
    dtype = y.dtype
    for a, b, b_bias, scaling in p.lora:  # peft: result + lora_B(lora_A(dropout(x))) * scaling
        xa = x if x.dtype == a.dtype else x.to(a.dtype)
        y = y + F.linear(F.linear(xa, a), b, b_bias) * scaling
    return y.to(dtype)


@dataclass
class _Layer:
    """One decoder layer's projections and its KV buffers."""

    q: _Proj
    k: _Proj
    v: _Proj
    o: _Proj
    gate: _Proj
    up: _Proj
    down: _Proj
    norm_in: torch.Tensor
    norm_post: torch.Tensor
    keys: torch.Tensor  # the rollout's (N, kv_heads, room, head_dim) buffers
    values: torch.Tensor


def _lora_linear_type() -> type | None:
    try:
        from peft.tuners.lora.layer import Linear
    except ImportError:  # peft is optional (lora_rank 0 never needs it)
        return None
    return Linear


def _proj(module: Any, bias: bool) -> _Proj | None:
    """``module`` as a ``_Proj``, or None when it is not a layer this step computes exactly: a plain
    ``nn.Linear`` (with a bias exactly when ``bias``), or peft's LoRA ``Linear`` over one, its adapters
    plain LoRA (no DoRA or other variant), their dropout inactive (rollouts run in eval mode)."""
    if type(module) is torch.nn.Linear:
        return _Proj(module.weight, module.bias) if (module.bias is not None) == bias else None
    lora_type = _lora_linear_type()
    if lora_type is None or type(module) is not lora_type:
        return None
    base = _proj(module.base_layer, bias)
    if base is None:
        return None
    # What peft's forward computes: merged adapters are inside the base weights (but a disabled merged
    # layer unmerges them in its forward, a change of the weights this step does not make); disabled
    # ones add nothing.
    if module.merged:
        return None if module.disable_adapters else base
    if module.disable_adapters:
        return base
    adapters = []
    for name in module.active_adapters:
        if name not in module.lora_A:
            continue
        if name in getattr(module, "lora_variant", {}) or not getattr(module, "cast_input_dtype_enabled", True):
            return None
        dropout = module.lora_dropout[name]
        if not isinstance(dropout, torch.nn.Identity) and (dropout.training and dropout.p > 0):
            return None
        a, b = module.lora_A[name], module.lora_B[name]
        if type(a) is not torch.nn.Linear or type(b) is not torch.nn.Linear or a.bias is not None:
            return None
        adapters.append((a.weight, b.weight, b.bias, float(module.scaling[name])))
    return _Proj(base.weight, base.bias, tuple(adapters))


_BIASED = {"q_proj": True, "k_proj": True, "v_proj": True, "o_proj": False}
_MLP = ("gate_proj", "up_proj", "down_proj")
_PROJS = ("q", "k", "v", "o", "gate", "up", "down")  # _Layer's projection fields


def supports(core: Any) -> bool:
    """Whether ``core`` (a transformers model; under peft, the model inside) is one this step computes
    exactly."""
    config = getattr(core, "config", None)
    if getattr(config, "model_type", None) not in SUPPORTED_MODEL_TYPES:
        return False
    lm = getattr(getattr(core, "model", None), "language_model", None)
    text = getattr(lm, "config", None)
    if lm is None or text is None or type(getattr(core, "lm_head", None)) is not torch.nn.Linear:
        return False
    if getattr(text, "hidden_act", None) != "silu" or any(t != "full_attention" for t in text.layer_types):
        return False
    if getattr(lm.rotary_emb, "rope_type", None) != "default":  # dynamic ropes update their frequencies
        return False
    for layer in lm.layers:
        attn, mlp = layer.self_attn, layer.mlp
        if any(_proj(getattr(attn, n), b) is None for n, b in _BIASED.items()) or \
                any(_proj(getattr(mlp, n), False) is None for n in _MLP):
            return False
    return True


class FastDecoder:
    """Decode steps over a prefilled, buffered cache (``kv_buffer.BufferedLayer`` layers).

    ``padding``: (N, prompt length) attention mask of the prompt rows (0 on left padding).
    ``step(tokens, positions)`` feeds one token per row at its rope position and returns the next-token
    logits (N, vocab); each call fills the next slot of every layer's buffers.
    """

    def __init__(self, core: Any, layers: list[Any], padding: torch.Tensor):
        lm = core.model.language_model
        attn0 = lm.layers[0].self_attn
        self.heads, self.kv_heads, self.head_dim = attn0.config.num_attention_heads, attn0.num_key_value_heads, \
            attn0.head_dim
        self.scaling = attn0.scaling
        self.eps = lm.layers[0].input_layernorm.variance_epsilon
        self.final_eps = lm.norm.variance_epsilon
        self.embed, self.final_norm, self.lm_head = lm.embed_tokens.weight, lm.norm.weight, core.lm_head.weight
        self.rotary = lm.rotary_emb
        self.q_size = self.heads * self.head_dim
        self.layers = [self._layer(layer, cache) for layer, cache in zip(lm.layers, layers)]
        self.lm_head_packed: torch.Tensor | None = None
        self._pack({id(w) for w in cpu_packing.worth_packing(self._weights())})
        self.length = layers[0]._length
        room = self.layers[0].keys.shape[-2]
        # Additive mask over every slot of the buffers: -inf on the prompt's left padding, 0 elsewhere.
        dtype = self.layers[0].keys.dtype
        bias = torch.zeros(padding.shape[0], 1, 1, room, dtype=dtype, device=padding.device)
        bias[:, 0, 0, :padding.shape[1]].masked_fill_(padding == 0, float("-inf"))
        self.bias = bias

    def _weights(self) -> list[torch.Tensor]:
        return [self.lm_head, *(getattr(layer, n).weight for layer in self.layers for n in _PROJS)]

    def _pack(self, chosen: set[int]) -> None:
        """The projections' weights (and the LM head's) in ``chosen`` (ids) repacked for this rollout's
        steps (cpu_packing): the weights do not change during a rollout, so that is paid once, not once
        a step."""
        for layer in self.layers:
            for name in _PROJS:
                p = getattr(layer, name)
                if id(p.weight) in chosen:
                    setattr(layer, name, _Proj(p.weight, p.bias, p.lora, cpu_packing.pack(p.weight)))
        if id(self.lm_head) in chosen:
            self.lm_head_packed = cpu_packing.pack(self.lm_head)

    @staticmethod
    def _layer(layer: Any, cache: Any) -> _Layer:
        attn, mlp = layer.self_attn, layer.mlp
        projs = {n: _proj(getattr(attn, n), b) for n, b in _BIASED.items()}
        projs.update((n, _proj(getattr(mlp, n), False)) for n in _MLP)
        assert all(p is not None for p in projs.values()), "FastDecoder built for a model supports() refuses"
        return _Layer(
            q=projs["q_proj"], k=projs["k_proj"], v=projs["v_proj"], o=projs["o_proj"],
            gate=projs["gate_proj"], up=projs["up_proj"], down=projs["down_proj"],
            norm_in=layer.input_layernorm.weight, norm_post=layer.post_attention_layernorm.weight,
            keys=cache._keys, values=cache._values)

    @staticmethod
    def _norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        # Qwen2.5-VL's RMSNorm, operation for operation (in float32, back to the input's dtype).
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
        return weight * h.to(dtype)

    @staticmethod
    def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        # transformers' apply_rotary_pos_emb: x * cos + rotate_half(x) * sin.
        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """``tokens`` (N,), ``positions`` (N,) rope positions (the same on all three mrope axes for text)."""
        logits = self._forward(tokens, positions)
        self.length += 1
        return logits

    def _forward(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        n = tokens.shape[0]
        x = F.embedding(tokens, self.embed)  # (N, hidden)
        # The model's own rotary module, once for every layer: text tokens sit at one position on all
        # three axes, so its recomposition yields the plain angles of that position.
        cos, sin = self.rotary(x, positions.view(1, n, 1).expand(3, n, 1))
        cos, sin = cos.view(n, 1, self.head_dim), sin.view(n, 1, self.head_dim)
        group = self.heads // self.kv_heads
        for layer in self.layers:
            h = self._norm(x, layer.norm_in, self.eps)
            q = _linear(h, layer.q).view(n, self.heads, self.head_dim)
            k = _linear(h, layer.k).view(n, self.kv_heads, self.head_dim)
            v = _linear(h, layer.v).view(n, self.kv_heads, self.head_dim)
            q, k = self._rope(q, cos, sin), self._rope(k, cos, sin)
            keys, values, bias = self._write(layer, k, v)  # (N, kv_heads, slots, head_dim), (N, 1, 1, slots)
            # (N, kv_heads, group, head_dim) @ (N, kv_heads, head_dim, slots): one query per row and head, each
            # query head reading its group's key/value head (transformers' repeat_kv order).
            scores = torch.matmul(q.view(n, self.kv_heads, group, self.head_dim), keys.transpose(-1, -2))
            scores = scores * self.scaling + bias
            out = torch.matmul(scores.softmax(-1, dtype=torch.float32).to(values.dtype), values)
            x = x + _linear(out.reshape(n, self.q_size), layer.o)
            h = self._norm(x, layer.norm_post, self.eps)
            x = x + _linear(F.silu(_linear(h, layer.gate)) * _linear(h, layer.up), layer.down)
        return cpu_packing.product(self._norm(x, self.final_norm, self.final_eps), self.lm_head,
                                   self.lm_head_packed, None)

    def _write(self, layer: _Layer, k: torch.Tensor, v: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Store this step's keys and values in the next slot; the slots to attend over and their bias."""
        slot, end = self.length, self.length + 1
        layer.keys[:, :, slot] = k
        layer.values[:, :, slot] = v
        return layer.keys[:, :, :end], layer.values[:, :, :end], self.bias[..., :end]
