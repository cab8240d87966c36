"""An effective ``Block`` (a stage with its defaults) → ``StageSpec``: names resolved, options checked.

Names resolve only through the plugin registry (and, for data, the named sources in scope);
unknown names get did-you-mean. Problems are collected, never raised one by one.
"""

from __future__ import annotations

from seethink_core.compiler.blocks import Block
from seethink_core.compiler.resolve_algorithm import AlgorithmResolving
from seethink_core.compiler.resolve_data import DIFFICULTY_SOURCES, DataResolving, anchor_paths
from seethink_core.compiler.resolve_model import ModelResolving
from seethink_core.compiler.resolve_rewards import RewardResolving
from seethink_core.compiler.stage_spec import DEFAULT_METHOD, DataItem, NamedSource, StageSpec
from seethink_core.dsl import ast
from seethink_core.errors import SourcePos


class Resolver(ModelResolving, DataResolving, RewardResolving, AlgorithmResolving):
    """Resolves settings against the registry; one per compiled curriculum."""

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
            for part in ("window", "min_steps"):  # phases.check_lengths compares them with the phase's steps
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


__all__ = ["DEFAULT_METHOD", "DIFFICULTY_SOURCES", "DataItem", "NamedSource", "Resolver", "StageSpec", "anchor_paths"]
