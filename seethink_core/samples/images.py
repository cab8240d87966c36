"""Pixel bounds on images, applied before any processor sees them (method options ``min_pixels`` /
``max_pixels``).

The reference recipe (EasyR1, ``verl/utils/dataset.py::process_image``) bounds each PIL image
itself before the model's processor: an image of more than ``max_pixels`` pixels has both sides
scaled by ``sqrt(max_pixels / (w*h))``, then one of fewer than ``min_pixels`` by
``sqrt(min_pixels / (w*h))``, each side truncated with ``int()``, resized with PIL's default
filter, and finally converted to RGB. Every backend uses this one function, so the local trainer,
its evaluation and the OpenRLHF export feed the model the same pixels. No torch here: the
OpenRLHF export runs without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from seethink_core.errors import DataError


@dataclass(frozen=True)
class ImageBounds:
    """Pixel bounds of a phase's images; 0 = no bound on that side."""

    min_pixels: int = 0
    max_pixels: int = 0

    @property
    def active(self) -> bool:
        return bool(self.min_pixels or self.max_pixels)

    @classmethod
    def of(cls, options: Any) -> ImageBounds:
        """The bounds a method's options set (options without the fields, e.g. a plugin's, have none)."""
        return cls(int(getattr(options, "min_pixels", 0) or 0), int(getattr(options, "max_pixels", 0) or 0))

    def size(self, width: int, height: int) -> tuple[int, int]:
        return bounded_size(width, height, self.min_pixels, self.max_pixels)


def _scaled(width: int, height: int, target: int) -> tuple[int, int]:
    factor = math.sqrt(target / (width * height))
    # EasyR1 truncates with int(); a side of 0 (an extreme aspect ratio) would make PIL refuse the
    # resize, where EasyR1 fails, so a side is kept at one pixel at least.
    return max(1, int(width * factor)), max(1, int(height * factor))


def bounded_size(width: int, height: int, min_pixels: int = 0, max_pixels: int = 0) -> tuple[int, int]:
    """The (width, height) EasyR1's ``process_image`` gives an image of this size (0 = no bound).

    The down-scale runs first, then the up-scale, each on the previous result, exactly as there; a
    truncated side can leave the area slightly off the bound, as it does there too.
    """
    if max_pixels and width * height > max_pixels:
        width, height = _scaled(width, height, max_pixels)
    if min_pixels and width * height < min_pixels:
        width, height = _scaled(width, height, min_pixels)
    return width, height


def bound_image(image: Any, bounds: ImageBounds) -> Any:
    """``image`` (a PIL image) resized to ``bounds`` and converted to RGB; the same object when neither
    is needed. Resizing comes before the RGB conversion, as in EasyR1 (PIL picks its filter by mode)."""
    try:
        image.load()  # as EasyR1 does: a lazily opened file is read (and its handle closed) now
    except Exception as e:  # a file cut short after the read-time check: a message, not a PIL traceback
        name = getattr(image, "filename", "") or "an image"
        raise DataError(f"{name} does not decode: {e or type(e).__name__}") from None
    size = bounds.size(image.width, image.height)
    if size != (image.width, image.height):
        image = image.resize(size)
    return image if image.mode == "RGB" else image.convert("RGB")
