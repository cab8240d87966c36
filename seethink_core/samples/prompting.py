"""Prompt templates: fields in braces are replaced by the sample's text, optionally through filters.

A field is ``{NAME}`` or ``{NAME|FILTER|...}`` (identifiers, no spaces): ``{question}`` is the
sample's prompt text, ``{choices}`` its lettered choices, and ``{question|trim}`` the question with
surrounding whitespace removed (the reference's Jinja template writes ``{{ content | trim }}``).
Anything else in braces is text (``\\boxed{}``, ``\\boxed{final answer here}``), so LaTeX needs no
escaping; a field in doubled braces is text too (``{{question}}`` writes ``{question}``).

``template_problems`` names unknown fields and filters (the compiler reports them with positions);
``render_prompt`` trusts its template and leaves a field it does not know as written. The same
language serves system prompts (``render_system``), which need no ``{question}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seethink_core.errors import did_you_mean
from seethink_core.types.sample import Sample

PLACEHOLDERS = ("question", "choices")
# Sample fields a prompt must never show: the gold answer the rewards grade against.
LEAKS = ("answer",)
FILTERS: dict[str, Callable[[str], str]] = {"trim": str.strip}

# Doubled braces first, so ``{{question}}`` is one escaped field rather than a field inside braces.
# ``:`` is matched only to name the mistake: ``{question:trim}`` reads like a Python format spec.
_FIELD = re.compile(r"\{\{[A-Za-z_]\w*(?:[|:][^{}]*)?\}\}|\{([A-Za-z_]\w*)(?:([|:])([^{}]*))?\}")


@dataclass(frozen=True)
class TemplateProblem:
    """A field the renderer would not replace: ``start`` is its offset in the template."""

    start: int
    text: str  # the field as written
    message: str
    hint: str | None = None


def template_problems(template: str) -> list[TemplateProblem]:
    """Unknown placeholders and filters, and filters written after ``:``; in template order."""
    out = []
    for m in _FIELD.finditer(template):
        name, sep, rest = m.group(1), m.group(2), m.group(3)
        if name is None:  # {{...}}: text
            continue
        field = m.group(0)
        if name in LEAKS:
            out.append(TemplateProblem(m.start(), field, f"{field} would put the gold answer in the prompt",
                                       "the model would read the answer it is graded on, so every reward is "
                                       "free; drop the field (placeholders: {question}, {choices})"))
            continue
        if name not in PLACEHOLDERS:
            braced = [f"{{{p}}}" for p in PLACEHOLDERS]
            hint = did_you_mean(f"{{{name}}}", braced) or f"placeholders: {', '.join(braced)}."
            out.append(TemplateProblem(m.start(), field, f"unknown placeholder {field}",
                                       f"{hint} To write braces around a word as text, double them: "
                                       f"{{{field}}}"))
            continue
        if sep == ":":
            out.append(TemplateProblem(m.start(), field, f"{field}: a filter follows '|', not ':'",
                                       f"write {{{name}|{rest}}}"))
            continue
        for f in (rest.split("|") if sep else []):
            if f not in FILTERS:
                message = f"{field}: unknown filter '{f}'" if f else f"{field}: a filter name is missing after '|'"
                out.append(TemplateProblem(m.start(), field, message,
                                           did_you_mean(f.strip(), FILTERS) or f"filters: {', '.join(FILTERS)}"))
    return out


def uses_question(template: str) -> bool:
    """Whether the template has a ``{question}`` field (filtered or not)."""
    return any(m.group(1) == "question" for m in _FIELD.finditer(template))


def _render(template: str, sample: Sample, question: str) -> str:
    def field(m: re.Match[str]) -> str:
        name, sep, rest = m.group(1), m.group(2), m.group(3)
        if name is None:
            return m.group(0)[1:-1]
        if name == "question":
            value = question
        elif name == "choices":
            choices = sample.meta.get("choices") if isinstance(sample.meta, dict) else None
            value = "\n".join(f"{chr(65 + i)}: {c}" for i, c in enumerate(choices or []))
        else:
            return m.group(0)
        if sep == ":":
            return m.group(0)
        for f in (rest.split("|") if sep else []):
            fn = FILTERS.get(f)
            if fn is None:
                return m.group(0)
            value = fn(value)
        return value

    return _FIELD.sub(field, template)


def render_prompt(template: str | None, sample: Sample, *, question: str | None = None) -> str:
    """The text a model sees for ``sample`` (``question`` replaces the sample's own prompt, e.g. facts)."""
    text = sample.prompt if question is None else question
    if not template:
        return text
    return _render(template, sample, text)


def render_system(system: str | None, sample: Sample, *, question: str | None = None) -> str | None:
    """The system prompt for ``sample``, or None when there is none (no system message is sent)."""
    if not system:
        return None
    return _render(system, sample, sample.prompt if question is None else question)


def chat_messages(system: str | None, user: Any) -> list[dict[str, Any]]:
    """A chat as backends send it: the system message when there is a system prompt, then the user's
    (``user`` is a string or a content list with image items)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    return messages
