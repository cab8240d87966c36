"""The supervised loop (SFT): one phase of teacher-forced targets (answers, facts or reasoned answers)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from seethink_core.hooks.backend import PhaseContext
from seethink_core.samples.images import ImageBounds
from seethink_core.samples.targets import sft_target
from seethink_core.types.methods import SFTOptions
from seethink_core.types.plan import Phase
from seethink_core.types.sample import Sample
from seethink_local.resume import LoopState, PhaseCheckpoints
from seethink_local.rollout import completion_logprobs, encode_prompts
from seethink_local.session import Outcome, Session, clip_and_step, micro_rows, report_step


def encode_targets(session: Session, texts: Sequence[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    tok = session.tokenizer
    eos = session.eos_ids()[0] if session.tokenizer.eos_token_id is None else session.tokenizer.eos_token_id
    rows = [tok(t, add_special_tokens=False)["input_ids"][: max_tokens - 1] + [eos] for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), session.pad_id(), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids.to(session.device), mask.to(session.device)


def run_sft(session: Session, phase: Phase, ctx: PhaseContext, params: list, opt: Any, sched: Any,
            ckpt: PhaseCheckpoints) -> Outcome:
    algo: SFTOptions = phase.algorithm  # type: ignore[assignment]
    loop = ckpt.start()
    seen, step, stopped = loop.samples_seen, loop.step, "budget"
    metrics: dict[str, float] = loop.metrics
    session.model.train()
    while step < ctx.total_steps:
        ckpt.maybe_save(LoopState(step, seen, metrics))
        t0 = time.perf_counter()
        samples = ctx.data.next_batch(algo.batch_size, step)
        if not samples:
            stopped = "data"
            break
        caption = algo.target == "facts"
        # A caption target asks its own question: the phase's prompt and system prompt are for answers.
        template, system = (None, None) if caption else (phase.prompt, phase.system)
        asked = [Sample(s.id, algo.caption_prompt, s.images) if caption else s for s in samples]
        batch = encode_prompts(session.processor, asked, template, device=session.device,
                               image_bounds=ImageBounds.of(algo), system=system)
        targets, tmask = encode_targets(session, [sft_target(s, algo.target) for s in samples], algo.max_tokens)
        total_tokens = float(tmask.sum())
        loss_sum = 0.0
        with session.packed():  # the weights change at the optimizer step, after every micro-batch
            for rows in micro_rows(batch.size, 1, session.options.micro_batch_size, algo.grad_accum):
                with session.amp():
                    logp, _ = completion_logprobs(session.model, batch, rows, targets[rows], tmask[rows], group=1)
                loss = -(logp * tmask[rows]).sum() / total_tokens
                loss.backward()
                loss_sum += float(loss.detach())
        lr = sched.get_last_lr()[0]
        norm = clip_and_step(session, opt, sched, params, algo.max_grad_norm, step + 1)
        step += 1
        seen += len(samples)
        dt = time.perf_counter() - t0
        metrics = {"loss": loss_sum, "grad_norm": norm, "lr": lr, "samples_seen": float(seen),
                   "time.step_s": dt, "tokens_per_s": float(batch.attention_mask.sum() + total_tokens) / dt}
        report_step(ctx, session, step, metrics)
        reason = ckpt.stop(step, metrics)
        if reason:
            stopped = reason
            break
    return Outcome(step, seen, stopped, metrics)
