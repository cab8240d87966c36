"""An effective ``Block`` (a stage with its defaults) → ``StageSpec``: names resolved, options checked.

Names resolve only through the plugin registry (and, for data, the named sources in scope);
unknown names get did-you-mean. Problems are collected, never raised one by one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from seethink_core.compiler.bind import PLAIN_TYPES, as_dict, bind_args, check_options, field_names
from seethink_core.compiler.blocks import Block
from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.dsl import ast
from seethink_core.errors import SOURCES, Diagnostic, SourcePos
from seethink_core.hooks.registry import Registry
from seethink_core.run.difficulty import PassRateOptions  # no torch: that module imports only the core
from seethink_core.samples.prompting import template_problems, uses_question
from seethink_core.types import plan as P
from seethink_core.types.methods import METHODS, TOP_P_HINT, OptimizerOptions
from seethink_core.types.options import SEED_HINT, NoOptions, opt, seed_problem
from seethink_core.types.sample import SAMPLE_FIELDS

DEFAULT_METHOD = "grpo"
FREEZABLE = ("vision", "projector", "language")
ORDERS = ("shuffle", "easy_to_hard", "hard_to_easy")
PACING_KINDS = ("step", "linear", "root")


@dataclass(frozen=True)
class PacingOptions:
    # start 1 or full_at 0 admit everything at step 0: a pacing that ends before it starts does nothing.
    start: float = opt(0.3, doc="fraction of the difficulty range admitted at step 0, in [0, 1)", min=0, lt=1,
                       hint="start 1 admits the whole range at step 0, so the pacing does nothing; "
                            "for no pacing write pacing none")
    full_at: float = opt(0.8, doc="fraction of the phase at which everything is admitted, in (0, 1]", gt=0, max=1,
                         hint="full_at 0 admits the whole range at step 0, so the pacing ends before it "
                              "starts; for no pacing write pacing none")
    stages: int = opt(3, doc="for 'step': how many jumps", min=1)


@dataclass(frozen=True)
class EvalSettingsOptions:
    greedy: bool = opt(True, doc="greedy decoding; temperature, top_p or n above 1 without it mean false")
    n: int = opt(1, doc="completions per prompt (sampled)", min=1)
    temperature: float = opt(1.0, doc="sampling temperature (above 0; greedy: true for greedy decoding)", min=0)
    top_p: float = opt(1.0, doc="nucleus sampling, in (0, 1]", gt=0, max=1, hint=TOP_P_HINT)
    max_samples: int | None = opt(None, doc="cap on samples per eval set", min=1)
    max_response_tokens: int | None = opt(None, doc="generation limit", min=1)
    before: bool = opt(True, doc="evaluate the base model before training (row 0)")
    prompt: str | None = opt(None, doc="the eval prompt template (default: the phase's prompt)")
    system: str | None = opt(None, doc="the eval system prompt (default: the phase's; none for none)")


@dataclass(frozen=True)
class HandOffOptions:
    init: Literal["previous", "base"] = opt("previous", doc="weights: the previous phase's, or the base model")
    reference: Literal["phase_init", "base"] = opt("phase_init", doc="KL reference")
    optimizer: Literal["reset", "carry"] = opt("reset", doc="optimizer state")


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

DIFFICULTY_SOURCES: dict[str, type] = {"none": NoOptions, "column": NoOptions, "pass_rate": PassRateOptions}


@dataclass
class DataItem:
    """A resolved data line with what the reward checks need."""

    ref: P.DataRef
    columns: frozenset[str]
    pos: SourcePos
    label: str  # "data source 'x'" or "source 'geo' (hf)"


@dataclass
class StageSpec:
    """A stage (or merged stages) with everything resolved; one or more phases come from it."""

    name: str
    pos: SourcePos
    stages: list[str]
    capabilities: list[str]
    model: str | None = None
    method: str = DEFAULT_METHOD
    algorithm: OptimizerOptions | None = None
    data: list[DataItem] = field(default_factory=list)
    rewards: list[tuple[P.RewardRef, frozenset[str], SourcePos]] = field(default_factory=list)
    budget: P.Budget | None = None
    prompt: str | None = None
    system: str | None = None
    transition: P.Transition | None = None
    difficulty: P.Difficulty = field(default_factory=P.Difficulty)
    levels: list[tuple[str, float, float]] | None = None
    freeze: list[str] = field(default_factory=list)
    handoff: P.HandOff = field(default_factory=P.HandOff)
    eval: P.EvalSpec | None = None
    # What `eval settings` say of the eval prompt and system prompt, only where they say it (None for
    # `system: none`); the phase's own fill the rest once the phase is final (build.make_phases).
    eval_text: dict[str, str | None] = field(default_factory=dict)
    seed: int | None = None
    mixture: str = "interleave"
    where: dict[str, SourcePos] = field(default_factory=dict)  # kind -> the statement that set it


@dataclass
class NamedSource:
    definition: ast.SourceDef
    spec: Any  # DataSourceSpec or None when unknown
    options: dict[str, ast.Arg]
    mapping: dict[str, ast.Arg]


class Resolver:
    """Resolves settings against the registry; one per compiled curriculum."""

    def __init__(self, registry: Registry, diags: Diags, sources: dict[str, ast.SourceDef],
                 checked: dict[tuple, tuple[Any, list]] | None = None):
        self.registry = registry
        self.diags = diags
        self.sources = sources  # named sources in scope
        self._named: dict[str, NamedSource | None] = {}
        self._ranges: dict[str, tuple[float, float] | None] = {}  # reward_range, once per reward name
        # rewards() and eval() by their statements. Per resolver, not in the shared ``_checked``: what an
        # eval line names depends on the curriculum's sources.
        self._rewards: dict[tuple, tuple] = {}
        self._evals: dict[tuple, tuple] = {}
        # Shared by the curricula of one ``seethink check`` (the keys are syntax nodes of one file).
        self._checked: dict[tuple, tuple[Any, list]] = {} if checked is None else checked

    def check(self, schema: type, args: dict[str, ast.Arg], what: str, pos: SourcePos | None) -> Any | None:
        """``check_options``, once per distinct set of argument nodes: a curriculum-level reward or
        source is validated once, not once per stage."""
        key = (schema, what, pos, tuple(args), tuple(map(id, args.values())))
        found = self._checked.get(key)
        if found is None:
            # The same values (a stage's `difficulty pass_rate(samples: 16)`, written once per stage) give
            # the same instance: one validated without a problem is reused, whatever its positions.
            by_value = _values_key(schema, args)
            found = self._checked.get(by_value) if by_value is not None else None
            if found is None:
                sub = Diags()
                found = (check_options(schema, args, what, sub, pos), sub.items)
                if by_value is not None and not found[1]:
                    self._checked[by_value] = found
            self._checked[key] = found
        self.diags.extend(found[1])
        return found[0]

    # --- small values -------------------------------------------------------------------------

    def integer(self, v: ast.Value, what: str, minimum: int) -> int | None:
        x = v.value
        if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
            x = int(x)
        if not isinstance(x, int) or isinstance(x, bool):
            self.diags.error(f"{what} must be a whole number, not {_kind(v)}", v.pos)
            return None
        if what == "seed":
            # Every seed (this statement, the plan's, a source's `seed:` option) has the same bounds
            # and message (options.seed_problem).
            problem = seed_problem(x)
            if problem is not None:
                self.diags.error(f"seed {problem}", v.pos, hint=SEED_HINT)
                return None
            return x
        if x < minimum:
            rule = "positive" if minimum == 1 else f"at least {minimum}"
            self.diags.error(f"{what} must be {rule}, not {x}", v.pos)
            return None
        return x

    def number(self, v: ast.Value, what: str, positive: bool = False, lo: float | None = None,
               hi: float | None = None) -> float | None:
        x = v.value
        if not isinstance(x, (int, float)) or isinstance(x, bool):
            self.diags.error(f"{what} must be a number, not {_kind(v)}", v.pos)
            return None
        if not math.isfinite(x):
            self.diags.error(f"{what} must be a finite number, not {x}", v.pos)
            return None
        if positive and x <= 0:
            self.diags.error(f"{what} must be positive, not {x}", v.pos)
            return None
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            self.diags.error(f"{what} must be between {lo} and {hi}, not {x}", v.pos)
            return None
        return float(x)

    def string(self, v: ast.Value, what: str) -> str | None:
        if not isinstance(v.value, str):
            self.diags.error(f"{what} must be a string, not {_kind(v)}", v.pos)
            return None
        return v.value

    # --- names --------------------------------------------------------------------------------

    def spec(self, kind: str, name: ast.Name, extra: list[str] = ()) -> Any | None:
        found = self.registry.find(kind, name.value)
        if found is None:
            hint = suggest(name.value, list(self.registry.names(kind)) + list(extra))
            if hint is None:
                known = self.registry.names(kind)
                hint = f"registered: {', '.join(known)}" if known else "no plugin registers one; see `seethink plugins`"
            self.diags.error(self.registry.unknown_message(kind, name.value), name.pos, hint=hint)
        return found

    def named_source(self, name: str) -> NamedSource | None:
        if name in self._named:
            return self._named[name]
        d = self.sources[name]
        spec = self.spec("data_source", d.call.name)
        result = None
        if spec is not None:
            options, mapping = self._split(d.call, spec, f"source '{name}'")
            result = NamedSource(d, spec, options, mapping)
        self._named[name] = result
        return result

    def _split(self, call: ast.Call, spec: Any, what: str,
               args: tuple[ast.Arg, ...] | None = None) -> tuple[dict[str, ast.Arg], dict[str, ast.Arg]]:
        """Keyword args naming a ``Sample`` field are a field mapping when the source is mappable."""
        args = call.args if args is None else args
        mapping: dict[str, ast.Arg] = {}
        rest = []
        for a in args:
            if a.key is not None and spec.mappable and a.key.value in SAMPLE_FIELDS:
                if not isinstance(a.value.value, str):
                    self.diags.error(f"{what}: the field mapping '{a.key.value}' must name a record field "
                                     f"as a string, not {_kind(a.value)}", a.value.pos)
                    continue
                if a.key.value in mapping:
                    self.diags.error(f"{what}: field '{a.key.value}' is mapped twice", a.pos)
                mapping[a.key.value] = a
            else:
                rest.append(a)
        options = bind_args(call, spec.options, what, self.diags, tuple(rest))
        if not spec.mappable:
            for key, a in options.items():
                if key in SAMPLE_FIELDS and key not in field_names(spec.options):
                    self.diags.error(f"{what} takes no field mapping ('{key}:' names a Sample field)",
                                     a.key.pos if a.key else a.pos,
                                     hint="only sources that read records with named fields (hf, jsonl, "
                                          "...) map fields")
                    options = {k: v for k, v in options.items() if k != key}
                    break
        return options, mapping

    def data_ref(self, call: ast.Call, weight: float, capability: str | None,
                 what: str = "data source") -> DataItem | None:
        name = call.name.value
        named = None
        if name in self.sources:
            named = self.named_source(name)
            if named is None:
                return None
            spec = named.spec
            label = f"source '{name}' ({spec.name})"
            options, mapping = self._split(call, spec, label)
            options = {**named.options, **options}
            mapping = {**named.mapping, **mapping}
        else:
            spec = self.spec("data_source", call.name, extra=list(self.sources))
            if spec is None:
                return None
            label = f"{what} '{name}'"
            options, mapping = self._split(call, spec, label)
        instance = self.check(spec.options, options, label, call.pos)
        if instance is None:
            return None
        ref = P.DataRef(source=spec.name, options=anchor_paths(spec.options, as_dict(instance), options),
                        weight=weight,
                        mapping={k: a.value.value for k, a in mapping.items()},
                        name=name if named is not None else None, capability=capability)
        columns = frozenset(spec.columns) | frozenset(mapping)
        return DataItem(ref, columns, call.pos, label)

    # --- the whole stage ----------------------------------------------------------------------

    def stage(self, name: str, pos: SourcePos, block: Block) -> StageSpec:
        s = StageSpec(name=name, pos=pos, stages=[name], capabilities=[])
        single = block.single
        for kind, stmt in single.items():
            s.where[kind] = stmt.pos

        if "capability" in single:
            s.capabilities = [self.capability(single["capability"].name)]
        capability = s.capabilities[0] if s.capabilities else None
        if "model" in single:
            s.model = self.model(single["model"].value)
        if "prompt" in single:
            s.prompt = self.prompt(single["prompt"].value)
        if "system" in single:
            s.system = self.system(single["system"].value)
        if "seed" in single:
            s.seed = self.integer(single["seed"].value, "seed", 0)
        if "freeze" in single:
            s.freeze = self.freeze(single["freeze"])
        if "budget" in single:
            s.budget = self.budget(single["budget"])
        if "until" in single:
            s.transition = self.until(single["until"])
            for part in ("window", "min_steps"):  # build.check_lengths compares them with the phase's steps
                value = getattr(single["until"], part)
                if value is not None:
                    s.where[f"until.{part}"] = value.pos
        if "mix" in single:
            s.mixture = self.mixture(single["mix"])
        s.method, s.algorithm = self.algorithm(block, name)
        if block.algorithm is not None:
            s.where["algorithm"] = block.algorithm.pos
        for key, arg in self.algorithm_args(block).items():  # written options, for the whole-phase checks
            s.where[f"algorithm.{key}"] = arg.value.pos
        s.handoff = self.handoff(block)
        s.difficulty, s.levels = self.difficulty(block)
        source = block.difficulty.get("source")
        if getattr(source, "pos", None) is not None:
            s.where["difficulty"] = source.pos
        for arg in getattr(source, "args", ()):  # written estimator options, for grading_threshold
            if arg.key is not None:
                s.where[f"difficulty.{arg.key.value}"] = arg.value.pos

        for stmt in block.lists.get("data", []):
            weight = self.number(stmt.weight, "a weight", positive=True) if stmt.weight is not None else 1.0
            item = self.data_ref(stmt.call, weight, capability) if weight is not None else None
            if item is not None:
                s.data.append(item)
        if block.lists.get("data"):
            s.where["data"] = block.lists["data"][0].pos
        s.rewards = self.rewards(block.lists.get("reward", []))
        if block.lists.get("reward"):
            s.where["reward"] = block.lists["reward"][0].pos
        s.eval, s.eval_text = self.eval(block)
        if block.lists.get("eval"):
            s.where["eval"] = block.lists["eval"][0].pos
        self.grading_component(s)
        self.pass_rate_sampling(s)
        if isinstance(single.get("until"), ast.Until):
            self.until_metrics(s, single["until"])
        return s

    def capability(self, name: ast.Name) -> str:
        """A capability: one of plan.CAPABILITIES, or a custom one. A near miss of a known one is a typo
        (error); any other name is allowed but warned about, since reports and the synthetic world know
        only the three."""
        known = P.CAPABILITIES
        if name.value in known:
            return name.value
        close = suggest(name.value, known)
        if close:
            self.diags.error(f"unknown capability '{name.value}'", name.pos, hint=close)
        else:
            self.diags.add(Diagnostic(
                f"capability '{name.value}' is not one of the known capabilities ({', '.join(known)})", name.pos,
                f"a custom capability is kept as written; check the spelling (reports list it after "
                f"{', '.join(known)})", severity="warning"))
        return name.value

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

    def pass_rate_sampling(self, s: StageSpec) -> None:
        """``pass_rate(...)`` samples: temperature 0 gives identical completions, so every rate is 0 or 1."""
        if s.difficulty.source != "pass_rate" or s.difficulty.estimator.get("temperature", 1.0) > 0:
            return
        self.diags.error("difficulty pass_rate: temperature 0 does not sample",
                         s.where.get("difficulty.temperature", s.where.get("difficulty", s.pos)),
                         hint="a pass rate is the share of sampled completions that are right; at temperature 0 "
                              "they are all alike, so every rate is 0 or 1 (the reference samples at 0.7)")

    def algorithm_args(self, block: Block) -> dict[str, ast.Arg]:
        algo = block.algorithm
        options = dict(algo.options) if algo is not None else {}
        options.update(block.algorithm_extra)
        return options

    def grading_component(self, s: StageSpec) -> None:
        """``pass_rate(component: NAME)`` must name one of the stage's rewards (or 'auto', 'total')."""
        component = s.difficulty.estimator.get("component", "auto")
        names = [r.name for r, _, _ in s.rewards]
        if s.difficulty.source != "pass_rate":
            return
        if component in ("auto", "total") or component in names:
            self.grading_threshold(s, component)
            return
        self.diags.error(f"difficulty pass_rate: component '{component}' is not a reward of stage '{s.name}'",
                         s.where.get("difficulty", s.pos),
                         hint=suggest(component, names) or f"its rewards: {', '.join(names) or 'none'}; "
                                                            "or 'auto' or 'total'")

    def grading_threshold(self, s: StageSpec, component: str) -> None:
        """``pass_rate(threshold: T)``: a completion is right when its component reaches T, so T must lie
        above the component's lowest score and at most its highest (else every rate is 1, or 0)."""
        rewards = [r for r, _, _ in s.rewards]
        if component == "auto":  # as difficulty.grading_component picks it: accuracy, an answer grader, total
            graders = ["accuracy"] * any(r.name == "accuracy" for r in rewards) + [
                r.name for r, needs, _ in s.rewards if "answer" in needs]
            component = graders[0] if graders else "total"
        span = self.total_range(rewards) if component == "total" else self.reward_range(component)
        threshold = s.difficulty.estimator.get("threshold", 0.5)
        if span is None or span[0] < threshold <= span[1]:
            return
        lo, hi = span
        rate = "0 (no completion reaches it)" if threshold > hi else "1 (every completion reaches it)"
        self.diags.error(f"difficulty pass_rate: threshold {threshold:g} is outside ({lo:g}, {hi:g}], the scores "
                         f"of {'the total reward' if component == 'total' else f'reward {component!r}'}",
                         s.where.get("difficulty.threshold", s.where.get("difficulty", s.pos)),
                         hint=f"every pass rate would be {rate}; a completion counts as right when its score "
                              f"reaches the threshold (the default is 0.5)")

    def mixture(self, stmt: ast.Mix) -> str:
        word = stmt.name.value
        if word not in P.MIXTURES:
            self.diags.error(f"unknown mix '{word}'", stmt.name.pos,
                             hint=suggest(word, P.MIXTURES) or f"one of: {', '.join(P.MIXTURES)}")
            return "interleave"
        return word

    def model(self, v: ast.Value) -> str | None:
        """``_model``, once per ``model`` statement: every stage (and, in ``seethink check``, every
        curriculum of an ``extends`` chain) inherits the same one, and a name without '/' costs a look
        at the disk and a did-you-mean over the registered models."""
        return self._replayed(self._checked, "model", (v,), lambda: self._model(v))

    def _model(self, v: ast.Value) -> str | None:
        text = self.string(v, "model")
        if text is None:
            return None
        if not text.strip():
            self.diags.error("model must not be empty", v.pos)
            return None
        registered = self.registry.find("model", text)
        if "/" not in text and registered is None and not os.path.exists(text):
            close = suggest(text, self.registry.names("model"))
            if close:
                self.diags.error(f"unknown model '{text}'", v.pos, hint=close)
                return None
        return text

    def prompt(self, v: ast.Value, what: str = "prompt") -> str | None:
        # Once per statement, as ``model``: a curriculum-level prompt is inherited by every stage, and
        # checking its template each time was a tenth of a stage's resolving.
        return self._replayed(self._checked, ("prompt", what), (v,), lambda: self._prompt(v, what))

    def _prompt(self, v: ast.Value, what: str) -> str | None:
        text = self.string(v, what)
        if text is None or not self.template(v, text):
            return None
        if not uses_question(text):
            hint = ('e.g. prompt "{question} Put the final answer in \\\\boxed{}."' if what == "prompt"
                    else 'e.g. eval settings prompt: "{question}"')
            if "{{question" in text:
                hint = "{{question}} writes the braces as text; a field has one pair: {question}"
            article = "an" if what[0] in "aeiou" else "a"
            self.diags.error(f"{article} {what} template must contain {{question}}", v.pos, hint=hint)
            return None
        return text

    def system(self, v: ast.Value, what: str = "system prompt") -> str | None:
        """A system prompt: a template without the need for ``{question}``, or none."""
        return self._replayed(self._checked, ("system", what), (v,), lambda: self._system(v, what))

    def _system(self, v: ast.Value, what: str) -> str | None:
        if v.value is None:
            return None
        text = self.string(v, what)
        if text is None or not self.template(v, text):
            return None
        if not text.strip():
            self.diags.error(f"the {what} is empty", v.pos, hint="for no system prompt write none")
            return None
        return text

    def template(self, v: ast.Value, text: str) -> bool:
        """Report each unknown field or filter of a template at its own place in the string."""
        problems = template_problems(text)
        search = (v.pos.line, v.pos.col)
        for problem in problems:
            pos, search = _in_string(v.pos, problem.text, search)
            self.diags.error(problem.message, pos, hint=problem.hint)
        return not problems

    def freeze(self, stmt: ast.Freeze) -> list[str]:
        parts = [p.value for p in stmt.parts]
        if parts == ["none"]:
            return []
        out = []
        for p in stmt.parts:
            if p.value not in FREEZABLE:
                hint = suggest(p.value, FREEZABLE) or f"freeze takes {', '.join(FREEZABLE)} or none"
                self.diags.error(f"cannot freeze '{p.value}'", p.pos, hint=hint)
            elif p.value not in out:
                out.append(p.value)
        if len(out) == len(FREEZABLE):
            self.diags.error(f"freeze {', '.join(out)} leaves nothing to train", stmt.pos,
                             hint="every tower is frozen, so no weight would change: keep one trainable (the "
                                  "reference freezes vision only), or write freeze none")
        return out

    def budget(self, stmt: ast.Budget) -> P.Budget | None:
        if stmt.kind == "epochs":
            x = self.number(stmt.value, "epochs", positive=True)
            return P.Budget(epochs=x) if x is not None else None
        x = self.integer(stmt.value, stmt.kind, 1)
        return P.Budget(**{stmt.kind: x}) if x is not None else None

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

    def algorithm(self, block: Block, stage: str) -> tuple[str, OptimizerOptions | None]:
        algo = block.algorithm
        method = algo.method.value if algo is not None else DEFAULT_METHOD
        schema = METHODS.get(method)
        if schema is None:
            self.diags.error(f"unknown method '{method}'", algo.method.pos,
                             hint=suggest(method, METHODS) or f"methods: {', '.join(METHODS)}")
            return method, None
        options = self.algorithm_args(block)
        return method, self.check(schema, options, f"method '{method}'",
                          algo.pos if algo is not None else None)

    def handoff(self, block: Block) -> P.HandOff:
        if not block.handoff:
            return P.HandOff()
        first = next(iter(block.handoff.values()))
        inst = self.check(HandOffOptions, block.handoff, "handoff", first.pos)
        return P.HandOff(**as_dict(inst)) if inst is not None else P.HandOff()

    def span(self, span: ast.Span, what: str) -> tuple[float, float] | None:
        lo = self.number(span.lo, f"{what} start", lo=0.0, hi=1.0)
        hi = self.number(span.hi, f"{what} end", lo=0.0, hi=1.0)
        if lo is None or hi is None:
            return None
        if lo > hi:
            self.diags.error(f"{what} {lo:g}..{hi:g} is empty: the start is above the end", span.pos)
            return None
        return lo, hi

    def difficulty(self, block: Block) -> tuple[P.Difficulty, list[tuple[str, float, float]] | None]:
        parts = block.difficulty
        source, estimator = "none", {}
        call = parts.get("source")
        if isinstance(call, ast.Call):
            schema = DIFFICULTY_SOURCES.get(call.name.value)
            if schema is None:
                self.diags.error(f"unknown difficulty source '{call.name.value}'", call.name.pos,
                                 hint=suggest(call.name.value, DIFFICULTY_SOURCES)
                                 or "difficulty comes from: column, pass_rate(...) or none")
            else:
                source = call.name.value
                inst = self.check(schema, bind_args(call, schema, f"difficulty {source}", self.diags),
                                     f"difficulty {source}", call.pos)
                if inst is not None and schema is not NoOptions:
                    estimator = as_dict(inst)
        order = "shuffle"
        order_node = parts.get("order")
        if isinstance(order_node, ast.Name):
            if order_node.value not in ORDERS:
                self.diags.error(f"unknown difficulty order '{order_node.value}'", order_node.pos,
                                 hint=suggest(order_node.value, ORDERS) or f"orders: {', '.join(ORDERS)}")
            else:
                order = order_node.value
        lo, hi = 0.0, 1.0
        range_node = parts.get("range")
        if isinstance(range_node, ast.Span):
            got = self.span(range_node, "difficulty range")
            if got is not None:
                lo, hi = got
        levels = None
        lv = block.single.get("levels")
        if isinstance(lv, ast.Levels):
            levels = []
            seen: set[str] = set()
            for level in lv.levels:
                if level.name.value in seen:
                    self.diags.error(f"level '{level.name.value}' is named twice", level.name.pos)
                    continue
                seen.add(level.name.value)
                got = self.span(level.span, f"level '{level.name.value}'")
                if got is not None:
                    if got[0] == got[1]:
                        self.diags.error(f"level '{level.name.value}' is empty", level.span.pos)
                        continue
                    levels.append((level.name.value, got[0], got[1]))
        pacing = None
        pc = block.single.get("pacing")
        if isinstance(pc, ast.Pacing) and pc.call.name.value != "none":
            kind = pc.call.name.value
            if kind not in PACING_KINDS:
                self.diags.error(f"unknown pacing '{kind}'", pc.call.name.pos,
                                 hint=suggest(kind, PACING_KINDS) or f"pacing: {', '.join(PACING_KINDS)} or none")
            else:
                inst = self.check(PacingOptions, bind_args(pc.call, PacingOptions, f"pacing {kind}", self.diags),
                                     f"pacing {kind}", pc.call.pos)
                if inst is not None:
                    pacing = P.Pacing(kind=kind, **as_dict(inst))
        if source == "none" and (order != "shuffle" or (lo, hi) != (0.0, 1.0) or levels or pacing):
            source = "column"  # ordering or filtering needs a difficulty: the samples' own
        return P.Difficulty(source=source, order=order, min=lo, max=hi, pacing=pacing,
                            estimator=estimator), levels

    def _replayed(self, cache: dict, kind: Any, nodes: tuple, work: Any) -> Any:
        """``work()`` once per ``kind`` and distinct tuple of syntax nodes (by identity), its diagnostics
        replayed on each later call: the statements a curriculum writes once (its model, prompts,
        rewards, eval lines) are inherited by every stage, and resolving them is deterministic. The
        nodes are kept with the result, so their ids stay theirs."""
        key = (kind, *map(id, nodes))
        found = cache.get(key)
        if found is None:
            saved, self.diags = self.diags, Diags()
            try:
                found = (work(), self.diags.items, nodes)
            finally:
                self.diags = saved
            cache[key] = found
        self.diags.extend(found[1])
        return found[0]

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


def _values_key(schema: type, args: dict[str, ast.Arg]) -> tuple | None:
    """What an option list's validation depends on: the schema and each option's value (its type and
    ``repr`` too, so that 1, 1.0 and True, or 0.0 and -0.0, stay apart); ``None`` when a value is not
    a plain number, string or none (a list)."""
    out: list = [schema]
    for k, a in args.items():
        v = a.value.value
        if type(v) not in PLAIN_TYPES:
            return None
        out.append((k, type(v), repr(v)))
    return tuple(out)


def anchor_paths(schema: type, values: dict[str, Any], written: dict[str, ast.Arg]) -> dict[str, Any]:
    """``values`` with each relative path option (the schema's ``path_options``) made absolute against the
    folder of the ``.curr`` file it is written in, as ``import`` paths are: a curriculum then reads the same
    data from any working directory, and a source defined in an imported file reads the files beside it.
    A value from ``--set`` (or text with no file) resolves against the working directory, as a path typed
    on a command line does. The plan holds the absolute path, so it needs no file to be read."""
    out = dict(values)
    for name in getattr(schema, "path_options", ()):
        value, arg = out.get(name), written.get(name)
        if not isinstance(value, str) or arg is None or not value.strip() or "://" in value:
            continue
        if os.path.isabs(os.path.expanduser(value)):  # absolute and ~ paths stay as written
            continue
        where = arg.value.pos.file
        base = os.path.dirname(os.path.abspath(where)) if os.path.isfile(where) else os.getcwd()
        out[name] = os.path.normpath(os.path.join(base, value))
    return out


def _in_string(pos: SourcePos, needle: str, start: tuple[int, int]) -> tuple[SourcePos, tuple[int, int]]:
    """Where ``needle`` (text with no escapes in it, such as a template field) is written in the string
    at ``pos``, searching from ``start`` (line, col) on; and where to search for the next one. Falls
    back to the whole string when the source is not at hand."""
    line, col = start
    for ln in range(line, line + 64):  # adjacent strings may continue on later lines
        text = SOURCES.line(pos.file, ln)
        if text is None:
            break
        at = text.find(needle, col - 1 if ln == line else 0)
        if at >= 0:
            return SourcePos(pos.file, ln, at + 1, at + 1 + len(needle)), (ln, at + 1 + len(needle))
    return pos, start


def _decided(op: str, value: float, span: tuple[float, float]) -> str | None:
    """``"can never hold"``/``"always holds"`` when ``metric OP value`` is decided by the range alone."""
    lo, hi = span
    if lo <= value <= hi:
        return None
    above = value > hi
    holds = (op in ("<=", "<")) if above else (op in (">=", ">"))
    return "always holds" if holds else "can never hold"


def _kind(v: ast.Value) -> str:
    x = v.value
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, int):
        return "an integer"
    if isinstance(x, float):
        return "a number"
    if isinstance(x, str):
        return f"the word '{x}'" if v.bare else "a string"
    if isinstance(x, list):
        return "a list"
    if x is None:
        return "none"
    return type(x).__name__
