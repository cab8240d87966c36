"""The judge on a seethink backend: any registered backend with the ``generate`` feature (``local`` by
default) answers the judge's prompts with a model folder, a registered model name or a hub id.

A plugin may not import another plugin (docs/architecture.md §3), so the backend is opened the way
the core opens one for ``seethink eval``: by name, through the registry (``open_backend``), and called
through the ``Generator`` contract (``checked_generate``). Each request is a ``Sample`` whose prompt is
the judge's user message, sent verbatim (template ``{question}``) with the system message, and whose
images are the request's (none unless the judge is told to look at them).
All requests go in one ``generate`` call, which the backend batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seethink_core.hooks.backend import Checkpoint, checked_generate, open_backend
from seethink_core.types.sample import Sample
from seethink_eval.judge.client import ChatRequest, JudgeError


@dataclass
class BackendClient:
    backend: str
    model: str
    options: Mapping[str, Any] = field(default_factory=dict)
    temperature: float = 0.0
    max_tokens: int = 512
    registry: Any = None  # default: the process-wide plugins' registry
    _generator: Any = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.backend}:{self.model}"

    def _open(self) -> Any:
        if self._generator is None:
            registry = self.registry
            if registry is None:
                from seethink_core.hooks.manager import get_plugins

                registry = get_plugins().registry
            spec = registry.get("backend", self.backend)
            if "generate" not in spec.features:
                raise JudgeError(f"the judge cannot use backend '{self.backend}': it cannot generate",
                                 hint="use client 'backend' with backend 'local', or an http endpoint")
            self._generator = open_backend(registry, self.backend, dict(self.options), error=JudgeError)
        return self._generator

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[str | JudgeError]:
        if not requests:
            return []
        samples = [Sample(id=f"judge-{i}", prompt=r.user, images=list(r.images)) for i, r in enumerate(requests)]
        systems = {r.system for r in requests}
        # The Generator contract takes one system prompt per call: requests are grouped by theirs.
        out: list[str | JudgeError] = [""] * len(requests)
        for system in systems:
            idx = [i for i, r in enumerate(requests) if r.system == system]
            groups = checked_generate(self._open(), Checkpoint(self.model), [samples[i] for i in idx], n=1,
                                      temperature=self.temperature, top_p=1.0, max_new_tokens=self.max_tokens,
                                      prompt_template="{question}", use_facts=False, error=JudgeError,
                                      what="the judge's replies", system_prompt=system or None)
            for i, group in zip(idx, groups):
                out[i] = group[0].text
        return out

    def close(self) -> None:
        close = getattr(self._generator, "close", None)
        if close is not None:
            close()
        self._generator = None
