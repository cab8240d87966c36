"""Bad data gets names and lines: every bad record is one message with the source's name as the
curriculum writes it, the file and the line (JSON Lines) or the record/row index (JSON, Parquet,
hub data sets), never a traceback; ``on_error: "skip"`` counts what it skips, by reason."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from seethink_core.errors import DataError
from seethink_core.run.sources import open_source
from seethink_core.run.stream import build_stream
from seethink_core.types.plan import DataRef

HINT = 'fix the record, or set on_error: "skip" to skip and count bad records'


def geo(registry: Any, path: Path, source: str = "jsonl", **options: Any) -> Any:
    """``source geo = SOURCE(path, options)`` opened as the runner opens it."""
    return open_source(DataRef(source, {"path": str(path), **options}, name="geo"), registry, seed=0)


def error_of(source: Any) -> str:
    with pytest.raises(DataError) as e:
        list(source)
    (d,) = e.value.diagnostics
    return d.message


def write_lines(path: Path, *lines: bytes | dict[str, Any] | str) -> Path:
    raw = [ln if isinstance(ln, bytes) else (ln if isinstance(ln, str) else json.dumps(ln)).encode() for ln in lines]
    path.write_bytes(b"\n".join(raw) + b"\n")
    return path


def png(noise: bool = True) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


MISSING_PROMPT = "missing field 'prompt' (or 'problem', 'question', 'query'; map another with prompt: \"FIELD\")"
LONG = {"prompt": "x" * 70_000, "answer": "1"}  # past any text-mode decode block (the known bug)


def test_non_utf8_line_after_a_long_line_names_source_file_and_line(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", LONG, b'{"prompt": "caf\xe9", "answer": "2"}')
    with pytest.raises(DataError) as e:
        list(geo(registry, f))
    (d,) = e.value.diagnostics
    assert d.message == f"geo: {f}:2: not UTF-8 (byte 0xe9 at column 16)"
    assert d.hint == HINT


def test_non_utf8_line_is_skipped_and_counted(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", LONG, b'{"prompt": "caf\xe9"}', {"prompt": "ok"})
    src = geo(registry, f, on_error="skip")
    assert [s.prompt for s in src] == ["x" * 70_000, "ok"]
    assert (src.skipped, src.skip_reasons) == (1, {"not UTF-8": 1})
    assert src.problems == [f"geo: {f}:2: not UTF-8 (byte 0xe9 at column 16)"]


def test_invalid_json_line(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"prompt": "ok"}, "", '{"prompt": "q" "answer": 1}')
    assert error_of(geo(registry, f)) == f"geo: {f}:3: not JSON: Expecting ',' delimiter (column 16)"


def test_a_line_that_is_json_but_not_an_object(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", "[1, 2]")
    assert error_of(geo(registry, f)) == f"geo: {f}:1: a JSON list, not an object"


def test_missing_field(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"prompt": "ok"}, {"answer": "3"})
    assert error_of(geo(registry, f)) == f"geo: {f}:2: {MISSING_PROMPT}"


def test_missing_mapped_field(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"problem": "ok"})
    src = open_source(DataRef("jsonl", {"path": str(f)}, mapping={"prompt": "question"}, name="geo"),
                      registry, seed=0)
    assert error_of(src) == f"geo: {f}:1: missing field 'question'"


def test_wrong_typed_fields(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"problem": 5})
    assert error_of(geo(registry, f)) == f"geo: {f}:1: field 'problem' (the prompt) must be a string, not a number"
    f = write_lines(tmp_path / "e.jsonl", {"prompt": "p", "answer": {"a": 1}})
    assert error_of(geo(registry, f)) == \
        f"geo: {f}:1: field 'answer' (the answer) must be a string or a number, not an object"
    f = write_lines(tmp_path / "g.jsonl", {"prompt": "p", "difficulty": "hard"})
    assert error_of(geo(registry, f)) == f"geo: {f}:1: field 'difficulty' must be a number in [0, 1], not a string"


def test_truncated_image_file(tmp_path, registry):
    data = png()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    f = write_lines(tmp_path / "d.jsonl", {"prompt": "p", "image": "cut.png"})
    assert error_of(geo(registry, f)) == \
        f"geo: {f}:1: image file {tmp_path / 'cut.png'} does not decode: Truncated File Read"


def test_missing_image_file(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"prompt": "p", "images": ["a.png", "gone.png"]})
    (tmp_path / "a.png").write_bytes(png())
    assert error_of(geo(registry, f)) == f"geo: {f}:1: image 2 of 2: image file not found: {tmp_path / 'gone.png'}"


def test_truncated_image_bytes_in_parquet_give_the_row(tmp_path, registry, write_parquet):
    data = png()
    f = tmp_path / "d.parquet"
    write_parquet(f, [{"prompt": "ok", "image": data}, {"prompt": "p", "image": data[:200]}])
    message = error_of(geo(registry, f, source="parquet"))
    assert message.startswith(f"geo: {f} row 1: image bytes do not decode: ")


def test_parquet_null_field_gives_the_row(tmp_path, registry, write_parquet):
    f = tmp_path / "d.parquet"
    write_parquet(f, [{"prompt": "ok"}, {"prompt": None}])
    assert error_of(geo(registry, f, source="parquet")) == \
        f"geo: {f} row 1: field 'prompt' (the prompt) must be a string, not null"


def test_json_list_gives_the_record_index(tmp_path, registry):
    f = tmp_path / "d.json"
    f.write_text(json.dumps([{"prompt": "ok"}, 7]))
    assert error_of(geo(registry, f)) == f"geo: {f} record 1: a JSON number, not an object"


def test_json_file_that_does_not_parse_names_the_source_and_line(tmp_path, registry):
    f = tmp_path / "d.json"
    f.write_text('[\n{"prompt": "ok"},\n{"prompt": }\n]')
    assert error_of(geo(registry, f)) == f"geo: {f}:3: not JSON: Expecting value (column 12)"
    f.write_bytes(b'[\n{"prompt": "caf\xe9"}\n]')
    assert error_of(geo(registry, f)) == f"geo: {f}:2: not UTF-8 (byte 0xe9)"


def test_an_unnamed_source_is_called_by_its_registered_name(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"answer": "3"})
    src = open_source(DataRef("jsonl", {"path": str(f)}), registry, seed=0)
    assert error_of(src) == f"jsonl: {f}:1: {MISSING_PROMPT}"


def test_every_record_bad_is_an_error_even_when_skipping(tmp_path, registry):
    f = write_lines(tmp_path / "d.jsonl", {"answer": "3"}, "{oops", {"answer": "4"})
    assert error_of(geo(registry, f, on_error="skip")) == (
        f"geo: every record is bad (3 skipped: 2 missing field, 1 not JSON); "
        f"the first: {f}:1: {MISSING_PROMPT}")


def test_the_stream_warns_once_with_counts_and_the_first_bad_record(tmp_path, registry, make_phase, capsys):
    f = write_lines(tmp_path / "d.jsonl", {"prompt": "a"}, b'{"prompt": "\xff"}', {"answer": "1"},
                    {"prompt": "b"}, {"nope": 1})
    stream = build_stream(make_phase(DataRef("jsonl", {"path": str(f), "on_error": "skip"}, name="geo")),
                          registry, seed=0)
    assert stream.total_samples() == 2
    assert stream.skipped_records() == {"geo": {"missing field": 2, "not UTF-8": 1}}
    assert capsys.readouterr().err == (
        f"phase p: warning: data source geo: skipped 3 bad record(s) (2 missing field, 1 not UTF-8); "
        f"the first: {f}:2: not UTF-8 (byte 0xff at column 13)\n")


def test_a_clean_stream_says_nothing(tmp_path, registry, make_phase, capsys):
    f = write_lines(tmp_path / "d.jsonl", {"prompt": "a"})
    stream = build_stream(make_phase(DataRef("jsonl", {"path": str(f), "on_error": "skip"}, name="geo")),
                          registry, seed=0)
    assert stream.skipped_records() == {} and capsys.readouterr().err == ""


def test_a_stream_of_only_bad_records_is_an_error_not_an_empty_phase(tmp_path, registry, make_phase):
    f = write_lines(tmp_path / "d.jsonl", {"answer": "1"})
    with pytest.raises(DataError, match=r"^geo: every record is bad \(1 skipped: 1 missing field\)"):
        build_stream(make_phase(DataRef("jsonl", {"path": str(f), "on_error": "skip"}, name="geo")),
                     registry, seed=0)


def test_hub_rows_are_located_by_data_set_split_and_row(tmp_path, monkeypatch, registry):
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets.Dataset.from_dict({"question": ["q?", None]}).to_parquet(str(tmp_path / "train.parquet"))
    src = open_source(DataRef("hf", {"dataset": str(tmp_path)}, name="geo"), registry, seed=0)
    assert error_of(src) == \
        f"geo: {tmp_path} (split 'train') row 1: field 'question' (the prompt) must be a string, not null"


def _checksummed_garbage_png() -> bytes:
    """A PNG whose pixel data is garbage under valid checksums: PIL's verify() passes, load() fails."""
    import struct
    import zlib

    data, out, pos = png(), bytearray(png()[:8]), 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], bytearray(data[pos + 8:pos + 8 + length])
        if kind == b"IDAT":
            body[2:] = bytes(b ^ 0x5A for b in body[2:])
        out += struct.pack(">I", length) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        pos += 12 + length
    return bytes(out)


def test_pixels_that_do_not_decompress_are_named_when_served(tmp_path, registry, make_phase, write_parquet):
    f = tmp_path / "d.parquet"
    write_parquet(f, [{"prompt": "p", "image": _checksummed_garbage_png()}])
    stream = build_stream(make_phase(DataRef("parquet", {"path": str(f)}, name="geo")), registry, seed=0)
    with pytest.raises(DataError) as e:
        stream.next_batch(1, 0)
    assert e.value.diagnostics[0].message.startswith(
        "data source geo: sample 'geo-0': image bytes do not decode: ")


def test_bounding_a_truncated_image_file_is_a_data_error(tmp_path):
    from PIL import Image

    from seethink_core.samples.images import ImageBounds, bound_image

    data = png()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as e:
        bound_image(Image.open(tmp_path / "cut.png"), ImageBounds())
    assert e.value.diagnostics[0].message == f"{tmp_path / 'cut.png'} does not decode: image file is truncated"


def test_an_eval_set_that_skips_records_says_so(tmp_path, registry, capsys):
    from seethink_core.run.eval_sets import load_eval_samples

    f = write_lines(tmp_path / "d.jsonl", {"prompt": "a", "answer": "1"}, "{oops", {"prompt": "b", "answer": "2"})
    ref = DataRef("jsonl", {"path": str(f), "on_error": "skip"}, name="geo")
    assert len(load_eval_samples(ref, registry, seed=0, max_samples=None)) == 2
    assert capsys.readouterr().err == (
        f"eval set 'geo': warning: data source geo: skipped 1 bad record(s) (1 not JSON); "
        f"the first: {f}:2: not JSON: Expecting property name enclosed in double quotes (column 2)\n")


def test_named_file_sources_give_their_samples_distinct_ids(tmp_path, registry):
    a = write_lines(tmp_path / "a.jsonl", {"prompt": "a", "answer": "1"})
    b = write_lines(tmp_path / "b.jsonl", {"prompt": "b", "answer": "2"})
    geo = open_source(DataRef("jsonl", {"path": str(a)}, name="geo"), registry, seed=0)
    chart = open_source(DataRef("jsonl", {"path": str(b)}, name="chart"), registry, seed=0)
    plain = open_source(DataRef("jsonl", {"path": str(b)}), registry, seed=0)
    assert [s.id for s in geo] == ["geo-0"] and [s.id for s in chart] == ["chart-0"]
    assert [s.id for s in plain] == ["jsonl-0"]  # unnamed: the registered name, as before
