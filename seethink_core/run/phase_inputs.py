"""What a phase starts from: its budget in optimizer steps, its initial checkpoint and its KL reference."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from seethink_core.errors import RunError
from seethink_core.hooks.backend import Checkpoint
from seethink_core.run.run_state import RunState
from seethink_core.types.plan import Phase, TrainingPlan

# Where a backend writes a phase's checkpoint; renamed to the final folder once the phase is done, so a
# finished phase's checkpoint is never rewritten.
PARTIAL = "checkpoint.partial"


def is_partial(checkpoint: Checkpoint, phase_dir: Path) -> bool:
    """The backend handed back the folder it writes into, which the runner renames to the final one
    (a backend may also hand back a folder of its own, which is kept as it is)."""
    return Path(checkpoint.path).resolve() == (phase_dir / PARTIAL).resolve()


def resolve_total_steps(phase: Phase, total_samples: int | None) -> int:
    """The phase's budget in optimizer steps (batch sizes count prompts)."""
    b = phase.budget
    batch = phase.algorithm.batch_size
    if b.steps is not None:
        return int(b.steps)
    if b.samples is not None:
        return max(1, math.ceil(b.samples / batch))
    if b.epochs is not None:
        if total_samples is None:
            raise RunError(f"phase '{phase.name}': an epochs budget needs data of known size, and a source of this "
                           "phase cannot tell how many samples it has", hint="use `steps` or `samples` instead")
        return max(1, math.ceil(b.epochs * total_samples / batch))
    raise RunError(f"phase '{phase.name}' has no budget (steps, epochs or samples)")


def init_checkpoint(phase: Phase, state: RunState) -> Checkpoint:
    if phase.init_from == "base":
        return Checkpoint(phase.model)
    prev = state.phases.get(phase.init_from)
    if prev is None or prev.status != "done" or not prev.checkpoint:
        raise RunError(f"phase '{phase.name}' starts from phase '{phase.init_from}', which has not finished")
    return Checkpoint(prev.checkpoint, phase.init_from)


def reference_checkpoint(phase: Phase, init: Checkpoint, plan: TrainingPlan | None = None,
                         init_of: Callable[[Phase], Checkpoint] | None = None) -> Checkpoint | None:
    """The KL reference: none when KL is off, else (``handoff reference:``) the base model, the phase's
    start, the start of its stage or that of the stage before (``anchor_phase``; ``init_of`` gives another
    phase's start)."""
    algo = phase.algorithm
    if getattr(algo, "kl", 0.0) == 0.0 or getattr(algo, "kl_mode", "none") == "none":
        return None
    if phase.handoff.reference == "base":
        return Checkpoint(phase.model)
    if phase.handoff.reference == "phase_init" or plan is None:
        return init
    anchor = anchor_phase(plan, phase)
    if anchor.name == phase.name or init_of is None:
        return init
    return init_of(anchor)


def anchor_phase(plan: TrainingPlan, phase: Phase) -> Phase:
    """The phase whose start is ``phase``'s KL reference for ``stage_init`` (the first phase of its stage:
    ``levels`` split a stage into phases that share its ``stages``) and ``previous_init`` (the first phase
    of the stage before; the first stage, with none before it, anchors at its own start)."""
    at = next(i for i, p in enumerate(plan.phases) if p.name == phase.name)
    start = at
    while start > 0 and plan.phases[start - 1].stages == phase.stages:
        start -= 1
    if phase.handoff.reference == "previous_init" and start > 0:
        before = plan.phases[start - 1]
        start -= 1
        while start > 0 and plan.phases[start - 1].stages == before.stages:
            start -= 1
    return plan.phases[start]
