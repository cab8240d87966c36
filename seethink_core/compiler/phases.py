"""Resolved stage specs → the plan's phases: levels split, each phase checked whole, numbered and chained
(``init_from``)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from seethink_core.compiler.diagnostics import Diags
from seethink_core.compiler.resolve import StageSpec
from seethink_core.errors import Diagnostic
from seethink_core.types import plan as P
from seethink_core.types.methods import is_rl


def expand_levels(specs: list[StageSpec], diags: Diags) -> list[StageSpec]:
    out = []
    for s in specs:
        if not s.levels:
            out.append(s)
            continue
        d = s.difficulty
        for level, lo, hi in s.levels:
            lo2, hi2 = max(lo, d.min), min(hi, d.max)
            if lo2 > hi2:
                diags.error(f"level '{level}' ({lo:g}..{hi:g}) lies outside the difficulty range "
                            f"{d.min:g}..{d.max:g}", s.where.get("levels", s.pos))
                continue
            out.append(replace(s, name=f"{s.name}.{level}",
                               difficulty=replace(d, min=lo2, max=hi2, level=level)))
    return out


def make_phases(specs: list[StageSpec], plan_model: str | None, plan_seed: int, diags: Diags) -> list[P.Phase]:
    from seethink_core.compiler.replay import replay_of  # it checks columns with this module's check

    phases: list[P.Phase] = []
    for index, s in enumerate(specs):
        what = f"stage '{s.name}'" if len(s.stages) == 1 else f"merge '{s.name}'"
        ok = True
        if s.budget is None and "budget" not in s.where:
            diags.error(f"{what} has no budget", s.pos, hint="give one: steps N, epochs N or samples N")
            ok = False
        if not s.data and "data" not in s.where:
            diags.error(f"{what} has no data", s.pos, hint="add a line: data SOURCE weight W")
            ok = False
        if s.model is None and plan_model is None and "model" not in s.where:
            diags.error(f"{what} has no model", s.pos, hint='set one at curriculum level: model "NAME"')
            ok = False
        if is_rl(s.method) and not s.rewards and "reward" not in s.where:
            diags.error(f"{what} trains with {s.method} but has no reward", s.pos,
                        hint="add one: reward NAME weight W")
            ok = False
        check_columns(s, diags)
        check_weights(s, diags)
        check_lengths(s, what, diags)
        if s.eval is not None and not s.eval.sets and "eval_every" in s.where and "eval" not in s.where:
            diags.error(f"{what} sets an eval cadence but has no eval set", s.where["eval_every"],
                        hint="name the eval sets, here or at curriculum level: eval SET every N steps")
            ok = False
        if s.mixture == "blocks" and s.difficulty.pacing is not None:
            # Pacing admits the easy end of the whole range first; blocks each run their own range.
            diags.error(f"{what}: pacing cannot apply to 'mix blocks' (each block runs easy → hard on its own)",
                        s.where.get("pacing", s.where.get("mix", s.pos)),
                        hint="drop the pacing, or mix interleave")
            ok = False
        if not ok or diags or s.algorithm is None or s.budget is None:
            continue
        if index == 0 or s.handoff.init == "base":
            init_from = "base"
        else:
            init_from = phases[-1].name if phases else specs[index - 1].name
        model = s.model or plan_model or ""
        if s.model and plan_model and s.model != plan_model and init_from != "base":
            diags.error(f"{what} uses its own model '{s.model}' but starts from phase '{init_from}'",
                        s.where.get("model", s.pos), hint="start it from that model: handoff init: base")
            continue
        copied = {f: _copy(getattr(s, f)) for f in _COPIED}
        phases.append(P.Phase(
            index=len(phases), name=s.name, model=model, init_from=init_from, data=[d.ref for d in s.data],
            rewards=[r for r, _, _ in s.rewards], eval=final_eval(s),
            seed=s.seed if s.seed is not None else plan_seed, replay=replay_of(s, index, specs, diags), **copied))
    return phases


# The phase's fields made here; every other field the stage spec has too is copied as it is (so a new
# statement's field, declared in dsl/statements.py, needs no line here). The backend is set per group.
_MADE = frozenset({"index", "name", "model", "init_from", "data", "rewards", "eval", "seed", "backend", "replay"})
_COPIED = tuple(f.name for f in fields(P.Phase)
                if f.name not in _MADE and f.name in {g.name for g in fields(StageSpec)})


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def final_eval(s: StageSpec) -> P.EvalSpec | None:
    """The phase's eval spec with the prompt and system prompt evaluation uses: those its settings
    name, else the phase's own (decided here, after merges, so a merge block's prompt counts)."""
    if s.eval is None:
        return None
    return replace(s.eval, prompt=s.eval_text.get("prompt", s.prompt), system=s.eval_text.get("system", s.system))


def check_columns(s: StageSpec, diags: Diags) -> None:
    """Every reward's needed columns must be provided by every data source of its phase."""
    for ref, needs, pos in s.rewards:
        for item in s.data:
            missing = sorted(needs - item.columns)
            if missing:
                cols = ", ".join(f"'{m}'" for m in missing)
                diags.error(f"reward '{ref.name}' needs column{'s' if len(missing) > 1 else ''} {cols}, which "
                            f"{item.label} does not provide", pos,
                            hint=f"{item.label} (at {item.pos.file}:{item.pos.line}) provides "
                                 f"{', '.join(sorted(item.columns))}")


# A share of the total weight below this is lost: float32 (the reward's precision) keeps about 7 digits,
# and a data line drawn once in a million samples is never drawn in a run of this size.
NEGLIGIBLE_SHARE = 1e-6


def check_weights(s: StageSpec, diags: Diags) -> None:
    """Data and reward weights are relative: their sum must be finite, and no line a rounding error."""
    data = [(d.ref.weight, d.pos, d.label) for d in s.data]
    rewards = [(r.weight, pos, f"reward '{r.name}'") for r, _, pos in s.rewards]
    for kind, items in (("data", data), ("reward", rewards)):
        total = 0.0
        for weight, pos, _ in items:
            total += weight
            if total == float("inf"):  # each weight is positive and finite (ResolverCore.number)
                diags.error(f"the {kind} weights add up to more than the largest number (about 1.8e308)", pos,
                            hint="weights are relative (a line's share is its weight over their sum): scale them "
                                 "all down, e.g. 1e308 and 1e308 to 1 and 1")
                break
        else:
            for weight, pos, label in items:
                if len(items) > 1 and weight / total < NEGLIGIBLE_SHARE:
                    diags.add(Diagnostic(
                        f"{label} has weight {weight:g}, {weight / total:.1g} of the {kind} weights: it has "
                        "next to no effect", pos,
                        "weights are relative: raise its weight or drop the line", severity="warning"))


def check_lengths(s: StageSpec, what: str, diags: Diags) -> None:
    """Settings counted in steps must fit in the phase, when its step count is known (``steps N``)."""
    steps = s.budget.steps if s.budget is not None else None
    if steps is None:
        return
    warmup = s.algorithm.warmup_steps if s.algorithm is not None else 0
    if warmup >= steps:
        diags.error(f"{what}: warmup_steps {warmup} is not shorter than the phase ({steps} steps)",
                    s.where.get("algorithm.warmup_steps", s.where.get("algorithm", s.pos)),
                    hint="the learning rate rises from 0 over warmup_steps, so it would never reach lr; lower "
                         "warmup_steps or raise the budget")
    t = s.transition
    if t is not None and "until.window" in s.where and t.window > steps:
        diags.error(f"{what}: until window {t.window} is longer than the phase ({steps} steps)",
                    s.where["until.window"],
                    hint="a condition is tested on the mean of the last window steps, so it could never be "
                         "tested; lower window")
    if t is not None and "until.min_steps" in s.where and t.min_steps >= steps:
        diags.error(f"{what}: until min_steps {t.min_steps} is not below the phase's {steps} steps",
                    s.where["until.min_steps"],
                    hint="no condition is tested before min_steps, so the until could never end the phase early; "
                         "lower min_steps")
