"""A phase's data → OpenRLHF's VLM prompt JSONL, in the runner's order.

One line per prompt, the shape ``PromptDataset`` (``openrlhf/datasets/prompts_dataset.py``) reads
with ``--data.input_key prompt --data.label_key label --data.image_key images
--data.apply_chat_template``:

- ``prompt``: a chat message list, ``[{"role": "user", "content": [{"type": "image"}, ...,
  {"type": "text", "text": ...}]}]``; the text is the phase's template applied with
  ``render_prompt``; the image items are the placeholders the chat template expands;
- ``images``: image file paths (``vlm_utils.load_images`` opens paths, URLs and base64); images
  a sample carries in memory (PIL or bytes) are written under the phase directory;
- ``label``: a JSON string with what seethink's rewards read (id, prompt, answer, capability,
  facts, difficulty, source, meta with the choices) — the reward bridge decodes it back into a
  ``Sample``; OpenRLHF hands the label through untouched;
- ``datasource``: the sample's source (``PromptDataset`` keeps it per prompt).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seethink_core.backend import SampleStream
from seethink_core.errors import DataError
from seethink_core.plan import Phase
from seethink_core.prompting import render_prompt
from seethink_core.sample import Sample

LABEL_FIELDS = ("id", "prompt", "answer", "capability", "difficulty", "facts", "source")


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    prompts: int
    max_images: int  # most images one prompt carries (0: a text-only phase)
    sha256: str  # of the JSONL, for the data manifest


def _json_safe(value: Any) -> Any:
    """Round-trip through JSON so a label never fails to encode (odd meta values become strings)."""
    return json.loads(json.dumps(value, default=str))


def encode_label(sample: Sample, image_paths: list[str]) -> str:
    data: dict[str, Any] = {k: getattr(sample, k) for k in LABEL_FIELDS}
    data["images"] = image_paths
    data["meta"] = _json_safe(sample.meta if isinstance(sample.meta, dict) else {})
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def decode_label(label: Any) -> Sample:
    """The ``Sample`` a label was made from; raises ``ValueError`` on a malformed label."""
    data = json.loads(label) if isinstance(label, (str, bytes)) else label
    if not isinstance(data, dict):
        raise ValueError(f"a label must be a JSON object, got {type(data).__name__}")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError("label field 'meta' must be an object")
    difficulty = data.get("difficulty")
    return Sample(
        id=str(data.get("id", "")),
        prompt=str(data.get("prompt") or ""),
        images=list(data.get("images") or []),
        answer=None if data.get("answer") is None else str(data["answer"]),
        capability=data.get("capability"),
        difficulty=None if difficulty is None else float(difficulty),
        facts=data.get("facts"),
        source=str(data.get("source") or ""),
        meta=meta,
    )


def _save_image(image: Any, dest: Path) -> str:
    """A path for ``image``: URLs and data URIs as they are (``vlm_utils.load_images`` reads both), files
    as absolute paths, in-memory images written to ``dest``."""
    if isinstance(image, str) and image.startswith(("http://", "https://", "data:image")):
        return image
    if isinstance(image, (str, Path)):
        path = Path(image).expanduser().resolve()
        if not path.is_file():
            raise DataError(f"image file not found: {path}")
        return str(path)
    from PIL import Image

    if isinstance(image, (bytes, bytearray)):
        try:
            image = Image.open(io.BytesIO(image))
            image.load()
        except Exception as e:  # a corrupt image is the data's fault: say which
            raise DataError(f"cannot decode an image ({type(e).__name__}: {e})") from None
    if isinstance(image, Image.Image):
        dest.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(dest, format="PNG")
        return str(dest.resolve())
    raise DataError(f"unsupported image value of type {type(image).__name__} (expected a path, bytes or PIL image)")


def export_row(phase: Phase, sample: Sample, images_dir: Path, index: int) -> tuple[dict[str, Any], int]:
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(sample.id))[:80]
    try:
        paths = [_save_image(img, images_dir / f"{index:07d}-{safe_id}-{k}.png")
                 for k, img in enumerate(sample.images)]
    except DataError as e:
        raise DataError(f"phase '{phase.name}', sample '{sample.id}': {e.diagnostics[0].message}") from None
    content: list[dict[str, Any]] = [{"type": "image"} for _ in paths]
    content.append({"type": "text", "text": render_prompt(phase.prompt, sample)})
    row = {
        "prompt": [{"role": "user", "content": content}],
        "images": paths,
        "label": encode_label(sample, paths),
        "datasource": sample.source or "seethink",
    }
    return row, len(paths)


def export_phase(phase: Phase, stream: SampleStream, *, n_prompts: int, out_dir: Path) -> ExportSummary:
    """Write ``n_prompts`` prompts of the phase (fewer if the stream ends) to ``out_dir/prompts.jsonl``.

    Batches are pulled the way a trainer would (``next_batch(batch_size, step)``), so mixture
    weights, difficulty order and pacing are the runner's.
    """
    algo = phase.algorithm
    batch = max(1, algo.batch_size)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "prompts.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    digest = hashlib.sha256()
    written = max_images = 0
    with tmp.open("w", encoding="utf-8") as f:
        for step in range(math.ceil(n_prompts / batch)):
            want = min(batch, n_prompts - written)
            samples = stream.next_batch(want, step)
            if not samples:
                break
            for sample in samples[:want]:
                row, n_images = export_row(phase, sample, out_dir / "images", written)
                line = json.dumps(row, ensure_ascii=False) + "\n"
                f.write(line)
                digest.update(line.encode())
                written += 1
                max_images = max(max_images, n_images)
    if written == 0:
        tmp.unlink(missing_ok=True)
        raise DataError(f"phase '{phase.name}': its data stream gave no samples to export")
    tmp.replace(path)
    return ExportSummary(path, written, max_images, digest.hexdigest())
