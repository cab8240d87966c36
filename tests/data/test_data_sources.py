"""File and hub sources: field mapping, images in every stored form, bad records, offline hub."""

from __future__ import annotations

import json
import time

import pytest
from seethink_data.hf import HubReader, open_hf
from seethink_data.images import to_pil
from seethink_data.jsonl import open_jsonl
from seethink_data.options import FileOptions, HubOptions
from seethink_data.parquet import open_parquet

from seethink_core.errors import DataError


def write_jsonl(path, rows) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def test_jsonl_maps_fields_and_resolves_image_paths_relative_to_the_file(tmp_path, png_bytes):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(png_bytes())
    write_jsonl(tmp_path / "d.jsonl", [
        {"uid": 7, "problem": "<image>2+2?", "sol": 4, "img": "imgs/a.png", "pass_rate": 0.25, "topic": "math"},
        {"uid": 8, "problem": "3+3?", "sol": "6", "img": [], "pass_rate": 1},
    ])
    src = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl")), seed=0,
                     mapping={"id": "uid", "prompt": "problem", "answer": "sol", "images": "img"})
    a, b = list(src)
    assert (a.id, a.prompt, a.answer, a.source) == ("jsonl-7", "<image>2+2?", "4", "jsonl")
    assert a.images == [str(tmp_path / "imgs" / "a.png")]
    assert a.difficulty == pytest.approx(0.75) and b.difficulty == 0.0  # 1 - pass rate
    assert a.meta == {"topic": "math"}
    assert src.size() == 2 and {"prompt", "answer", "images", "difficulty"} <= src.columns
    assert [s.id for s in src] == ["jsonl-7", "jsonl-8"]  # re-iterable, same order


def test_default_field_names_need_no_mapping(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"question": "q?", "answer": "a", "difficulty": 0.4}])
    (s,) = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl")), seed=0)
    assert (s.id, s.prompt, s.answer, s.difficulty) == ("jsonl-0", "q?", "a", 0.4)


def test_parquet_images_as_hub_structs_bytes_and_a_folder_with_splits(tmp_path, png_bytes, write_parquet):
    (tmp_path / "data").mkdir()
    rows = [{"problem": f"q{i}", "answer": str(i), "images": [{"bytes": png_bytes(), "path": None}]}
            for i in range(5)]
    write_parquet(tmp_path / "data" / "train-00000-of-00001.parquet", rows)
    write_parquet(tmp_path / "data" / "test-00000-of-00001.parquet",
                  [{"problem": "t", "answer": "1", "images": [png_bytes()]}])
    train = open_parquet(FileOptions(path=str(tmp_path), split="train"), seed=0)
    assert train.size() == 5
    samples = list(train)
    assert [s.prompt for s in samples] == [f"q{i}" for i in range(5)]
    assert isinstance(samples[0].images[0], bytes) and to_pil(samples[0].images[0]).size == (8, 8)
    (t,) = open_parquet(FileOptions(path=str(tmp_path), split="test", decode_images=True), seed=0)
    assert t.images[0].size == (8, 8)  # decoded to PIL on request


def test_urls_are_kept_as_text_and_never_fetched_while_reading(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "image": "https://example.invalid/x.png"}])
    (s,) = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl")), seed=0)
    assert s.images == ["https://example.invalid/x.png"]


BAD_ROWS = [
    {"prompt": "fine", "answer": "1"},
    {"answer": "no prompt"},
    "{not json",
    {"prompt": "p", "image": "missing.png"},
    {"prompt": "p", "answer": {"a": 1}},
    {"prompt": "p", "difficulty": 3},
    {"prompt": 5},
    {"prompt": "fine too", "answer": 2},
]


def test_bad_records_stop_with_source_and_index(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", BAD_ROWS)
    src = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl")), seed=0)
    with pytest.raises(DataError) as e:
        list(src)
    assert e.value.diagnostics[0].message == f"jsonl: {tmp_path / 'd.jsonl'}:2: missing field 'prompt' " \
        "(or 'problem', 'question', 'query'; map another with prompt: \"FIELD\")"
    assert "on_error" in e.value.diagnostics[0].hint


def test_bad_records_skip_and_count(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    write_jsonl(tmp_path / "d.jsonl", [*BAD_ROWS, {"prompt": "p", "image": "broken.png"}])
    src = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl"), on_error="skip"), seed=0)
    assert [s.prompt for s in src] == ["fine", "fine too"]
    assert src.skipped == 7
    joined = "\n".join(src.problems)
    for needle in ("d.jsonl:2: missing field 'prompt'", "d.jsonl:3: not JSON",
                   "d.jsonl:4: image file not found", "d.jsonl:5: field 'answer' (the answer) must be",
                   "d.jsonl:6: field 'difficulty' must be in [0, 1]", "d.jsonl:7: field 'prompt' (the prompt) must be",
                   "d.jsonl:9: image file", "not decode"):
        assert needle in joined


def test_parquet_image_bytes_that_do_not_decode(tmp_path, write_parquet):
    write_parquet(tmp_path / "x.parquet", [{"prompt": "p", "image": b"garbage"}])
    with pytest.raises(DataError, match=r"parquet: .*x\.parquet row 0: image bytes do not decode"):
        list(open_parquet(FileOptions(path=str(tmp_path / "x.parquet")), seed=0))


def test_a_mapped_field_missing_from_a_record_is_bad(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"q": "x", "answer": "1"}])
    src = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl")), seed=0, mapping={"prompt": "q", "facts": "cap"})
    with pytest.raises(DataError, match="d.jsonl:1: missing field 'cap'"):
        list(src)


def test_a_mapped_pass_rate_column_becomes_difficulty(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"q": "x", "acc": 0.8}, {"q": "y"}])
    src = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl"), on_error="skip"), seed=0,
                     mapping={"prompt": "q", "pass_rate": "acc"})
    assert [s.difficulty for s in src] == [pytest.approx(0.2)]
    assert src.skipped == 1 and "missing field 'acc'" in src.problems[0]


def test_mapping_keys_must_be_sample_fields(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"q": "x"}])
    with pytest.raises(DataError, match="cannot map 'question'"):
        open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl")), seed=0, mapping={"question": "q"})


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        open_jsonl(FileOptions(path=str(tmp_path / "nope.jsonl")), seed=0)
    with pytest.raises(DataError, match="no .parquet files"):
        open_parquet(FileOptions(path=str(tmp_path)), seed=0)


def test_limit_caps_records_and_size(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"prompt": str(i)} for i in range(10)])
    src = open_jsonl(FileOptions(path=str(tmp_path / "d.jsonl"), limit=3), seed=0)
    assert src.size() == 3 and [s.prompt for s in src] == ["0", "1", "2"]


def test_hf_offline_is_one_clear_message_without_waiting(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache, whatever this machine has downloaded
    for var in ("HF_DATASETS_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    start = time.perf_counter()
    with pytest.raises(DataError) as e:
        open_hf(HubOptions(dataset="hiyouga/geometry3k"), seed=0)
    assert time.perf_counter() - start < 2.0  # the offline switch is checked before any network call
    message = str(e.value)
    assert "hf: the Hugging Face data set 'hiyouga/geometry3k' could not be reached: HF_HUB_OFFLINE is set" \
        in message
    assert "parquet" in message and "hf download" in message


def test_hf_offline_reads_a_data_set_from_the_hugging_face_cache(monkeypatch, tmp_path):
    """Downloaded before (the hub's cache or datasets' own), a data set loads offline, datasets told so."""
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    for var in ("HF_DATASETS_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "hub" / "datasets--owner--name").mkdir(parents=True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", datasets.config.HF_DATASETS_OFFLINE)
    calls = []

    def load_dataset(name, config, split, revision):
        calls.append((name, split, datasets.config.HF_DATASETS_OFFLINE))
        return datasets.Dataset.from_dict({"question": ["q0", "q1"], "answer": ["a", "b"]})

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    src = open_hf(HubOptions(dataset="owner/name", split="test"), seed=0,
                  mapping={"prompt": "question", "answer": "answer"})
    assert [s.prompt for s in src] == ["q0", "q1"] and calls == [("owner/name", "test", True)]
    with pytest.raises(DataError, match="could not be reached"):
        open_hf(HubOptions(dataset="owner/other"), seed=0)


def test_hf_reads_a_saved_dataset_offline_with_images_kept_encoded(tmp_path, monkeypatch, png_bytes):
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    features = datasets.Features({"question": datasets.Value("string"), "answer": datasets.Value("string"),
                                  "image": datasets.Image()})
    ds = datasets.Dataset.from_dict({"question": ["q?"], "answer": ["a"],
                                     "image": [{"bytes": png_bytes(), "path": None}]}, features=features)
    ds.to_parquet(str(tmp_path / "train.parquet"))
    reader = HubReader("hf", str(tmp_path), "train")
    assert reader.size() == 1 and reader.fields() == ["question", "answer", "image"]
    src = open_hf(HubOptions(dataset=str(tmp_path)), seed=0)
    (s,) = list(src)
    assert (s.id, s.prompt, s.answer) == ("hf-0", "q?", "a")
    assert isinstance(s.images[0], bytes) and to_pil(s.images[0]).size == (8, 8)
