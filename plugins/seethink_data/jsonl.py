"""The ``jsonl`` data source: JSON Lines (or JSON list) files with a field mapping."""

from __future__ import annotations

from seethink_data.options import FileOptions
from seethink_data.readers import JsonlReader, find_files
from seethink_data.records import RecordMapper, RecordSource


def open_jsonl(options: FileOptions, *, seed: int, mapping: dict[str, str] | None = None) -> RecordSource:
    del seed  # a file has one order; the stream shuffles
    reader = JsonlReader(find_files("jsonl", options.path, options.split, (".jsonl", ".json")))
    mapper = RecordMapper("jsonl", dict(mapping or {}), reader.base_dir, options.decode_images)
    return RecordSource("jsonl", reader, mapper, on_error=options.on_error, limit=options.limit)
