"""The contract between the runner and a backend (docs/architecture.md §10).

A backend turns one phase into a trained checkpoint. The runner owns the run
directory, the data order, the rewards and the metrics files; it hands the
backend a ``PhaseContext`` with all of them, so every backend sees the same
samples in the same order and scores them with the same rewards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

from seethink_core.errors import ConfigError, SeethinkError
from seethink_core.samples.images import ImageBounds
from seethink_core.types.options import validate
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_core.types.sample import Sample


@dataclass(frozen=True)
class Checkpoint:
    """A model a phase starts from: a Hugging Face folder, or a hub id / registered name for the base."""

    path: str
    phase: str | None = None  # the phase that produced it; None for the base model


@dataclass(frozen=True)
class RewardFailure:
    """One failed score of one reward component (docs/architecture.md §8): it raised, timed out, crashed
    its worker, or returned something that is not a score (a wrong count, NaN, inf, a string, an object)."""

    reward: str  # the component's name
    message: str  # "RuntimeError: boom", "returned '1' (a str); expected a number or None"
    origin: str  # where it came from: "file.py:12 in __call__" for an exception, else the reward's qualified name
    sample: str | None = None  # the id of the first sample it failed on
    traceback: str | None = None  # the formatted traceback of an exception, when one was kept

    def line(self) -> str:
        """The one line the run prints for a component's first failure."""
        on = f" on sample '{self.sample}'" if self.sample is not None else ""
        return f"reward '{self.reward}' failed{on}: {self.message} (at {self.origin})"


@dataclass
class RewardBatch:
    """Scores of a batch: the weighted total and every component on its own."""

    total: list[float]
    components: dict[str, list[float | None]]
    failures: dict[str, int] = field(default_factory=dict)  # reward name -> samples that failed (any reason)
    # reward name -> positions of the samples it failed on (for per-step metrics; only failing rewards)
    failed: dict[str, list[int]] = field(default_factory=dict)
    # reward name -> its first failure in this batch (the run says the first one of each reward once)
    errors: dict[str, RewardFailure] = field(default_factory=dict)


class RewardFunction(Protocol):
    def __call__(self, prompts: Sequence[str], completions: Sequence[str],
                 samples: Sequence[Sample]) -> RewardBatch: ...


class SampleStream(Protocol):
    """The phase's data in training order (mixture weights, difficulty order, filters, pacing)."""

    def next_batch(self, n: int, step: int) -> list[Sample]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def total_samples(self) -> int | None: ...


@dataclass
class PhaseContext:
    plan: TrainingPlan
    run_dir: Path
    phase_dir: Path
    checkpoint_dir: Path  # where the final HF folder must be written
    data: SampleStream
    reward: RewardFunction
    total_steps: int  # resolved budget (epochs/samples converted to optimizer steps)
    reference: Checkpoint | None  # KL reference (None when KL is off)
    log: Callable[[int, dict[str, float]], None]  # (step, metrics) -> metrics.jsonl, TensorBoard, on_log
    should_stop: Callable[[int, dict[str, float]], str | None]  # transition check: a reason or None
    dump_rollouts: Callable[[int, list[dict[str, Any]]], None]
    progress: Callable[[int, dict[str, float]], None] = lambda step, metrics: None
    resume_dir: Path | None = None  # where in-phase checkpoints go (seethink_core.run.checkpointing)
    resume_from: Path | None = None  # the complete checkpoint to continue from, when resuming inside a phase
    carry_optimizer: Path | None = None  # optimizer state of the previous phase (handoff.optimizer=carry)
    # In-phase evaluation (`eval ... every N steps`): a backend calls ``evaluate(step, save)`` after each
    # optimizer step; when an evaluation is due the runner calls ``save(folder)`` to get the current
    # model as a Hugging Face folder and scores it. None when the phase has no interval evaluation.
    evaluate: Callable[[int, Callable[[Path], None]], None] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class PhaseResult:
    checkpoint: Checkpoint
    steps: int
    samples_seen: int
    stopped_by: str = "budget"  # "budget" or the transition that fired
    metrics: dict[str, float] = field(default_factory=dict)
    optimizer_state: str | None = None


@runtime_checkable
class Backend(Protocol):
    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None: ...

    def run_phase(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> PhaseResult: ...

    def close(self) -> None: ...


@runtime_checkable
class Generator(Protocol):
    """Backends with the ``generate`` feature sample completions from a checkpoint
    (pass-rate estimation and evaluation reuse it).

    ``image_bounds`` (the phase's ``min_pixels``/``max_pixels``, ``seethink_core.samples.images``) is passed
    only when the phase sets a bound, so a generator that predates it keeps working for every phase
    that does not. ``system_prompt`` (a template, ``seethink_core.samples.prompting.render_system``) likewise
    comes only when there is one: the generator then sends it as the chat's system message.
    """

    def generate(self, model: Checkpoint, samples: Sequence[Sample], *, n: int = 1,
                 temperature: float = 1.0, top_p: float = 1.0, max_new_tokens: int = 256,
                 prompt_template: str | None = None, use_facts: bool = False,
                 image_bounds: ImageBounds | None = None, system_prompt: str | None = None,
                 ) -> list[list["Completion"]]: ...


@dataclass
class Completion:
    text: str
    tokens: int


def checked_generate(generator: Any, model: Checkpoint, samples: Sequence[Sample], *, n: int, temperature: float,
                     top_p: float, max_new_tokens: int, prompt_template: str | None, use_facts: bool,
                     error: type[SeethinkError], what: str,
                     image_bounds: ImageBounds | None = None,
                     system_prompt: str | None = None) -> list[list[Completion]]:
    """``generator.generate`` with its failures as one ``error`` naming ``what`` was being generated, and
    its answer checked: one list of ``n`` completions per sample (a backend plugin may get this wrong)."""
    # Only an active bound is passed on (see Generator): unbounded calls are exactly what they were.
    extra: dict[str, Any] = {"image_bounds": image_bounds} if image_bounds is not None and image_bounds.active else {}
    if system_prompt:  # likewise: without one, the call is what it was before system prompts existed
        extra["system_prompt"] = system_prompt
    try:
        out = generator.generate(model, samples, n=n, temperature=temperature, top_p=top_p,
                                 max_new_tokens=max_new_tokens, prompt_template=prompt_template, use_facts=use_facts,
                                 **extra)
    except SeethinkError:
        raise
    except Exception as e:
        raise error(f"generating {what} from {model.path} failed: {type(e).__name__}: {e}",
                    hint="run with --debug for the traceback") from e
    if len(out) != len(samples) or any(len(group) != n for group in out):
        raise error(f"the backend returned {len(out)} completion lists of sizes {sorted({len(g) for g in out})} "
                    f"for {len(samples)} samples and n={n}")
    return out


def bound_options(spec: Any, values: Mapping[str, Any], *, error: type[SeethinkError] = ConfigError) -> Any:
    """``values`` checked against backend ``spec``'s option schema: the bound options, or one ``error``
    listing every problem (so a user fixes them all at once)."""
    options, problems = validate(spec.options, dict(values), what=f"backend {spec.name}")
    if problems:
        raise error(problems)
    return options


def open_backend(registry: Any, name: str, values: Mapping[str, Any], *, error: type[SeethinkError] = ConfigError,
                 dry_run: bool = False) -> Backend:
    """Backend ``name`` of ``registry``, built from ``values`` once they are valid. With ``dry_run``, a
    backend that offers a dry run takes it as its ``dry_run`` option."""
    spec = registry.get("backend", name)
    values = dict(values)
    if dry_run and "dry_run" in spec.features:
        values["dry_run"] = True
    return spec.load()(bound_options(spec, values, error=error))  # type: ignore[no-any-return]
