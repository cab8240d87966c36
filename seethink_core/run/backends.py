"""The plan's backends as a run uses them: validated before anything runs, opened when first needed."""

from __future__ import annotations

from pathlib import Path

from seethink_core.errors import Diagnostic, RunError
from seethink_core.hooks.backend import Backend, bound_options, open_backend
from seethink_core.hooks.manager import Plugins
from seethink_core.types.plan import BackendRef, Phase, TrainingPlan


class Backends:
    """The plan's backends, one instance each, made and prepared when a phase first needs it (a run
    that resumes past every openrlhf phase never starts Ray), closed together at the end."""

    def __init__(self, plan: TrainingPlan, root: Path, plugins: Plugins, *, dry_run: bool = False):
        self.plan = plan
        self.root = root
        self.registry = plugins.registry
        self.dry_run = dry_run
        self._open: list[tuple[BackendRef, Backend]] = []

    def validate(self) -> None:
        """Every backend is registered here and its options hold, before anything runs."""
        problems: list[Diagnostic] = []
        for ref in self.plan.backends():
            try:
                bound_options(self.registry.get("backend", ref.name), ref.options, error=RunError)
            except RunError as e:
                problems.extend(e.diagnostics)
        if problems:
            raise RunError(problems)

    def has(self, phase: Phase, feature: str) -> bool:
        return feature in self.registry.get("backend", self.plan.backend_of(phase).name).features

    def get(self, phase: Phase) -> Backend:
        ref = self.plan.backend_of(phase)
        for known, instance in self._open:
            if known == ref:
                return instance
        instance = open_backend(self.registry, ref.name, ref.options, error=RunError, dry_run=self.dry_run)
        self._open.append((ref, instance))
        instance.prepare(self.plan.for_backend(ref), self.root)
        return instance

    def close(self) -> None:
        for _, instance in reversed(self._open):
            instance.close()
        self._open.clear()
