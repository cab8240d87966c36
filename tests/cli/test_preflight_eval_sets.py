"""`seethink preflight` checks the eval sets with the same record checks as training sources."""

from __future__ import annotations

import json

from seethink_core.cli.main import main

CURR = """
source held = jsonl("held.jsonl")
curriculum c {
    model   "tiny-vlm"
    backend local(device: "cpu")
    reward  accuracy
    eval    held
    stage a {
        capability perception
        data       synthetic(capability: "perception", count: 4)
        steps      1
    }
    stage b {
        capability perception
        data       synthetic(capability: "perception", count: 4)
        steps      1
    }
}
"""


def test_a_bad_eval_set_is_a_problem_reported_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    rows = [{"question": "How many?", "answer": "2"}, {"answer": "3"}]  # the second has no prompt
    (tmp_path / "held.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "c.curr").write_text(CURR)
    monkeypatch.chdir(tmp_path.parent)  # held.jsonl is found beside c.curr, not here
    assert main(["preflight", str(tmp_path / "c.curr")]) == 1
    out = capsys.readouterr().out
    assert "eval set held: 2 samples checked, 1 problem(s)" in out
    assert out.count("eval set held:") == 2  # its status line, and its one problem: under phase a only
    assert f"problem: phase a: eval set held: {tmp_path / 'held.jsonl'}:2: missing field 'prompt'" in out
    assert "preflight: 1 problem(s)" in out
