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
from seethink_core.dsl.statements import SINGLE, STATEMENTS
from seethink_core.errors import SourcePos

# The statements a method of the resolver reads by themselves (dsl/statements.py ``resolve``): a single
# one from its node, a keyed one from its options. The rest are read as parts of the body below (the
# method, the lists, the eval settings with the eval lines, the difficulty's clauses).
_RESOLVED = tuple(s for s in STATEMENTS if s.resolve is not None)


class Resolver(ModelResolving, DataResolving, RewardResolving, AlgorithmResolving):
    """Resolves settings against the registry; one per compiled curriculum."""

    def stage(self, name: str, pos: SourcePos, block: Block) -> StageSpec:
        s = StageSpec(name=name, pos=pos, stages=[name], capabilities=[])
        single = block.single
        for kind, stmt in single.items():
            s.where[kind] = stmt.pos

        for decl in _RESOLVED:  # each statement by its declaration's method, into its field
            stmt = single.get(decl.kind) if decl.layering == SINGLE else block.parts.get(decl.kind)
            if not stmt:
                continue
            setattr(s, decl.fields[0], getattr(self, decl.resolve)(stmt))
            if decl.layering != SINGLE:  # options: where the first is written, and where each value is
                s.where[decl.kind] = next(iter(stmt.values())).pos
                s.where.update((f"{decl.kind}.{key}", arg.value.pos) for key, arg in stmt.items())
                continue
            for part in decl.positions:  # phases.check_lengths compares them with the phase's steps
                value = getattr(stmt, part)
                if value is not None:
                    s.where[f"{decl.kind}.{part}"] = value.pos
        capability = s.capabilities[0] if s.capabilities else None
        s.method, s.algorithm = self.algorithm(block, name)
        if block.algorithm is not None:
            s.where["algorithm"] = block.algorithm.pos
        for key, arg in self.algorithm_args(block).items():  # written options, for the whole-phase checks
            s.where[f"algorithm.{key}"] = arg.value.pos
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
        s.rewards = self.rewards(block.lists.get("reward", []))
        s.eval, s.eval_text = self.eval(block)
        for kind, stmts in block.lists.items():  # where each list starts, for the whole-phase checks
            if stmts:
                s.where[kind] = stmts[0].pos
        self.grading_component(s)
        self.pass_rate_sampling(s)
        if isinstance(single.get("until"), ast.Until):
            self.until_metrics(s, single["until"])
        return s


__all__ = ["DEFAULT_METHOD", "DIFFICULTY_SOURCES", "DataItem", "NamedSource", "Resolver", "StageSpec", "anchor_paths"]
