"""``python -m seethink_verl.ordered_sft OVERRIDES``: verl 0.9.1's SFT trainer, serving its data in file order.

``verl/trainer/sft_trainer.py`` builds its train loader with ``DistributedSampler(self.train_dataset,
shuffle=True, …)`` and no setting turns the shuffle off. This launcher runs that module's own ``main()``
(its Hydra composition of ``sft_trainer_engine.yaml``, ``run_sft``, the trainer) with one change: the
module's ``DistributedSampler`` name is a subclass that always passes ``shuffle=False``. With ``W``
data-parallel ranks, torch's sampler then gives rank ``r`` rows ``r, r+W, …``, so each global batch is the
next ``train_batch_size`` rows of the file: the runner's order. The patch checks what it relies on (the
name exists and is torch's sampler) and stops with a message otherwise, never training on another order.
"""

from __future__ import annotations

import sys
from typing import Any


class OrderPatchError(RuntimeError):
    pass


def ordered(sampler_cls: type) -> type:
    """``sampler_cls`` with ``shuffle`` forced off."""

    class OrderedDistributedSampler(sampler_cls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["shuffle"] = False
            super().__init__(*args, **kwargs)

    OrderedDistributedSampler.__qualname__ = f"Ordered{sampler_cls.__name__}"
    return OrderedDistributedSampler


def patch(module: Any) -> None:
    """Make ``module`` (``verl.trainer.sft_trainer``) build its train sampler without shuffling."""
    from torch.utils.data import DistributedSampler

    current = getattr(module, "DistributedSampler", None)
    if current is not DistributedSampler:
        raise OrderPatchError(f"{getattr(module, '__name__', module)} no longer uses torch's DistributedSampler "
                              f"(found {current!r}); seethink cannot keep the exported order with this verl")
    module.DistributedSampler = ordered(DistributedSampler)


def main() -> None:
    import verl.trainer.sft_trainer as sft_trainer

    try:
        patch(sft_trainer)
    except OrderPatchError as e:
        print(f"[seethink] {e}", file=sys.stderr)
        raise SystemExit(2) from None
    print("[seethink] verl's SFT loader keeps the exported order (DistributedSampler(shuffle=False))", flush=True)
    sft_trainer.main()


if __name__ == "__main__":
    main()
