"""In-phase checkpoints of the local training loops: write everything a step depends on, read it back.

A checkpoint is taken at a rollout boundary (the top of a loop iteration, before the next batch is
drawn), so the resumed process continues on exactly the code path the uninterrupted one took. It
holds the trainable parameters (all of them, or the LoRA adapters), the optimizer, the LR
scheduler, the data stream's position, every random generator (Python, NumPy, torch CPU and CUDA,
the sampling generator) and what the loop carries (step, samples seen, last metrics, the
transition monitor's smoothing window). Atomicity, validation and retention are
``seethink_core.run.checkpointing``'s job.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from seethink_core.errors import BackendError
from seethink_core.hooks.backend import PhaseContext
from seethink_core.run.checkpointing import discard_after, save_checkpoint
from seethink_core.types.plan import Phase, Transition

WEIGHTS = "trainable.safetensors"
OPTIMIZER = "optimizer.pt"
TENSORS = "state.pt"  # scheduler and the torch generators
LOOP = "loop.json"  # step, counters, metrics, Python/NumPy RNG, smoothing window
DATA = "data.json"  # the sample stream's state


@dataclass
class LoopState:
    """What a training loop carries from one step to the next, besides the model and optimizer."""

    step: int = 0
    samples_seen: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # loop-specific counters (e.g. dynamic sampling)


class StopCheck:
    """``ctx.should_stop`` plus a copy of the smoothing window it keeps.

    The runner's transition monitor averages each watched metric over its last ``window`` values.
    A resumed process gets a fresh monitor, so the window is saved here and replayed into it.
    """

    def __init__(self, should_stop: Callable[[int, dict[str, float]], str | None], transition: Transition | None):
        self._check = should_stop
        window = max(1, transition.window) if transition else 1
        names = [c.metric for c in transition.any_of] if transition else []
        self._history: dict[str, deque[float]] = {n: deque(maxlen=window) for n in names}

    def __call__(self, step: int, metrics: dict[str, float]) -> str | None:
        for name, hist in self._history.items():
            v = metrics.get(name)
            if isinstance(v, (int, float)) and v == v:  # the monitor skips None and NaN too
                hist.append(float(v))
        return self._check(step, metrics)

    def state_dict(self) -> dict[str, list[float]]:
        return {name: list(hist) for name, hist in self._history.items()}

    def load_state_dict(self, state: dict[str, list[float]]) -> None:
        # Step 0 is below any min_steps the monitor could ask for only if min_steps > 0; either way
        # the answer is ignored: the uninterrupted run did not stop at these steps.
        for name, values in state.items():
            for v in values:
                self(0, {name: v})


def capture_rng(generator: torch.Generator | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generator states: (JSON-able part, tensor part)."""
    plain: dict[str, Any] = {"python": _to_json(random.getstate())}
    tensors: dict[str, Any] = {"torch": torch.get_rng_state()}
    try:
        import numpy as np

        kind, keys, pos, has_gauss, cached = np.random.get_state()
        plain["numpy"] = [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]
    except ImportError:
        pass
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        tensors["sampler"] = generator.get_state()
    return plain, tensors


def restore_rng(plain: dict[str, Any], tensors: dict[str, Any], generator: torch.Generator | None) -> None:
    random.setstate(_to_tuple(plain["python"]))
    torch.set_rng_state(tensors["torch"])
    if "numpy" in plain:
        import numpy as np

        kind, keys, pos, has_gauss, cached = plain["numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    if "cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(tensors["cuda"])
    if generator is not None and "sampler" in tensors:
        generator.set_state(tensors["sampler"])


def _to_json(obj: Any) -> Any:
    return [_to_json(o) for o in obj] if isinstance(obj, (tuple, list)) else obj


def _to_tuple(obj: Any) -> Any:
    return tuple(_to_tuple(o) for o in obj) if isinstance(obj, list) else obj


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters the optimizer changes (full fine-tuning: all unfrozen ones; LoRA: the adapters).

    Frozen parameters equal the phase's init checkpoint, which the resumed process loads anyway.
    """
    return {n: p.detach().to("cpu").contiguous() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable(model: torch.nn.Module, state: dict[str, torch.Tensor], where: Path) -> None:
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if set(params) != set(state):
        missing, extra = sorted(set(params) - set(state)), sorted(set(state) - set(params))
        raise BackendError(f"the checkpoint in {where} does not fit this phase's trainable parameters "
                           f"(missing {missing[:3]}, unexpected {extra[:3]})",
                           hint="it was written with other freeze or LoRA settings; run with --from-phase "
                                "to start the phase again")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(state[name].to(p.device, p.dtype))


@dataclass
class PhaseCheckpoints:
    """Writes a checkpoint every ``every`` steps at loop boundaries and restores the newest one."""

    ctx: PhaseContext
    phase: Phase
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    generator: torch.Generator | None
    every: int
    keep: int
    stop: StopCheck
    last_saved: int = 0

    @property
    def enabled(self) -> bool:
        return self.every > 0 and self.ctx.resume_dir is not None

    def maybe_save(self, loop: LoopState) -> None:
        """At a rollout boundary: write a checkpoint when ``every`` steps have passed since the last."""
        if not self.enabled or loop.step < self.last_saved + self.every:
            return
        self.save(loop)

    def save(self, loop: LoopState) -> Path:
        assert self.ctx.resume_dir is not None
        plain_rng, tensor_rng = capture_rng(self.generator)
        data_state = self.ctx.data.state_dict()

        def write(folder: Path) -> None:
            from safetensors.torch import save_file

            save_file(trainable_state(self.model), str(folder / WEIGHTS))
            torch.save(self.optimizer.state_dict(), folder / OPTIMIZER)
            torch.save({"scheduler": self.scheduler.state_dict(), "rng": tensor_rng}, folder / TENSORS)
            loop_json = {"step": loop.step, "samples_seen": loop.samples_seen, "metrics": loop.metrics,
                         "extra": loop.extra, "rng": plain_rng, "stop": self.stop.state_dict()}
            (folder / LOOP).write_text(json.dumps(loop_json))
            (folder / DATA).write_text(json.dumps(data_state))

        meta = {"plan_hash": self.ctx.plan.hash(), "phase": self.phase.name, "method": self.phase.method,
                "samples_seen": loop.samples_seen}
        path = save_checkpoint(self.ctx.resume_dir, loop.step, write, meta=meta, keep=self.keep)
        self.last_saved = loop.step
        return path

    def start(self) -> LoopState:
        """The loop state to begin with: restored from ``ctx.resume_from``, or fresh."""
        if self.ctx.resume_from is None:
            if self.ctx.resume_dir is not None:
                discard_after(self.ctx.resume_dir, -1)  # leftovers of an attempt that left nothing usable
            return LoopState()
        return self.restore(self.ctx.resume_from)

    def restore(self, folder: Path) -> LoopState:
        from safetensors.torch import load_file

        try:
            load_trainable(self.model, load_file(str(folder / WEIGHTS)), folder)
            self.optimizer.load_state_dict(torch.load(folder / OPTIMIZER, map_location="cpu", weights_only=True))
            tensors = torch.load(folder / TENSORS, map_location="cpu", weights_only=True)
            self.scheduler.load_state_dict(tensors["scheduler"])
            loop_json = json.loads((folder / LOOP).read_text())
            self.ctx.data.load_state_dict(json.loads((folder / DATA).read_text()))
        except (OSError, ValueError, RuntimeError, KeyError) as e:
            raise BackendError(f"cannot resume phase '{self.phase.name}' from {folder}: {type(e).__name__}: {e}",
                               hint="delete that folder to fall back to the previous checkpoint, or run "
                                    "with --from-phase to start the phase again") from None
        self.stop.load_state_dict(loop_json["stop"])
        restore_rng(loop_json["rng"], tensors["rng"], self.generator)
        self.last_saved = int(loop_json["step"])
        return LoopState(int(loop_json["step"]), int(loop_json["samples_seen"]), dict(loop_json["metrics"]),
                         dict(loop_json["extra"]))
