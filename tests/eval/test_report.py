"""``seethink report``: the data behind every plot, the PNGs, the HTML (rendered in headless
Chromium) and the terminal table, for one run and for two side by side."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import MERGED_CELLS, STAGED_CELLS, fixture_plugins, staged_and_merged

from seethink_core.cli.main import main
from seethink_core.cli.report import make_report, terminal_table
from seethink_core.errors import RunError
from seethink_core.report.data import load_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from seethink_core.hooks import manager as plugins_mod

    previous = plugins_mod._CACHED
    loaded = plugins_mod.load_plugins(extra=fixture_plugins())
    plugins_mod.set_plugins(loaded)
    try:
        yield staged_and_merged(tmp_path_factory.mktemp("runs"), loaded)
    finally:
        plugins_mod.set_plugins(previous)


@pytest.fixture(scope="module")
def two_report(runs, tmp_path_factory):
    """The staged-vs-merged report with plots and HTML, drawn once for the tests that read it."""
    staged, merged = runs
    return make_report([staged, merged], tmp_path_factory.mktemp("two"))


def test_the_matrix_of_a_two_phase_run_has_the_expected_cells(runs, tmp_path):
    staged, _ = runs
    files = make_report([staged], tmp_path / "r", plots=False, html=False)
    matrix = json.loads(files.data["matrix"].read_text())
    assert matrix["capabilities"] == ["perception", "textual_reasoning", "visual_reasoning"]
    (run,) = matrix["runs"]
    assert run["rows"] == ["base", "perception", "reasoning"]
    assert run["cells"] == STAGED_CELLS
    assert run["delta"] == [[None, None, None], [1.0, 0.0, 0.0], [-0.5, 1.0, 1.0]]
    assert run["forgetting"] == [0.5, 0.0, 0.0]  # perception dropped from 1.0 to 0.5
    assert run["overall"] == [0.0, pytest.approx(1 / 3), pytest.approx(25 / 30)]


def test_curves_eval_and_split_data(runs, tmp_path):
    staged, _ = runs
    files = make_report([staged], tmp_path / "r", plots=False, html=False)
    curves = json.loads(files.data["curves"].read_text())["runs"][0]
    assert [p["phase"] for p in curves["phases"]] == ["perception", "reasoning"]
    assert curves["phases"][0]["steps"] == [1, 2, 3] and curves["phases"][1]["steps"] == [4, 5, 6, 7]
    assert curves["phases"][1]["start"] == 3 and curves["total_steps"] == 7
    assert all(v is not None for p in curves["phases"] for v in p["reward"])
    ev = json.loads(files.data["eval"].read_text())["runs"][0]["rows"]
    assert [r["label"] for r in ev] == ["base", "perception", "reasoning"]
    assert [r["length_mean"] for r in ev] == [20.0, 20.0, 20.0] and ev[0]["format_rate"] == 1.0
    split = json.loads(files.data["split"].read_text())["runs"][0]["rows"]
    # facts: right on perception items only. Base: 10 perception errors (wrong from the image, right
    # from facts) and 10 reasoning errors (visual items, wrong both ways); textual items have no facts.
    assert split[0] == {"label": "base", "title": "base", "samples": 20.0, "perception_errors": 10.0,
                        "reasoning_errors": 10.0, "perception_share": 0.5, "reasoning_share": 0.5}
    assert (split[1]["perception_errors"], split[1]["reasoning_errors"]) == (0.0, 10.0)
    assert (split[2]["perception_errors"], split[2]["reasoning_errors"]) == (5.0, 0.0)


def test_one_run_writes_pngs_html_and_json(runs, tmp_path):
    staged, _ = runs
    files = make_report([staged], tmp_path / "one")
    assert set(files.plots) == {"curves", "eval", "sets", "matrix", "split"} and files.skipped == {}
    for name, png in files.plots.items():
        assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 5000, name
        assert (png.parent / f"{name}.json").exists()
    page = files.html.read_text()
    assert page.count("data:image/png;base64,") == 5 and "<script" not in page
    assert "staged" in page and "forgetting" in page
    assert "2 reasoning" in page and "Example rollouts" in page and "Accuracy per eval set" in page


def test_two_runs_side_by_side(two_report):
    files = two_report
    matrix = json.loads(files.data["matrix"].read_text())
    assert [r["run"] for r in matrix["runs"]] == ["staged", "merged"]
    assert matrix["runs"][1]["cells"] == MERGED_CELLS and matrix["runs"][1]["rows"] == ["base", "all"]
    assert [r["run"] for r in json.loads(files.data["curves"].read_text())["runs"]] == ["staged", "merged"]
    for png in files.plots.values():
        assert png.read_bytes().startswith(PNG_MAGIC)
    assert "staged vs merged" in files.html.read_text()


def test_terminal_table_lists_every_row(runs, tmp_path):
    from rich.console import Console

    staged, merged = runs
    files = make_report([staged, merged], tmp_path / "t", plots=False, html=False)
    console = Console(record=True, width=200)
    console.print(terminal_table(files.tables))
    text = console.export_text()
    assert text.count("staged") == 3 and text.count("merged") == 2
    assert "-0.50" in text and "+1.00" in text


def test_cli_report_and_a_clear_error_for_a_wrong_folder(runs, tmp_path, capsys):
    staged, _ = runs
    assert main(["report", str(staged), "--out", str(tmp_path / "cli"), "--no-plots"]) == 0
    assert (tmp_path / "cli" / "report.html").exists() and (tmp_path / "cli" / "matrix.json").exists()
    assert "evaluation after each phase" in capsys.readouterr().out
    assert main(["report", str(tmp_path)]) == 2
    assert "not a seethink run directory" in capsys.readouterr().err
    with pytest.raises(RunError):
        load_run(tmp_path / "missing")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (CI installs Debian's chromium)")
def test_html_renders_in_headless_chromium(two_report, tmp_path):
    files = two_report
    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
           Path(files.html).resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1280, 2000)
        colors = img.convert("RGB").resize((64, 100)).getcolors(64 * 100)
        assert colors is not None and len(colors) > 20  # a rendered page, not a blank screen


def test_a_run_without_evaluations_still_gets_a_report(tmp_path, with_plugins):
    from report_fixtures import make_plan

    from seethink_core.run.rundir import RunDir
    from seethink_core.run.runner import Runner

    plugins = with_plugins(*fixture_plugins())
    plan = make_plan("bare", [("perception", ["perception"])])
    Runner(plan, RunDir(tmp_path / "bare"), plugins=plugins).run()
    files = make_report([tmp_path / "bare"], tmp_path / "out")
    matrix = json.loads(files.data["matrix"].read_text())
    assert matrix["capabilities"] == [] and matrix["runs"][0]["rows"] == []
    assert json.loads(files.data["curves"].read_text())["runs"][0]["phases"][0]["steps"] == [1, 2, 3]
    # Plots with nothing to show are left out, each with the reason on the page, not drawn as empty axes.
    assert set(files.plots) == {"curves"} and set(files.skipped) == {"eval", "sets", "matrix", "split"}
    assert not (tmp_path / "out" / "eval.png").exists()
    page = files.html.read_text()
    assert page.count("data:image/png;base64,") == 1 and "No <b>eval</b> plot: no evaluation ran" in page


def test_per_set_accuracy_sft_loss_and_phase_titles(runs, tmp_path):
    staged, merged = runs
    files = make_report([staged, merged], tmp_path / "r", plots=False, html=False)
    sets = json.loads(files.data["sets"].read_text())
    assert sets["sets"] == ["evaltoy"]
    assert sets["runs"][0]["titles"] == ["base", "1 perception", "2 reasoning"]
    assert [row[0] for row in sets["runs"][0]["cells"]] == [0.0, pytest.approx(1 / 3), pytest.approx(25 / 30)]
    curves = json.loads(files.data["curves"].read_text())["runs"][0]["phases"]
    assert [p["title"] for p in curves] == ["1 perception", "2 reasoning"]
    assert all(v is None for p in curves for v in p["loss"])  # RL phases: their loss is not plotted


def test_rollouts_best_and_worst_by_reward():
    from seethink_core.report.data import PhaseInfo, RunData, rollouts_data

    rows = [{"step": s, "id": f"x-{s}", "prompt": "q", "completion": "c", "reward.total": r}
            for s, r in [(1, 0.2), (2, 0.9), (3, 0.0), (4, 0.9), (5, 0.5)]]
    run = RunData("r", Path("."), "r", "h", [PhaseInfo(0, "p", [], "done", 5, "grpo"),
                                             PhaseInfo(1, "flat", [], "done", 2, "grpo")],
                  rollouts={"p": rows, "flat": [{"step": 1, "reward.total": 1.0}, {"step": 2, "reward.total": 1.0}]})
    (p, flat) = rollouts_data([run], k=2)["runs"][0]["phases"]
    assert [r["step"] for r in p["best"]] == [2, 4] and [r["step"] for r in p["worst"]] == [3, 1]
    assert p["ranked"] and p["title"] == "1 p"
    # every reward equal: no best or worst, the first rows and the one reward they share
    assert (flat["ranked"], flat["reward"], len(flat["best"]), flat["worst"]) == (False, 1.0, 2, [])


def test_label_lanes_keep_close_phase_labels_apart():
    from seethink_core.report.plots import label_lanes

    # three phases 6 steps apart on a 60-step axis: their long names would overlap in one row
    assert label_lanes([(0, "1 warmup"), (40, "2 perception"), (46, "3 textual_reasoning"),
                        (52, "4 visual_reasoning")], 63) == [0, 0, 1, 0]
