"""`seethink preflight`: samples materialise, images decode, rewards prefer the gold answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seethink_core.cli.main import main

GOOD = """
curriculum ok {
    model   "tiny-vlm"
    backend local(device: "cpu")
    reward  accuracy weight 0.9
    reward  format   weight 0.1
    stage perception {
        capability perception
        data       synthetic(capability: "perception", count: 20, mcq: 0.5)
        steps      5
    }
}
"""


def test_preflight_passes_on_synthetic_data(tmp_path, capsys):
    f = tmp_path / "ok.curr"
    f.write_text(GOOD)
    assert main(["preflight", str(f)]) == 0
    out = capsys.readouterr().out
    assert "synthetic: 4 samples checked, ok" in out and "preflight: 0 problem(s)" in out
    assert "e.g. synthetic-" in out


def test_preflight_reports_bad_records_and_a_reward_that_cannot_grade(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich folds a long path mid-word at 80 columns
    rows = [
        {"question": "How many?", "answer": "3", "image": str(tmp_path / "missing.png")},
        {"question": "How many circles?", "answer": "4", "image": []},
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    f = tmp_path / "bad.curr"
    f.write_text(f"""
curriculum bad {{
    model   "tiny-vlm"
    backend local(device: "cpu")
    reward  iou weight 1.0
    stage s {{
        data  jsonl("{data}", on_error: "skip", prompt: "question", images: "image")
        steps 1
    }}
}}
""")
    code = main(["preflight", str(f)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert f"skipped: {data}:1: image file not found: {tmp_path / 'missing.png'}" in out
    assert "reward 'iou' is not applicable to the gold answer '4'" in out


def test_preflight_offline_names_the_unreachable_source(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    paper = Path(__file__).resolve().parents[2] / "curricula" / "paper.curr"
    code = main(["preflight", str(paper), "--curriculum", "see_then_think"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert "could not be reached" in out and "capcurriculum_perception" in out


MISSING = "missing field 'prompt' (or 'problem', 'question', 'query'; map another with prompt: \"FIELD\")"


def _bad_data(tmp_path: Path, on_error: str, good: int = 1, bad: int = 3) -> tuple[Path, Path]:
    """A jsonl file with ``good`` good lines, then ``bad`` lines missing their prompt, each one named."""
    data = tmp_path / "d.jsonl"
    lines = [json.dumps({"question": f"q{i}", "answer": "1"}).encode() for i in range(good)]
    lines += [json.dumps({"answer": str(i)}).encode() for i in range(bad)]
    data.write_bytes(b"\n".join(lines) + b"\n")
    f = tmp_path / "c.curr"
    f.write_text(f"""
source geo = jsonl("{data}", on_error: "{on_error}")
curriculum c {{
    model   "tiny-vlm"
    backend local(device: "cpu")
    reward  accuracy
    stage s {{ data geo  steps 1 }}
}}
""")
    return f, data


def _out(capsys) -> list[str]:
    return [line.rstrip() for line in capsys.readouterr().out.splitlines()]


def test_samples_all_lists_every_bad_record_by_file_and_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    f, data = _bad_data(tmp_path, "stop", good=5, bad=3)
    assert main(["preflight", str(f), "--samples", "all"]) == 1
    out = _out(capsys)
    assert "  geo: 8 samples checked, 3 problem(s)" in out
    assert [line for line in out if line.startswith("problem:")] == [
        f"problem: phase s: source geo: {data}:{n}: {MISSING}" for n in (6, 7, 8)]
    assert out[-1] == "preflight: 3 problem(s)"


def test_samples_n_reads_only_the_first_n_records(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    f, data = _bad_data(tmp_path, "stop", good=5, bad=3)
    assert main(["preflight", str(f), "--samples", "6"]) == 1
    out = _out(capsys)
    assert "  geo: 6 samples checked, 1 problem(s)" in out
    assert f"problem: phase s: source geo: {data}:6: {MISSING}" in out
    assert main(["preflight", str(f), "--samples", "5"]) == 0
    assert "  geo: 5 samples checked, ok" in _out(capsys)


def test_samples_all_lists_twenty_and_counts_the_rest(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    f, data = _bad_data(tmp_path, "stop", good=1, bad=25)
    assert main(["preflight", str(f), "--samples", "all"]) == 1
    out = _out(capsys)
    listed = [line for line in out if line.startswith("problem:")]
    assert len(listed) == 21
    assert listed[0] == f"problem: phase s: source geo: {data}:2: {MISSING}"
    assert listed[19] == f"problem: phase s: source geo: {data}:21: {MISSING}"
    assert listed[20] == "problem: phase s: source geo: … and 5 more"
    assert out[-1] == "preflight: 25 problem(s)"


def test_skipped_records_are_listed_but_do_not_fail(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    f, data = _bad_data(tmp_path, "skip", good=2, bad=2)
    assert main(["preflight", str(f), "--samples", "all"]) == 0
    out = _out(capsys)
    assert "  geo: 4 samples checked, ok, 2 bad record(s) skipped (on_error: skip)" in out
    assert f"    skipped: {data}:3: {MISSING}" in out
    assert f"    skipped: {data}:4: {MISSING}" in out
    assert out[-1] == "preflight: 0 problem(s)"


def test_a_source_of_only_bad_records_fails_even_when_skipping(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    f, data = _bad_data(tmp_path, "skip", good=0, bad=2)
    assert main(["preflight", str(f), "--samples", "all"]) == 1
    out = _out(capsys)
    assert "problem: phase s: source geo: yields no samples: every record checked (2) is bad" in out


def test_samples_must_be_a_count_or_all(tmp_path, capsys):
    f, _ = _bad_data(tmp_path, "stop")
    with pytest.raises(SystemExit):
        main(["preflight", str(f), "--samples", "some"])
    assert "expected a number or 'all', got 'some'" in capsys.readouterr().err


def test_samples_all_names_a_non_utf8_line_a_truncated_and_a_missing_image(tmp_path, capsys, monkeypatch):
    import io

    from PIL import Image

    monkeypatch.setenv("COLUMNS", "400")
    buf = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buf, format="PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    f, data = _bad_data(tmp_path, "stop", good=0, bad=0)
    data.write_bytes(b"\n".join([
        json.dumps({"prompt": "x" * 70_000, "answer": "1"}).encode(),
        b'{"prompt": "caf\xe9", "answer": "2"}',
        json.dumps({"prompt": "p", "answer": "3", "image": "cut.png"}).encode(),
        json.dumps({"prompt": "p", "answer": "4", "image": "gone.png"}).encode(),
    ]) + b"\n")
    assert main(["preflight", str(f), "--samples", "all"]) == 1
    assert [line for line in _out(capsys) if line.startswith("problem:")] == [
        f"problem: phase s: source geo: {data}:2: not UTF-8 (byte 0xe9 at column 16)",
        f"problem: phase s: source geo: {data}:3: image file {tmp_path / 'cut.png'} does not decode: "
        "Truncated File Read",
        f"problem: phase s: source geo: {data}:4: image file not found: {tmp_path / 'gone.png'}",
    ]
