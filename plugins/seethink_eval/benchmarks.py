"""The benchmark evaluators: each scores its own eval set's responses by that benchmark's rules.

An evaluator registered as ``mathvista`` (the data source of the same name reads the set) takes the
records whose sample came from that benchmark (``meta["benchmark"]``, which the adapters set; else
the records of the eval set named like it), scores each sample's first completion (the reference
decodes greedily) and reports ``bench.<name>.score`` — the number the reference's table shows — with
``bench.<name>.accuracy``, ``bench.<name>.samples`` and the benchmark's own break-downs.

This is apart from the rewards' ``accuracy``: rewards grade for training, these score as the
benchmark's official evaluator does (``scoring_math``, ``scoring_perception``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from seethink_core.run.eval_types import EvalRecord
from seethink_core.types.options import NoOptions
from seethink_core.types.sample import Sample
from seethink_eval.extraction import AnswerExtractor, Extraction, configured_extractor
from seethink_eval.scoring_math import (
    Scored,
    WeMathRow,
    score_mathverse,
    score_mathvision,
    score_mathvista,
    score_wemath,
    wemath_dimensions,
)
from seethink_eval.scoring_perception import PopeRow, pope_metrics, score_choice, score_pope

Scorer = Callable[[Sample, str, Extraction], Scored]
VISUAL_MATH = "visual_math"
PERCEPTION = "perception"


@dataclass(frozen=True)
class Benchmark:
    name: str
    family: str  # VISUAL_MATH or PERCEPTION: the reference's two averages
    score: Scorer
    headline: str = "accuracy"  # the metric the table shows
    by: tuple[str, ...] = ()  # meta fields accuracy is also reported by
    doc: str = ""


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("mathvista", VISUAL_MATH, score_mathvista, by=("question_type", "answer_type", "task"),
              doc="MathVista testmini: options by letter or nearest text; integer/float (precision)/text/list"),
    Benchmark("mathvision", VISUAL_MATH, score_mathvision, by=("subject", "level"),
              doc="MathVision testmini: option letter, or the answer as text or a number within 1e-6"),
    Benchmark("mathverse", VISUAL_MATH, score_mathverse, by=("question_type", "subject"),
              doc="MathVerse testmini, Vision Intensive: option letter, or the answer as MathVision compares it"),
    Benchmark("wemath", VISUAL_MATH, score_wemath, headline="score_strict", by=("key",),
              doc="WeMath testmini: IK/IG/CM/RM and the strict (the table's) and loose scores"),
    Benchmark("aokvqa", PERCEPTION, score_choice,
              doc="A-OKVQA val, multiple choice: the option letter"),
    Benchmark("realworldqa", PERCEPTION, score_choice,
              doc="RealWorldQA: the option letter, or the short answer (lower case)"),
    Benchmark("mmstar", PERCEPTION, score_choice, by=("category",),
              doc="MMStar: the option letter, per category"),
    Benchmark("pope", PERCEPTION, score_pope, headline="f1",
              doc="POPE: yes/no; accuracy, precision, recall, F1 (the table's), yes ratio, per split"),
)}


def records_of(name: str, records: Sequence[EvalRecord]) -> list[EvalRecord]:
    """The records of benchmark ``name``: by the adapters' ``meta["benchmark"]``, else by set name."""
    tagged = [r for r in records if r.sample.meta.get("benchmark") == name and r.completions]
    return tagged or [r for r in records if r.set_name == name and r.completions]


def scored(bench: Benchmark, records: Sequence[EvalRecord], ex: Extraction) -> list[tuple[EvalRecord, Scored]]:
    """Each record of ``bench`` with the score of its first completion."""
    return [(r, bench.score(r.sample, r.completions[0].text, ex)) for r in records_of(bench.name, records)]


def benchmark_of(record: EvalRecord) -> Benchmark | None:
    """The benchmark a record's sample comes from (``meta["benchmark"]``, else its set's name), if known."""
    name = record.sample.meta.get("benchmark") or record.set_name
    return BENCHMARKS.get(str(name))


def benchmark_correct(record: EvalRecord, ex: Extraction | None = None) -> bool | None:
    """Whether the record's first completion is right by its benchmark's rules; None when the record is
    not of a known benchmark or has no completion (then the rewards' verdict, ``record.correct``, stands).
    What an evaluator that looks at wrong answers (the judge's perception/reasoning split) should use:
    the rewards grade a letter against MathVista's option text as wrong."""
    bench = benchmark_of(record)
    if bench is None or not record.completions:
        return None
    ex = ex if ex is not None else Extraction(configured_extractor())
    return bench.score(record.sample, record.completions[0].text, ex).correct


def _label(value: object) -> str:
    return str(value).strip().replace(" ", "_").lower() or "none"


def benchmark_metrics(bench: Benchmark, records: Sequence[EvalRecord], ex: Extraction) -> dict[str, float]:
    """The benchmark's metrics (unprefixed), with ``score`` = its headline; {} without records."""
    rows = scored(bench, records, ex)
    if not rows:
        return {}
    out = {"accuracy": sum(s.correct for _, s in rows) / len(rows), "samples": float(len(rows)),
           "unanswered": float(sum(s.extracted is None for _, s in rows))}
    for fld in bench.by:
        groups: dict[str, list[bool]] = {}
        for r, s in rows:
            if fld in r.sample.meta and r.sample.meta[fld] is not None:
                groups.setdefault(_label(r.sample.meta[fld]), []).append(s.correct)
        for value, oks in sorted(groups.items()):
            out[f"accuracy.{fld}.{value}"] = sum(oks) / len(oks)
    if bench.name == "wemath":
        out.update(wemath_dimensions([WeMathRow(str(r.sample.meta.get("ID", r.sample.id)),
                                                str(r.sample.meta.get("key", "")), s.correct) for r, s in rows]))
    elif bench.name == "pope":
        got = pope_metrics([PopeRow(str(r.sample.meta.get("category", "")), str(r.sample.answer or "").lower(),
                                    s.extracted) for r, s in rows])
        out.update({k: v for k, v in got.items() if k not in ("samples",)})
    if ex.asked:
        out["judge_calls"] = float(ex.asked)
    if bench.headline in out:
        out["score"] = out[bench.headline]
    return out


@dataclass
class BenchmarkEvaluator:
    """``bench.<name>.*`` for one benchmark. ``extractor``: asked where the rules find no answer
    (default: the one ``SEETHINK_JUDGE`` names, if any)."""

    bench: Benchmark
    options: NoOptions = field(default_factory=NoOptions)
    extractor: AnswerExtractor | None = None

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        ex = Extraction(self.extractor if self.extractor is not None else configured_extractor())
        return {f"bench.{self.bench.name}.{k}": v for k, v in benchmark_metrics(self.bench, records, ex).items()}


def _factory(name: str) -> Callable[[NoOptions], BenchmarkEvaluator]:
    def make(options: NoOptions = NoOptions()) -> BenchmarkEvaluator:
        return BenchmarkEvaluator(BENCHMARKS[name], options)

    make.__name__ = name
    return make


mathvista = _factory("mathvista")
mathvision = _factory("mathvision")
mathverse = _factory("mathverse")
wemath = _factory("wemath")
aokvqa = _factory("aokvqa")
realworldqa = _factory("realworldqa")
mmstar = _factory("mmstar")
pope = _factory("pope")
