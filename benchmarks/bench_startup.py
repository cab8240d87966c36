"""Cold starts: a fresh interpreter running ``seethink check curricula/demo.curr``, ``seethink --help``
and ``import seethink_core`` (installed plugins; the grammar and plugin caches warm after the warm-up round).

    python -m pytest benchmarks/bench_startup.py --benchmark-only

Each runs 10 rounds; ``extra_info["median_s"]`` is the median in seconds (the machine is shared: the
minimum says what the code costs, the median what a user waits). ``python -X importtime -m seethink
check curricula/demo.curr 2>&1 | sort -t'|' -k2 -n | tail -40`` says where the time goes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "curricula" / "demo.curr"


def seethink() -> list[str]:
    """The installed console script beside this interpreter (what a user runs), else ``python -m seethink``."""
    script = Path(sys.executable).parent / "seethink"
    found = str(script) if script.exists() else shutil.which("seethink")
    return [found] if found else [sys.executable, "-m", "seethink"]


def timed(benchmark: Any, argv: list[str]) -> subprocess.CompletedProcess:
    def cold() -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)

    result: subprocess.CompletedProcess = benchmark.pedantic(cold, rounds=10, iterations=1, warmup_rounds=1)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["median_s"] = round(benchmark.stats.stats.median, 4)
        benchmark.extra_info["min_s"] = round(benchmark.stats.stats.min, 4)
    return result


def run_and_check(benchmark: Any, argv: list[str], ok: Callable[[subprocess.CompletedProcess], bool]) -> None:
    result = timed(benchmark, argv)
    assert ok(result), result.stderr


def test_cold_check_demo(benchmark):
    run_and_check(benchmark, [*seethink(), "check", str(DEMO)],
                  lambda r: r.returncode == 0 and r.stdout.startswith("ok: "))


def test_cold_help(benchmark):
    run_and_check(benchmark, [*seethink(), "--help"], lambda r: r.returncode == 0 and "check" in r.stdout)


def test_cold_import_core(benchmark):
    code = "import sys, seethink_core; assert 'torch' not in sys.modules"
    run_and_check(benchmark, [sys.executable, "-c", code], lambda r: r.returncode == 0)
