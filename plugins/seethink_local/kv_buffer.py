"""A rollout's KV cache in buffers sized for the whole rollout, so a decode step writes one token in place.

transformers' ``DynamicLayer`` grows by ``torch.cat``: every decode step copies each layer's whole
cache into a fresh allocation to add one token. torch.profiler put those copies at a third of a
rollout, but most of that was the profiler's own overhead: measured without it, buffers save about
4% of a rollout's CPU time on the ~10M model (docs/speed.md). Here the prefilled cache of each prompt
is copied once, ``group`` times over, into a buffer with room for the completion, and each step
writes its token into the next slot; attention reads the filled part as a view.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers.cache_utils import DynamicLayer


class BufferedLayer(DynamicLayer):
    """One layer's keys and values in a preallocated (N, heads, length + room, head_dim) buffer."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, repeats: int, room: int):
        super().__init__()
        self._keys = _repeated_into_buffer(keys, repeats, room)
        self._values = _repeated_into_buffer(values, repeats, room)
        self._length = keys.shape[-2]
        self.device = keys.device
        self.is_initialized = True
        self._expose()

    def _expose(self) -> None:
        self.keys = self._keys[:, :, :self._length]
        self.values = self._values[:, :, :self._length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
               ) -> tuple[torch.Tensor, torch.Tensor]:
        end = self._length + key_states.shape[-2]
        if end > self._keys.shape[-2]:  # more tokens than the room made for them: grow as DynamicLayer does
            self._keys = torch.cat([self.keys, key_states], dim=-2)
            self._values = torch.cat([self.values, value_states], dim=-2)
        else:
            self._keys[:, :, self._length:end] = key_states
            self._values[:, :, self._length:end] = value_states
        self._length = end
        self._expose()
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self._keys = self._keys[indices]
        self._values = self._values[indices]
        self._expose()

    def batch_repeat_interleave(self, repeats: int) -> None:
        self._keys = self._keys.repeat_interleave(repeats, dim=0)
        self._values = self._values.repeat_interleave(repeats, dim=0)
        self._expose()


def _repeated_into_buffer(states: torch.Tensor, repeats: int, room: int) -> torch.Tensor:
    """(B, H, L, D) -> a (B * repeats, H, L + room, D) buffer whose first L slots hold each row ``repeats`` times."""
    b, h, length, d = states.shape
    buffer = states.new_empty((b * repeats, h, length + room, d))
    buffer.view(b, repeats, h, length + room, d)[:, :, :, :length] = states[:, None]
    return buffer


def buffer_cache(cache: Any, repeats: int, room: int) -> bool:
    """Move a prefilled cache's layers into buffers (each prompt row repeated ``repeats`` times) with
    ``room`` free slots. False, and the cache untouched, when it holds layers of another kind."""
    layers = getattr(cache, "layers", None)
    if not layers or any(type(layer) is not DynamicLayer or not layer.is_initialized for layer in layers):
        return False
    cache.layers = [BufferedLayer(layer.keys, layer.values, repeats, room) for layer in layers]
    return True
