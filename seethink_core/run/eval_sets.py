"""Reading a plan's eval sets: which seed they are drawn with, what they are called, and their
first samples in the source's own order."""

from __future__ import annotations

import sys

from seethink_core.errors import SeethinkError
from seethink_core.hooks.registry import Registry
from seethink_core.run.eval_types import EvalError
from seethink_core.types.plan import DataRef, TrainingPlan
from seethink_core.types.sample import Sample

# Eval sets are drawn with the plan seed plus this offset, so a generated source (the synthetic
# world) used for both training (phase seed) and evaluation gives different items, and every row
# of the phase × capability matrix scores the same items.
EVAL_SEED_OFFSET = 7919


def eval_seed(plan: TrainingPlan | None) -> int:
    return (plan.seed if plan is not None else 0) + EVAL_SEED_OFFSET



def set_label(ref: DataRef) -> str:
    """The name an eval set is reported under (``DataRef.label``)."""
    return ref.label


def load_eval_samples(ref: DataRef, registry: Registry, *, seed: int, max_samples: int | None) -> list[Sample]:
    """The first ``max_samples`` samples of one eval set, in the source's own order (no shuffling,
    so every evaluation of a run scores the same items)."""
    from seethink_core.run.sources import open_source  # the runner's way to open a source, options checked

    source = open_source(ref, registry, seed=seed)
    out: list[Sample] = []
    try:
        for sample in source:
            if max_samples is not None and len(out) >= max_samples:
                break
            if sample.capability is None and ref.capability is not None:
                sample.capability = ref.capability
            out.append(sample)
    except SeethinkError:
        raise
    except Exception as e:
        raise EvalError(f"eval set '{set_label(ref)}' failed while reading: {type(e).__name__}: {e}") from None
    else:
        from seethink_core.run.sources import skip_note

        # A skipped eval record changes what the accuracy is out of: say so (known after a whole pass).
        note = skip_note(set_label(ref), source)
        if note:
            print(f"eval set '{set_label(ref)}': {note}", file=sys.stderr, flush=True)
    if not out:
        raise EvalError(f"eval set '{set_label(ref)}' has no samples")
    return out

