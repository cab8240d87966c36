"""Named data sets: a fixed field mapping and clean-up over a local copy or the hub.

An ``Adapter`` says where a data set lives on the hub, the layout its records
have, and how a record becomes a ``Sample``. With ``path`` it reads a local copy
in the hub layout (parquet or JSON files); without, it loads the hub id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.types.sample import Sample
from seethink_data.hf import HubReader
from seethink_data.options import AdapterOptions
from seethink_data.readers import open_reader
from seethink_data.records import RecordMapper, RecordSource
from seethink_data.text import parse_options, strip_image_markers

Clean = Callable[[Sample, dict[str, Any]], Sample]


@dataclass(frozen=True)
class Adapter:
    name: str
    hub_id: str
    split: str  # the split used when the options name none
    capability: str
    mapping: dict[str, str]
    clean: Clean | None = None
    columns: frozenset[str] = field(default_factory=frozenset)  # filled beyond the mapping

    def open(self, options: AdapterOptions, mapping: dict[str, str] | None = None) -> RecordSource:
        split = options.split or self.split
        merged = {**self.mapping, **(mapping or {})}  # a .curr mapping may override a field
        if options.path is not None:
            reader: Any = open_reader(self.name, options.path, split=_split_filter(options.path, split))
        else:
            reader = HubReader(self.name, self.hub_id, split)
        mapper = RecordMapper(self.name, merged, reader.base_dir, options.decode_images)
        return RecordSource(self.name, reader, mapper, on_error=options.on_error, limit=options.limit,
                            post=self._post, extra_columns=self.columns | {"capability"})

    def _post(self, sample: Sample, record: dict[str, Any]) -> Sample:
        sample.capability = sample.capability or self.capability
        return self.clean(sample, record) if self.clean else sample


def _split_filter(path: str, split: str) -> str | None:
    """Filter a folder by split only when it holds several splits (a single file is taken as is)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        return None
    names = [p.name for p in root.rglob("*") if p.is_file()]
    return split if any(n.startswith(split) for n in names) or (root / split).is_dir() else None


def strip_markers(sample: Sample, record: dict[str, Any]) -> Sample:
    sample.prompt = strip_image_markers(sample.prompt)
    return sample


def multiple_choice(sample: Sample, record: dict[str, Any]) -> Sample:
    """Strip markers and keep the options in ``meta["choices"]`` when the prompt lists them."""
    sample = strip_markers(sample, record)
    choices = parse_options(sample.prompt)
    if choices is not None:
        sample.meta["choices"] = choices
    return sample


def adapter_factory(adapter: Adapter) -> Callable[..., RecordSource]:
    def factory(options: AdapterOptions, *, seed: int, mapping: dict[str, str] | None = None) -> RecordSource:
        del seed  # a data set has one order; the stream shuffles
        if not isinstance(options, AdapterOptions):
            raise DataError(f"{adapter.name}: options must be AdapterOptions")
        return adapter.open(options, mapping)

    factory.__name__ = f"open_{adapter.name}"
    factory.__doc__ = f"Open '{adapter.name}' ({adapter.hub_id}) from a local copy or the hub."
    return factory
