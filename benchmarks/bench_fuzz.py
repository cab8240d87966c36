"""The long fuzz run: 20,000 inputs (mutated curricula, grammar walks, noise) through ``seethink check``.

    python -m pytest benchmarks/bench_fuzz.py --benchmark-only -s

The same as ``python -m scripts.fuzz --inputs 20000 --seed 0 --limit 2``, kept as a benchmark so that
its time (some 5 minutes on one core) is tracked with the others. ``extra_info`` holds the inputs per
second and the counts per class; findings are saved under build/fuzz-long/ (``--replay`` one to see
it). The fast fixed-seed slice of the test suite is tests/fuzz/test_fuzz_slice.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.fuzz.generate import make_inputs  # noqa: E402
from scripts.fuzz.harness import CLASSES, run_inputs  # noqa: E402
from scripts.fuzz.report import format_summary, save, summarize  # noqa: E402

INPUTS = int(os.environ.get("SEETHINK_FUZZ_INPUTS", "20000"))  # fewer only to try the benchmark itself
SEED = 0
LIMIT = 2.0


def test_fuzz_long_run(benchmark):
    def run():
        return run_inputs(make_inputs(INPUTS, SEED), limit=LIMIT)

    outcomes = benchmark.pedantic(run, rounds=1, iterations=1)
    summary = summarize(outcomes, benchmark.stats.stats.mean)
    save(summary, ROOT / "build" / "fuzz-long")
    print(format_summary(summary))
    benchmark.extra_info["inputs_per_s"] = INPUTS / benchmark.stats.stats.mean
    benchmark.extra_info.update({cls: summary.count(cls) for cls in CLASSES})
    assert summary.total == INPUTS
    assert summary.count("crash") == 0 and summary.count("slow") == 0, format_summary(summary)
