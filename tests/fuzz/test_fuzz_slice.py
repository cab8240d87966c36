"""A fixed-seed slice of the fuzzer (scripts/fuzz): every kind of input, no crash, none slow.

The long run is ``python -m scripts.fuzz --inputs 20000`` (or benchmarks/bench_fuzz.py); a finding
of this slice is kept under build/fuzz-slice/ and replayed with ``python -m scripts.fuzz --replay FILE``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # scripts/ is not installed; its fuzz package imports by module name

from scripts.fuzz.generate import KINDS, make_input, make_inputs  # noqa: E402
from scripts.fuzz.harness import run_inputs  # noqa: E402
from scripts.fuzz.report import format_summary, save, summarize  # noqa: E402
from scripts.fuzz.worker import check_file, message_problems  # noqa: E402

SEED = 17
PER_KIND = 250


@pytest.fixture(scope="module")
def summary():
    outcomes = run_inputs(make_inputs(PER_KIND * len(KINDS), SEED), limit=2.0)
    result = summarize(outcomes)
    save(result, ROOT / "build" / "fuzz-slice")
    return result


def test_no_crash_and_none_slow(summary):
    assert summary.total == PER_KIND * len(KINDS)
    assert summary.count("crash") == 0 and summary.count("slow") == 0, format_summary(summary)


def test_every_error_is_clean(summary):
    assert summary.count("bad_message") == 0, format_summary(summary)


def test_every_kind_is_both_accepted_and_refused(summary):
    """The slice reaches the compiler as well as the error paths (exact counts move as checks are added)."""
    for kind in KINDS:
        assert summary.counts[(kind, "error")] > 0, kind
    assert sum(summary.counts[(k, "accepted")] for k in KINDS) > 0


def test_inputs_are_deterministic():
    for kind in KINDS:
        assert make_input(kind, 7, SEED).data == make_input(kind, 7, SEED).data
        assert make_input(kind, 7, SEED).data != make_input(kind, 8, SEED).data


def test_a_hang_is_killed_and_recorded_as_slow(monkeypatch):
    """The watchdog: a worker that never answers is killed at ``kill_after`` and its input kept as slow."""
    monkeypatch.setenv("SEETHINK_FUZZ_HANG", "1")
    [outcome] = run_inputs([make_input("mutate", 0, SEED)], limit=0.5, kill_after=1.0)
    assert outcome.cls == "slow" and "killed after 1 s" in outcome.detail


def test_a_crash_is_recorded_with_its_traceback(tmp_path, monkeypatch):
    import seethink_core.compiler as compiler

    def boom(paths, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(compiler, "check_paths", boom)
    path = tmp_path / "x.curr"
    path.write_text("curriculum c { }")
    result = check_file(str(path))
    assert result["cls"] == "crash" and "ZeroDivisionError: boom" in result["detail"]


def test_message_problems_name_what_is_wrong():
    from seethink_core.errors import Diagnostic, SourcePos

    class Raw:  # a diagnostic as a plugin might build it, bypassing Diagnostic's cleaning
        def __init__(self, message, pos=None, hint=None):
            self.message, self.pos, self.hint, self.severity = message, pos, hint, "error"

    assert message_problems([Diagnostic("unknown name 'x'", SourcePos("f", 1, 2))], "f", 1) == []
    [p] = message_problems([Raw("bad <Foo object at 0x7f00>", SourcePos("f", 1, 1))], "f", 1)
    assert "Python internals" in p
    [p] = message_problems([Raw("no position")], "f", 1)
    assert "without file:line:col" in p
    [p] = message_problems([Raw("two\nlines", SourcePos("f", 1, 1))], "f", 1)
    assert "one printable line" in p
    [p] = message_problems([Raw("past the end", SourcePos("f", 9, 1))], "f", 2)
    assert "outside the file" in p
