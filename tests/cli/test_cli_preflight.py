"""`seethink preflight`: samples materialise, images decode, rewards prefer the gold answer."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_preflight_reports_bad_records_and_a_reward_that_cannot_grade(tmp_path, capsys):
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
    assert "skipped: jsonl: record 0: image file not found" in out
    assert "reward 'iou' is not applicable to the gold answer '4'" in out


def test_preflight_offline_names_the_unreachable_source(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    paper = Path(__file__).resolve().parents[2] / "curricula" / "paper.curr"
    code = main(["preflight", str(paper), "--curriculum", "see_then_think"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert "could not be reached" in out and "capcurriculum_perception" in out
