"""Suites: a named table of benchmarks in groups, the averages the reference reports.

The ``reference`` suite is the reference's main table (docs/reference.md §9, ``C: evaluation/run_eval.sh``
``MAIN_BENCH``): visual math — MathVista, MathVision, MathVerse (vision intensive), WeMath; perception —
A-OKVQA, RealWorldQA, MMStar, POPE. Its evaluator reports ``suite.reference.<benchmark>`` (each
benchmark's headline score, 0–1), ``suite.reference.<group>`` (the mean of the group's benchmarks that
were scored) and ``suite.reference.overall`` (the mean of the group averages: the reference's
62.19 = (45.17 + 79.21) / 2), with ``suite.reference.benchmarks`` (how many were scored).

A suite's evaluator class carries ``suite_name`` and ``suite_groups``, so ``seethink eval --suite``
(``seethink_core.run.eval_suites``) learns its eval sets from the registry without importing this plugin:
each benchmark is registered as a data source and an evaluator of the same name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from seethink_core.run.eval_types import EvalRecord
from seethink_core.types.options import NoOptions
from seethink_eval.benchmarks import BENCHMARKS, PERCEPTION, VISUAL_MATH, benchmark_metrics
from seethink_eval.extraction import AnswerExtractor, Extraction, configured_extractor


def suite_metrics(name: str, groups: dict[str, tuple[str, ...]], records: Sequence[EvalRecord],
                  ex: Extraction) -> dict[str, float]:
    out: dict[str, float] = {}
    averages: list[float] = []
    for group, members in groups.items():
        scores = []
        for bench in members:
            got = benchmark_metrics(BENCHMARKS[bench], records, ex)
            if "score" in got:
                out[f"suite.{name}.{bench}"] = got["score"]
                scores.append(got["score"])
        if scores:
            out[f"suite.{name}.{group}"] = sum(scores) / len(scores)
            averages.append(out[f"suite.{name}.{group}"])
    if averages:
        out[f"suite.{name}.overall"] = sum(averages) / len(averages)
        out[f"suite.{name}.benchmarks"] = float(sum(1 for k in out if k.count(".") == 2
                                                    and k.split(".")[2] in BENCHMARKS))
    return out


@dataclass
class ReferenceSuite:
    """The reference's eight-benchmark table."""

    suite_name: ClassVar[str] = "reference"
    suite_groups: ClassVar[dict[str, tuple[str, ...]]] = {
        VISUAL_MATH: ("mathvista", "mathvision", "mathverse", "wemath"),
        PERCEPTION: ("aokvqa", "realworldqa", "mmstar", "pope"),
    }
    options: NoOptions = field(default_factory=NoOptions)
    extractor: AnswerExtractor | None = None

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        ex = Extraction(self.extractor if self.extractor is not None else configured_extractor())
        return suite_metrics(self.suite_name, self.suite_groups, records, ex)
