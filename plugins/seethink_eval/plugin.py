"""Entry point of the seethink first-party plugin 'eval': the built-in evaluators.

Factories are ``"module:attribute"`` strings, loaded only when an evaluation runs.
"""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import EvaluatorSpec

_BUILTIN = (
    ("accuracy", "Accuracy", frozenset(),
     "accuracy over all completions, per capability and per eval set"),
    ("pass_at_k", "PassAtK", frozenset(),
     "pass@k (unbiased estimator) and mean@n when sampling n > 1 completions"),
    ("format", "FormatRate", frozenset(),
     "share of responses the `format` reward accepts"),
    ("length", "Length", frozenset(),
     "response length in tokens: mean, median, max, mean per capability"),
    ("perception_split", "PerceptionSplit", frozenset({"facts"}),
     "answers again from the gold facts as text: wrong from the image but right from the facts is a "
     "perception error, wrong from both a reasoning error; reports each kind's share"),
)


@hookimpl
def register_evaluators(register: Callable[..., None]) -> None:
    for name, attr, needs, doc in _BUILTIN:
        register(EvaluatorSpec(name=name, factory=f"seethink_eval.evaluators:{attr}", needs=needs, doc=doc))
