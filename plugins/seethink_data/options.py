"""Option schemas of the data sources (imported by plugin.py: no pyarrow, datasets or PIL here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from seethink_core.types.options import opt

OnError = Literal["skip", "stop"]


@dataclass(frozen=True)
class FileOptions:
    # Options that name a file: the compiler resolves a relative one against the .curr file it is written in.
    path_options: ClassVar[tuple[str, ...]] = ("path",)

    path: str = opt(doc="a file, or a folder of files (read in name order)")
    split: str | None = opt(None, doc="in a folder, read only files whose name starts with this split")
    on_error: OnError = opt("stop", doc="a bad record: \"stop\" with an error, or \"skip\" it and count it")
    limit: int | None = opt(None, doc="read at most this many records", min=1)
    decode_images: bool = opt(False, doc="decode image bytes to PIL images while reading (default: keep "
                                         "the encoded bytes, checked, and decode when a batch is served)")


@dataclass(frozen=True)
class HubOptions:
    dataset: str = opt(doc="a Hugging Face dataset id, e.g. \"hiyouga/geometry3k\"")
    split: str = opt("train", doc="the split to read")
    config: str | None = opt(None, doc="the dataset's configuration name")
    revision: str | None = opt(None, doc="a git revision of the dataset")
    on_error: OnError = opt("stop", doc="a bad record: \"stop\" with an error, or \"skip\" it and count it")
    limit: int | None = opt(None, doc="read at most this many records", min=1)
    decode_images: bool = opt(False, doc="decode image bytes to PIL images while reading")


@dataclass(frozen=True)
class AdapterOptions:
    """A named data set: a local copy in its hub layout, or the hub id (needs the network)."""

    path_options: ClassVar[tuple[str, ...]] = ("path",)

    path: str | None = opt(None, doc="a local copy (a .parquet/.jsonl/.json file or a folder in the hub "
                                     "layout); without it the data set is loaded from the hub")
    split: str | None = opt(None, doc="the split (default: the data set's usual one)")
    on_error: OnError = opt("stop", doc="a bad record: \"stop\" with an error, or \"skip\" it and count it")
    limit: int | None = opt(None, doc="read at most this many records", min=1)
    decode_images: bool = opt(False, doc="decode image bytes to PIL images while reading")
