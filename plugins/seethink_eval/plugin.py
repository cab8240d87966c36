"""Entry point of the seethink first-party plugin 'eval': the built-in evaluators.

Factories are ``"module:attribute"`` strings, loaded only when an evaluation runs.
"""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import EvaluatorSpec
from seethink_core.types.options import NoOptions

_BUILTIN = (
    ("accuracy", "evaluators:Accuracy", frozenset(),
     "accuracy over all completions, per capability and per eval set"),
    ("pass_at_k", "evaluators:PassAtK", frozenset(),
     "pass@k (unbiased estimator) and mean@n when sampling n > 1 completions"),
    ("format", "evaluators:FormatRate", frozenset(),
     "share of responses the `format` reward accepts"),
    ("length", "evaluators:Length", frozenset(),
     "response length in tokens: mean, median, max, mean per capability"),
    ("perception_split", "evaluators:PerceptionSplit", frozenset({"facts"}),
     "answers again from the gold facts as text: wrong from the image but right from the facts is a "
     "perception error, wrong from both a reasoning error; reports each kind's share"),
    ("reference", "suites:ReferenceSuite", frozenset(),
     "the reference's table: the eight benchmarks' scores, the visual-math and perception averages and "
     "the overall (`seethink eval --suite reference`)"),
    ("judge_split", "judge.evaluator:JudgeSplit", frozenset(),
     "asks a judge model (an OpenAI-compatible server, or a backend's generate) whether each wrong "
     "visual-math answer is a perception or a reasoning error; reports each kind's share (not a default)"),
)

# Each benchmark's evaluator shares its name with the data source that reads it (seethink_data).
_BENCHMARKS = (
    ("mathvista", "MathVista testmini: answer types integer/float (precision)/text/list, options by letter"),
    ("mathvision", "MathVision testmini: option letter, or the answer as text or a number within 1e-6"),
    ("mathverse", "MathVerse testmini (vision intensive): option letter, or the answer compared as MathVision's"),
    ("wemath", "WeMath testmini: IK, IG, CM, RM and the strict and loose scores"),
    ("aokvqa", "A-OKVQA (val, multiple choice): accuracy by option letter"),
    ("realworldqa", "RealWorldQA: option letter or short answer"),
    ("mmstar", "MMStar: accuracy by option letter, per category"),
    ("pope", "POPE: accuracy, precision, recall, F1 and yes ratio, overall and per split"),
)


@hookimpl
def register_evaluators(register: Callable[..., None]) -> None:
    for name, target, needs, doc in _BUILTIN:
        register(EvaluatorSpec(name=name, factory=f"seethink_eval.{target}", needs=needs, doc=doc,
                               options=_options(name)))
    for name, doc in _BENCHMARKS:
        register(EvaluatorSpec(name=name, factory=f"seethink_eval.benchmarks:{name}", doc=doc))


def _options(name: str) -> type:
    """An evaluator's option schema; the judge's imports only the standard library, so this stays cheap."""
    if name == "judge_split":
        from seethink_eval.judge.options import JudgeOptions

        return JudgeOptions
    return NoOptions
