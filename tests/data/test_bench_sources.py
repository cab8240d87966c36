"""The reference suite's data sources on fixture copies in each hub release's schema: prompts, answers,
options, the fields the scorers need, MathVerse's vision-intensive filter, bad records, and the hub
path (``datasets.load_dataset`` with each release's id, configuration and split)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from seethink_data.benchmarks_math import wemath_options
from seethink_data.benchmarks_perception import line_options

from seethink_core.errors import DataError
from seethink_core.run.eval_sets import load_eval_samples
from seethink_core.types.plan import DataRef

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench_fixtures import DECOYS, ROWS, SPLITS, write_benchmark, write_suite  # noqa: E402


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    return write_suite(tmp_path_factory.mktemp("bench"))


def read(name, copies, registry, **options):
    return load_eval_samples(DataRef(name, {"path": str(copies / name), **options}), registry, seed=0,
                             max_samples=None)


def test_every_benchmark_is_registered_as_a_source_and_an_evaluator(registry):
    for name in ROWS:
        assert registry.find("data_source", name) is not None, name
        assert registry.find("evaluator", name) is not None, name


def test_mathvista(copies, registry):
    samples = read("mathvista", copies, registry)
    assert [s.id for s in samples] == ["mathvista-1", "mathvista-2", "mathvista-3", "mathvista-4"]
    mc = samples[0]
    assert mc.prompt.startswith("Hint: Please answer") and "(B) 8/11" in mc.prompt  # the official query
    assert mc.answer == "8/11" and mc.meta["choices"] == ["3/11", "8/11", "6/11", "3/5"]
    assert mc.meta["question_type"] == "multi_choice" and mc.meta["task"] == "figure question answering"
    assert samples[2].meta["answer_type"] == "float" and samples[2].meta["precision"] == 2.0
    assert all(s.capability == "visual_reasoning" and s.meta["benchmark"] == "mathvista" and s.images
               for s in samples)


def test_mathvision_options_go_to_the_prompt(copies, registry):
    free, mc, _ = read("mathvision", copies, registry)
    assert free.prompt == "How many triangles are there?" and "choices" not in free.meta  # <image1> dropped
    assert mc.prompt == "Which shape comes next?\nOptions:\nA. A\nB. B\nC. C\nD. D\nE. E" and mc.answer == "C"
    assert mc.meta["subject"] == "logic" and mc.meta["level"] == 1


def test_mathverse_keeps_the_vision_intensive_rows_only(copies, registry):
    samples = read("mathverse", copies, registry)
    assert [s.id for s in samples] == ["mathverse-11", "mathverse-21"]
    assert all(s.meta["problem_version"] == "Vision Intensive" for s in samples)
    assert samples[0].prompt.startswith("Please first conduct reasoning") and samples[0].answer == "B"
    assert samples[0].meta["subject"] == "plane geometry" and "Choices:" in samples[0].meta["question_for_eval"]
    assert len(read("mathverse", copies, registry, limit=1)) == 1


def test_wemath_keeps_problem_and_step(copies, registry):
    samples = read("wemath", copies, registry)
    assert len(samples) == 7 and len({s.id for s in samples}) == 7  # ID repeats within a problem
    first = samples[0]
    assert (first.meta["ID"], first.meta["key"]) == ("2steps-1", "2steps_1")
    assert first.meta["choices"] == ["6cm²", "8cm²", "10cm²", "12cm²", "No correct answer"]
    assert first.prompt.endswith("Options:\nA. 6cm²\nB. 8cm²\nC. 10cm²\nD. 12cm²\nE. No correct answer")
    assert wemath_options("A. 1; B. 2;C: 3") == ["1", "2", "3"] and wemath_options("free text") == []


def test_aokvqa_answer_is_the_letter_of_the_correct_choice(copies, registry):
    a, b = read("aokvqa", copies, registry)
    assert (a.id, a.answer, b.answer) == ("aokvqa-q1", "B", "B")
    assert a.prompt == "What is the round object used for?\nOptions:\nA. eating\nB. playing\nC. sleeping\nD. reading"
    assert a.capability == "perception" and a.meta["choices"][1] == "playing"


def test_aokvqa_bad_choice_index_names_the_row(tmp_path, registry):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = ROWS["aokvqa"]()
    rows[1]["correct_choice_idx"] = 7
    (tmp_path / "aokvqa").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "aokvqa" / "validation-0.parquet")
    with pytest.raises(DataError, match=r"aokvqa: .*row 1: field 'correct_choice_idx' must be an option number"):
        load_eval_samples(DataRef("aokvqa", {"path": str(tmp_path / "aokvqa")}), registry, seed=0, max_samples=None)


def test_realworldqa_options_and_open_questions(copies, registry):
    mc, open_q = read("realworldqa", copies, registry)
    assert mc.meta["choices"] == ["The tree", "The car", "The house"] and mc.answer == "B"
    assert "choices" not in open_q.meta and open_q.answer == "3" and open_q.id == "realworldqa-1"
    assert line_options("Q?\nA. x\nB. y\nPlease answer.") == ["x", "y"]


def test_mmstar_and_pope_are_tagged_for_their_evaluators(copies, registry):
    mmstar = read("mmstar", copies, registry)
    assert mmstar[0].meta["benchmark"] == "mmstar" and mmstar[0].meta["choices"][0] == "circle"
    pope = read("pope", copies, registry)
    assert [s.meta["category"] for s in pope][:2] == ["adversarial", "adversarial"]
    assert {s.answer for s in pope} == {"yes", "no"} and pope[0].meta["benchmark"] == "pope"


HUB = {"mathvista": ("AI4Math/MathVista", None, "testmini"), "mathvision": ("MathLLMs/MathVision", None, "testmini"),
       "mathverse": ("AI4Math/MathVerse", "testmini", "testmini"), "wemath": ("We-Math/We-Math", None, "testmini"),
       "aokvqa": ("HuggingFaceM4/A-OKVQA", None, "validation"), "realworldqa": ("xai-org/RealworldQA", None, "test"),
       "mmstar": ("Lin-Chen/MMStar", None, "val"), "pope": ("lmms-lab/POPE", None, "test")}


def test_the_hub_path_asks_datasets_for_each_release(monkeypatch, registry):
    """Without ``path`` each source loads its release through ``datasets.load_dataset`` (which reads
    its own cache first); the rows it returns are read as the local copies are."""
    import datasets
    import seethink_data.hf as hf

    asked = []

    def load_dataset(dataset, config=None, split=None, revision=None):
        asked.append((dataset, config, split))
        name = next(n for n, (hub, _, _) in HUB.items() if hub == dataset)
        return datasets.Dataset.from_list(ROWS[name]())

    monkeypatch.setattr(hf, "offline_reason", lambda: None)
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    for name, expected in HUB.items():
        samples = load_eval_samples(DataRef(name), registry, seed=0, max_samples=None)
        assert asked[-1] == expected and samples and samples[0].meta["benchmark"] == name
    assert len(load_eval_samples(DataRef("mathverse"), registry, seed=0, max_samples=None)) == 2


def test_offline_without_a_copy_is_one_clear_message(registry, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"wemath: the Hugging Face data set 'We-Math/We-Math' could not be reached"):
        load_eval_samples(DataRef("wemath"), registry, seed=0, max_samples=None)


def test_a_copy_reads_the_split_s_files_not_the_repository_s_others(copies, registry, tmp_path):
    # MathVerse and WeMath keep the rows again as JSON beside the parquet (and MathVerse its text-only
    # set): a plain split filter would mix the two formats; the release's layout picks the parquet.
    assert set(DECOYS["mathverse"]) <= {p.name for p in (copies / "mathverse").iterdir()}
    assert len(read("mathverse", copies, registry)) == 2 and len(read("wemath", copies, registry)) == 7
    import dataclasses

    from seethink_data.benchmarks_math import WEMATH
    from seethink_data.options import AdapterOptions

    without_layout = dataclasses.replace(WEMATH, data_files=None)
    with pytest.raises(DataError, match="mixes parquet and JSON"):
        without_layout.open(AdapterOptions(path=str(copies / "wemath")))


def test_a_single_file_copy_is_read_as_is(tmp_path, registry):
    folder = write_benchmark("pope", tmp_path)
    one = folder / "data" / f"{SPLITS['pope']}-00000-of-00001.parquet"
    assert len(load_eval_samples(DataRef("pope", {"path": str(one)}), registry, seed=0, max_samples=None)) == 6


def test_registering_the_benchmarks_stays_light():
    import subprocess

    code = ("import sys, seethink_data.plugin as d, seethink_eval.plugin as e\n"
            "sources, evaluators = [], []\nd.register_data_sources(sources.append)\n"
            "e.register_evaluators(evaluators.append)\n"
            f"names = {sorted(ROWS)!r}\n"
            "assert set(names) <= {s.name for s in sources} and set(names) <= {v.name for v in evaluators}\n"
            "heavy = [m for m in ('PIL', 'pyarrow', 'datasets', 'torch') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True)
