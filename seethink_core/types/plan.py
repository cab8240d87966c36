"""The training plan: plain data, the single input of every backend (docs/architecture.md §5).

A ``TrainingPlan`` is an ordered list of fully resolved ``Phase`` values.
Nothing here refers back to the syntax tree. It round-trips through JSON and
YAML, and ``plan_hash`` identifies it: unchanged by key order or file paths,
changed by any field that affects training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from seethink_core.types.methods import METHODS, OptimizerOptions

PLAN_FORMAT = 1

Capability = str  # "perception", "textual_reasoning", "visual_reasoning" (open set)
CAPABILITIES = ("perception", "textual_reasoning", "visual_reasoning")
# How a phase's sources share an epoch: "interleave" mixes them (weighted, in the difficulty order);
# "blocks" serves them one after the other in the order listed, the difficulty order applying inside
# each block (the reference's stitched capability×difficulty file: every epoch cycles through them).
MIXTURES = ("interleave", "blocks")


@dataclass(frozen=True)
class DataRef:
    """One source of a phase's data mixture."""

    source: str  # a registered data source, e.g. "synthetic", "hf", "jsonl"
    options: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    mapping: dict[str, str] = field(default_factory=dict)  # Sample field -> record field
    name: str | None = None  # the `source NAME = ...` definition it came from, if any
    capability: str | None = None  # stamps samples whose source leaves capability empty

    @property
    def label(self) -> str:
        """What a report calls this source: its ``source NAME = ...`` definition, else the source."""
        return self.name or self.source


@dataclass(frozen=True)
class RewardRef:
    name: str
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """How long a phase trains. Exactly one of these is the primary budget;
    ``steps`` is also the cap of an ``until`` transition."""

    steps: int | None = None
    epochs: float | None = None
    samples: int | None = None


@dataclass(frozen=True)
class Condition:
    metric: str  # e.g. "reward.accuracy", "eval.accuracy", "length.mean"
    op: Literal[">=", ">", "<=", "<", "=="]
    value: float


@dataclass(frozen=True)
class Transition:
    """End a phase early when any condition holds, smoothed over ``window`` steps,
    never before ``min_steps`` (so noise cannot trigger it)."""

    any_of: list[Condition]
    window: int = 10
    min_steps: int = 20


@dataclass(frozen=True)
class Pacing:
    """Widen the admitted difficulty range over a phase's steps."""

    kind: Literal["step", "linear", "root"] = "linear"
    start: float = 0.3  # fraction of the difficulty range admitted at step 0
    full_at: float = 0.8  # fraction of the phase at which everything is admitted
    stages: int = 3  # for "step": how many jumps


@dataclass(frozen=True)
class Difficulty:
    """How difficulty shapes a phase's data (docs/architecture.md §2: 1 = hardest)."""

    source: Literal["none", "column", "pass_rate"] = "none"
    order: Literal["shuffle", "easy_to_hard", "hard_to_easy"] = "shuffle"
    min: float = 0.0  # admitted range (inclusive); the reference's "drop pass rate 1" is min > 0
    max: float = 1.0
    level: str | None = None  # this phase's level name when `levels` split the stage
    pacing: Pacing | None = None
    estimator: dict[str, Any] = field(default_factory=dict)  # pass_rate(samples:, temperature:, ...)


# The KL reference: the phase's start (the reference code), the start of the phase's stage (the same but
# for the later levels of a stage that ``levels`` split), the start of the stage before, or the base model.
REFERENCES = ("phase_init", "stage_init", "previous_init", "base")


@dataclass(frozen=True)
class HandOff:
    init: Literal["previous", "base"] = "previous"
    reference: Literal["phase_init", "stage_init", "previous_init", "base"] = "phase_init"
    optimizer: Literal["reset", "carry"] = "reset"


@dataclass(frozen=True)
class Replay:
    """``replay share: 0.2``: that share of every batch is drawn from earlier stages' data (docs/dsl.md)."""

    share: float  # of each batch, in (0, 1); over the phase, exactly (largest remainder)
    stages: list[str]  # the earlier stages it replays, in plan order
    data: list[DataRef]  # their data lines as their phases trained on them, each line once


@dataclass(frozen=True)
class EvalSpec:
    sets: list[DataRef] = field(default_factory=list)
    evaluators: list[str] = field(default_factory=list)
    every_steps: int | None = None  # also evaluated after every phase (and before training: ``before``)
    greedy: bool = True  # when true, n, temperature and top_p are not used (one completion, temperature 0)
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_samples: int | None = None
    max_response_tokens: int | None = None
    before: bool = True  # evaluate the base model before training (row 0; read from the first phase that evaluates)
    prompt: str | None = None  # the template evaluation uses (the compiler fills in the phase's); None: the phase's
    system: str | None = None  # the system prompt evaluation uses (the compiler fills in the phase's); None: none


@dataclass(frozen=True)
class BackendRef:
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Phase:
    index: int
    name: str  # "perception", "perception.easy", "all" (merge)
    stages: list[str]  # the .curr stages it came from (several after `merge`)
    capabilities: list[str]
    model: str  # base model: a registered model name, a local path or a hub id
    init_from: str  # "base" or the name of an earlier phase
    method: str
    algorithm: OptimizerOptions
    data: list[DataRef]
    rewards: list[RewardRef]
    budget: Budget
    prompt: str | None = None  # template; "{question}" is replaced by the sample's prompt
    system: str | None = None  # system prompt template (seethink_core.samples.prompting); None: no system message
    transition: Transition | None = None
    difficulty: Difficulty = field(default_factory=Difficulty)
    freeze: list[str] = field(default_factory=list)  # "vision", "projector", "language"
    handoff: HandOff = field(default_factory=HandOff)
    eval: EvalSpec | None = None
    seed: int = 0
    mixture: Literal["interleave", "blocks"] = "interleave"
    backend: BackendRef | None = None  # the stage's own backend; None = the plan's
    replay: Replay | None = None  # hashed only when set (HASHED_WHEN_SET)


@dataclass(frozen=True)
class TrainingPlan:
    curriculum: str
    model: str
    backend: BackendRef
    phases: list[Phase]
    seed: int = 0
    source: str | None = None  # provenance only: not part of the hash
    format: int = PLAN_FORMAT

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(name)

    def backend_of(self, phase: Phase) -> BackendRef:
        """The backend that trains ``phase``: its stage's own, else the plan's."""
        return phase.backend or self.backend

    def backends(self) -> list[BackendRef]:
        """Every backend the plan uses, in order of first use (the plan's own first)."""
        out = [self.backend]
        for p in self.phases:
            ref = self.backend_of(p)
            if ref not in out:
                out.append(ref)
        return out

    def for_backend(self, ref: BackendRef) -> "TrainingPlan":
        """The part of the plan ``ref`` runs, as a plan of its own with ``ref`` as its backend (what a
        backend's check and ``prepare`` see); phase indices and names stay the whole plan's."""
        phases = [p for p in self.phases if self.backend_of(p) == ref]
        return dataclasses.replace(self, backend=ref, phases=phases)

    def to_dict(self) -> dict[str, Any]:
        return to_data(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingPlan":
        return from_data(cls, data)

    @classmethod
    def from_json(cls, text: str) -> "TrainingPlan":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_yaml(cls, text: str) -> "TrainingPlan":
        import yaml

        return cls.from_dict(yaml.safe_load(text))

    def hash(self) -> str:
        return plan_hash(self)


NOT_HASHED = {"source"}

# Options that change how a run executes, never what it trains (docs/decisions.md): where logs and
# checkpoints go and how often, how many threads, a guard that only stops a run. They stay in the plan
# (plan.json records what a run used) but not in its hash, so changing one on a re-run resumes the
# same run (and keeps its in-phase checkpoints, whose meta names the hash) instead of refusing it.
# Keyed by backend name: a backend's option names are its own. Thread counts and micro-batch splits
# only reorder floating-point sums, so a resume after changing them is equivalent, not bit-exact (so does
# `cuda_graphs`: the graphed decode step sums attention over the whole KV buffer).
EXECUTION_ONLY_BACKEND_OPTIONS: dict[str, frozenset[str]] = {
    "local": frozenset({"threads", "log_every", "rollout_dump_every", "rollout_dump_rows", "memory_estimate",
                        "cache_dir", "checkpoint_every", "keep_checkpoints", "gradient_checkpointing",
                        "micro_batch_size", "cuda_graphs"}),
    "openrlhf": frozenset({"ray_address", "wandb_project", "wandb_org", "python", "dry_run", "poll_seconds",
                           "save_steps"}),
    # verl's counterparts of OpenRLHF's, plus its loader's worker processes (they read; the sampler orders).
    "verl": frozenset({"ray_address", "wandb_project", "tensorboard", "python", "dry_run", "poll_seconds",
                       "save_steps", "keep_checkpoints", "dataloader_workers"}),
}
EXECUTION_ONLY_ALGORITHM_OPTIONS = frozenset({"max_reward_failures"})


def to_data(obj: Any) -> Any:
    """Dataclasses → dicts (keeping field order), lists and scalars as they are."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


def from_data(tp: Any, data: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if data is None:
        return None
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name not in data:
                continue
            if tp is Phase and f.name == "algorithm":
                method_cls = METHODS[data["method"]]
                kwargs[f.name] = from_data(method_cls, data[f.name])
            else:
                kwargs[f.name] = from_data(hints[f.name], data[f.name])
        return tp(**kwargs)
    if origin in (list, tuple):
        return [from_data(args[0], v) for v in data]
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        for arg in args:
            if arg is type(None):
                continue
            if dataclasses.is_dataclass(arg):
                return from_data(arg, data)
        return data
    return data


def plan_hash(plan: TrainingPlan) -> str:
    """sha256 of the canonical JSON of every training field (provenance and execution-only options excluded)."""
    return hashlib.sha256(canonical_json(hashed_data(plan)).encode()).hexdigest()


def hashed_data(plan: TrainingPlan) -> dict[str, Any]:
    """The plan as its hash sees it: no provenance, no execution-only option (``EXECUTION_ONLY_*``)."""
    data = {k: v for k, v in plan.to_dict().items() if k not in NOT_HASHED}
    data["backend"] = _training_backend(data["backend"])
    data["phases"] = [_training_phase(p) for p in data["phases"]]
    return data


# Hashed backend options added after plans were first hashed, each with the default it was added with:
# left out of the hash while at that default. A plan records every option of its backend, so one made
# before an option existed has no key for it in its plan.json, and without this it would hash apart from
# the same plan compiled after the upgrade, and its run directory would be refused. Adding a hashed
# option means adding it here (tests/core/test_core_plan.py pins the hashed ones).
BACKEND_OPTIONS_ADDED: dict[str, dict[str, Any]] = {}


def _training_backend(ref: dict[str, Any] | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    skip = EXECUTION_ONLY_BACKEND_OPTIONS.get(ref["name"], frozenset())
    added = BACKEND_OPTIONS_ADDED.get(ref["name"], {})
    return {**ref, "options": {k: v for k, v in ref["options"].items()
                               if k not in skip and not (k in added and _same_value(v, added[k]))}}


def _same_value(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


# Phase fields added after plans were first hashed: left out of the hash while unset, so a plan that does
# not use one keeps the hash it had (and its run directory resumes) after an upgrade.
HASHED_WHEN_SET = frozenset({"replay"})


def _training_phase(phase: dict[str, Any]) -> dict[str, Any]:
    algorithm = {k: v for k, v in phase["algorithm"].items() if k not in EXECUTION_ONLY_ALGORITHM_OPTIONS}
    kept = {k: v for k, v in phase.items() if k not in HASHED_WHEN_SET or v is not None}
    return {**kept, "algorithm": algorithm, "backend": _training_backend(phase.get("backend"))}


def _reused_phase(phase: dict[str, Any]) -> dict[str, Any]:
    """What decides a phase's result, for reuse: its training form, less the KL reference of a phase that
    computes no KL (it never loads one, so a curriculum-wide `handoff reference:` must not stop a shared
    SFT warm-up from being reused). The plan hash keeps it: it names the plan, not its result."""
    kept = _training_phase(phase)
    handoff = kept.get("handoff")
    if isinstance(handoff, dict) and not _uses_kl_reference(phase):
        kept["handoff"] = {k: v for k, v in handoff.items() if k != "reference"}
    return kept


def _uses_kl_reference(phase: dict[str, Any]) -> bool:
    algorithm = phase.get("algorithm") or {}
    return (phase.get("method") != "sft" and float(algorithm.get("kl") or 0.0) > 0
            and algorithm.get("kl_mode") != "none")


def phase_prefix_hash(plan: TrainingPlan, upto: int) -> str:
    """Identifies phases ``0..upto`` together with the backend and model, for reusing a prefix."""
    data = {
        "model": plan.model,
        "backend": _training_backend(to_data(plan.backend)),
        "phases": [_reused_phase(to_data(p)) for p in plan.phases[: upto + 1]],
    }
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
