"""Compile-time rules of the ``verl`` backend: what verl 0.9.1 cannot run is an error naming the phase.

The options schema (``options.py``) has already checked types and bounds; these rules need the whole
plan. Each comes from verl's own code: ``verl.utils.config.validate_config`` (batch arithmetic),
``FSDPOptimizerConfig`` (schedulers), the trainer (the reference model is the phase's start, the
optimizer is new every job) — the contract test runs those checks themselves on every command.
"""

from __future__ import annotations

from seethink_core.errors import Diagnostic
from seethink_core.run.phase_inputs import anchor_phase
from seethink_core.types.methods import RLOptions
from seethink_core.types.options import validate
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_verl.options import VerlOptions
from seethink_verl.overrides import (
    ESTIMATORS,
    GROUP_ESTIMATORS,
    SCHEDULERS,
    eval_every,
    rollout_batch_prompts,
    steps_per_rollout,
)

FREEZABLE = frozenset({"vision"})  # actor.freeze_vision_tower is the only freeze switch


def _err(message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(message, None, hint)


def _warn(message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(message, None, hint, severity="warning")


def check_options(o: VerlOptions) -> list[Diagnostic]:
    if o.gpus % o.rollout_tensor_parallel:
        return [_err(f"backend verl: rollout_tensor_parallel ({o.rollout_tensor_parallel}) must divide the job's "
                     f"{o.gpus} GPUs (nnodes × gpus_per_node): every rollout replica takes that many")]
    return []


def check_phase(phase: Phase, options: VerlOptions | None = None, plan: TrainingPlan | None = None) -> list[Diagnostic]:
    where = f"phase '{phase.name}'"
    if phase.method == "sft":
        return _sft_rules(phase, options)
    if phase.method not in ESTIMATORS:
        return [_err(f"{where}: method '{phase.method}' cannot run on backend verl",
                     f"supported: sft, {', '.join(sorted(ESTIMATORS))}")]
    algo = phase.algorithm
    assert isinstance(algo, RLOptions)
    out: list[Diagnostic] = []
    for part in phase.freeze:
        if part not in FREEZABLE:
            out.append(_err(f"{where}: backend verl cannot freeze '{part}' (only 'vision', through "
                            "actor.freeze_vision_tower)"))
    if phase.handoff.optimizer == "carry" and phase.init_from != "base":
        out.append(_err(f"{where}: backend verl starts every phase with a fresh optimizer; handoff optimizer "
                        "'carry' is not possible", hint="use optimizer: reset"))
    kl_on = algo.kl > 0 and algo.kl_mode != "none"
    if kl_on and phase.handoff.reference == "base" and phase.init_from != "base":
        # verl's reference worker loads actor_rollout_ref.model.path, the phase's starting weights.
        out.append(_err(f"{where}: backend verl takes the KL reference from the phase's starting checkpoint; "
                        "reference 'base' is not possible after the first phase",
                        hint="use reference: phase_init (the reference recipe's choice)"))
    if kl_on and plan is not None and phase.handoff.reference in ("stage_init", "previous_init"):
        anchor = anchor_phase(plan, phase)
        if anchor.name != phase.name:
            out.append(_err(f"{where}: backend verl takes the KL reference from the phase's starting checkpoint; "
                            f"reference '{phase.handoff.reference}' is the start of phase '{anchor.name}'",
                            hint="use reference: phase_init, or run this stage on a backend that takes any "
                                 "reference (local)"))
    if algo.schedule not in SCHEDULERS:
        out.append(_err(f"{where}: verl's FSDP optimizer has no '{algo.schedule}' schedule "
                        f"(FSDPOptimizerConfig: {', '.join(sorted(SCHEDULERS))})", hint="use constant or cosine"))
    if ESTIMATORS[phase.method] in GROUP_ESTIMATORS and algo.group < 2:
        out.append(_err(f"{where}: {phase.method} needs group ≥ 2 (a group baseline of one completion is the "
                        f"completion itself), not {algo.group}"))
    if algo.dynamic_sampling and algo.group < 2:
        out.append(_err(f"{where}: dynamic sampling needs group ≥ 2, not {algo.group}"))
    if phase.method.startswith("reinforce_pp") and not algo.std_normalize:
        out.append(_warn(f"{where}: verl's {ESTIMATORS[phase.method]} always normalises advantages over the "
                         "batch; std_normalize: false is ignored"))
    if phase.method == "rloo" and algo.std_normalize:
        out.append(_warn(f"{where}: verl's rloo does not divide by the std; std_normalize is ignored"))
    if options is not None:
        samples = rollout_batch_prompts(phase) * algo.group
        if samples % options.gpus:
            # validate_config: train_batch_size × rollout.n must be divisible by the GPUs.
            out.append(_err(f"{where}: a rollout of {samples} samples (rollout_batch_size × group) does not split "
                            f"evenly over the job's {options.gpus} GPUs, which verl's validate_config requires",
                            hint="make rollout_batch_size × group a multiple of nnodes × gpus_per_node"))
    if algo.rollout_batch_size % algo.batch_size:
        out.append(_warn(f"{where}: rollout_batch_size {algo.rollout_batch_size} is not a multiple of batch_size "
                         f"{algo.batch_size}; verl's last optimizer update per rollout is partial"))
    if algo.dynamic_sampling:
        out.append(_warn(f"{where}: with dynamic sampling verl refills every filtered group from the next exported "
                         "prompts, so a difficulty order runs ahead of its steps and the job ends when the export "
                         "runs out, making fewer updates than the step budget",
                         hint="turn dynamic sampling off for this phase, or give it more steps than it should make"))
    out.extend(_validation_warnings(phase))
    if phase.transition is not None:
        out.append(_warn(f"{where}: backend verl cannot end a job early on a metric; the transition is ignored "
                         "and the phase runs its step cap", hint="use a step budget on this backend"))
    return out


def _sft_rules(phase: Phase, options: VerlOptions | None) -> list[Diagnostic]:
    """An SFT phase runs on verl's SFT trainer, launched with torchrun on one node (sft.py)."""
    where = f"phase '{phase.name}'"
    out: list[Diagnostic] = []
    if phase.freeze:
        out.append(_err(f"{where}: verl's SFT trainer has no freeze switch; it cannot freeze "
                        f"{', '.join(repr(p) for p in phase.freeze)}"))
    if phase.handoff.optimizer == "carry" and phase.init_from != "base":
        out.append(_err(f"{where}: backend verl starts every phase with a fresh optimizer; handoff optimizer "
                        "'carry' is not possible", hint="use optimizer: reset"))
    if phase.algorithm.schedule not in SCHEDULERS:
        out.append(_err(f"{where}: verl's FSDP optimizer has no '{phase.algorithm.schedule}' schedule",
                        hint="use constant or cosine"))
    if options is not None:
        if options.nnodes > 1:
            out.append(_err(f"{where}: seethink launches verl's SFT trainer with torchrun on one node; "
                            f"nnodes is {options.nnodes}", hint="give the SFT stage its own backend with nnodes: 1"))
        if phase.algorithm.batch_size % options.gpus_per_node:
            # SFTTrainer: train_batch_size_per_dp = train_batch_size // dp_size; the remainder would be lost.
            out.append(_err(f"{where}: an SFT batch of {phase.algorithm.batch_size} samples does not split evenly "
                            f"over {options.gpus_per_node} GPUs", hint="make batch_size a multiple of gpus_per_node"))
    if phase.transition is not None:
        out.append(_warn(f"{where}: backend verl cannot end a job early on a metric; the transition is ignored"))
    return out


def _validation_warnings(phase: Phase) -> list[Diagnostic]:
    """What of ``eval ... every N steps`` verl's validation (``trainer.test_freq``) cannot honour."""
    spec, every = phase.eval, eval_every(phase)
    if spec is None or every is None:
        return []
    per = steps_per_rollout(phase)
    if spec.every_steps != every * per:
        return [_warn(f"phase '{phase.name}': verl validates every {every} rollout batches ({every * per} steps), "
                      f"the nearest to every {spec.every_steps} steps",
                      hint=f"give a multiple of {per} steps (rollout_batch_size ÷ batch_size)")]
    return []


def check_plan(plan: TrainingPlan) -> list[Diagnostic]:
    """Every problem of running ``plan`` on verl 0.9.1 (``BackendSpec.check``)."""
    out: list[Diagnostic] = []
    options, problems = validate(VerlOptions, dict(plan.backend.options), what="backend verl")
    out.extend(problems)
    if options is not None:
        out.extend(check_options(options))
    for phase in plan.phases:
        out.extend(check_phase(phase, options, plan))
    return out
