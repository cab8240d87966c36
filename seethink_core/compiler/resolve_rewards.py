"""Resolving a stage's rewards, eval lines and eval settings, and its ``until`` conditions."""

from __future__ import annotations

from typing import Any

from seethink_core.compiler.bind import as_dict, bind_args
from seethink_core.compiler.blocks import Block
from seethink_core.compiler.diagnostics import suggest
from seethink_core.compiler.resolve_core import ResolverCore
from seethink_core.compiler.stage_spec import StageSpec
from seethink_core.dsl import ast
from seethink_core.errors import Diagnostic, SourcePos
from seethink_core.types import plan as P
from seethink_core.types.settings import EvalSettingsOptions

# Metrics whose last name part is a share of something: always in [0, 1].
UNIT_METRICS = frozenset({"accuracy", "pass_rate", "format_rate", "kept_fraction", "clip_frac", "dual_clip_frac",
                          "clip_ratio", "truncated_rate"})
# Reward metrics every phase's rewards give besides reward.NAME (std and group_std: OpenRLHF's).
REWARD_METRICS = ("reward.total", "reward.std", "reward.group_std")
# Training metrics the first-party backends log (local and OpenRLHF); an `until` on another is a warning.
TRAIN_METRICS = ("loss", "policy_loss", "kl", "lr", "grad_norm", "entropy", "clip_frac", "dual_clip_frac",
                 "clip_ratio", "samples_seen", "tokens_per_s", "rollout.tokens_per_s", "response_length.mean",
                 "response_length.clip_ratio", "length.mean", "length.truncated_rate", "return.mean",
                 "sampling.kept_percent", "dynamic_sampling.batch_fill", "dynamic_sampling.extra_prompts",
                 "dynamic_sampling.kept_fraction", "data.dropped_overlong")
FREE_METRIC_PREFIXES = ("time.", "openrlhf.")  # backend-specific families: any name is fine

class RewardResolving(ResolverCore):
    """Rewards, evaluation, and the metrics an ``until`` compares."""

    def rewards(self, stmts: list[ast.Reward]) -> list[tuple[P.RewardRef, frozenset[str], SourcePos]]:
        # A new list each time: a stage's reward list is its own.
        return list(self._replayed(self._rewards, "rewards", tuple(stmts), lambda: self._resolve_rewards(stmts)))

    def _resolve_rewards(self, stmts: list[ast.Reward]) -> list[tuple[P.RewardRef, frozenset[str], SourcePos]]:
        out = []
        seen: dict[str, SourcePos] = {}
        for stmt in stmts:
            name = stmt.call.name.value
            weight = self.number(stmt.weight, "a weight", positive=True) if stmt.weight is not None else 1.0
            if name in seen:
                self.diags.error(f"reward '{name}' is listed twice", stmt.call.name.pos,
                                 hint=f"first at {seen[name].file}:{seen[name].line}")
                continue
            seen[name] = stmt.pos
            spec = self.spec("reward", stmt.call.name)
            if spec is None or weight is None:
                continue
            inst = self.check(spec.options, bind_args(stmt.call, spec.options, f"reward '{name}'", self.diags),
                                 f"reward '{name}'", stmt.call.pos)
            if inst is None:
                continue
            out.append((P.RewardRef(name=name, weight=weight, options=as_dict(inst)), frozenset(spec.needs),
                        stmt.pos))
        return out

    def eval(self, block: Block) -> tuple[P.EvalSpec | None, dict[str, str | None]]:
        """The eval spec and what its settings say of the eval prompt and system prompt (once per
        distinct set of statements: see ``_replayed``; the spec is frozen, as the plan's parts are)."""
        nodes = (*block.lists.get("eval", []), block.single.get("eval_every"), *block.eval_settings,
                 *block.eval_settings.values())
        spec, text = self._replayed(self._evals, "eval", nodes, lambda: self._resolve_eval(block))
        return spec, dict(text)

    def _resolve_eval(self, block: Block) -> tuple[P.EvalSpec | None, dict[str, str | None]]:
        stmts = block.lists.get("eval", [])
        cadence = block.single.get("eval_every")
        if not stmts and not block.eval_settings and cadence is None:
            return None, {}
        sets: list[P.DataRef] = []
        evaluators: list[str] = []
        every: int | None = None
        every_pos: SourcePos | None = None
        for stmt in stmts:
            if stmt.every is not None:
                n = self.integer(stmt.every, "eval every", 1)
                if every is not None and n is not None and n != every:
                    self.diags.error(f"eval every {n} steps contradicts every {every} steps", stmt.every.pos,
                                     hint=f"first at {every_pos.file}:{every_pos.line}")
                elif n is not None:
                    every, every_pos = n, stmt.every.pos
            for ref in stmt.refs:
                name = ref.name.value
                is_source = name in self.sources or self.registry.find("data_source", name) is not None
                is_evaluator = self.registry.find("evaluator", name) is not None
                if not is_source and not is_evaluator:
                    candidates = (list(self.registry.names("data_source")) + list(self.registry.names("evaluator"))
                                  + list(self.sources))
                    self.diags.error(f"unknown eval set or evaluator '{name}'", ref.name.pos,
                                     hint=suggest(name, candidates)
                                     or "eval takes data sources (named or registered) and evaluators")
                    continue
                if is_source:
                    item = self.data_ref(ref, 1.0, None, what="eval set")
                    if item is not None:
                        sets.append(item.ref)
                elif ref.args:
                    self.diags.error(f"evaluator '{name}' takes no options", ref.args[0].pos)
                if is_evaluator and name not in evaluators:
                    evaluators.append(name)
        if isinstance(cadence, ast.EvalEvery):  # at or above the lines' layer (blocks.layer), so it wins
            every = self.integer(cadence.every, "eval every", 1)
        settings: dict[str, Any] = {}
        text: dict[str, str | None] = {}
        if block.eval_settings:
            first = next(iter(block.eval_settings.values()))
            inst = self.check(EvalSettingsOptions, block.eval_settings, "eval settings", first.pos)
            if inst is not None and self.sampling_temperature(inst, block.eval_settings):
                settings = as_dict(inst)
            prompt = block.eval_settings.get("prompt")
            if prompt is not None and prompt.value.value is None:  # runtime reads None as "the phase's"
                self.diags.error("eval settings: prompt cannot be none", prompt.value.pos,
                                 hint='to ask the bare question write prompt: "{question}"')
            elif prompt is not None:
                text["prompt"] = self.prompt(prompt.value, "eval prompt")
            if "system" in block.eval_settings:
                text["system"] = self.system(block.eval_settings["system"].value, "eval system prompt")
        return P.EvalSpec(sets=sets, evaluators=evaluators, every_steps=every, **settings), text

    def sampling_temperature(self, inst: EvalSettingsOptions, written: dict[str, ast.Arg]) -> bool:
        """Sampled evaluation (greedy: false) at temperature 0 is greedy decoding in disguise."""
        if inst.greedy or inst.temperature > 0:
            return True
        arg = written.get("temperature") or written.get("greedy") or next(iter(written.values()))
        self.diags.error("eval settings: temperature 0 does not sample", arg.value.pos,
                         hint="for greedy decoding write greedy: true; to sample, give a temperature above 0")
        return False

    def reward_range(self, name: str) -> tuple[float, float] | None:
        """The scores a reward can give, when its options schema declares them (``score_range``)."""
        if name in self._ranges:
            return self._ranges[name]
        spec = self.registry.find("reward", name)
        found = getattr(spec.options, "score_range", None) if spec is not None else None
        got = self._ranges[name] = (float(found[0]), float(found[1])) if found is not None else None
        return got

    def total_range(self, rewards: list[P.RewardRef]) -> tuple[float, float] | None:
        """``reward.total`` is Σ weight × score: its range, when every component's is known."""
        ranges = [self.reward_range(r.name) for r in rewards]
        if not rewards or any(r is None for r in ranges):
            return None
        return (sum(r.weight * lo for r, (lo, _) in zip(rewards, ranges)),  # type: ignore[misc]
                sum(r.weight * hi for r, (_, hi) in zip(rewards, ranges)))  # type: ignore[misc]

    def metric_range(self, metric: str, rewards: list[P.RewardRef]) -> tuple[float, float] | None:
        """The values a training metric can take, where they are known."""
        if metric == "reward.total":
            return self.total_range(rewards)
        if metric.startswith("reward."):
            return self.reward_range(metric[len("reward."):])
        return (0.0, 1.0) if metric.rsplit(".", 1)[-1] in UNIT_METRICS else None

    def until_metrics(self, s: StageSpec, stmt: ast.Until) -> None:
        """Each condition must name a metric that is logged, compared with a value it can take."""
        rewards = [r for r, _, _ in s.rewards]
        logged = [f"reward.{r.name}" for r in rewards] + list(REWARD_METRICS) + list(TRAIN_METRICS)
        for c in stmt.conditions:
            metric, value = c.metric.value, c.value.value
            if metric == "steps" or not self.metric_logged(metric, rewards, logged, c.metric.pos):
                continue
            span = self.metric_range(metric, rewards)
            if span is None or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            verdict = _decided(c.op, float(value), span)
            if verdict is not None:
                lo, hi = span
                self.diags.error(f"until {metric} {c.op} {value:g} {verdict}: {metric} lies in [{lo:g}, {hi:g}]",
                                 c.value.pos, hint=f"compare it with a value inside [{lo:g}, {hi:g}], e.g. "
                                                   f"{metric} >= {lo + 0.8 * (hi - lo):g}")

    def metric_logged(self, metric: str, rewards: list[P.RewardRef], logged: list[str], pos: SourcePos) -> bool:
        """Report a metric nothing logs: an unknown reward component is an error; an eval metric (the stop
        check sees training metrics only) and a metric no known backend logs are warnings."""
        if metric.startswith("reward."):
            if metric in logged:
                return True
            names = [f"reward.{r.name}" for r in rewards] + list(REWARD_METRICS)
            self.diags.error(f"until: no reward of this phase logs '{metric}'", pos,
                             hint=suggest(metric, names) or (f"its reward metrics: {', '.join(names)}" if rewards
                                                             else "this phase has no rewards"))
            return False
        if metric.startswith("eval."):
            self.diags.add(Diagnostic(
                f"until {metric} never holds: the phase's stop check sees the metrics of each training step, "
                "and evaluation metrics are not among them", pos,
                "use a training metric such as reward.accuracy", severity="warning"))
            return False
        if metric in TRAIN_METRICS or metric.startswith(FREE_METRIC_PREFIXES):
            return True
        self.diags.add(Diagnostic(f"until: no backend seethink knows logs metric '{metric}'", pos,
                                  suggest(metric, logged) or "metric names: reward.NAME, reward.total, loss, kl, "
                                                             "response_length.mean, ...", severity="warning"))
        return False

    def until(self, stmt: ast.Until) -> P.Transition | None:
        conds = []
        for c in stmt.conditions:
            if c.metric.value == "steps":
                self.diags.error("an until has one 'or steps N'", c.pos)
                continue
            value = self.number(c.value, f"the value compared with {c.metric.value}")
            if value is not None:
                conds.append(P.Condition(c.metric.value, c.op, value))
        if not stmt.conditions:
            self.diags.error("until needs a metric condition", stmt.pos,
                             hint="e.g. until reward.accuracy >= 0.8 or steps 500")
            return None
        window = self.integer(stmt.window, "window", 1) if stmt.window is not None else 10
        min_steps = self.integer(stmt.min_steps, "min_steps", 0) if stmt.min_steps is not None else 20
        if window is None or min_steps is None or len(conds) != len(stmt.conditions):
            return None
        return P.Transition(any_of=conds, window=window, min_steps=min_steps)


def _decided(op: str, value: float, span: tuple[float, float]) -> str | None:
    """``"can never hold"``/``"always holds"`` when ``metric OP value`` is decided by the range alone."""
    lo, hi = span
    if lo <= value <= hi:
        return None
    above = value > hi
    holds = (op in ("<=", "<")) if above else (op in (">=", ">"))
    return "always holds" if holds else "can never hold"
