"""Prompt templates: ``{question}`` is replaced by the sample's prompt text.

Only ``{question}``, ``{answer_format}`` and ``{choices}`` are substituted; anything else in braces
(``\\boxed{}``) is left alone, so templates need no escaping.
"""

from __future__ import annotations

from seethink_core.sample import Sample

# The reference recipe's instruction (REFERENCE.md), for training and evaluation alike.
REFERENCE_SUFFIX = (
    "You FIRST think about the reasoning process as an internal monologue and then provide the final "
    "answer. The reasoning process MUST BE enclosed within <think> </think> tags. The final answer MUST "
    "BE put in \\boxed{}."
)


def render_prompt(template: str | None, sample: Sample, *, question: str | None = None) -> str:
    """The text a model sees for ``sample`` (``question`` replaces the sample's own prompt, e.g. facts)."""
    text = sample.prompt if question is None else question
    if not template:
        return text
    choices = sample.meta.get("choices") if isinstance(sample.meta, dict) else None
    out = template.replace("{question}", text)
    if "{choices}" in out:
        rendered = "\n".join(f"{chr(65 + i)}: {c}" for i, c in enumerate(choices or []))
        out = out.replace("{choices}", rendered)
    return out
