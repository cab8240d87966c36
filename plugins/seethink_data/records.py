"""Records to ``Sample`` values: field mapping, type checks, images, and the bad-record policy.

A mapping names, for a ``Sample`` field, the record field that fills it
(``{"prompt": "problem"}``). A mapped field must be present in every record.
Unmapped fields fall back to common names (``problem``/``question`` for the
prompt, ``image``/``images`` for images, ...), which are optional. The extra
key ``pass_rate`` maps a pass-rate column: difficulty = 1 - pass rate (docs/architecture.md
§2); a record with a ``pass_rate`` field gets that by default.

A bad record (missing field, wrong type, image that does not decode) is a
``DataError`` naming the source and the record's index, or, with
``on_error: "skip"``, it is skipped and counted in ``source.skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.sample import SAMPLE_FIELDS, Sample
from seethink_data.images import BadImage, normalize
from seethink_data.readers import Reader, RecordProblem

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "index", "idx", "question_id", "pid"),
    "prompt": ("prompt", "problem", "question", "query"),
    "images": ("images", "image", "image_path", "image_paths"),
    "answer": ("answer", "solution", "label"),
    "capability": ("capability",),
    "difficulty": ("difficulty",),
    "facts": ("facts", "caption"),
    "meta": ("meta",),
}
PASS_RATE = "pass_rate"
MAPPABLE = frozenset(SAMPLE_FIELDS) - {"source"} | {PASS_RATE}
MAX_META_TEXT = 2000  # long text columns stay out of meta: it is logged and exported


class BadRecord(ValueError):
    pass


PostProcess = Callable[[Sample, dict[str, Any]], Sample]


@dataclass
class RecordMapper:
    source: str
    mapping: dict[str, str] = field(default_factory=dict)
    base_dir: Path | None = None
    decode_images: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.mapping) - MAPPABLE)
        if unknown:
            raise DataError(f"{self.source}: cannot map {', '.join(repr(u) for u in unknown)}: mapping keys "
                            f"are Sample fields ({', '.join(sorted(MAPPABLE))})")

    def column_for(self, name: str, record_fields: list[str] | dict[str, Any]) -> str | None:
        if name in self.mapping:
            return self.mapping[name]
        return next((c for c in DEFAULT_FIELDS.get(name, ()) if c in record_fields), None)

    def columns(self, record_fields: list[str]) -> frozenset[str]:
        """The ``Sample`` fields this mapping fills from records with these fields."""
        cols = {"id", "source"}
        for name in DEFAULT_FIELDS:
            if self.column_for(name, record_fields) is not None:
                cols.add(name)
        if PASS_RATE in self.mapping or PASS_RATE in record_fields:
            cols.add("difficulty")
        return frozenset(cols)

    def to_sample(self, rec: dict[str, Any], index: int) -> Sample:
        used: set[str] = set()

        def get(name: str, required: bool = False) -> Any:
            col = self.column_for(name, rec)
            if col is None or col not in rec:
                if required or name in self.mapping:
                    raise BadRecord(f"missing field '{col or DEFAULT_FIELDS[name][0]}'")
                return None
            used.add(col)
            return rec[col]

        prompt = get("prompt", required=True)
        if not isinstance(prompt, str):
            raise BadRecord(f"the prompt must be text, not {type(prompt).__name__}")
        raw_id = get("id")
        sample_id = f"{self.source}-{raw_id if raw_id is not None else index}"
        answer = get("answer")
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        if isinstance(answer, bool) or (answer is not None and not isinstance(answer, (str, int, float))):
            raise BadRecord(f"the answer must be text or a number, not {type(answer).__name__}")
        images = get("images")
        if images is None:
            images = []
        elif not isinstance(images, (list, tuple)):
            images = [images]
        try:
            images = [normalize(im, self.base_dir, decode=self.decode_images) for im in images]
        except BadImage as e:
            raise BadRecord(str(e)) from None
        difficulty = _difficulty(get("difficulty"), "difficulty")
        pass_col = self.mapping.get(PASS_RATE, PASS_RATE)
        if PASS_RATE in self.mapping and pass_col not in rec:
            raise BadRecord(f"missing field '{pass_col}'")
        if difficulty is None and pass_col in rec:
            used.add(pass_col)
            p = _difficulty(rec[pass_col], PASS_RATE)
            difficulty = None if p is None else 1.0 - p
        capability = get("capability")
        facts = get("facts")
        meta = get("meta")
        meta = dict(meta) if isinstance(meta, dict) else {}
        for k, v in rec.items():  # leftover small scalar columns (category, split, ...) travel in meta
            if k not in used and k not in meta and _small_scalar(v):
                meta[k] = v
        return Sample(id=sample_id, prompt=prompt, images=images,
                      answer=None if answer is None else str(answer),
                      capability=capability if isinstance(capability, str) else None,
                      difficulty=difficulty, facts=facts if isinstance(facts, str) else None,
                      source=self.source, meta=meta)


def _difficulty(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(f"'{what}' must be a number in [0, 1], not {type(value).__name__}")
    if not 0.0 <= float(value) <= 1.0:
        raise BadRecord(f"'{what}' must be in [0, 1], not {value}")
    return float(value)


def _small_scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= MAX_META_TEXT)


class RecordSource:
    """A data source over a ``Reader``: lazy, re-iterable, same order every pass.

    ``skipped`` counts the bad records skipped in the latest complete pass;
    ``problems`` keeps the first few messages so a summary can show them.
    """

    MAX_PROBLEMS = 20

    def __init__(self, name: str, reader: Reader, mapper: RecordMapper, *, on_error: str = "stop",
                 limit: int | None = None, post: PostProcess | None = None,
                 extra_columns: frozenset[str] = frozenset()):
        self.name = name
        self.reader = reader
        self.mapper = mapper
        self.on_error = on_error
        self.limit = limit
        self.post = post
        self.columns = mapper.columns(reader.fields()) | extra_columns
        self.skipped = 0
        self.problems: list[str] = []

    def size(self) -> int | None:
        n = self.reader.size()
        if n is None:
            return None
        return min(n, self.limit) if self.limit is not None else n

    def __iter__(self) -> Iterator[Sample]:
        skipped, problems = 0, []
        for index, rec in enumerate(self.reader):
            if self.limit is not None and index >= self.limit:
                break
            try:
                if isinstance(rec, RecordProblem):
                    raise BadRecord(rec.message)
                sample = self.mapper.to_sample(rec, index)
                if self.post is not None:
                    sample = self.post(sample, rec)
            except BadRecord as e:
                message = f"{self.name}: record {index}: {e}"
                if self.on_error == "stop":
                    raise DataError(message, hint="fix the record, or set on_error: \"skip\" to skip and "
                                                  "count bad records") from None
                skipped += 1
                if len(problems) < self.MAX_PROBLEMS:
                    problems.append(message)
                continue
            yield sample
        self.skipped, self.problems = skipped, problems
