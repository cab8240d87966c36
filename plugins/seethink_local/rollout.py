"""Prompts to tensors, batched sampling with a KV cache, and per-token log-probs of completions.

The fast path is for Qwen2-VL-family models (3D "mrope" positions, ``get_image_features``): the
prompt batch is prefilled once and its KV cache repeated ``group`` times (into buffers with room for
the completion, ``kv_buffer``), and in the update each prompt (its vision tower included) runs once,
with gradients, its KV cache shared by the prompt's completions. Other models use
``model.generate`` and a plain forward per row.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from seethink_core.errors import BackendError, DataError
from seethink_core.samples.images import ImageBounds, bound_image
from seethink_core.samples.prompting import chat_messages, render_prompt, render_system
from seethink_core.types.sample import Sample
from seethink_local.fast_decode import supports as fast_decode_supports
from seethink_local.graph_decode import decoder_for
from seethink_local.kv_buffer import buffer_cache


def load_image(image: Any, bounds: ImageBounds | None = None) -> Any:
    """An RGB PIL image, resized to the phase's pixel ``bounds`` first when it sets any."""
    from PIL import Image

    try:
        if isinstance(image, Image.Image):
            img = image
        elif isinstance(image, (bytes, bytearray)):
            img = Image.open(io.BytesIO(image))
        elif isinstance(image, dict) and "bytes" in image:  # the datasets Image feature
            img = Image.open(io.BytesIO(image["bytes"])) if image["bytes"] else Image.open(image["path"])
        else:
            img = Image.open(Path(image))
        return bound_image(img, bounds) if bounds is not None and bounds.active else img.convert("RGB")
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read image {str(image)[:80]!r}: {e}") from None


def prompt_text(processor: Any, question: str, n_images: int, system: str | None = None) -> str:
    """The chat-formatted prompt (the system message when there is one, then the user's: images first,
    then the question), ending with the assistant turn."""
    content: list[dict[str, Any]] = [{"type": "image"} for _ in range(n_images)]
    content.append({"type": "text", "text": question})
    messages = chat_messages(system, content)
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


@dataclass
class PromptBatch:
    """B prompts, left-padded, with their images (``pixel_values`` rows follow the images in order)."""

    input_ids: torch.Tensor  # (B, P)
    attention_mask: torch.Tensor  # (B, P)
    extra: dict[str, torch.Tensor]  # pixel_values, image_grid_thw, ... (empty when text-only)
    images_per_prompt: list[int]
    texts: list[str]

    @property
    def size(self) -> int:
        return self.input_ids.shape[0]


def encode_prompts(processor: Any, samples: Sequence[Sample], template: str | None, *, use_facts: bool = False,
                   max_prompt_tokens: int | None = None, device: torch.device | None = None,
                   image_bounds: ImageBounds | None = None, system: str | None = None) -> PromptBatch:
    """The processor's batch of ``samples``' prompts; each row's real length is its ``attention_mask`` sum.
    ``system``: the system prompt template (``render_system``), None for no system message."""
    texts, images, counts = [], [], []
    for s in samples:
        if use_facts:
            question = f"{s.facts or ''}\n{s.prompt}".strip()
            imgs: list[Any] = []
        else:
            question, imgs = s.prompt, [load_image(i, image_bounds) for i in s.images]
        texts.append(prompt_text(processor, render_prompt(template, s, question=question), len(imgs),
                                 render_system(system, s, question=question)))
        images.extend(imgs)
        counts.append(len(imgs))
    enc = processor(text=texts, images=images or None, return_tensors="pt", padding=True)
    ids, mask = enc.pop("input_ids"), enc.pop("attention_mask")
    if max_prompt_tokens is not None and ids.shape[1] > max_prompt_tokens:
        # Left truncation keeps the end of the prompt (the question and the assistant turn).
        # Image tokens must stay whole, so refuse rather than cut through an image.
        ids, mask = ids[:, -max_prompt_tokens:], mask[:, -max_prompt_tokens:]
        if images:
            raise DataError(f"a prompt with images is longer than max_prompt_tokens ({max_prompt_tokens})")
    # mm_token_type_ids is recomputed for every (prompt + completion) sequence, so it is not kept.
    extra = {k: v for k, v in enc.items() if isinstance(v, torch.Tensor) and k != "mm_token_type_ids"}
    if device is not None:
        ids, mask = ids.to(device), mask.to(device)
        extra = {k: v.to(device) for k, v in extra.items()}
    return PromptBatch(ids, mask, extra, counts, texts)


def is_qwen_vl(model: Any) -> bool:
    core = getattr(model, "model", None)
    return hasattr(core, "get_rope_index") and hasattr(core, "get_image_features") and hasattr(core, "rope_deltas")


def base_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


@dataclass
class Rollout:
    """N = B * group completions, row i belongs to prompt i // group."""

    tokens: torch.Tensor  # (N, T) completion ids, padded with pad_id after EOS
    mask: torch.Tensor  # (N, T) 1 on generated tokens (EOS included), 0 on padding
    lengths: torch.Tensor  # (N,)
    truncated: torch.Tensor  # (N,) bool: hit max_new_tokens without EOS


def suppressed_ids(model: Any) -> list[int]:
    """Placeholder tokens a completion must never contain: a sampled image token would not match
    any image features when the sequence is scored."""
    cfg = base_model(model).config
    names = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id",
             "image_token_index", "video_token_index")
    return sorted({v for n in names if isinstance(v := getattr(cfg, n, None), int)})


def _sample(logits: torch.Tensor, temperature: float, top_p: float, gen: torch.Generator | None) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, idx = probs.sort(-1, descending=True)
        keep = sorted_p.cumsum(-1) - sorted_p < top_p  # always keeps the most likely token
        sorted_p = sorted_p * keep
        probs = torch.zeros_like(probs).scatter(-1, idx, sorted_p)
    return torch.multinomial(probs, 1, generator=gen).squeeze(-1)


@torch.no_grad()
def generate(model: Any, batch: PromptBatch, *, group: int, max_new_tokens: int, temperature: float,
             top_p: float, eos_ids: Sequence[int], pad_id: int, generator: torch.Generator | None = None,
             cuda_graphs: bool = False) -> Rollout:
    """``group`` completions per prompt of ``batch``; ``cuda_graphs``: see graph_decode."""
    core = base_model(model)
    if not is_qwen_vl(core):
        return _generate_hf(model, batch, group=group, max_new_tokens=max_new_tokens, temperature=temperature,
                            top_p=top_p, eos_ids=eos_ids, pad_id=pad_id)
    device = batch.input_ids.device
    core.model.rope_deltas = None  # stale deltas from an earlier batch would shift every position
    mm = {"mm_token_type_ids": mm_token_types(core, batch.input_ids)} if batch.extra else {}
    out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=True,
                logits_to_keep=1, **batch.extra, **mm)
    cache = out.past_key_values  # (the deprecation notice names the input keyword, not this field)
    logits = out.logits[:, -1]
    deltas = core.model.rope_deltas
    attn = batch.attention_mask
    # The prompt was prefilled once; every completion of the group shares its cache, copied once into
    # buffers with room for the completion (a decode step then writes its token in place).
    buffered = buffer_cache(cache, group, max_new_tokens)
    if not buffered and group > 1:
        cache.batch_repeat_interleave(group)
    if group > 1:
        logits = logits.repeat_interleave(group, 0)
        attn = attn.repeat_interleave(group, 0)
        deltas = deltas.repeat_interleave(group, 0) if deltas is not None else None
    n, prompt_len = attn.shape
    # The mask of every step is a prefix of one preallocated mask (the decode tokens are all attended to).
    full_attn = torch.cat([attn, torch.ones(n, max_new_tokens, dtype=attn.dtype, device=device)], dim=1)
    # A decode position is (real tokens before it + rope delta) on all three mrope axes. The delta is
    # relative to the *unpadded* prompt (get_rope_index), so a left-padded row must not count its
    # padding: that would put its completion hundreds of positions past where teacher forcing
    # (training) puts it.
    first_pos = attn.sum(-1, keepdim=True).to(torch.long) + deltas if deltas is not None else None
    banned = torch.tensor(suppressed_ids(core), dtype=torch.long, device=device)
    eos = torch.tensor(list(eos_ids), device=device)
    out_tokens = torch.full((n, max_new_tokens), pad_id, dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    lengths = torch.zeros(n, dtype=torch.long, device=device)
    # Decode steps through the layers' own weights where that is checked to be exact (fast_decode).
    fast = decoder_for(core, cache.layers, attn, cuda_graphs) if buffered and fast_decode_supports(core) else None
    for t in range(max_new_tokens):
        logits = logits.index_fill(-1, banned, float("-inf")) if banned.numel() else logits
        tok = _sample(logits, temperature, top_p, generator)
        tok = torch.where(done, torch.full_like(tok, pad_id), tok)
        out_tokens[:, t] = tok
        lengths += (~done).long()
        done = done | torch.isin(tok, eos)
        if bool(done.all()) or t == max_new_tokens - 1:
            break
        if fast is not None:
            # Without rope deltas transformers places a decode token after the padded prompt.
            positions = (first_pos + t).view(n) if first_pos is not None else torch.full(
                (n,), prompt_len + t, dtype=torch.long, device=device)
            logits = fast.step(tok, positions)
            continue
        attn = full_attn[:, :prompt_len + t + 1]
        pos = (first_pos + t).unsqueeze(0).expand(3, n, 1) if first_pos is not None else None
        step = model(input_ids=tok[:, None], attention_mask=attn, position_ids=pos, cache=cache, use_cache=True)
        cache = step.past_key_values
        logits = step.logits[:, -1]
    width = int(lengths.max().item()) if n else 0
    tokens = out_tokens[:, :max(width, 1)]
    mask = (torch.arange(tokens.shape[1], device=device)[None, :] < lengths[:, None]).long()
    last = tokens.gather(1, (lengths - 1).clamp(min=0)[:, None]).squeeze(1)
    truncated = ~torch.isin(last, eos)
    return Rollout(tokens, mask, lengths, truncated)


def _generate_hf(model: Any, batch: PromptBatch, *, group: int, max_new_tokens: int, temperature: float,
                 top_p: float, eos_ids: Sequence[int], pad_id: int) -> Rollout:
    """Any other VLM: transformers' own generate (vision runs once per returned sequence there)."""
    sampling = temperature > 0
    out = model.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **batch.extra,
                         max_new_tokens=max_new_tokens, do_sample=sampling,
                         temperature=temperature if sampling else None, top_p=top_p if sampling else None,
                         num_return_sequences=group, eos_token_id=list(eos_ids), pad_token_id=pad_id,
                         suppress_tokens=suppressed_ids(model) or None)
    tokens = out[:, batch.input_ids.shape[1]:]
    eos = torch.tensor(list(eos_ids), device=tokens.device)
    is_eos = torch.isin(tokens, eos)
    first = torch.where(is_eos.any(1), is_eos.float().argmax(1) + 1, torch.full_like(is_eos[:, 0], tokens.shape[1],
                                                                                     dtype=torch.long))
    mask = (torch.arange(tokens.shape[1], device=tokens.device)[None, :] < first[:, None]).long()
    tokens = torch.where(mask.bool(), tokens, torch.full_like(tokens, pad_id))
    return Rollout(tokens, mask, first, ~is_eos.any(1))


def mm_token_types(core: Any, input_ids: torch.Tensor) -> torch.Tensor:
    """1 on image placeholder tokens, 0 elsewhere (what Qwen's get_rope_index reads)."""
    return (input_ids == core.config.image_token_id).int()


def completion_logprobs(model: Any, batch: PromptBatch, rows: torch.Tensor, completions: torch.Tensor,
                        completion_mask: torch.Tensor, *, group: int,
                        with_entropy: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token log-probs (N, T) of ``completions`` after their prompts (row r uses prompt rows[r]).

    ``rows`` indexes ``batch``; rows of one prompt are contiguous in groups of ``group``. On the Qwen
    path each distinct prompt runs once (``_prefix_shared_logits``); with ``group`` 1 (or activation
    checkpointing) every row runs whole, the vision tower still once per distinct prompt.
    """
    core = base_model(model)
    # Activation checkpointing turns the KV cache off, so that case (and a partial group) is scored row by row.
    if (group > 1 and rows.numel() % group == 0 and is_qwen_vl(core)
            and not _checkpointing(core)):
        logits = _prefix_shared_logits(model, core, batch, rows, completions, completion_mask, group)
        return _token_logprobs(logits, completions, with_entropy)
    prompt_ids = batch.input_ids[rows]
    prompt_mask = batch.attention_mask[rows]
    ids = torch.cat([prompt_ids, completions], dim=1)
    mask = torch.cat([prompt_mask, completion_mask.to(prompt_mask.dtype)], dim=1)
    t = completions.shape[1]
    kwargs: dict[str, Any] = {}
    if batch.extra and is_qwen_vl(core):
        core.model.rope_deltas = None
        prompts = rows[::group] if group > 1 else rows
        kwargs = _shared_vision_inputs(core, batch, prompts, rows, group)
        kwargs["mm_token_type_ids"] = mm_token_types(core, ids)
    elif batch.extra:
        kwargs = _repeat_extra(batch, rows)
    elif is_qwen_vl(core):
        core.model.rope_deltas = None
    out = model(input_ids=ids, attention_mask=mask, logits_to_keep=t + 1, use_cache=False, **kwargs)
    return _token_logprobs(out.logits[:, :-1], completions, with_entropy)


def _checkpointing(core: Any) -> bool:
    """Whether activation checkpointing is on (read under its new name where transformers has it:
    the old one warns)."""
    for name in ("is_activation_checkpointing", "is_gradient_checkpointing"):
        if hasattr(type(core), name):
            return bool(getattr(core, name))
    return False


def _prefix_shared_logits(model: Any, core: Any, batch: PromptBatch, rows: torch.Tensor, completions: torch.Tensor,
                          completion_mask: torch.Tensor, group: int) -> torch.Tensor:
    """Next-token logits (N, T, V) for ``completions``, each prompt run once for its whole group.

    The completions of a group share their prompt, so the prompt (image tokens included) goes through
    the model once per prompt, with gradients, and its KV cache is repeated for the group; only the
    completion tokens run per row. Teacher forcing over (prompt + completion) per row computes the
    same numbers, with the prompt's work repeated ``group`` times. Positions follow ``generate``: a
    completion token sits at (real prompt tokens before it + the rope delta), or after the padded
    prompt when there is no delta (text only), so the logits are the ones the rollout sampled from.
    """
    prompts = rows[::group]
    n, t = completions.shape
    p_ids, p_mask = batch.input_ids[prompts], batch.attention_mask[prompts]
    core.model.rope_deltas = None  # stale deltas from another batch would shift every position
    kwargs = _prompt_image_inputs(batch, prompts)
    if kwargs:
        kwargs["mm_token_type_ids"] = mm_token_types(core, p_ids)
    out = model(input_ids=p_ids, attention_mask=p_mask, use_cache=True, logits_to_keep=1, **kwargs)
    first = out.logits[:, -1:].repeat_interleave(group, 0)  # predicts each completion's first token
    if t == 1:
        return first
    cache = out.past_key_values
    cache.batch_repeat_interleave(group)
    prompt_mask = p_mask.repeat_interleave(group, 0)
    # The last completion token predicts nothing that is scored, so it is not fed.
    attn = torch.cat([prompt_mask, completion_mask[:, :t - 1].to(prompt_mask.dtype)], dim=1)
    pos = None
    deltas = core.model.rope_deltas
    if deltas is not None:
        real = prompt_mask.sum(-1, keepdim=True).to(torch.long)
        steps = torch.arange(t - 1, device=real.device)[None, :]
        pos = (real + steps + deltas.repeat_interleave(group, 0)).unsqueeze(0).expand(3, n, t - 1)
    rest = model(input_ids=completions[:, :t - 1], attention_mask=attn, position_ids=pos, cache=cache,
                 use_cache=True)
    return torch.cat([first, rest.logits], dim=1)


def _prompt_image_inputs(batch: PromptBatch, prompts: torch.Tensor) -> dict[str, torch.Tensor]:
    """``pixel_values`` and ``image_grid_thw`` of the images of ``prompts`` (in order), or nothing."""
    if "image_grid_thw" not in batch.extra:
        return {}
    grid, pixels = batch.extra["image_grid_thw"], batch.extra["pixel_values"]
    slices = _image_slices(batch)
    img_idx = [i for p in prompts.tolist() for i in range(*slices[p])]
    if not img_idx:
        return {}
    patch_start = [0]
    for c in grid.prod(-1).tolist():
        patch_start.append(patch_start[-1] + c)
    sel = torch.cat([pixels[patch_start[i]:patch_start[i + 1]] for i in img_idx])
    return {"pixel_values": sel, "image_grid_thw": grid[img_idx]}


def _token_logprobs(logits: torch.Tensor, completions: torch.Tensor, with_entropy: bool
                    ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probs (N, T) of ``completions`` under ``logits`` (N, T, V), and the entropy when asked."""
    logp_all = torch.log_softmax(logits.float(), dim=-1)
    logp = logp_all.gather(-1, completions[..., None]).squeeze(-1)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def _image_slices(batch: PromptBatch) -> list[tuple[int, int]]:
    starts, pos = [], 0
    for c in batch.images_per_prompt:
        starts.append((pos, pos + c))
        pos += c
    return starts


def _shared_vision_inputs(core: Any, batch: PromptBatch, prompts: torch.Tensor, rows: torch.Tensor,
                          group: int) -> dict[str, Any]:
    """Image features for each distinct prompt once, repeated for its completions."""
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    selected = _prompt_image_inputs(batch, prompts)  # the distinct prompts' images, in order
    if not selected:
        return {}
    grid = batch.extra["image_grid_thw"]
    slices = _image_slices(batch)
    feats = core.model.get_image_features(selected["pixel_values"], selected["image_grid_thw"],
                                          return_dict=True).pooler_output
    # feats is one tensor per image; map each row to its prompt's images.
    per_prompt: list[list[torch.Tensor]] = []
    k = 0
    for p in prompts.tolist():
        n = slices[p][1] - slices[p][0]
        per_prompt.append(list(feats[k:k + n]))
        k += n
    row_feats: list[torch.Tensor] = []
    row_grids: list[torch.Tensor] = []
    for r in range(rows.shape[0]):
        j = r // group if group > 1 else r
        row_feats.extend(per_prompt[j])
        p = prompts[j].item()
        row_grids.extend(grid[i] for i in range(*slices[p]))
    out: dict[str, Any] = {"mm_encoder_outputs": {"image": BaseModelOutputWithPooling(pooler_output=row_feats)}}
    if row_grids:
        out["image_grid_thw"] = torch.stack(row_grids)
    return out


def _repeat_extra(batch: PromptBatch, rows: torch.Tensor) -> dict[str, Any]:
    """Generic path: repeat each prompt's pixel rows for every completion row (vision runs per row)."""
    grid = batch.extra.get("image_grid_thw")
    if grid is None:  # fixed-size images: one pixel_values entry per image
        slices = _image_slices(batch)
        idx = [i for r in rows.tolist() for i in range(*slices[r])]
        return {k: v[idx] for k, v in batch.extra.items()}
    raise BackendError("the local backend scores variable-resolution images (image_grid_thw) only for "
                       "Qwen2-VL-family models", hint="use a Qwen2-VL / Qwen2.5-VL model, or fixed-size images")
