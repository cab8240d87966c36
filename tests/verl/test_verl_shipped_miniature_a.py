"""Every curriculum of miniature.curr, the first half (all in one file would take about a minute),
dry-runs with `--backend verl` offline (synthetic data: every phase writes its parquet and images), and
verl's own checks accept every job."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("verl_shipped", Path(__file__).with_name("shipped.py"))
shipped = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shipped)


@pytest.mark.parametrize("file", ["miniature.curr"])
def test_every_curriculum_dry_runs_on_verl_and_verl_accepts_every_job(contract, tmp_path, monkeypatch, file):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    assert shipped.check_all(contract, file, tmp_path, slice(0, 4)) >= 1
