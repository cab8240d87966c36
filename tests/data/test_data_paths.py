"""Data paths written in a `.curr` file resolve against that file's folder, as `import` does.

Each path against the file it is written in (a `source` in an imported file reads the files beside
it), the plan holding the absolute path; absolute and `~` paths stay as written; text with no file
(and `--set`) resolves against the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from seethink_core.compiler import compile_path, compile_text
from seethink_core.types.plan import TrainingPlan

BODY = """
curriculum c {{
    model  "tiny-vlm"
    reward accuracy
    eval   {eval}
    stage s {{
        data  {data}
        steps 1
    }}
}}
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _paths(plan: TrainingPlan) -> tuple[list[str], list[str]]:
    phase = plan.phases[0]
    return [d.options["path"] for d in phase.data], [d.options["path"] for d in phase.eval.sets]


def test_paths_resolve_against_the_curr_file_not_the_working_directory(tmp_path, monkeypatch):
    f = _write(tmp_path / "proj" / "c.curr",
               BODY.format(data='jsonl("data/train.jsonl", prompt: "q")', eval='jsonl(path: "../held/eval.jsonl")'))
    monkeypatch.chdir(tmp_path)  # elsewhere: the result must not depend on it
    data, evals = _paths(compile_path(os.path.relpath(f)))
    assert data == [str(tmp_path / "proj" / "data" / "train.jsonl")]
    assert evals == [str(tmp_path / "held" / "eval.jsonl")]
    assert TrainingPlan.from_json(compile_path(f).to_json()).phases[0].data[0].options["path"] == data[0]


def test_a_source_resolves_against_the_file_that_defines_it(tmp_path, monkeypatch):
    _write(tmp_path / "lib" / "common.curr", 'source geo = jsonl("geo/train.jsonl")\n'
                                             'source held = parquet("geo/test.parquet")\n')
    f = _write(tmp_path / "main.curr", 'import "lib/common.curr"\n'
               + BODY.format(data='geo\n        data geo(path: "mine.jsonl")', eval="held"))
    monkeypatch.chdir(tmp_path / "lib")
    data, evals = _paths(compile_path(f))
    # The definition's path is read beside common.curr; a use that gives its own path, beside main.curr.
    assert data == [str(tmp_path / "lib" / "geo" / "train.jsonl"), str(tmp_path / "mine.jsonl")]
    assert evals == [str(tmp_path / "lib" / "geo" / "test.parquet")]


def test_absolute_home_and_fileless_paths(tmp_path, monkeypatch):
    absolute = str(tmp_path / "abs.jsonl")
    f = _write(tmp_path / "c.curr", BODY.format(data=f'jsonl("{absolute}")\n        data jsonl("~/home.jsonl")',
                                                eval='geometry3k(path: "local/g3k")'))
    data, evals = _paths(compile_path(f))
    assert data == [absolute, "~/home.jsonl"]  # ~ is the reader's to expand, on the machine that reads it
    assert evals == [str(tmp_path / "local" / "g3k")]  # a named data set's local copy, too
    monkeypatch.chdir(tmp_path / "..")
    text = compile_text(BODY.format(data='jsonl("d.jsonl")', eval='jsonl("e.jsonl")'))
    assert _paths(text) == ([str(tmp_path.parent / "d.jsonl")], [str(tmp_path.parent / "e.jsonl")])


def test_images_resolve_against_the_file_that_holds_the_record(tmp_path):
    """In a folder of files, each record's relative image paths are read beside its own file."""
    from PIL import Image
    from seethink_data.jsonl import open_jsonl
    from seethink_data.options import FileOptions

    for split in ("a", "b"):
        (tmp_path / "data" / split).mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(tmp_path / "data" / split / "pic.png")
        (tmp_path / "data" / split / "rows.jsonl").write_text('{"question": "q", "image": "pic.png"}\n')
    samples = list(open_jsonl(FileOptions(path=str(tmp_path / "data")), seed=0))
    assert [s.images for s in samples] == [[str(tmp_path / "data" / d / "pic.png")] for d in ("a", "b")]
