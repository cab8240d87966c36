"""Images in records: paths, URLs, bytes, ``{"bytes", "path"}`` dicts (as parquet and HF store
them) or PIL images. ``normalize`` checks one while reading; ``to_pil`` decodes one for a model.

Checked but kept encoded by default: a 10,000-row file of decoded images would not fit
comfortably in memory, and the stream decodes only the batch it serves.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

URL_PREFIXES = ("http://", "https://", "s3://", "gs://")


class BadImage(ValueError):
    """An image value that is not an image (the caller adds source and record location)."""

    def __init__(self, message: str, kind: str = "bad image"):
        super().__init__(message)
        self.kind = kind  # "missing image" or "bad image": the reason a skip summary counts


def normalize(value: Any, base_dir: Path | None, *, decode: bool = False) -> Any:
    """A checked image: PIL image, encoded ``bytes``, an absolute path string, or a URL string."""
    from PIL import Image

    if isinstance(value, Image.Image):
        return value
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data:
            return normalize(bytes(data), base_dir, decode=decode)
        if path:
            return normalize(str(path), base_dir, decode=decode)
        raise BadImage("an image entry with neither bytes nor a path", "missing image")
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        _check(io.BytesIO(data), "image bytes")
        return _decode(data) if decode else data
    if isinstance(value, str):
        if value.startswith(URL_PREFIXES):
            return value  # fetched lazily, if ever: reading a file must not touch the network
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise BadImage(f"image file not found: {path}", "missing image")
        _check(path, f"image file {path}")
        return _decode(path.read_bytes()) if decode else str(path)
    raise BadImage(f"an image must be a path, URL, bytes or PIL image, not {type(value).__name__}")


def _check(fp: Any, what: str) -> None:
    from PIL import Image

    try:
        # Image.open only reads the header, so a file cut short opens fine; verify() reads every chunk
        # and its checksum (a truncated PNG fails it), still cheap next to a full decode.
        with Image.open(fp) as im:
            im.verify()
    except Exception as e:  # a damaged file makes PIL raise many types (OSError, SyntaxError, struct.error, ...)
        raise BadImage(f"{what} do{'es' if what.startswith('image file') else ''} not decode: "
                       f"{e or type(e).__name__}") from None


def _decode(data: bytes) -> Any:
    from PIL import Image

    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as e:  # as in _check: PIL raises many types for damaged data
        raise BadImage(f"image bytes do not decode: {e or type(e).__name__}") from None
    return im


def to_pil(value: Any, base_dir: Path | None = None) -> Any:
    """A PIL image for any image value a ``Sample`` may hold (URLs are fetched only here)."""
    from PIL import Image

    if isinstance(value, Image.Image):
        return value
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        import urllib.request

        with urllib.request.urlopen(value, timeout=30) as resp:  # only when a caller asks for pixels
            return _decode(resp.read())
    value = normalize(value, base_dir)
    if isinstance(value, str):
        return _decode(Path(value).read_bytes())
    return _decode(value)
