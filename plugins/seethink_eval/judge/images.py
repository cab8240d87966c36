"""A sample's images as a vision judge receives them: encoded bytes, their digest for the cache key, and
the ``data:`` URL an OpenAI-compatible server takes in an ``image_url`` content part.

An image is what a ``Sample`` holds: a path, bytes, a ``datasets`` Image dict (``bytes`` / ``path``) or
a PIL image. Encoded files (PNG, JPEG, ...) are sent as they are; a PIL image is saved as PNG. The
longest side is capped (``MAX_SIDE``) so one large figure does not fill the judge's context.
"""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError

MAX_SIDE = 1536
_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def encoded(image: Any) -> tuple[bytes, str]:
    """(file bytes, MIME type) of ``image``; ``DataError`` when it cannot be read."""
    from PIL import Image

    try:
        if isinstance(image, Image.Image):
            return _png(image), "image/png"
        if isinstance(image, dict) and ("bytes" in image or "path" in image):
            raw = image.get("bytes") or Path(image["path"]).read_bytes()
        elif isinstance(image, (bytes, bytearray)):
            raw = bytes(image)
        else:
            raw = Path(image).read_bytes()
        with Image.open(io.BytesIO(raw)) as img:
            mime = _MIME.get(img.format or "")
            if mime is not None and max(img.size) <= MAX_SIDE:
                return raw, mime
            return _png(img), "image/png"  # another format, or too large: re-encoded
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise DataError(f"the judge cannot read image {str(image)[:80]!r}: {e}") from None


def _png(img: Any) -> bytes:
    if max(img.size) > MAX_SIDE:
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE))
    if img.mode not in ("RGB", "RGBA", "L"):
        img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def digest(image: Any) -> str:
    return hashlib.sha256(encoded(image)[0]).hexdigest()


def data_url(image: Any) -> str:
    raw, mime = encoded(image)
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"
