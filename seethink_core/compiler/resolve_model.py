"""Resolving a stage's model, prompts, capability, freeze, budget and mix."""

from __future__ import annotations

import os

from seethink_core.compiler.diagnostics import suggest
from seethink_core.compiler.resolve_core import ResolverCore
from seethink_core.dsl import ast
from seethink_core.errors import SOURCES, Diagnostic, SourcePos
from seethink_core.samples.prompting import template_problems, uses_question
from seethink_core.types import plan as P

FREEZABLE = ("vision", "projector", "language")

class ModelResolving(ResolverCore):
    """The model and the stage's plain settings."""

    # Each single statement's reader (its declaration's ``resolve``, dsl/statements.py): node -> its field.
    def model_of(self, stmt: ast.Model) -> str | None:
        return self.model(stmt.value)

    def prompt_of(self, stmt: ast.Prompt) -> str | None:
        return self.prompt(stmt.value)

    def system_of(self, stmt: ast.System) -> str | None:
        return self.system(stmt.value)

    def seed_of(self, stmt: ast.Seed) -> int | None:
        return self.integer(stmt.value, "seed", 0)

    def capabilities_of(self, stmt: ast.Capability) -> list[str]:
        return [self.capability(stmt.name)]

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
