"""Resolving a stage's training method, its options and the hand-off between phases."""

from __future__ import annotations

from seethink_core.compiler.bind import as_dict
from seethink_core.compiler.blocks import Block
from seethink_core.compiler.diagnostics import suggest
from seethink_core.compiler.resolve_core import ResolverCore
from seethink_core.compiler.stage_spec import DEFAULT_METHOD
from seethink_core.dsl import ast
from seethink_core.types import plan as P
from seethink_core.types.methods import METHODS, OptimizerOptions
from seethink_core.types.settings import HandOffOptions


class AlgorithmResolving(ResolverCore):
    """The method with its options, and ``handoff``."""

    def algorithm_args(self, block: Block) -> dict[str, ast.Arg]:
        algo = block.algorithm
        options = dict(algo.options) if algo is not None else {}
        options.update(block.algorithm_extra)
        return options

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

    def handoff(self, args: dict[str, ast.Arg]) -> P.HandOff:
        first = next(iter(args.values()))
        inst = self.check(HandOffOptions, args, "handoff", first.pos)
        return P.HandOff(**as_dict(inst)) if inst is not None else P.HandOff()
