"""The libraries' own output (loading bars, deprecation notices) stays out of a run unless --verbose."""

from __future__ import annotations

import logging
import warnings

import pytest

pytest.importorskip("transformers")

from huggingface_hub.utils import are_progress_bars_disabled  # noqa: E402
from seethink_local.quiet import quiet_hf  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402


@pytest.fixture(autouse=True)
def plain_env(monkeypatch):
    for var in ("SEETHINK_VERBOSE", "TRANSFORMERS_VERBOSITY", "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(var, raising=False)


def _said(fn) -> tuple[list[str], list[str]]:
    """(transformers log records, Python warnings) that ``fn`` emits."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = hf_logging.get_logger("transformers.modeling_utils")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn()
    finally:
        logger.removeHandler(handler)
    return records, [str(w.message) for w in caught]


def _noisy() -> None:
    hf_logging.get_logger("transformers.modeling_utils").warning("`past_key_values` is deprecated")
    warnings.warn_explicit("a library deprecation", FutureWarning, "x.py", 1, module="transformers.generation")
    warnings.warn("seethink's own warning", stacklevel=2)  # not the libraries': still shown


def test_quiet_within_and_everything_restored_after():
    hf_logging.enable_progress_bar()
    level = hf_logging.get_verbosity()

    def run():
        with quiet_hf():
            assert not hf_logging.is_progress_bar_enabled() and are_progress_bars_disabled()
            _noisy()

    records, caught = _said(run)
    assert records == [] and caught == ["seethink's own warning"]
    assert hf_logging.is_progress_bar_enabled() and not are_progress_bars_disabled()
    assert hf_logging.get_verbosity() == level


def test_verbose_shows_them(monkeypatch):
    monkeypatch.setenv("SEETHINK_VERBOSE", "1")
    hf_logging.enable_progress_bar()
    def run():
        with quiet_hf():
            assert hf_logging.is_progress_bar_enabled()
            _noisy()

    records, caught = _said(run)
    assert records == ["`past_key_values` is deprecated"] and "a library deprecation" in caught
