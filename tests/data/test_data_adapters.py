"""Named data sets, each read from a small file written here in its hub layout."""

from __future__ import annotations

import json

import pytest

from seethink_core.errors import DataError
from seethink_core.run.sources import open_source
from seethink_core.types.plan import DataRef


def perception_problem(q: str) -> str:
    return (f"<image>{q}\nOptions:\nA: a red kite\nB: two dogs\nC: a blue door\nD: none of these\n"
            "Respond using only the letter of the correct option.")


def test_capcurriculum_perception_from_hub_parquet(tmp_path, registry, png_bytes, write_parquet):
    (tmp_path / "data").mkdir()
    write_parquet(tmp_path / "data" / "train-00000-of-00001.parquet", [
        {"index": 12, "problem": perception_problem("What is on the door?"), "answer": "C",
         "images": [{"bytes": png_bytes(), "path": "docci_12.jpg"}], "pass_rate": 0.25,
         "predictions": ["C"] * 16, "correctness": [1.0] * 16},
        {"index": 13, "problem": perception_problem("What flies?"), "answer": "A",
         "images": [{"bytes": png_bytes(), "path": "docci_13.jpg"}], "pass_rate": 1.0,
         "predictions": ["A"] * 16, "correctness": [1.0] * 16},
    ])
    src = open_source(DataRef("capcurriculum_perception", {"path": str(tmp_path)}), registry, seed=0)
    a, b = list(src)
    assert a.id == "capcurriculum_perception-12" and a.capability == "perception"
    assert a.prompt.startswith("What is on the door?") and "<image>" not in a.prompt
    assert a.meta["choices"] == ["a red kite", "two dogs", "a blue door", "none of these"]
    assert a.answer == "C" and len(a.images) == 1
    assert (a.difficulty, b.difficulty) == (0.75, 0.0)
    assert "predictions" not in a.meta  # list columns stay out of meta
    assert {"difficulty", "capability", "images"} <= src.columns


def test_capcurriculum_text_and_visual_from_jsonl(tmp_path, registry, png_bytes):
    (tmp_path / "t.jsonl").write_text(json.dumps(
        {"index": 0, "problem": "Solve x+1=3.", "answer": "2", "images": [], "pass_rate": 0.5}) + "\n")
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "img0.png").write_bytes(png_bytes())
    (tmp_path / "v" / "train.jsonl").write_text(json.dumps(
        {"index": 5, "problem": "<image>Find the angle.", "answer": "30", "images": ["img0.png"],
         "pass_rate": 0.0}) + "\n")
    (t,) = open_source(DataRef("capcurriculum_text", {"path": str(tmp_path / "t.jsonl")}), registry, seed=0)
    assert (t.capability, t.images, t.difficulty, t.answer) == ("textual_reasoning", [], 0.5, "2")
    (v,) = open_source(DataRef("capcurriculum_visual", {"path": str(tmp_path / "v")}), registry, seed=0)
    assert (v.capability, v.prompt, v.difficulty) == ("visual_reasoning", "Find the angle.", 1.0)
    assert v.images == [str(tmp_path / "v" / "img0.png")]


def test_geometry3k_test_split_of_a_folder(tmp_path, registry, png_bytes, write_parquet):
    (tmp_path / "data").mkdir()
    for split, n in (("train", 3), ("validation", 1), ("test", 2)):
        write_parquet(tmp_path / "data" / f"{split}-00000-of-00001.parquet",
                      [{"images": [{"bytes": png_bytes(), "path": None}],
                        "problem": f"<image>Find x. ({split} {i})", "answer": str(i)} for i in range(n)])
    src = open_source(DataRef("geometry3k", {"path": str(tmp_path)}), registry, seed=0)
    samples = list(src)
    assert [s.prompt for s in samples] == ["Find x. (test 0)", "Find x. (test 1)"]
    assert [s.id for s in samples] == ["geometry3k-0", "geometry3k-1"]
    assert samples[0].capability == "visual_reasoning" and samples[0].difficulty is None
    train = open_source(DataRef("geometry3k", {"path": str(tmp_path), "split": "train"}), registry, seed=0)
    assert train.size() == 3


def test_mmstar_single_parquet_file(tmp_path, registry, png_bytes, write_parquet):
    write_parquet(tmp_path / "mmstar.parquet", [
        {"index": 0, "question": "Which animal is shown?\nOptions: A: a cat, B: a dog, C: a fish, D: a bird",
         "image": {"bytes": png_bytes(), "path": None}, "answer": "B", "category": "coarse perception",
         "l2_category": "image scene and topic", "meta_info": {"source": "MMBench", "split": "val",
                                                               "image_path": "x.jpg"}},
    ])
    (s,) = open_source(DataRef("mmstar", {"path": str(tmp_path)}), registry, seed=0)
    assert (s.id, s.answer, s.capability) == ("mmstar-0", "B", "perception")
    assert s.meta["choices"] == ["a cat", "a dog", "a fish", "a bird"]
    assert s.meta["category"] == "coarse perception"


def test_pope_yes_no(tmp_path, registry, png_bytes, write_parquet):
    (tmp_path / "data").mkdir()
    write_parquet(tmp_path / "data" / "test-00000-of-00001.parquet", [
        {"id": "0", "question_id": "1", "question": "Is there a snowboard in the image?", "answer": "yes",
         "image_source": "COCO_val2014_000000310196", "image": {"bytes": png_bytes(), "path": None},
         "category": "adversarial"},
        {"id": "1", "question_id": "2", "question": "Is there a car in the image?", "answer": "no",
         "image_source": "COCO_val2014_000000310196", "image": {"bytes": png_bytes(), "path": None},
         "category": "adversarial"},
    ])
    src = open_source(DataRef("pope", {"path": str(tmp_path)}), registry, seed=0)
    assert [(s.id, s.answer, s.meta["category"]) for s in src] == [
        ("pope-1", "yes", "adversarial"), ("pope-2", "no", "adversarial")]


@pytest.mark.parametrize("name, hub_id", [
    ("capcurriculum_perception", "UCSC-VLAA/VLM-CapCurriculum-Perception-Data"),
    ("geometry3k", "hiyouga/geometry3k"),
    ("pope", "lmms-lab/POPE"),
])
def test_without_a_path_the_hub_is_needed(name, hub_id, registry, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert registry.get("data_source", name).needs_network
    with pytest.raises(DataError, match=f"{name}: the Hugging Face data set '{hub_id}' could not be reached"):
        open_source(DataRef(name), registry, seed=0)


def test_adapter_options_are_checked(registry):
    with pytest.raises(DataError, match="data source 'mmstar': unknown option 'pth'"):
        open_source(DataRef("mmstar", {"pth": "x"}), registry, seed=0)
