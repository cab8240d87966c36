"""The policy-gradient loop (the RL method family), one phase; the supervised loop is in sft.py."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from seethink_core.errors import BackendError
from seethink_core.hooks.backend import PhaseContext
from seethink_core.run.faults import fault_point
from seethink_core.run.metrics import failure_metrics
from seethink_core.samples.images import ImageBounds
from seethink_core.samples.overlong import DROPPED_METRIC, dropped_note, fill_fitting
from seethink_core.types.methods import RLOptions
from seethink_core.types.plan import Phase
from seethink_core.types.sample import Sample
from seethink_local import algorithms as alg
from seethink_local import dynamic_sampling as ds
from seethink_local.resume import LoopState, PhaseCheckpoints
from seethink_local.rollout import PromptBatch, completion_logprobs, encode_prompts, generate
from seethink_local.session import Outcome, Session, clip_and_step, micro_rows, report_step


@dataclass
class RolloutBatch:
    """One rollout: prompts, completions and everything the updates need."""

    samples: list[Sample]
    prompts: PromptBatch
    tokens: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    advantages: torch.Tensor  # (N,) or (N, T)
    rewards: torch.Tensor
    components: dict[str, list[float | None]]
    old_logp: torch.Tensor | None  # None: one update per rollout, so the ratio is 1 (detached current)
    ref_logp: torch.Tensor | None
    gen_s: float
    failed: dict[str, list[int]] = field(default_factory=dict)  # reward -> rows it failed on


def _reference_logprobs(session: Session, batch: PromptBatch, tokens: torch.Tensor, mask: torch.Tensor,
                        group: int, micro: list[torch.Tensor]) -> torch.Tensor:
    out = torch.zeros_like(tokens, dtype=torch.float32)
    ref = session.reference
    with torch.no_grad(), session.packed(ref), session.amp():
        for rows in micro:
            if ref == "adapters":  # LoRA: the base model is the reference (no second copy)
                with session.model.disable_adapter():
                    lp, _ = completion_logprobs(session.model, batch, rows // group, tokens[rows], mask[rows],
                                                group=group)
            else:
                lp, _ = completion_logprobs(ref, batch, rows // group, tokens[rows], mask[rows], group=group)
            out[rows] = lp.float()
    return out


def _policy_logprobs(session: Session, batch: PromptBatch, tokens: torch.Tensor, mask: torch.Tensor,
                     group: int, micro: list[torch.Tensor]) -> torch.Tensor:
    """The current policy's per-token log-probs of the sampled completions, without gradients."""
    out = torch.zeros_like(tokens, dtype=torch.float32)
    with torch.no_grad(), session.packed(), session.amp():
        for rows in micro:
            lp, _ = completion_logprobs(session.model, batch, rows // group, tokens[rows], mask[rows], group=group)
            out[rows] = lp.float()
    return out


@dataclass
class Scored:
    """Prompts with their sampled completions and rewards, before anything the update needs."""

    samples: list[Sample]
    prompts: PromptBatch
    tokens: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    rewards: list[float]
    components: dict[str, list[float | None]]
    gen_s: float
    failed: dict[str, list[int]] = field(default_factory=dict)  # reward -> rows it failed on (RewardBatch.failed)


def _encode_rl(session: Session, phase: Phase, samples: list[Sample]) -> PromptBatch:
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    return encode_prompts(session.processor, samples, phase.prompt, max_prompt_tokens=algo.max_prompt_tokens,
                          device=session.device, image_bounds=ImageBounds.of(algo), system=phase.system)


@dataclass
class Drawn:
    """Prompts drawn for a rollout; with ``overlong_prompts: drop`` only those that fit."""

    samples: list[Sample]
    batch: PromptBatch | None  # their encoded prompts when measuring already made them, else None
    dropped: int = 0
    first_dropped_length: int = 0  # tokens of the first prompt dropped (for the phase's one note)


def draw_prompts(session: Session, phase: Phase, ctx: PhaseContext, n: int, step: int) -> Drawn:
    """``n`` prompts from the stream. With ``overlong_prompts: drop`` each is measured as the model is fed
    it (chat template, bounded images, the processor's image tokens) and one over ``max_prompt_tokens``
    is replaced by the next sample; otherwise this is the stream's batch, untouched."""
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    if algo.overlong_prompts != "drop":
        return Drawn(ctx.data.next_batch(n, step), None)
    encoded: list[PromptBatch] = []

    def measure(samples: list[Sample]) -> list[int]:
        # Untruncated, so a too-long prompt is measured whole (and one with images does not raise).
        batch = encode_prompts(session.processor, samples, phase.prompt, device=session.device,
                               image_bounds=ImageBounds.of(algo), system=phase.system)
        encoded.append(batch)
        return [int(v) for v in batch.attention_mask.sum(1).tolist()]

    fill = fill_fitting(lambda k: ctx.data.next_batch(k, step), n, measure, algo.max_prompt_tokens,
                        where=f"phase '{phase.name}'")
    # One measured draw that all fitted is exactly the batch to train on: no second processor pass.
    reuse = encoded[0] if fill.dropped == 0 and len(encoded) == 1 else None
    return Drawn(fill.items, reuse, fill.dropped, fill.lengths[0] if fill.lengths else 0)


def generate_and_score(session: Session, phase: Phase, ctx: PhaseContext, samples: list[Sample],
                       batch: PromptBatch | None = None) -> Scored:
    """Sample ``group`` completions per prompt and score them; ``batch``: the prompts already encoded."""
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    group = algo.group
    t0 = time.perf_counter()
    session.model.eval()
    if batch is None:
        batch = _encode_rl(session, phase, samples)
    with session.packed(), session.amp():
        ro = generate(session.model, batch, group=group, max_new_tokens=algo.max_response_tokens,
                      temperature=algo.temperature, top_p=algo.top_p, eos_ids=session.eos_ids(),
                      pad_id=session.pad_id(), generator=session.generator, cuda_graphs=session.options.cuda_graphs)
    gen_s = time.perf_counter() - t0
    texts = session.tokenizer.batch_decode(ro.tokens * ro.mask + session.pad_id() * (1 - ro.mask),
                                           skip_special_tokens=True)
    repeated = [s for s in samples for _ in range(group)]
    prompts_rep = [t for t in batch.texts for _ in range(group)]
    scored = ctx.reward(prompts_rep, texts, repeated, completion_tokens=ro.lengths.tolist(),
                        max_response_tokens=algo.max_response_tokens)
    return Scored(samples, batch, ro.tokens, ro.mask, texts, list(scored.total), scored.components, gen_s,
                  dict(getattr(scored, "failed", None) or {}))  # a RewardFunction of a plugin may not count


def finish_rollout(session: Session, phase: Phase, scored: Scored, steps_per_rollout: int) -> RolloutBatch:
    """Reference and old log-probs and the method's advantages for the batch that will be trained."""
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    group = algo.group
    batch, tokens, mask = scored.prompts, scored.tokens, scored.mask
    rewards = torch.tensor(scored.rewards, dtype=torch.float32, device=session.device)
    micro = micro_rows(len(scored.samples), group, session.options.micro_batch_size, algo.grad_accum)
    use_ref = session.reference is not None and algo.kl > 0 and algo.kl_mode != "none"
    ref_logp = _reference_logprobs(session, batch, tokens, mask, group, micro) if use_ref else None
    # Old log-probs only when the batch is trained on more than once (else the ratio is 1 by construction).
    old_logp = _policy_logprobs(session, batch, tokens, mask, group, micro) if steps_per_rollout > 1 else None
    kl_for_reward = None
    if ref_logp is not None and algo.kl_mode == "reward":
        behaviour = old_logp if old_logp is not None else _policy_logprobs(session, batch, tokens, mask, group, micro)
        kl_for_reward = alg.kl_estimate(behaviour, ref_logp, algo.kl_estimator) * mask
    adv = alg.advantages_for(phase.method, algo, rewards, mask, kl_for_reward)
    return RolloutBatch(scored.samples, batch, tokens, mask, scored.texts, adv, rewards, scored.components,
                        old_logp, ref_logp if algo.kl_mode == "loss" else None, scored.gen_s, scored.failed)


def _keep_groups(session: Session, phase: Phase, filled: ds.Filled[Scored]) -> Scored:
    """One Scored of the kept prompts of every part (prompts re-encoded, completions re-padded)."""
    parts, keep = filled.parts, filled.keep
    if len(parts) == 1 and keep[0] == list(range(len(parts[0].samples))):
        return parts[0]
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    group, pad = algo.group, session.pad_id()
    samples = [p.samples[i] for p, idx in zip(parts, keep) for i in idx]
    rows = [(p, i * group + j) for p, idx in zip(parts, keep) for i in idx for j in range(group)]
    width = max(max(p.tokens.shape[1] for p in parts), 1)
    tokens = torch.full((len(rows), width), pad, dtype=torch.long, device=session.device)
    mask = torch.zeros((len(rows), width), dtype=parts[0].mask.dtype, device=session.device)
    for r, (p, i) in enumerate(rows):
        tokens[r, :p.tokens.shape[1]] = p.tokens[i]
        mask[r, :p.mask.shape[1]] = p.mask[i]
    components = {name: [p.components[name][i] for p, i in rows] for name in parts[0].components}
    bad = {(id(p), name, i) for p in parts for name, rows_failed in p.failed.items() for i in rows_failed}
    failed = {name: [r for r, (p, i) in enumerate(rows) if (id(p), name, i) in bad] for name in parts[0].components}
    batch = _encode_rl(session, phase, samples)
    return Scored(samples, batch, tokens, mask, [p.texts[i] for p, i in rows], [p.rewards[i] for p, i in rows],
                  components, sum(p.gen_s for p in parts), {k: v for k, v in failed.items() if v})


def _filter_groups(session: Session, phase: Phase, ctx: PhaseContext, first: Scored,
                   draw: Callable[[int], list[Sample]]) -> tuple[Scored | None, int, dict[str, float]]:
    """Dynamic sampling: (the kept batch or None when no group has spread, extra prompts drawn, metrics)."""
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    filled = ds.fill_batch(first, len(first.samples), algo.group, lambda s: s.rewards, draw,
                           lambda samples: generate_and_score(session, phase, ctx, samples))
    kept = _keep_groups(session, phase, filled) if filled.size else None
    return kept, filled.extra, filled.metrics(len(first.samples))


EMPTY_ROLLOUTS_LIMIT = 4  # consecutive rollouts in which no group had spread, then stop with an error


@dataclass
class OverlongDrops:
    """Prompts the phase dropped as overlong: a running total (carried across a resume) and one note."""

    total: int = 0
    noted: bool = False

    def count(self, drawn: Drawn, phase: Phase) -> Drawn:
        if drawn.dropped and not self.noted:
            algo: RLOptions = phase.algorithm  # type: ignore[assignment]
            # Backends note on stderr (as the memory estimate does); the progress bar prints it above itself.
            print(f"[local] {dropped_note(f'phase {phase.name}', algo.max_prompt_tokens, drawn.first_dropped_length)}",
                  file=sys.stderr)
            self.noted = True
        self.total += drawn.dropped
        return drawn


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def run_rl(session: Session, phase: Phase, ctx: PhaseContext, params: list, opt: Any, sched: Any,
           ckpt: PhaseCheckpoints) -> Outcome:
    algo: RLOptions = phase.algorithm  # type: ignore[assignment]
    group = algo.group
    if algo.dynamic_sampling and group < 2:
        raise BackendError(f"phase '{phase.name}': dynamic sampling needs group >= 2 (a group of one "
                           "never has reward spread)", hint="raise group, or set dynamic_sampling: false")
    loop = ckpt.start()
    step, seen, stopped, metrics = loop.step, loop.samples_seen, "budget", loop.metrics
    empty = int(loop.extra.get("empty_rollouts", 0))
    dropping = algo.overlong_prompts == "drop"
    drops = OverlongDrops(int(loop.extra.get("dropped_overlong", 0)))
    while step < ctx.total_steps and stopped == "budget":
        # The drop count joins the loop state only when dropping: a default phase's checkpoints are unchanged.
        state = {"empty_rollouts": empty, **({"dropped_overlong": drops.total} if dropping else {})}
        ckpt.maybe_save(LoopState(step, seen, metrics, state))
        left = ctx.total_steps - step
        steps_per_epoch_max = max(1, math.ceil(left / algo.update_epochs))
        n_prompts = min(algo.rollout_batch_size, steps_per_epoch_max * algo.batch_size)
        drawn = drops.count(draw_prompts(session, phase, ctx, n_prompts, step), phase)
        samples = drawn.samples
        if not samples:
            stopped = "data"
            break
        seen += len(samples)  # prompts trained on: a dropped one never reaches the model
        scored: Scored | None = generate_and_score(session, phase, ctx, samples, drawn.batch)
        rollout_metrics: dict[str, float] = {}
        if algo.dynamic_sampling:
            scored, extra, rollout_metrics = _filter_groups(
                session, phase, ctx, scored,
                lambda k, at=step: drops.count(draw_prompts(session, phase, ctx, k, at), phase).samples)
            seen += extra
            empty = empty + 1 if scored is None else 0
            if scored is None:
                _check_empty(phase, empty, extra + len(samples))
                continue
        fault_point("after_rollout", step + 1)  # scored; no update from it yet
        minibatches = math.ceil(len(scored.samples) / algo.batch_size)
        steps_here = min(left, minibatches * algo.update_epochs)
        ro = finish_rollout(session, phase, scored, steps_here)
        session.model.train()
        first_of_rollout = True
        for _epoch in range(algo.update_epochs):
            for mb in range(minibatches):
                if step >= ctx.total_steps:
                    break
                t0 = time.perf_counter()
                parts = _update(session, algo, ro, mb, params, opt, sched, step + 1)
                step += 1
                dt = time.perf_counter() - t0 + (ro.gen_s if first_of_rollout else 0.0)
                metrics = _rl_metrics(ro, mb, algo, parts, seen, dt, sched, first_of_rollout)
                metrics.update(rollout_metrics)
                if dropping:
                    metrics[DROPPED_METRIC] = float(drops.total)
                first_of_rollout = False
                report_step(ctx, session, step, metrics)
                dump_every = session.options.rollout_dump_every
                if dump_every and (step % dump_every == 0 or step == 1) and mb == 0:
                    ctx.dump_rollouts(step, _dump_rows(ro, group, session.options.rollout_dump_rows))
                reason = ckpt.stop(step, metrics)
                if reason:
                    stopped = reason
                    break
            if stopped != "budget" or step >= ctx.total_steps:
                break
    return Outcome(step, seen, stopped, metrics)


def _check_empty(phase: Phase, empty: int, drawn: int) -> None:
    """Stop a phase in which dynamic sampling keeps finding nothing to learn from."""
    if empty >= EMPTY_ROLLOUTS_LIMIT:
        raise BackendError(f"phase '{phase.name}': dynamic sampling found no prompt whose completions differ in "
                           f"reward in {empty} rollouts in a row ({drawn} prompts in the last one); every group "
                           "had the same reward, so there is nothing to learn from",
                           hint="the data is too easy or too hard for the model; check the rewards with "
                                "`seethink preflight`, or set dynamic_sampling: false")


def _update(session: Session, algo: RLOptions, ro: RolloutBatch, mb: int, params: list, opt: Any, sched: Any,
            step: int) -> dict[str, float]:
    group = algo.group
    n_prompts = len(ro.samples)
    lo, hi = mb * algo.batch_size, min(n_prompts, (mb + 1) * algo.batch_size)
    rows_all = torch.arange(lo * group, hi * group)
    n_rows = rows_all.numel()
    tokens_total = float(ro.mask[rows_all].sum())
    sums = {"loss": 0.0, "policy_loss": 0.0, "kl": 0.0, "clip_frac": 0.0, "entropy": 0.0}
    with session.packed():  # the weights change at the optimizer step, after every micro-batch
        for local in micro_rows(hi - lo, group, session.options.micro_batch_size, algo.grad_accum):
            _micro_update(session, algo, ro, rows_all[local], n_rows, tokens_total, sums)
    sums["lr"] = sched.get_last_lr()[0]
    sums["grad_norm"] = clip_and_step(session, opt, sched, params, algo.max_grad_norm, step)
    return sums


def _micro_update(session: Session, algo: RLOptions, ro: RolloutBatch, rows: torch.Tensor, n_rows: int,
                  tokens_total: float, sums: dict[str, float]) -> None:
    """One micro-batch's forward and backward, its share of the minibatch's metrics added to ``sums``."""
    group = algo.group
    mask = ro.mask[rows]
    with session.amp():
        logp, ent = completion_logprobs(session.model, ro.prompts, rows // group, ro.tokens[rows], mask,
                                        group=group, with_entropy=True)
    logp = logp.float()
    old = ro.old_logp[rows] if ro.old_logp is not None else logp.detach()
    ref = ro.ref_logp[rows] if ro.ref_logp is not None else None
    parts = alg.policy_loss(logp, old, ro.advantages[rows], mask, clip_low=algo.clip_low,
                            clip_high=algo.clip_high, agg=algo.loss_agg, max_len=algo.max_response_tokens,
                            ref_logp=ref, kl_coef=algo.kl if ref is not None else 0.0,
                            kl_estimator=algo.kl_estimator, dual_clip=algo.dual_clip)
    # Each micro-batch's share of the minibatch loss, so accumulation equals one big batch.
    tokens_here = float(mask.sum())
    weight = tokens_here / max(tokens_total, 1.0) if algo.loss_agg == "token_mean" else rows.numel() / n_rows
    (parts.loss * weight).backward()
    sums["loss"] += float(parts.loss.detach()) * weight
    sums["policy_loss"] += float(parts.policy_loss) * weight
    tok_w = tokens_here / max(tokens_total, 1.0)
    sums["kl"] += float(parts.kl) * tok_w
    sums["clip_frac"] += float(parts.clip_frac) * tok_w
    if parts.dual_clip_frac is not None:
        sums["dual_clip_frac"] = sums.get("dual_clip_frac", 0.0) + float(parts.dual_clip_frac) * tok_w
    sums["entropy"] += float((ent * mask).sum()) / max(tokens_total, 1.0)


def _rl_metrics(ro: RolloutBatch, mb: int, algo: RLOptions, parts: dict[str, float], seen: int, dt: float,
                sched: Any, first: bool) -> dict[str, float]:
    group = algo.group
    lo, hi = mb * algo.batch_size * group, min(len(ro.samples), (mb + 1) * algo.batch_size) * group
    m: dict[str, float] = dict(parts)
    m["reward.total"] = float(ro.rewards[lo:hi].mean())
    for name, values in ro.components.items():
        v = _mean(values[lo:hi])
        if v is not None:
            m[f"reward.{name}"] = v
    m.update(failure_metrics(ro.components, ro.failed, lo, hi))
    lengths = ro.mask[lo:hi].sum(1).float()
    m["response_length.mean"] = float(lengths.mean())
    m["response_length.clip_ratio"] = float((lengths >= algo.max_response_tokens).float().mean())
    m["samples_seen"] = float(seen)
    m["time.step_s"] = dt
    m["tokens_per_s"] = float(ro.mask[lo:hi].sum() + ro.prompts.attention_mask[lo // group:hi // group].sum()
                              * group) / max(dt, 1e-9)
    if first:
        m["time.rollout_s"] = ro.gen_s
        m["rollout.tokens_per_s"] = float(ro.mask.sum()) / max(ro.gen_s, 1e-9)
    return m


def _dump_rows(ro: RolloutBatch, group: int, limit: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(min(limit, len(ro.texts))):
        s = ro.samples[i // group]
        row: dict[str, Any] = {"id": s.id, "prompt": s.prompt, "completion": ro.texts[i], "answer": s.answer,
                               "reward.total": float(ro.rewards[i])}
        for name, values in ro.components.items():
            row[f"reward.{name}"] = values[i]
        rows.append(row)
    return rows

