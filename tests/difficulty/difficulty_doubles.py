"""Test doubles for pass-rate estimation: a scripted generator whose per-item pass rate is set by
the item's id, toy items, simple rewards, and a plugin that registers them. Imported by its plain
name (the tests put this folder on sys.path) so reward worker processes can unpickle the rewards."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Sequence

from seethink_core.hooks.backend import Checkpoint, Completion
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec, DataSourceSpec, RewardSpec
from seethink_core.types.methods import METHODS
from seethink_core.types.options import opt
from seethink_core.types.sample import Sample

RATES = (0.0, 0.25, 0.5, 0.75, 1.0)


def scripted_rate(sample_id: str) -> float:
    """The probability the scripted model answers item ``item-<i>`` right: RATES[i % 5]."""
    return RATES[int(sample_id.rsplit("-", 1)[1]) % len(RATES)]


def expected_pass_rate(sample_id: str, k: int) -> float:
    """What the scripted generator yields over k samples: exactly round(p * k) right answers."""
    return round(scripted_rate(sample_id) * k) / k


def make_items(n: int, start: int = 0) -> list[Sample]:
    return [Sample(id=f"item-{i}", prompt=f"What is {i} + 1?", answer=str(i + 1), capability="textual_reasoning",
                   source="items") for i in range(start, start + n)]


class ScriptedGenerator:
    """``generate`` answers item i right in the first round(p_i * n) of its n completions.

    Records every call: ``calls`` holds (model path, item ids, n, temperature) tuples.
    """

    def __init__(self, options: Any = None):
        self.calls: list[tuple[str, list[str], int, float]] = []
        self.closed = False

    def generate(self, model: Checkpoint, samples: Sequence[Sample], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256, prompt_template: str | None = None,
                 use_facts: bool = False) -> list[list[Completion]]:
        self.calls.append((model.path, [s.id for s in samples], n, temperature))
        out = []
        for s in samples:
            right = round(scripted_rate(s.id) * n)
            out.append([Completion(f"<think>ok</think> \\boxed{{{s.answer}}}" if j < right else "no idea", 5 + j)
                        for j in range(n)])
        return out

    def prepare(self, plan: Any, run_dir: Any) -> None:
        pass

    def run_phase(self, *args: Any) -> Any:
        raise NotImplementedError("the scripted generator only generates")

    def close(self) -> None:
        self.closed = True


class BadShapeGenerator(ScriptedGenerator):
    def generate(self, model, samples, **kwargs):  # type: ignore[override]
        return super().generate(model, samples, **kwargs)[:-1]


class TrainOnlyBackend:
    """A backend without ``generate`` (like OpenRLHF's)."""

    def __init__(self, options: Any = None):
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class ExactOptions:
    strict: bool = opt(True, doc="compare exactly")


class Exact:
    """1.0 when the completion's \\boxed{} content is the answer, else 0.0."""

    __name__ = "exact"

    def __init__(self, options: ExactOptions | None = None):
        self.options = options or ExactOptions()

    def __call__(self, prompts: list[str], completions: list[str], answer: list[str], **_: Any) -> list[float]:
        return [1.0 if f"\\boxed{{{a}}}" in c else 0.0 for c, a in zip(completions, answer)]


class Always:
    """The same score for every completion (None = not applicable)."""

    def __init__(self, value: float | None, name: str = "always"):
        self.value = value
        self.__name__ = name

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float | None]:
        return [self.value] * len(completions)


def _always_one(options: Any) -> Always:
    return Always(1.0, "always_one")


@dataclass(frozen=True)
class ItemsOptions:
    count: int = opt(20, min=1)
    start: int = opt(0, min=0)


class ItemsSource:
    columns = frozenset({"prompt", "answer", "capability"})

    def __init__(self, options: ItemsOptions, *, seed: int, mapping: dict[str, str] | None = None):
        self.options = options

    def __iter__(self):
        return iter(make_items(self.options.count, self.options.start))

    def size(self) -> int:
        return self.options.count


def difficulty_plugin() -> types.SimpleNamespace:
    def register_backends(register):
        register(BackendSpec(name="scripted", factory=ScriptedGenerator, methods=frozenset(METHODS),
                             features=frozenset({"generate"})))
        register(BackendSpec(name="train_only", factory=TrainOnlyBackend, methods=frozenset(METHODS)))
        register(BackendSpec(name="claims_generate", factory=TrainOnlyBackend, methods=frozenset(METHODS),
                             features=frozenset({"generate"})))

    def register_data_sources(register):
        register(DataSourceSpec(name="items", options=ItemsOptions, factory=ItemsSource, columns=ItemsSource.columns))

    def register_rewards(register):
        register(RewardSpec(name="exact", options=ExactOptions, factory=Exact, needs=frozenset({"answer"})))
        register(RewardSpec(name="always_one", factory=_always_one))

    ns = types.SimpleNamespace(__name__="difficulty_test_plugin")
    for fn in (register_backends, register_data_sources, register_rewards):
        setattr(ns, fn.__name__, hookimpl(fn))
    return ns
