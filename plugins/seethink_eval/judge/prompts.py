"""The judge's prompt templates: package data files ``prompts/<name>.v<N>.txt``, the newest version wins.

A file is sections, each opened by a line ``=== section ===``: ``system`` and ``user`` are the two chat
messages; any other section is a *fragment*. In a message, ``{{name}}`` is replaced, in one pass, by:

- the value ``name`` when there is no section of that name (``{{question}}``, ``{{response}}``);
- the fragment ``name`` with its ``{{value}}`` filled in when the value is given (not None), else the
  section ``name.absent`` when there is one, else nothing. A fragment ends in a newline.

Placeholders use double braces because the values are LaTeX-heavy math (``\\frac{1}{2}``): single
braces would need escaping in every answer. Values are inserted verbatim and never re-scanned, so a
response that contains ``{{gold}}`` cannot pull the gold answer into the prompt.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

_FILE = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.txt$")
_SECTION = re.compile(r"^=== ([a-z_.]+) ===$", re.MULTILINE)
_FIELD = re.compile(r"\{\{([a-z_]+)\}\}")


class PromptError(ValueError):
    """A prompt file is missing or malformed (a packaging bug, not a user mistake)."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    sections: Mapping[str, str]
    digest: str  # sha256 of the file's text: part of the cache key, so an edit without a new version is safe

    @property
    def tag(self) -> str:
        """``label_error.v1``: what the cache and eval.json call this prompt."""
        return f"{self.name}.v{self.version}"

    def render(self, values: Mapping[str, str | None]) -> tuple[str, str]:
        """The (system, user) messages with ``values`` filled in."""
        return self._fill("system", values), self._fill("user", values)

    def _fill(self, section: str, values: Mapping[str, str | None]) -> str:
        def field(m: re.Match[str]) -> str:
            name = m.group(1)
            value = values.get(name)
            if name not in self.sections:
                if name not in values:
                    raise PromptError(f"prompt {self.tag}: no value for {{{{{name}}}}}")
                return value or ""
            if value is None:
                absent = self.sections.get(f"{name}.absent", "")
                return f"{absent}\n" if absent else ""
            return _FIELD.sub(lambda v: value if v.group(1) == "value" else v.group(0), self.sections[name]) + "\n"

        return _FIELD.sub(field, self.sections.get(section, "")).strip()


def parse(name: str, version: int, text: str) -> Prompt:
    parts = _SECTION.split(text)
    if parts[0].strip():
        raise PromptError(f"prompt {name}.v{version}: text before the first '=== section ===' line")
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise PromptError(f"prompt {name}.v{version} has no '=== user ===' section")
    return Prompt(name, version, sections, hashlib.sha256(text.encode("utf-8")).hexdigest())


@functools.cache
def load(name: str, version: int | None = None) -> Prompt:
    """Prompt ``name`` shipped with the package: ``version``, or the newest one."""
    folder = resources.files("seethink_eval.judge") / "prompts"
    found: dict[int, str] = {}
    for entry in folder.iterdir():
        m = _FILE.match(entry.name)
        if m and m.group("name") == name:
            found[int(m.group("version"))] = entry.name
    if not found:
        raise PromptError(f"no judge prompt '{name}' in the package (prompts/{name}.v<N>.txt)")
    chosen = max(found) if version is None else version
    if chosen not in found:
        raise PromptError(f"judge prompt '{name}' has versions {sorted(found)}, not {version}")
    return parse(name, chosen, (folder / found[chosen]).read_text(encoding="utf-8"))
