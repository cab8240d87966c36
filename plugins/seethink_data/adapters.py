"""Named data sets: a fixed field mapping and clean-up over a local copy or the hub.

An ``Adapter`` says where a data set lives on the hub, the layout its records
have, and how a record becomes a ``Sample``. With ``path`` it reads a local copy
in the hub layout (parquet or JSON files); without, it loads the hub id (the
``datasets`` cache, ``HF_HOME`` / ``HF_DATASETS_CACHE``, serves it when cached). ``keep``
drops records before they are mapped (MathVerse's vision-intensive rows out of all
five versions); ``data_files`` says where a split's rows lie in a local copy of the
hub repository, when it holds other files that a split filter would also pick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.types.sample import Sample
from seethink_data.hf import HubReader
from seethink_data.options import AdapterOptions
from seethink_data.readers import Item, JsonlReader, ParquetReader, RecordProblem, open_reader
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
    config: str | None = None  # the hub configuration, when the data set has several
    keep: Callable[[dict[str, Any]], bool] | None = None  # which records belong to the set
    # Where a split's files lie in a local copy of the hub repository ("data/{split}-*.parquet"), as the
    # hub card's `data_files` says: the repository may hold the same rows again in another format
    # (WeMath's testmini.json, MathVerse's testmini.json) or other sets beside them (testmini_text_only).
    data_files: str | None = None

    def open(self, options: AdapterOptions, mapping: dict[str, str] | None = None) -> RecordSource:
        split = options.split or self.split
        merged = {**self.mapping, **(mapping or {})}  # a .curr mapping may override a field
        if options.path is not None:
            reader: Any = self._local(options.path, split)
        else:
            reader = HubReader(self.name, self.hub_id, split, self.config)
        if self.keep is not None:
            reader = KeptReader(reader, self.keep)
        mapper = RecordMapper(self.name, merged, reader.base_dir, options.decode_images)
        return RecordSource(self.name, reader, mapper, on_error=options.on_error, limit=options.limit,
                            post=self._post, extra_columns=self.columns | {"capability"})

    def _local(self, path: str, split: str) -> Any:
        root = Path(path).expanduser()
        if self.data_files is not None and root.is_dir():
            files = sorted(root.glob(self.data_files.format(split=split)))
            if files and all(f.suffix == ".parquet" for f in files):
                return ParquetReader(files)
            if files and all(f.suffix in (".json", ".jsonl") for f in files):
                return JsonlReader(files)
        return open_reader(self.name, path, split=_split_filter(path, split))

    def _post(self, sample: Sample, record: dict[str, Any]) -> Sample:
        sample.capability = sample.capability or self.capability
        return self.clean(sample, record) if self.clean else sample


class KeptReader:
    """The records of ``inner`` that ``keep`` accepts; a record the reader could not read is passed on
    (its problem is reported, not hidden). Its size is unknown until a pass."""

    def __init__(self, inner: Any, keep: Callable[[dict[str, Any]], bool]):
        self.inner, self.keep = inner, keep
        self.base_dir = getattr(inner, "base_dir", None)
        if callable(getattr(inner, "by_file", None)):
            self.by_file = self._by_file

    def _kept(self, items: Any) -> Iterator[Item]:
        return (item for item in items if isinstance(item[1], RecordProblem) or self.keep(item[1]))

    def __iter__(self) -> Iterator[Item]:
        return self._kept(self.inner)

    def _by_file(self) -> Iterator[tuple[Path, Iterator[Item]]]:
        for path, items in self.inner.by_file():
            yield path, self._kept(items)

    def fields(self) -> list[str]:
        return self.inner.fields()

    def size(self) -> int | None:
        return None


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


def tagged(benchmark: str, clean: Clean | None = None) -> Clean:
    """``clean``, then ``meta["benchmark"] = benchmark``: the benchmark evaluators find their samples by
    it, whatever the curriculum calls the eval set."""

    def post(sample: Sample, record: dict[str, Any]) -> Sample:
        sample = clean(sample, record) if clean is not None else sample
        sample.meta["benchmark"] = benchmark
        return sample

    return post
