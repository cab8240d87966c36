"""A phase's data → OpenRLHF's VLM prompt JSONL, in the runner's order.

One line per prompt, the shape ``PromptDataset`` (``openrlhf/datasets/prompts_dataset.py``) reads
with ``--data.input_key prompt --data.label_key label --data.image_key images
--data.apply_chat_template``:

- ``prompt``: a chat message list, ``[{"role": "user", "content": [{"type": "image"}, ...,
  {"type": "text", "text": ...}]}]``; the text is the phase's template applied with
  ``render_prompt``; the image items are the placeholders the chat template expands; a phase with
  a system prompt puts ``{"role": "system", "content": ...}`` (``render_system``) first;
- ``images``: image file paths (``vlm_utils.load_images`` opens paths, URLs and base64); images
  a sample carries in memory (PIL or bytes) are written under the phase directory;
- ``label``: a JSON string with what seethink's rewards read (id, prompt, answer, capability,
  facts, difficulty, source, meta with the choices) — the reward bridge decodes it back into a
  ``Sample``; OpenRLHF hands the label through untouched;
- ``datasource``: the sample's source (``PromptDataset`` keeps it per prompt).

OpenRLHF 0.11.2 has no pixel-bound flag (its processor is ``AutoProcessor.from_pretrained(model)``),
so a phase's ``min_pixels``/``max_pixels`` are applied here: every image is written already bounded
(``seethink_core.samples.images``, what EasyR1 does to its inputs). With ``overlong_prompts: drop`` a prompt
is measured as OpenRLHF's ``process_prompt_with_images`` tokenizes it (``count_tokens``) and one
over ``max_prompt_tokens`` is left out, the next sample of the stream taking its place.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.hooks.backend import SampleStream
from seethink_core.samples.images import ImageBounds, bound_image
from seethink_core.samples.labels import encode_label
from seethink_core.samples.overlong import fill_fitting
from seethink_core.samples.prompting import chat_messages, render_prompt, render_system
from seethink_core.types.plan import Phase
from seethink_core.types.sample import Sample


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    prompts: int
    max_images: int  # most images one prompt carries (0: a text-only phase)
    sha256: str  # of the JSONL, for the data manifest
    dropped_overlong: int = 0  # prompts left out for being longer than max_prompt_tokens
    measured: bool = False  # whether prompts were measured in tokens (overlong_prompts: drop with a counter)


def _decode(data: bytes) -> Any:
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as e:  # a corrupt image is the data's fault: say which
        raise DataError(f"cannot decode an image ({type(e).__name__}: {e})") from None
    return image


def data_uri_bytes(uri: str) -> bytes:
    """The image bytes of a ``data:image/...;base64,`` URI (as ``vlm_utils.load_images`` decodes it)."""
    try:
        return base64.b64decode(uri.split(",", 1)[-1])
    except ValueError as e:
        raise DataError(f"cannot decode a data URI image: {e}") from None


def _save_image(image: Any, dest: Path, bounds: ImageBounds = ImageBounds()) -> str:
    """A path for ``image``: URLs and data URIs as they are (``vlm_utils.load_images`` reads both), files
    as absolute paths, in-memory images written to ``dest``. With ``bounds`` set, an image whose size
    they change is written, resized, to ``dest`` instead; one they leave alone is referenced as it is."""
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        if bounds.active:  # its size is unknown without fetching it, and the export does not touch the network
            raise DataError(f"a remote image ({image[:80]}) cannot be bounded to min_pixels/max_pixels here; "
                            "download the images, or set min_pixels and max_pixels to 0")
        return image
    if isinstance(image, str) and image.startswith("data:image"):
        if not bounds.active:
            return image
        decoded = _decode(data_uri_bytes(image))
        if bounds.size(decoded.width, decoded.height) == decoded.size:
            return image
        image = decoded
    elif isinstance(image, (str, Path)):
        path = Path(image).expanduser().resolve()
        if not path.is_file():
            raise DataError(f"image file not found: {path}")
        if not bounds.active:
            return str(path)
        from PIL import Image

        try:
            with Image.open(path) as opened:  # the header alone gives the size
                if bounds.size(opened.width, opened.height) == opened.size:
                    return str(path)
        except Exception as e:
            raise DataError(f"cannot decode image file {path} ({type(e).__name__}: {e})") from None
        image = _decode(path.read_bytes())
    from PIL import Image

    if isinstance(image, (bytes, bytearray)):
        image = _decode(bytes(image))
    if isinstance(image, Image.Image):
        dest.parent.mkdir(parents=True, exist_ok=True)
        (bound_image(image, bounds) if bounds.active else image.convert("RGB")).save(dest, format="PNG")
        return str(dest.resolve())
    raise DataError(f"unsupported image value of type {type(image).__name__} (expected a path, bytes or PIL image)")


def export_row(phase: Phase, sample: Sample, images_dir: Path, index: int) -> tuple[dict[str, Any], int]:
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(sample.id))[:80]
    bounds = ImageBounds.of(phase.algorithm)
    try:
        paths = [_save_image(img, images_dir / f"{index:07d}-{safe_id}-{k}.png", bounds)
                 for k, img in enumerate(sample.images)]
    except DataError as e:
        raise DataError(f"phase '{phase.name}', sample '{sample.id}': {e.diagnostics[0].message}") from None
    content: list[dict[str, Any]] = [{"type": "image"} for _ in paths]
    content.append({"type": "text", "text": render_prompt(phase.prompt, sample)})
    messages = chat_messages(render_system(phase.system, sample), content)
    row = {
        "prompt": messages,
        "images": paths,
        "label": encode_label(sample, paths),
        "datasource": sample.source or "seethink",
    }
    return row, len(paths)


class _RowsFile:
    """A JSONL file of exported rows, written under a temporary name and moved into place by ``commit``,
    with its row count, the most images one row carries and the sha256 of its bytes."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_suffix(".jsonl.tmp")
        self.rows = self.max_images = 0
        self._digest = hashlib.sha256()
        self._file: Any = None

    def __enter__(self) -> _RowsFile:
        self._file = self.tmp.open("w", encoding="utf-8")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._file.close()

    def write(self, row: dict[str, Any], n_images: int) -> None:
        line = json.dumps(row, ensure_ascii=False) + "\n"
        self._file.write(line)
        self._digest.update(line.encode("utf-8"))
        self.rows += 1
        self.max_images = max(self.max_images, n_images)

    def commit(self) -> None:
        self.tmp.replace(self.path)

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def export_eval(phase: Phase, samples: Sequence[Sample], out_dir: Path) -> ExportSummary:
    """The phase's eval sets as OpenRLHF JSONL (``out_dir/eval.jsonl``, images under ``eval_images/``),
    for the job's own validation (``--eval.dataset``): each row as evaluation renders it, with the eval
    spec's prompt and system prompt (the compiler fills in the phase's unless ``eval settings`` names
    others) and the phase's pixel bounds. OpenRLHF scores it with the phase's reward file."""
    spec = phase.eval
    assert spec is not None
    shown = dataclasses.replace(phase, prompt=spec.prompt if spec.prompt is not None else phase.prompt,
                                system=spec.system)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _RowsFile(out_dir / "eval.jsonl") as out:
        for i, sample in enumerate(samples):
            out.write(*export_row(shown, sample, out_dir / "eval_images", i))
    out.commit()
    return ExportSummary(out.path, out.rows, out.max_images, out.sha256)


def export_phase(phase: Phase, stream: SampleStream, *, n_prompts: int, out_dir: Path,
                 count_tokens: Callable[[dict[str, Any]], int] | None = None) -> ExportSummary:
    """Write ``n_prompts`` prompts of the phase (fewer if the stream ends) to ``out_dir/prompts.jsonl``.

    Batches are pulled the way a trainer would (``next_batch(batch_size, step)``), so mixture
    weights, difficulty order and pacing are the runner's. ``count_tokens(row)``: a row's prompt
    length as the job will tokenize it; given, and the phase says ``overlong_prompts: drop``, rows
    over ``max_prompt_tokens`` are dropped and replaced by the next samples of the same step.
    Without it nothing is measured (``measured`` is False; the caller says so).
    """
    algo = phase.algorithm
    batch = max(1, algo.batch_size)
    limit = int(getattr(algo, "max_prompt_tokens", 0) or 0)
    measuring = count_tokens is not None and getattr(algo, "overlong_prompts", "truncate") == "drop" and limit > 0
    images_dir = out_dir / "images"
    out_dir.mkdir(parents=True, exist_ok=True)
    dropped = 0
    drawn = 0  # samples exported so far, dropped ones included: names image files uniquely

    def fitting_rows(want: int, step: int) -> list[tuple[dict[str, Any], int]]:
        nonlocal drawn, dropped
        assert count_tokens is not None
        made: list[tuple[dict[str, Any], int]] = []

        def draw(k: int) -> list[tuple[dict[str, Any], int]]:
            nonlocal drawn
            rows = []
            for sample in stream.next_batch(k, step)[:k]:
                rows.append(export_row(phase, sample, images_dir, drawn))
                drawn += 1
            made.extend(rows)
            return rows

        fill = fill_fitting(draw, want, lambda rows: [count_tokens(row) for row, _ in rows], limit,
                            where=f"phase '{phase.name}'")
        kept = {id(item) for item in fill.items}
        for item in made:
            if id(item) not in kept:
                _remove_written(item[0]["images"], images_dir)
        dropped += fill.dropped
        return fill.items

    with _RowsFile(out_dir / "prompts.jsonl") as out:
        for step in range(math.ceil(n_prompts / batch)):
            want = min(batch, n_prompts - out.rows)
            if measuring:
                rows = fitting_rows(want, step)
            else:
                samples = stream.next_batch(want, step)
                rows = [export_row(phase, sample, images_dir, out.rows + i) for i, sample in enumerate(samples[:want])]
            if not rows:
                break
            for row, n_images in rows:
                out.write(row, n_images)
    if out.rows == 0:
        out.discard()
        raise DataError(f"phase '{phase.name}': its data stream gave no samples to export")
    out.commit()
    return ExportSummary(out.path, out.rows, out.max_images, out.sha256, dropped, measuring)


def _remove_written(paths: list[str], images_dir: Path) -> None:
    """Delete the image files the export wrote for a dropped row (never a source's own file)."""
    root = images_dir.resolve()
    for p in paths:
        candidate = Path(p)
        if candidate.is_absolute() and candidate.is_relative_to(root):
            candidate.unlink(missing_ok=True)
