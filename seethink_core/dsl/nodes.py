"""Node construction that both parsers share: which node each simple setting keyword makes, so the Lark
tree builder and the fast reader cannot disagree on it (as ``ast.until_of`` does for ``until``)."""

from __future__ import annotations

from seethink_core.dsl import ast

# The settings that are their keyword and one part (``model "m"``, ``backend b(...)``): their node, and
# what the part is (``scalar``, ``call`` or ``name``: the grammar rule, and the fast reader's method).
ONE_PART: dict[str, tuple[type, str]] = {
    "model": (ast.Model, "scalar"), "prompt": (ast.Prompt, "scalar"), "system": (ast.System, "scalar"),
    "seed": (ast.Seed, "scalar"), "backend": (ast.Backend, "call"), "algorithm": (ast.Algorithm, "call"),
    "method": (ast.Algorithm, "call"), "pacing": (ast.Pacing, "call"),
    "capability": (ast.Capability, "name"), "mix": (ast.Mix, "name"),
}

# The budget settings: each keyword is its ``ast.Budget``'s kind.
BUDGET_KINDS = ("steps", "epochs", "samples")
