"""What both training loops share: the session (policy, processor, device), the optimizer and its
step, micro-batching, per-step reporting and in-phase snapshots."""

from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from seethink_core.hooks.backend import PhaseContext
from seethink_core.run.faults import fault_point
from seethink_local import cpu_packing
from seethink_local.options import LocalOptions
from seethink_local.rollout import base_model


@dataclass
class Session:
    """What both loops need: the policy, its processor, where it runs, and the phase's options."""

    model: Any
    processor: Any
    device: torch.device
    options: LocalOptions
    autocast: torch.dtype | None
    reference: Any | None = None  # a frozen model, or "adapters" (LoRA: the base with adapters off)
    generator: torch.Generator | None = None

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)

    def eos_ids(self) -> list[int]:
        ids = {self.tokenizer.eos_token_id}
        gen_eos = getattr(getattr(base_model(self.model), "generation_config", None), "eos_token_id", None)
        if isinstance(gen_eos, int):
            ids.add(gen_eos)
        elif gen_eos:
            ids.update(gen_eos)
        return sorted(i for i in ids if i is not None)

    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    def amp(self) -> contextlib.AbstractContextManager:
        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast)

    def packed(self, *models: Any) -> contextlib.AbstractContextManager:
        """A stretch in which the policy's (and ``models``') weights do not change, computed on the CPU
        through packed copies of the linear weights (cpu_packing); nothing elsewhere, under autocast, or
        with activation checkpointing (whose recomputed forwards run in the backward, outside)."""
        if self.device.type != "cpu" or self.autocast is not None or self.options.gradient_checkpointing:
            return contextlib.nullcontext(False)
        return cpu_packing.packed_linears(self.model, *models)


@dataclass
class Outcome:
    steps: int
    samples_seen: int
    stopped_by: str
    metrics: dict[str, float] = field(default_factory=dict)


def make_optimizer(params: list[torch.nn.Parameter], algo: Any, total_steps: int
                   ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    # The fused kernel (TRL's default optimizer, adamw_torch_fused) updates each tensor in one pass
    # instead of a dozen elementwise ops with their temporaries: faster, and less peak memory.
    fused = bool(params) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    opt = torch.optim.AdamW(params, lr=algo.lr, weight_decay=algo.weight_decay,
                            betas=(algo.adam_beta1, algo.adam_beta2), fused=fused or None)

    def factor(step: int) -> float:
        if algo.warmup_steps and step < algo.warmup_steps:
            return (step + 1) / algo.warmup_steps
        span = max(1, total_steps - algo.warmup_steps)
        frac = min(1.0, (step - algo.warmup_steps) / span)
        if algo.schedule == "linear":
            return 1.0 - frac
        if algo.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * frac))
        return 1.0

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def clip_and_step(session: Session, opt: torch.optim.Optimizer, sched: Any, params: list, max_norm: float,
                   step: int) -> float:
    """Clip and apply the accumulated gradients of optimizer step ``step`` (1-based, as logged)."""
    fault_point("mid_update", step)  # gradients exist, the weights are not updated yet
    if max_norm > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    else:
        norm = torch.sqrt(sum((p.grad.float() ** 2).sum() for p in params if p.grad is not None))
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return float(norm)


def micro_rows(n_prompts: int, group: int, micro_batch_size: int, grad_accum: int) -> list[torch.Tensor]:
    """Row indices of each micro-batch, whole groups only (a group shares its prompt's image features)."""
    per = n_prompts
    if micro_batch_size:
        per = min(per, max(1, micro_batch_size // group))
    per = min(per, max(1, math.ceil(n_prompts / grad_accum)))
    out = []
    for start in range(0, n_prompts, per):
        prompts = torch.arange(start, min(n_prompts, start + per))
        out.append((prompts[:, None] * group + torch.arange(group)[None, :]).reshape(-1))
    return out


def report_step(ctx: PhaseContext, session: Session, step: int, metrics: dict[str, float]) -> None:
    if step % session.options.log_every == 0 or step == ctx.total_steps:
        ctx.log(step, metrics)
    ctx.progress(step, metrics)
    if ctx.evaluate is not None:
        ctx.evaluate(step, lambda folder: save_snapshot(session, folder))


def save_snapshot(session: Session, folder: Path) -> None:
    """The current policy as a Hugging Face folder, for an in-phase evaluation. The training model is
    left as it is: with LoRA a copy is merged (merging in place would end the adapters' training)."""
    model = session.model
    if session.options.lora_rank:
        model = copy.deepcopy(model).merge_and_unload()
    was_training = model.training
    model.save_pretrained(folder)
    session.processor.save_pretrained(folder)
    model.train(was_training)
