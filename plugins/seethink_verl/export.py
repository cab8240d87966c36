"""A phase's data → verl's RL parquet, in the runner's order.

One row per prompt, the shape ``RLHFDataset`` (``verl/utils/dataset/rl_dataset.py``) reads with
``data.prompt_key=prompt data.image_key=images``:

- ``prompt``: chat messages ``[{"role": "user", "content": "<image>…<image>TEXT"}]`` — verl's
  ``_build_messages`` splits the string on ``<image>`` and puts the row's images there, in order; a
  phase with a system prompt puts ``{"role": "system", "content": …}`` first (``render_system``);
- ``images``: ``[{"image": PATH}, …]``, which ``_build_messages`` spreads into the message's image items
  and ``qwen_vl_utils.fetch_image`` opens; with ``min_pixels``/``max_pixels`` set, each item carries them
  too (those set), so ``fetch_image`` resizes within the phase's bounds, and the file is written already bounded by
  seethink (``seethink_core.samples.images``, as the local backend and EasyR1 bound their inputs);
  images held in memory are written as PNG under the phase folder;
- ``data_source``, ``ability`` (the capability), ``reward_model`` ``{"ground_truth": answer, "style":
  "rule"}``: what verl's reward managers hand ``compute_score``;
- ``extra_info``: ``{"index": i, "seethink": LABEL}``, LABEL a JSON string with what seethink's rewards
  read (id, prompt, answer, capability, facts, difficulty, source, meta), decoded back into a ``Sample``
  by the reward file.

verl's train loader is a ``SequentialSampler`` over the file when ``data.shuffle`` is false
(``verl.trainer.ppo.utils.create_rl_sampler``), so the file order is the training order.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.hooks.backend import SampleStream
from seethink_core.samples.images import ImageBounds, bound_image
from seethink_core.samples.labels import encode_label
from seethink_core.samples.prompting import chat_messages, render_prompt, render_system
from seethink_core.types.plan import Phase
from seethink_core.types.sample import Sample

IMAGE = "<image>"  # RLHFDataset._build_messages splits message strings on this placeholder


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    prompts: int
    max_images: int  # most images one prompt carries (0: a text-only phase)
    sha256: str  # of the parquet file


def _open(data: bytes, what: str) -> Any:
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as e:  # a corrupt image is the data's fault: say which
        raise DataError(f"cannot decode {what} ({type(e).__name__}: {e})") from None
    return image


def save_image(image: Any, dest: Path, bounds: ImageBounds) -> str:
    """A path or URL for ``image``: files as absolute paths (written bounded to ``dest`` when the bounds change
    their size), in-memory and data-URI images written to ``dest``, URLs as they are (``fetch_image`` fetches
    them), unless a bound is set: a remote image's size is unknown here."""
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        if bounds.active:
            raise DataError(f"a remote image ({image[:80]}) cannot be bounded to min_pixels/max_pixels here; "
                            "download the images, or set min_pixels and max_pixels to 0")
        return image
    if isinstance(image, str) and image.startswith("data:image"):
        import base64

        image = base64.b64decode(image.split(",", 1)[-1])
    elif isinstance(image, (str, Path)):
        path = Path(image).expanduser().resolve()
        if not path.is_file():
            raise DataError(f"image file not found: {path}")
        if not bounds.active:
            return str(path)
        image = _open(path.read_bytes(), f"image file {path}")
        if bounds.size(image.width, image.height) == image.size:
            return str(path)
    if isinstance(image, (bytes, bytearray)):
        image = _open(bytes(image), "an image")
    from PIL import Image

    if not isinstance(image, Image.Image):
        raise DataError(f"unsupported image value of type {type(image).__name__} (expected a path, bytes or PIL image)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    (bound_image(image, bounds) if bounds.active else image.convert("RGB")).save(dest, format="PNG")
    return str(dest.resolve())


def export_row(phase: Phase, sample: Sample, images_dir: Path, index: int) -> dict[str, Any]:
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(sample.id))[:80]
    bounds = ImageBounds.of(phase.algorithm)
    try:
        paths = [save_image(img, images_dir / f"{index:07d}-{safe_id}-{k}.png", bounds)
                 for k, img in enumerate(sample.images)]
    except DataError as e:
        raise DataError(f"phase '{phase.name}', sample '{sample.id}': {e.diagnostics[0].message}") from None
    text = IMAGE * len(paths) + render_prompt(phase.prompt, sample)
    messages = chat_messages(render_system(phase.system, sample), text)
    # Only the bounds that are set: fetch_image reads a missing key as its own default, a 0 as a bound.
    extra = {k: v for k, v in (("min_pixels", bounds.min_pixels), ("max_pixels", bounds.max_pixels)) if v}
    return {
        "data_source": sample.source or "seethink",
        "prompt": [{"role": m["role"], "content": _text(m["content"])} for m in messages],
        "images": [{"image": p, **extra} for p in paths],
        "ability": sample.capability or "seethink",
        "reward_model": {"ground_truth": "" if sample.answer is None else str(sample.answer), "style": "rule"},
        "extra_info": {"index": index, "seethink": encode_label(sample, paths)},
    }


def _text(content: Any) -> str:
    """Message content as one string (verl's placeholders live inside the string)."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def write_parquet(rows: Sequence[dict[str, Any]], path: Path) -> str:
    """``rows`` as a parquet file (written under a temporary name, then moved into place); its sha256."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    tmp.replace(path)
    return digest


def export_phase(phase: Phase, stream: SampleStream, *, n_prompts: int, out_dir: Path) -> ExportSummary:
    """Write ``n_prompts`` prompts of the phase (fewer if the stream ends) to ``out_dir/train.parquet``.

    Batches are pulled the way a trainer would (``next_batch(batch_size, step)``), so mixture weights,
    difficulty order and pacing are the runner's."""
    batch = max(1, phase.algorithm.batch_size)
    rows: list[dict[str, Any]] = []
    for step in range(math.ceil(n_prompts / batch)):
        want = min(batch, n_prompts - len(rows))
        samples = stream.next_batch(want, step)[:want]
        if not samples:
            break
        rows.extend(export_row(phase, s, out_dir / "images", len(rows) + i) for i, s in enumerate(samples))
    if not rows:
        raise DataError(f"phase '{phase.name}': its data stream gave no samples to export")
    digest = write_parquet(rows, out_dir / "train.parquet")
    return ExportSummary(out_dir / "train.parquet", len(rows), max(len(r["images"]) for r in rows), digest)


def export_eval(phase: Phase, samples: Sequence[Sample], out_dir: Path) -> ExportSummary:
    """The phase's eval sets as ``out_dir/val.parquet`` for verl's own validation (``trainer.test_freq``), each
    row as evaluation renders it: the eval's prompt and system prompt, the phase's pixel bounds."""
    spec = phase.eval
    assert spec is not None
    shown = replace(phase, prompt=spec.prompt if spec.prompt is not None else phase.prompt, system=spec.system)
    rows = [export_row(shown, s, out_dir / "val_images", i) for i, s in enumerate(samples)]
    if not rows:
        raise DataError(f"phase '{phase.name}': its eval sets gave no samples")
    digest = write_parquet(rows, out_dir / "val.parquet")
    return ExportSummary(out_dir / "val.parquet", len(rows), max(len(r["images"]) for r in rows), digest)


def placeholder_val(train: Path, out_dir: Path) -> Path:
    """verl loads ``data.val_files`` even when it never validates (``trainer.test_freq -1``): the first row of
    the train file stands in, so nothing else is read or downloaded."""
    import pyarrow.parquet as pq

    table = pq.read_table(train).slice(0, 1)
    path = out_dir / "val.parquet"
    pq.write_table(table, path)
    return path
