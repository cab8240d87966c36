"""Records to ``Sample`` values: field mapping, type checks, images, and the bad-record policy.

A mapping names, for a ``Sample`` field, the record field that fills it
(``{"prompt": "problem"}``). A mapped field must be present in every record.
Unmapped fields fall back to common names (``problem``/``question`` for the
prompt, ``image``/``images`` for images, ...), which are optional. The extra
key ``pass_rate`` maps a pass-rate column: difficulty = 1 - pass rate (docs/architecture.md
§2); a record with a ``pass_rate`` field gets that by default.

A bad record (a line that is not UTF-8 or not JSON, a missing field, a wrong type, an
image that is missing or does not decode) is one ``DataError`` line naming the source as
the curriculum calls it, the file and the line or row (``geo: data/train.jsonl:7: missing
field 'problem'``), or, with ``on_error: "skip"``, it is skipped and counted by reason in
``source.skipped`` / ``source.skip_reasons``. A pass in which every record is bad is an
error in either mode: an empty phase is never what was meant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.types.sample import SAMPLE_FIELDS, Sample
from seethink_data.images import BadImage, normalize
from seethink_data.readers import Item, Reader, ReadError, RecordProblem, a_kind

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
    """Why one record cannot become a sample; ``kind`` is the reason a skip summary counts."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


SKIP_HINT = "fix the record, or set on_error: \"skip\" to skip and count bad records"


PostProcess = Callable[[Sample, dict[str, Any]], Sample]


@dataclass
class RecordMapper:
    source: str
    mapping: dict[str, str] = field(default_factory=dict)
    base_dir: Path | None = None
    decode_images: bool = False
    # What sample ids start with: the registered source until the curriculum names it (``source geo =
    # jsonl(...)`` gives ``geo-12``), so two named file sources of one phase never share an id.
    id_prefix: str | None = None

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

    def to_sample(self, rec: dict[str, Any], index: int, base_dir: Path | None = None) -> Sample:
        """``base_dir``: where the record's relative image paths resolve (default: the mapper's)."""
        used: set[str] = set()
        base = base_dir if base_dir is not None else self.base_dir

        def get(name: str, required: bool = False) -> Any:
            col = self.column_for(name, rec)
            if col is None or col not in rec:
                if name in self.mapping:
                    raise BadRecord(f"missing field '{col}'", "missing field")
                if required:  # any of the usual names would have done: say so, and how to map another
                    first, *others = DEFAULT_FIELDS[name]
                    raise BadRecord(f"missing field '{first}' (or {', '.join(repr(o) for o in others)}; "
                                    f"map another with {name}: \"FIELD\")", "missing field")
                return None
            used.add(col)
            return rec[col]

        prompt = get("prompt", required=True)
        if not isinstance(prompt, str):
            raise _wrong_type(self.column_for("prompt", rec), "the prompt", "a string", prompt)
        raw_id = get("id")
        sample_id = f"{self.id_prefix or self.source}-{raw_id if raw_id is not None else index}"
        answer = get("answer")
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        if isinstance(answer, bool) or (answer is not None and not isinstance(answer, (str, int, float))):
            raise _wrong_type(self.column_for("answer", rec), "the answer", "a string or a number", answer)
        images = get("images")
        if images is None:
            images = []
        elif not isinstance(images, (list, tuple)):
            images = [images]
        images = [self._image(im, k, len(images), base) for k, im in enumerate(images)]
        difficulty = _difficulty(get("difficulty"), self.column_for("difficulty", rec) or "difficulty")
        pass_col = self.mapping.get(PASS_RATE, PASS_RATE)
        if PASS_RATE in self.mapping and pass_col not in rec:
            raise BadRecord(f"missing field '{pass_col}'", "missing field")
        if difficulty is None and pass_col in rec:
            used.add(pass_col)
            p = _difficulty(rec[pass_col], pass_col)
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


    def _image(self, value: Any, k: int, count: int, base_dir: Path | None) -> Any:
        try:
            return normalize(value, base_dir, decode=self.decode_images)
        except BadImage as e:
            which = f"image {k + 1} of {count}: " if count > 1 else ""  # bytes carry no name to tell them apart
            raise BadRecord(f"{which}{e}", e.kind) from None


def _difficulty(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(f"field '{what}' must be a number in [0, 1], not {a_kind(value)}", "wrong type")
    if not 0.0 <= float(value) <= 1.0:
        raise BadRecord(f"field '{what}' must be in [0, 1], not {value}", "out of range")
    return float(value)


def _wrong_type(column: str | None, role: str, expected: str, value: Any) -> BadRecord:
    # The record's own field name, which the user can find in the file, and what seethink used it for.
    return BadRecord(f"field '{column}' ({role}) must be {expected}, not {a_kind(value)}", "wrong type")


def _small_scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= MAX_META_TEXT)


class RecordSource:
    """A data source over a ``Reader``: lazy, re-iterable, same order every pass.

    ``label`` is what messages call it: the factory sets the source's registered name and
    ``seethink_core.run.sources.open_source`` replaces it with the curriculum's (``source geo = ...``).
    ``skipped`` counts the bad records skipped in the latest complete pass, ``skip_reasons`` the
    same by reason, and ``problems`` keeps the first few messages so a summary can show them.
    """

    MAX_PROBLEMS = 20

    def __init__(self, name: str, reader: Reader, mapper: RecordMapper, *, on_error: str = "stop",
                 limit: int | None = None, post: PostProcess | None = None,
                 extra_columns: frozenset[str] = frozenset()):
        self.name = name
        self._label = name
        self.reader = reader
        self.mapper = mapper
        self.on_error = on_error
        self.limit = limit
        self.post = post
        try:
            record_fields = reader.fields()
        except ReadError:
            # A JSON file that does not parse: reading it (scan) raises the error again, then under the
            # name the curriculum gives the source, which is set only after this constructor returns.
            record_fields = []
        self.columns = mapper.columns(record_fields) | extra_columns
        self.skipped = 0
        self.skip_reasons: dict[str, int] = {}
        self.problems: list[str] = []

    @property
    def label(self) -> str:
        return self._label

    @label.setter
    def label(self, name: str) -> None:
        # Set by ``open_source`` to the curriculum's name for the source: messages say it, and a named
        # source's sample ids carry it (an unnamed one keeps the registered name: ``jsonl-12``).
        self._label = name
        if name != self.name:
            self.mapper.id_prefix = name

    def size(self) -> int | None:
        """Records (bad ones included until a pass has counted them) up to ``limit``."""
        n = self.reader.size()
        if n is None:
            return None
        return (min(n, self.limit) if self.limit is not None else n) - self.skipped

    def records(self) -> int | None:
        """How many records a full pass reads, bad ones included (a scan's progress total)."""
        n = self.reader.size()
        return None if n is None else min(n, self.limit) if self.limit is not None else n

    def scan(self) -> Iterator[tuple[str, Sample | BadRecord]]:
        """Every record in order, with its place: the sample, or why it is bad, whatever ``on_error``
        says (preflight reports them all). A file that cannot be read at all is a ``DataError``."""
        items = self._items()
        index = 0
        while self.limit is None or index < self.limit:
            try:
                base, (where, rec) = next(items)
            except StopIteration:
                return
            except ReadError as e:
                raise DataError(f"{self.label}: {e}") from None
            yield where, self._sample(rec, index, base)
            index += 1

    def _items(self) -> Iterator[tuple[Path | None, Item]]:
        """The reader's items, each with the folder its relative image paths resolve against."""
        by_file = getattr(self.reader, "by_file", None)
        if not callable(by_file):
            yield from ((self.mapper.base_dir, item) for item in self.reader)
            return
        for path, items in by_file():
            yield from ((path.parent, item) for item in items)

    def _sample(self, rec: dict[str, Any] | RecordProblem, index: int, base: Path | None) -> Sample | BadRecord:
        try:
            if isinstance(rec, RecordProblem):
                raise BadRecord(rec.message, rec.kind)
            sample = self.mapper.to_sample(rec, index, base)
            return sample if self.post is None else self.post(sample, rec)
        except BadRecord as e:
            return e

    def __iter__(self) -> Iterator[Sample]:
        skipped, good = 0, 0
        reasons: dict[str, int] = {}
        problems: list[str] = []
        for where, result in self.scan():
            if isinstance(result, Sample):
                good += 1
                yield result
                continue
            if self.on_error == "stop":
                raise DataError(f"{self.label}: {where}: {result}", hint=SKIP_HINT)
            skipped += 1
            reasons[result.kind] = reasons.get(result.kind, 0) + 1
            if len(problems) < self.MAX_PROBLEMS:
                problems.append(f"{self.label}: {where}: {result}")
        if skipped and not good:
            # Skipping is for the odd bad record: a source of nothing but bad ones is a wrong path,
            # mapping or format, and training on the other sources alone would hide it.
            first = problems[0].removeprefix(f"{self.label}: ")
            raise DataError(f"{self.label}: every record is bad ({skipped} skipped: {_by_reason(reasons)}); "
                            f"the first: {first}", hint="check the path, the format and the field mapping")
        self.skipped, self.skip_reasons, self.problems = skipped, reasons, problems


def _by_reason(reasons: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
