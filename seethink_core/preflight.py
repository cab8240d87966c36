"""``seethink preflight``: cheap checks before a user spends GPU hours.

For every phase: materialise a few samples of each source (fields present, images decode), show
one sample per source, and check that every reward gives the gold answer its maximum and a wrong
answer less. Every problem is one line; nothing trains.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import SeethinkError
from seethink_core.plan import Phase, TrainingPlan
from seethink_core.plugins import Plugins
from seethink_core.sample import Sample


@dataclass
class SourceReport:
    phase: str
    source: str
    checked: int = 0
    example: Sample | None = None
    problems: list[str] = field(default_factory=list)
    unreachable: str | None = None


@dataclass
class PhaseReport:
    phase: Phase
    sources: list[SourceReport]
    reward_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = [f"phase {self.phase.name}: source {s.source}: {p}" for s in self.sources for p in s.problems]
        out += [f"phase {self.phase.name}: source {s.source}: could not be reached: {s.unreachable}"
                for s in self.sources if s.unreachable]
        out += [f"phase {self.phase.name}: {p}" for p in self.reward_problems]
        return out


def check_image(image: Any) -> str | None:
    """None if the image decodes, else why not."""
    from PIL import Image, UnidentifiedImageError

    try:
        if isinstance(image, Image.Image):
            image.load()
        elif isinstance(image, (bytes, bytearray)):
            Image.open(io.BytesIO(bytes(image))).load()
        elif isinstance(image, dict) and (image.get("bytes") or image.get("path")):
            return check_image(image.get("bytes") or image["path"])
        elif isinstance(image, (str, Path)):
            if str(image).startswith(("http://", "https://")):
                return None  # fetched lazily at train time; preflight stays offline
            with Image.open(image) as im:
                im.load()
        else:
            return f"an image of unsupported type {type(image).__name__}"
    except (OSError, UnidentifiedImageError, ValueError) as e:
        return f"an image does not decode ({e})"
    return None


def check_sample(sample: Sample, needs: set[str]) -> list[str]:
    problems = []
    if not isinstance(sample.prompt, str) or not sample.prompt.strip():
        problems.append(f"sample {sample.id!r} has an empty prompt")
    for column in sorted(needs):
        if getattr(sample, column, None) in (None, "", []):
            problems.append(f"sample {sample.id!r} has no '{column}', which a reward of this phase needs")
    for image in sample.images:
        why = check_image(image)
        if why:
            problems.append(f"sample {sample.id!r}: {why}")
    if sample.difficulty is not None and not 0.0 <= sample.difficulty <= 1.0:
        problems.append(f"sample {sample.id!r} has difficulty {sample.difficulty}, outside [0, 1]")
    return problems


def preflight(plan: TrainingPlan, plugins: Plugins, *, per_source: int = 4) -> list[PhaseReport]:
    from seethink_core.rewarding import build_reward, check_reward_maximum
    from seethink_core.stream import open_source

    registry = plugins.registry
    reports = []
    for phase in plan.phases:
        needs: set[str] = set()
        for ref in phase.rewards:
            spec = registry.find("reward", ref.name)
            needs |= set(spec.needs) if spec else set()
        sources: list[SourceReport] = []
        for k, ref in enumerate(phase.data):
            rep = SourceReport(phase.name, ref.label)
            sources.append(rep)
            try:
                # Seeded as the runner's stream seeds source k, so the samples shown are the ones trained on.
                source = open_source(ref, registry, seed=phase.seed + k)
                for sample in itertools.islice(iter(source), per_source):
                    rep.checked += 1
                    rep.example = rep.example or sample
                    rep.problems += check_sample(sample, needs)
                # Records a source skipped (on_error: "skip") are problems worth seeing before a run.
                rep.problems += [f"skipped: {p}" for p in getattr(source, "problems", [])[:per_source]]
                if rep.checked == 0:
                    rep.problems.append("yields no samples")
            except SeethinkError as e:
                spec = registry.find("data_source", ref.source)
                if spec is not None and spec.needs_network:
                    rep.unreachable = e.diagnostics[0].message
                else:
                    rep.problems.append(e.diagnostics[0].message)
        report = PhaseReport(phase, sources)
        reports.append(report)
        examples = [s.example for s in sources if s.example is not None and s.example.answer is not None]
        if not phase.rewards or not examples:
            continue
        try:
            reward = build_reward(phase.rewards, registry)
        except SeethinkError as e:
            report.reward_problems.append(e.diagnostics[0].message)
            continue
        try:
            max_tokens = getattr(phase.algorithm, "max_response_tokens", 2048)
            for sample in examples:
                for check in check_reward_maximum(reward, sample, max_response_tokens=max_tokens):
                    if check.problem:
                        report.reward_problems.append(f"sample {sample.id!r}: {check.problem}")
        finally:
            reward.close()
    return reports
