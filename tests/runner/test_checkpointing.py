"""In-phase checkpoints: complete-or-invisible, fallback past corrupt ones, retention, disk full."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seethink_core.errors import RunError
from seethink_core.run.checkpointing import MARKER, latest_checkpoint, save_checkpoint


def writer(payload: str):
    def write(folder: Path) -> None:
        (folder / "model.bin").write_text(payload)
        (folder / "sub").mkdir()
        (folder / "sub" / "opt.bin").write_text(payload * 2)

    return write


def test_newest_complete_checkpoint_wins_and_retention_keeps_k(tmp_path):
    for step in (10, 20, 30):
        save_checkpoint(tmp_path, step, writer(f"w{step}"), meta={"phase": "p"}, keep=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["step-00000020", "step-00000030"]
    found = latest_checkpoint(tmp_path)
    assert found.step == 30 and found.meta == {"phase": "p"} and found.skipped == []
    assert (found.path / "model.bin").read_text() == "w30"


def test_partial_and_corrupt_checkpoints_are_skipped_with_a_reason(tmp_path):
    save_checkpoint(tmp_path, 10, writer("good"), keep=5)
    save_checkpoint(tmp_path, 20, writer("truncate-me"), keep=5)
    (tmp_path / "step-00000020" / "model.bin").write_text("tr")  # torn file: size differs from the marker
    partial = tmp_path / "step-00000030"
    partial.mkdir()
    (partial / "model.bin").write_text("no marker")
    found = latest_checkpoint(tmp_path)
    assert found.step == 10
    assert found.skipped[0].startswith("step-00000030 is partial")
    assert "model.bin has 2 bytes" in found.skipped[1]


def test_disk_full_stops_with_a_resumable_message(tmp_path):
    save_checkpoint(tmp_path, 10, writer("ok"))

    def full(folder: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(RunError, match="disk full while writing the checkpoint of step 20.*resumable from step 10"):
        save_checkpoint(tmp_path, 20, full)
    assert latest_checkpoint(tmp_path).step == 10
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_sigkill_during_the_write_leaves_the_previous_checkpoint(tmp_path):
    save_checkpoint(tmp_path, 10, writer("ok"))
    code = (
        "import sys; from pathlib import Path\n"
        "from seethink_core.run.checkpointing import save_checkpoint\n"
        "def w(f): (f / 'model.bin').write_text('half')\n"
        f"save_checkpoint(Path({str(tmp_path)!r}), 20, w)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "SEETHINK_FAULT": "checkpoint_write@20"},
                          capture_output=True, timeout=60)
    assert proc.returncode == -9
    found = latest_checkpoint(tmp_path)
    assert found.step == 10
    assert json.loads((found.path / MARKER).read_text())["step"] == 10
