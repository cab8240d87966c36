"""Compile-time rules of the ``openrlhf`` backend: what OpenRLHF 0.11.2 cannot run is an error naming the phase.

The options schema (``options.py``) has already checked types and bounds; these are the rules
that need the whole plan, each taken from ``openrlhf/cli/train_ppo_ray.py`` (its ``__main__``
assertions and ``train()``) or from the trainer's behaviour.
"""

from __future__ import annotations

from seethink_core.errors import Diagnostic
from seethink_core.run.phase_inputs import anchor_phase
from seethink_core.types.methods import RLOptions
from seethink_core.types.options import validate
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_openrlhf.commands import (
    ESTIMATORS,
    GROUP_ESTIMATORS,
    estimator_for,
    eval_every_rollouts,
    rollout_batch_prompts,
    steps_per_rollout,
)
from seethink_openrlhf.options import OpenRLHFOptions

FREEZABLE = frozenset({"vision"})  # --actor.freeze_visual_encoder is the only freeze flag


def _err(message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(message, None, hint)


def _warn(message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(message, None, hint, severity="warning")


def check_options(options: OpenRLHFOptions) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    o = options
    gpus = o.num_nodes * o.gpus_per_node
    vllm_gpus = o.engines() * o.vllm_tensor_parallel
    if o.colocate == "all" and gpus != vllm_gpus:
        # train_ppo_ray.train(): colocate_all asserts actor GPUs == vllm_num_engines * tensor_parallel_size.
        out.append(_err(f"backend openrlhf: colocate 'all' needs num_nodes × gpus_per_node ({gpus}) to equal "
                        f"vllm_engines × vllm_tensor_parallel ({vllm_gpus})",
                        hint="leave vllm_engines at 0 (auto) or match the two"))
    if o.vllm_sleep and o.colocate != "all":
        out.append(_warn("backend openrlhf: vllm_sleep only applies with colocate 'all'; it is ignored"))
    if o.colocate == "none" and o.vllm_gpu_memory_utilization < 0.5:
        out.append(_warn("backend openrlhf: vLLM has GPUs of its own (colocate 'none'); "
                         f"vllm_gpu_memory_utilization {o.vllm_gpu_memory_utilization} wastes most of them"))
    return out


def check_phase(phase: Phase, plan: TrainingPlan, options: OpenRLHFOptions | None = None) -> list[Diagnostic]:
    where = f"phase '{phase.name}'"
    out: list[Diagnostic] = []
    if phase.method not in ESTIMATORS:
        hint = ("train it with the local backend, or as a separate run"
                if phase.method == "sft" else f"supported: {', '.join(sorted(ESTIMATORS))}")
        out.append(_err(f"{where}: method '{phase.method}' cannot run on backend openrlhf "
                        "(OpenRLHF's train_ppo_ray trains policy-gradient methods only)", hint))
        return out
    algo = phase.algorithm
    assert isinstance(algo, RLOptions)
    for part in phase.freeze:
        if part not in FREEZABLE:
            out.append(_err(f"{where}: backend openrlhf cannot freeze '{part}' (only 'vision', through "
                            "--actor.freeze_visual_encoder)"))
    if phase.handoff.optimizer == "carry" and phase.init_from != "base":
        out.append(_err(f"{where}: backend openrlhf starts every phase with a fresh optimizer; "
                        "handoff optimizer 'carry' is not possible", hint="use optimizer: reset"))
    kl_on = algo.kl > 0 and algo.kl_mode != "none"
    if kl_on and phase.handoff.reference == "base" and phase.init_from != "base":
        # train(): the reference model is loaded from --actor.model_name_or_path, the phase's start.
        out.append(_err(f"{where}: backend openrlhf takes the KL reference from the phase's starting "
                        "checkpoint; reference 'base' is not possible after the first phase",
                        hint="use reference: phase_init (the reference recipe's choice)"))
    if kl_on and phase.handoff.reference in ("stage_init", "previous_init"):
        anchor = anchor_phase(plan, phase)
        if anchor.name != phase.name:
            out.append(_err(f"{where}: backend openrlhf takes the KL reference from the phase's starting "
                            f"checkpoint; reference '{phase.handoff.reference}' is the start of phase "
                            f"'{anchor.name}'", hint="use reference: phase_init, or run this stage on a backend "
                                                     "that takes any reference (local)"))
    estimator = estimator_for(phase)
    if estimator in GROUP_ESTIMATORS and algo.group < 2:
        out.append(_err(f"{where}: {phase.method} needs group ≥ 2 (OpenRLHF asserts n_samples_per_prompt > 1 "
                        f"for '{estimator}'), not {algo.group}"))
    if algo.dynamic_sampling and algo.group < 2:
        out.append(_err(f"{where}: dynamic sampling needs group ≥ 2, not {algo.group}"))
    if phase.method == "rloo" and algo.std_normalize:
        out.append(_warn(f"{where}: OpenRLHF's rloo does not divide by the std; std_normalize is ignored"))
    if options is not None:
        # __main__'s last assertion: every actor process needs at least one micro-batch of samples.
        samples = algo.group * rollout_batch_prompts(phase)
        actors = options.num_nodes * options.gpus_per_node
        if samples // options.micro_rollout_batch < actors:
            out.append(_err(f"{where}: a rollout of {samples} samples (rollout_batch_size × group) gives "
                            f"{samples // options.micro_rollout_batch} micro-batches of {options.micro_rollout_batch}, "
                            f"fewer than the {actors} actor GPUs OpenRLHF requires",
                            hint="raise rollout_batch_size or lower micro_rollout_batch"))
    if algo.rollout_batch_size % algo.batch_size:
        out.append(_warn(f"{where}: rollout_batch_size {algo.rollout_batch_size} is not a multiple of "
                         f"batch_size {algo.batch_size}; OpenRLHF's last optimizer step per rollout is partial"))
    # Difficulty order and pacing are kept: the export pulls the paced stream step by step, and the job
    # (seethink_openrlhf.ordered_train) serves prompts.jsonl in file order, one rollout batch after another.
    # Inside one rollout batch OpenRLHF shuffles the samples for its updates (ActorPPOTrainer.ppo_train:
    # DataLoader(replay_buffer, shuffle=True)); the order holds from one rollout batch to the next. That is
    # no warning: the whole batch is generated at once, and EasyR1, which the reference ran, reorders a
    # rollout batch too (RayPPOTrainer._balance_batch). docs/openrlhf.md, "Order", says so.
    ordered = phase.difficulty.order != "shuffle" or phase.difficulty.pacing is not None
    if algo.dynamic_sampling:
        # SamplesGenerator._generate_vllm replaces each filtered group with the next prompt of the loader,
        # i.e. one exported for a later step; the local backend refills from the stream at the same step.
        # The export holds the budget's prompts, so the job runs out of them before its last updates.
        ahead = "this phase's difficulty order or pacing runs ahead of its steps, and " if ordered else ""
        out.append(_warn(f"{where}: with dynamic sampling OpenRLHF refills every filtered group with the next "
                         f"exported prompt, so {ahead}the job ends when the export runs out, making fewer "
                         "updates than the step budget",
                         hint="turn dynamic sampling off for this phase" + (
                             ", or split it into difficulty `levels`" if ordered else
                             ", or give it more steps than it should make")))
    out.extend(_validation_warnings(phase, plan, algo))
    if phase.transition is not None:
        # OpenRLHF writes the HF model only when train() ends; stopping the job early would leave none.
        out.append(_warn(f"{where}: backend openrlhf cannot end a job early on a metric; the transition is "
                         "ignored and the phase runs its step cap", hint="use a step budget on this backend"))
    if algo.max_prompt_tokens + algo.max_response_tokens > 131072:
        out.append(_warn(f"{where}: max prompt + response tokens "
                         f"({algo.max_prompt_tokens + algo.max_response_tokens}) is unusually long"))
    return out


def _validation_warnings(phase: Phase, plan: TrainingPlan, algo: RLOptions) -> list[Diagnostic]:
    """What of ``eval ... every N steps`` OpenRLHF's in-job validation (PPOTrainer.evaluate) cannot honour."""
    where = f"phase '{phase.name}'"
    spec = phase.eval
    every = eval_every_rollouts(phase)
    if spec is None or every is None:
        return []
    out = []
    per = steps_per_rollout(phase)
    if spec.every_steps != every * per:  # every_steps is set: eval_every_rollouts gave a cadence
        out.append(_warn(f"{where}: OpenRLHF validates every {every} rollout batches ({every * per} steps), "
                         f"the nearest to every {spec.every_steps} steps",
                         hint=f"give a multiple of {per} steps (rollout_batch_size ÷ batch_size)"))
    return out


def _validation_top_p(plan: TrainingPlan) -> list[Diagnostic]:
    """One warning per plan: PPOTrainer.fit copies the rollout's generate_kwargs for its validation and sets
    only temperature and n, so an eval top_p other than the rollout's is not honoured there."""
    off = [p for p in plan.phases if eval_every_rollouts(p) is not None and isinstance(p.algorithm, RLOptions)
           and p.eval is not None and not p.eval.greedy and p.eval.top_p != p.algorithm.top_p]
    if not off:
        return []
    first = off[0]
    assert first.eval is not None and isinstance(first.algorithm, RLOptions)
    names = ", ".join(f"'{p.name}'" for p in off)
    return [_warn(f"OpenRLHF's in-job validation samples with the rollout's top_p ({first.algorithm.top_p:g}), "
                  f"not the eval's {first.eval.top_p:g} (phase{'s' if len(off) > 1 else ''} {names})",
                  hint="`seethink eval` scores a checkpoint with the exact settings")]


def check_plan(plan: TrainingPlan) -> list[Diagnostic]:
    """Every problem of running ``plan`` on OpenRLHF 0.11.2 (``BackendSpec.check``)."""
    out: list[Diagnostic] = []
    options, problems = validate(OpenRLHFOptions, dict(plan.backend.options), what="backend openrlhf")
    out.extend(problems)
    if options is not None:
        out.extend(check_options(options))
    for phase in plan.phases:
        out.extend(check_phase(phase, plan, options))
    out.extend(_validation_top_p(plan))
    return out
