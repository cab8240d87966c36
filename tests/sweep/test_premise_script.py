"""scripts/miniature_premise.py reads the warm-up evaluations of a sweep and applies the three
pre-registered conditions of docs/results.md."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("premise", ROOT / "scripts" / "miniature_premise.py")
premise = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(premise)


def _write(root: Path, seed: int, visual: float, facts: float, share: float) -> None:
    d = root / "staged" / f"seed-{seed}" / "phases" / "00-warmup"
    d.mkdir(parents=True)
    metrics = {"accuracy.capability.perception": 0.3, "accuracy.capability.textual_reasoning": 1.0,
               "accuracy.capability.visual_reasoning": visual, "split.image_accuracy.visual_reasoning": visual,
               "split.facts_accuracy.visual_reasoning": facts, "split.perception_share.visual_reasoning": share}
    (d / "eval.json").write_text(json.dumps({"metrics": metrics}))


def test_the_premise_holds_only_when_all_three_conditions_do(tmp_path, capsys):
    _write(tmp_path, 0, visual=0.4, facts=1.0, share=1.0)  # holds
    _write(tmp_path, 1, visual=0.7, facts=1.0, share=1.0)  # too much visual accuracy: no room
    _write(tmp_path, 2, visual=0.5, facts=0.6, share=0.5)  # facts barely help: not perception-limited
    out = tmp_path / "p.json"
    assert premise.main([str(tmp_path), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| 0 | 0.300 | 1.000 | 0.400 | 1.000 | 1.000 | 0.600 | holds |" in text
    assert "| 1 |" in text and text.count("fails") == 2 and "| 1/3 |" in text
    assert json.loads(out.read_text())["mean"]["visual"] == 0.5333333333333333


def test_no_warm_up_is_one_line(tmp_path, capsys):
    assert premise.main([str(tmp_path)]) == 1
    assert "no warm-up evaluation" in capsys.readouterr().err
