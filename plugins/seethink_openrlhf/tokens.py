"""Prompt lengths in tokens, measured as OpenRLHF 0.11.2 will measure them (``overlong_prompts: drop``).

OpenRLHF's ``get_tokenizer`` loads a VLM's ``AutoProcessor`` and uses it as the tokenizer:
``PromptDataset`` renders each message list with ``processor.apply_chat_template(...,
tokenize=False, add_generation_prompt=True)`` and ``vlm_utils.process_prompt_with_images`` encodes
it with ``processor(text=[prompt], images=..., add_special_tokens=False)``, image tokens expanded.
The count here repeats those two calls on the exported row, with the images the row names (already
bounded by the export), so it is the length the job's prompt will have.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from seethink_core.errors import DataError
from seethink_openrlhf.export import data_uri_bytes


def load_processor(candidates: Sequence[str], *, offline: bool) -> tuple[Any | None, str]:
    """The processor of the first of ``candidates`` (model folders or hub ids) that loads, else
    ``(None, why)``. ``offline``: only local folders and the Hugging Face cache are tried (a dry run
    must not wait on the network)."""
    try:
        from transformers import AutoProcessor
    except ImportError:
        return None, "transformers is not installed"
    # The built-in tiny models' processor class registers itself with AutoProcessor on import; without
    # the local backend installed, only stock processors load (all OpenRLHF can load anyway).
    with contextlib.suppress(ImportError):
        import seethink_local.processing  # noqa: F401
    reasons = []
    for name in dict.fromkeys(candidates):
        try:
            return AutoProcessor.from_pretrained(name, local_files_only=offline), ""
        except Exception as e:  # a missing folder, no cache entry, no network: each is "not here"
            reasons.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}")
    return None, "; ".join(reasons) or "no model to load a processor from"


def _open(ref: str) -> Any:
    import io

    from PIL import Image

    if ref.startswith("data:image"):
        return Image.open(io.BytesIO(data_uri_bytes(ref)))
    return Image.open(ref)


def prompt_token_counter(processor: Any) -> Callable[[dict[str, Any]], int]:
    """``count(row)``: the token length of an exported row's prompt, images included."""

    def count(row: dict[str, Any]) -> int:
        text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        refs = list(row.get("images") or [])
        if any(r.startswith(("http://", "https://")) for r in refs):
            raise DataError("a remote image cannot be measured in tokens without fetching it",
                            hint="download the images, or use overlong_prompts: truncate")
        images = [_open(r) for r in refs]
        try:
            out = processor(text=[text], images=images or None, add_special_tokens=False)
        finally:
            for im in images:
                im.close()
        return len(out["input_ids"][0])

    return count
