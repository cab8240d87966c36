"""Record readers: files on disk as a re-iterable stream of dict records.

A reader yields ``(where, item)`` pairs: ``where`` locates the record for a message
(``FILE:LINE`` for JSON Lines, lines from 1, blank ones counted; ``FILE record N`` in a JSON
list and ``FILE row N`` in Parquet, from 0), and ``item`` is the record (a dict) or a
``RecordProblem`` for one it could not read (a line that is not UTF-8 or not JSON), so the
bad-record policy sees every record with its place. A problem that spoils a whole file (a
JSON file that does not parse, a damaged Parquet file) is a ``ReadError``: no record of it
can be trusted, so it is never skipped. Folders are read file by file in name order, as the
Hugging Face hub lays data sets out (``data/train-00000-of-00002.parquet``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from seethink_core.errors import DataError

TABULAR_SUFFIXES = (".parquet", ".jsonl", ".json")


@dataclass(frozen=True)
class RecordProblem:
    message: str
    kind: str  # the reason counted in a skip summary: "not UTF-8", "not JSON", ...


class ReadError(ValueError):
    """A file that cannot be read at all (the record source adds the source's name)."""


Item = tuple[str, "dict[str, Any] | RecordProblem"]


class Reader(Protocol):
    """Readers of files also have ``by_file()`` (each file with its items), so that a record's relative
    image paths resolve against the folder of the file it is in; ``base_dir`` serves the others."""

    base_dir: Path | None  # relative image paths resolve against it

    def __iter__(self) -> Iterator[Item]: ...

    def size(self) -> int | None: ...

    def fields(self) -> list[str]: ...


def find_files(source: str, path: str, split: str | None, suffixes: tuple[str, ...]) -> list[Path]:
    """The data files at ``path`` (a file, or a folder searched recursively), for ``split``."""
    root = Path(path).expanduser()
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise DataError(f"{source}: no such file or folder: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes)
    if split is not None:
        files = [p for p in files if p.name.startswith(split) or split in p.relative_to(root).parts[:-1]]
    if not files:
        what = f" for split '{split}'" if split else ""
        raise DataError(f"{source}: no {'/'.join(suffixes)} files{what} in {root}")
    return files


class JsonlReader:
    """JSON Lines (one object per line) and plain JSON files holding a list of objects."""

    def __init__(self, files: list[Path]):
        self.files = files
        self.base_dir = files[0].parent
        self._size: int | None = None

    def __iter__(self) -> Iterator[Item]:
        for _, items in self.by_file():
            yield from items

    def by_file(self) -> Iterator[tuple[Path, Iterator[Item]]]:
        """Each file with its records: a record's relative image paths resolve against its own file's folder."""
        for path in self.files:
            yield path, self._json(path) if path.suffix == ".json" else self._jsonl(path)

    def _jsonl(self, path: Path) -> Iterator[Item]:
        # Bytes, decoded line by line: a text-mode file decodes in blocks of 8 KiB and more, so an
        # invalid byte raised a bare UnicodeDecodeError with neither line nor record, and stopped the
        # read even with on_error: "skip". Per line, the bad line is one skippable record.
        with path.open("rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    yield f"{path}:{n}", RecordProblem(
                        f"not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1})", "not UTF-8")
                    continue
                if n == 1:
                    line = line.removeprefix("\ufeff")  # a byte-order mark some editors write
                if line.strip():
                    yield f"{path}:{n}", _parse_line(line)

    def _json(self, path: Path) -> Iterator[Item]:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            raise ReadError(f"{path}:{line}: not UTF-8 (byte 0x{raw[e.start]:02x})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ReadError(f"{path}:{e.lineno}: not JSON: {e.msg} (column {e.colno})") from None
        if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
            data = next(iter(data.values()))  # {"train": [...]} or {"data": [...]}
        if not isinstance(data, list):
            raise ReadError(f"{path}: expected a list of records, not a JSON {json_kind(data)}")
        for i, rec in enumerate(data):
            yield f"{path} record {i}", rec if isinstance(rec, dict) else _not_an_object(rec)

    def size(self) -> int | None:
        if self._size is None:
            self._size = sum(1 for _ in self)
        return self._size

    def fields(self) -> list[str]:
        for _, rec in self:
            if isinstance(rec, dict):
                return list(rec)
        return []


def _parse_line(line: str) -> dict[str, Any] | RecordProblem:
    try:
        rec = json.loads(line.rstrip("\r\n"))  # with the newline, an unfinished object errs at column 1
    except json.JSONDecodeError as e:
        return RecordProblem(f"not JSON: {e.msg} (column {e.colno})", "not JSON")
    return rec if isinstance(rec, dict) else _not_an_object(rec)


def _not_an_object(value: Any) -> RecordProblem:
    return RecordProblem(f"a JSON {json_kind(value)}, not an object", "not an object")


def a_kind(value: Any) -> str:
    """``json_kind`` with its article, for "must be a string, not a number"."""
    kind = json_kind(value)
    return kind if kind == "null" else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def json_kind(value: Any) -> str:
    """What a user who wrote the file calls this value's type (JSON's words, not Python's)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class ParquetReader:
    """Parquet files, read a batch of rows at a time (never the whole table)."""

    BATCH_ROWS = 256

    def __init__(self, files: list[Path]):
        import pyarrow.parquet as pq

        self.files = files
        self.base_dir = files[0].parent
        self._meta = []
        for p in files:
            try:
                self._meta.append(pq.ParquetFile(p))
            except Exception as e:  # pyarrow raises several types for a broken file, without its name
                raise DataError(f"{p}: cannot read it as Parquet: {e}") from None

    def __iter__(self) -> Iterator[Item]:
        for _, items in self.by_file():
            yield from items

    def by_file(self) -> Iterator[tuple[Path, Iterator[Item]]]:
        """Each file with its rows (as ``JsonlReader.by_file``)."""
        for path in self.files:
            yield path, self._rows(path)

    def _rows(self, path: Path) -> Iterator[Item]:
        import pyarrow.parquet as pq

        row = 0
        try:
            with pq.ParquetFile(path) as pf:
                for batch in pf.iter_batches(batch_size=self.BATCH_ROWS):
                    for rec in batch.to_pylist():
                        yield f"{path} row {row}", rec
                        row += 1
        except Exception as e:  # a damaged page: pyarrow raises several types, none names the row
            raise ReadError(f"{path}: cannot read from row {row} on: {e}") from None

    def size(self) -> int:
        return sum(pf.metadata.num_rows for pf in self._meta)

    def fields(self) -> list[str]:
        return list(self._meta[0].schema_arrow.names)


def open_reader(source: str, path: str, split: str | None = None) -> Reader:
    files = find_files(source, path, split, TABULAR_SUFFIXES)
    kinds = {p.suffix for p in files}
    if kinds == {".parquet"}:
        return ParquetReader(files)
    if kinds <= {".jsonl", ".json"}:
        return JsonlReader(files)
    raise DataError(f"{source}: {path} mixes parquet and JSON files; point at one kind")
