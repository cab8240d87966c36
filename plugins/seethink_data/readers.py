"""Record readers: files on disk as a re-iterable stream of dict records.

A reader yields either a record (a dict) or a ``RecordProblem`` for a record it
could not read (a line that is not JSON), so the bad-record policy sees every
record by its index. Folders are read file by file in name order, as the
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


class Reader(Protocol):
    base_dir: Path | None  # relative image paths resolve against it

    def __iter__(self) -> Iterator[dict[str, Any] | RecordProblem]: ...

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

    def __iter__(self) -> Iterator[dict[str, Any] | RecordProblem]:
        for path in self.files:
            if path.suffix == ".json":
                yield from self._json(path)
                continue
            with path.open(encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError as e:
                        yield RecordProblem(f"{path.name} line {n} is not JSON: {e.msg}")
                        continue
                    yield rec if isinstance(rec, dict) else RecordProblem(
                        f"{path.name} line {n} is a JSON {type(rec).__name__}, not an object")

    def _json(self, path: Path) -> Iterator[dict[str, Any] | RecordProblem]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: not JSON: {e.msg} (line {e.lineno})") from None
        if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
            data = next(iter(data.values()))  # {"train": [...]} or {"data": [...]}
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a list of records")
        for rec in data:
            yield rec if isinstance(rec, dict) else RecordProblem(f"a {type(rec).__name__}, not an object")

    def size(self) -> int | None:
        if self._size is None:
            self._size = sum(1 for _ in self)
        return self._size

    def fields(self) -> list[str]:
        for rec in self:
            if isinstance(rec, dict):
                return list(rec)
        return []


class ParquetReader:
    """Parquet files, read a batch of rows at a time (never the whole table)."""

    BATCH_ROWS = 256

    def __init__(self, files: list[Path]):
        import pyarrow.parquet as pq

        self.files = files
        self.base_dir = files[0].parent
        try:
            self._meta = [pq.ParquetFile(p) for p in files]
        except Exception as e:  # pyarrow raises several types for a broken file
            raise DataError(f"cannot read parquet file: {e}") from None

    def __iter__(self) -> Iterator[dict[str, Any] | RecordProblem]:
        import pyarrow.parquet as pq

        for path in self.files:
            with pq.ParquetFile(path) as pf:
                for batch in pf.iter_batches(batch_size=self.BATCH_ROWS):
                    yield from batch.to_pylist()

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
