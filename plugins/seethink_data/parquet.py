"""The ``parquet`` data source: Parquet files (a file or a hub-layout folder) with a field mapping."""

from __future__ import annotations

from seethink_data.options import FileOptions
from seethink_data.readers import ParquetReader, find_files
from seethink_data.records import RecordMapper, RecordSource


def open_parquet(options: FileOptions, *, seed: int, mapping: dict[str, str] | None = None) -> RecordSource:
    del seed  # a file has one order; the stream shuffles
    reader = ParquetReader(find_files("parquet", options.path, options.split, (".parquet",)))
    mapper = RecordMapper("parquet", dict(mapping or {}), reader.base_dir, options.decode_images)
    return RecordSource("parquet", reader, mapper, on_error=options.on_error, limit=options.limit)
