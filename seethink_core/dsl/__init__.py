"""The curriculum language: text → syntax tree (``parse``), with positions on every node.

``seethink_core.compiler`` turns the tree into a ``TrainingPlan``.
"""

from __future__ import annotations

from seethink_core.dsl import ast
from seethink_core.dsl.parser import MAX_LIST_DEPTH, get_parser, grammar_text, parse, parse_literal

__all__ = ["ast", "parse", "parse_literal", "get_parser", "grammar_text", "MAX_LIST_DEPTH"]
