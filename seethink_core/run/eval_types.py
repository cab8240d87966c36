"""What an evaluation passes around: its settings, the per-sample ``EvalRecord`` that evaluators
read, and the named evaluators built from the registry (docs/architecture.md §13)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from seethink_core.errors import PluginError, SeethinkError
from seethink_core.hooks.backend import Completion
from seethink_core.hooks.registry import Registry
from seethink_core.types.options import validate
from seethink_core.types.sample import Sample

DEFAULT_EVALUATORS = ("accuracy", "pass_at_k", "format", "length", "perception_split")
UNKNOWN_CAPABILITY = "unknown"


class EvalError(SeethinkError):
    """An evaluation could not run: no generator, a bad eval set, a misbehaving backend."""


@dataclass(frozen=True)
class EvalSettings:
    """How correctness is judged and how much is generated; not part of the plan."""

    correctness: str = "accuracy"  # the reward component that says right or wrong
    threshold: float = 0.5  # a completion is correct when that component is >= this
    max_new_tokens: int = 256  # used when neither the eval spec nor the phase sets a limit
    batch: int = 64  # samples per generate() call: bounded memory, still batched
    examples: int = 8  # example rows kept in eval.json
    reward_timeout: float | None = 5.0  # seconds per reward call; None grades in this thread


@dataclass
class EvalRecord:
    """One eval sample's completions and grades; what evaluators read."""

    sample: Sample
    set_name: str
    completions: list[Completion]  # with the image, ``n`` of them
    correct: list[bool]
    scores: list[float | None]  # the correctness component, per completion
    format: list[float | None] = field(default_factory=list)  # the ``format`` component when present
    facts_completion: Completion | None = None  # answered from the gold facts as text
    facts_correct: bool | None = None

    @property
    def capability(self) -> str:
        """The sample's capability; for a set whose samples have none (a benchmark read from jsonl), the
        set's own name, so the matrix shows a column per such set instead of one "unknown" lumping them."""
        return self.sample.capability or self.set_name or UNKNOWN_CAPABILITY

    def error_kind(self) -> str | None:
        """``perception`` (wrong from the image, right from the facts), ``reasoning`` (wrong from
        both), or None (right from the image, or no facts pass)."""
        if self.facts_correct is None or not self.completions or self.correct[0]:
            return None
        return "perception" if self.facts_correct else "reasoning"


class Evaluator(Protocol):
    """What an ``EvaluatorSpec`` factory returns: records in, named metrics out."""

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]: ...


@dataclass
class EvalOutcome:
    metrics: dict[str, float]
    records: list[EvalRecord]
    wall_s: float


@dataclass(frozen=True)
class LoadedEvaluator:
    name: str
    fn: Evaluator
    needs: frozenset[str]


def build_evaluators(names: Sequence[str], registry: Registry) -> list[LoadedEvaluator]:
    """Each named evaluator from the registry, built with its default options."""
    out = []
    for name in names or DEFAULT_EVALUATORS:
        spec = registry.get("evaluator", name)
        options, problems = validate(spec.options, {}, what=f"evaluator '{name}'")
        if problems:
            raise PluginError(problems)
        out.append(LoadedEvaluator(name, spec.load()(options), frozenset(spec.needs)))
    return out

