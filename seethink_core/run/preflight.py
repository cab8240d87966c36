"""``seethink preflight``: cheap checks before a user spends GPU hours.

For every phase: materialise a few samples of each source and of each eval set (fields present,
images decode; an eval set shared by several phases is checked once, under the first), show one
sample per source, and check that every reward gives the gold answer its maximum and a wrong
answer less. ``check_models`` locates every base model as a run would (a registered model, a
folder that exists, a hub id the hub or the local cache has: ``seethink_core.run.model_source``),
loading nothing. Every problem is one line; nothing trains.

A source that can ``scan()`` (the record sources of ``seethink_data``) gives every record with
its place (``FILE:LINE`` or ``FILE row N``) and either its sample or why it is bad, whatever its
``on_error`` says, so a check reports every bad record of the records it reads (``per_source``
of them, or all) instead of stopping at the first. A bad record is a problem when the source
stops on bad records; with ``on_error: "skip"`` it is listed as skipped and is a problem only
when no record of the source is good. Each source lists at most ``MAX_LISTED`` problems and
counts the rest.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from seethink_core.errors import SeethinkError
from seethink_core.hooks.manager import Plugins
from seethink_core.hooks.registry import Registry
from seethink_core.run.eval_sets import eval_seed
from seethink_core.run.model_source import ModelSource, locate_model
from seethink_core.types.plan import DataRef, Phase, TrainingPlan, to_data
from seethink_core.types.sample import Sample

MAX_LISTED = 20  # problems (and skipped records) listed per source; the rest are counted


class ScanProgress(Protocol):
    """What a long check reports its progress to (the CLI's rich progress bar)."""

    def start(self, what: str, total: int | None) -> None: ...

    def advance(self) -> None: ...


@dataclass
class SourceReport:
    phase: str
    source: str
    checked: int = 0
    example: Sample | None = None
    problems: list[str] = field(default_factory=list)  # the first MAX_LISTED
    unreachable: str | None = None
    more_problems: int = 0  # problems found beyond the listed ones
    skipped: list[str] = field(default_factory=list)  # bad records an on_error: "skip" source skips
    more_skipped: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)
        else:
            self.more_problems += 1

    def skip(self, text: str) -> None:
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append(text)
        else:
            self.more_skipped += 1

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.more_problems + (1 if self.unreachable else 0)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped) + self.more_skipped


@dataclass
class PhaseReport:
    phase: Phase
    sources: list[SourceReport]
    reward_problems: list[str] = field(default_factory=list)
    # The eval sets this phase is the first to evaluate on (each distinct set is checked once).
    eval_sets: list[SourceReport] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = []
        for kind, reps in (("source", self.sources), ("eval set", self.eval_sets)):
            for s in reps:
                out += [f"phase {self.phase.name}: {kind} {s.source}: {p}" for p in s.problems]
                if s.more_problems:
                    out.append(f"phase {self.phase.name}: {kind} {s.source}: … and {s.more_problems} more")
            out += [f"phase {self.phase.name}: {kind} {s.source}: could not be reached: {s.unreachable}"
                    for s in reps if s.unreachable]
        out += [f"phase {self.phase.name}: {p}" for p in self.reward_problems]
        return out

    @property
    def problem_count(self) -> int:
        """Every problem found, the ones past a source's listing limit included."""
        return sum(s.problem_count for s in self.sources + self.eval_sets) + len(self.reward_problems)


@dataclass
class ModelReport:
    """A base model of the plan: where it is (``source``), or why it cannot be had (``problem``)."""

    model: str
    phases: list[str]
    source: ModelSource | None = None
    problem: str | None = None
    hint: str | None = None


def check_models(plan: TrainingPlan, plugins: Plugins) -> list[ModelReport]:
    """Every distinct base model of the plan, located as a run would (nothing is loaded)."""
    reports: dict[str, ModelReport] = {}
    for phase in plan.phases:
        rep = reports.setdefault(phase.model, ModelReport(phase.model, []))
        rep.phases.append(phase.name)
    for rep in reports.values():
        try:
            rep.source = locate_model(rep.model, plugins.registry)
        except SeethinkError as e:
            rep.problem, rep.hint = e.diagnostics[0].message, e.diagnostics[0].hint
    return list(reports.values())


def check_image(image: Any) -> str | None:
    """None if the image decodes, else why not."""
    from PIL import Image

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
    except FileNotFoundError:
        return f"image file not found: {image}"
    except Exception as e:  # a damaged file makes PIL raise many types (struct.error, SyntaxError, ...)
        return f"an image does not decode ({e or type(e).__name__})"
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


def _records(source: Any) -> Iterator[tuple[str | None, Any]]:
    """``(where, sample or why it is bad)`` for every record; a source without ``scan()`` gives its
    samples with no place (it stops at its first bad record itself, or skips and counts it)."""
    scan = getattr(source, "scan", None)
    if callable(scan):
        yield from scan()
    else:
        yield from ((None, sample) for sample in source)


def _total(source: Any, per_source: int | None) -> int | None:
    count = getattr(source, "records", None) or getattr(source, "size", None)
    total = count() if callable(count) else None
    return per_source if total is None else total if per_source is None else min(total, per_source)


def check_source(rep: SourceReport, source: Any, needs: set[str], per_source: int | None,
                 progress: ScanProgress | None = None) -> None:
    """Check ``per_source`` records of ``source`` (None: all of them) into ``rep``."""
    skipping = getattr(source, "on_error", "stop") == "skip"
    scans = callable(getattr(source, "scan", None))
    records = itertools.islice(_records(source), per_source)  # islice(..., None): all of them
    if progress is not None:
        progress.start(f"{rep.phase}: {rep.source}", _total(source, per_source))
    good = 0
    for where, result in records:
        rep.checked += 1
        if progress is not None:
            progress.advance()
        at = f"{where}: " if where else ""
        if not isinstance(result, Sample):  # a bad record, with the reason the source gave
            (rep.skip if skipping else rep.problem)(f"{at}{result}")
            continue
        good += 1
        rep.example = rep.example or result
        for p in check_sample(result, needs):
            rep.problem(f"{at}{p}")
    if not scans:  # what a source without scan() skipped (on_error: "skip") is worth seeing before a run
        for p in getattr(source, "problems", [])[:MAX_LISTED]:
            rep.skip(p)
    if rep.checked == 0:
        rep.problem("yields no samples")
    elif good == 0:
        rep.problem(f"yields no samples: {'every' if per_source is None else 'each'} record checked "
                    f"({rep.checked}) is bad")


def _check_ref(phase: str, ref: DataRef, registry: Registry, seed: int, needs: set[str], per_source: int | None,
               progress: ScanProgress | None) -> SourceReport:
    """Open one source (a data line or an eval set) and check its records."""
    from seethink_core.run.sources import open_source

    rep = SourceReport(phase, ref.label)
    try:
        check_source(rep, open_source(ref, registry, seed=seed), needs, per_source, progress)
    except SeethinkError as e:
        spec = registry.find("data_source", ref.source)
        if spec is not None and spec.needs_network:
            rep.unreachable = e.diagnostics[0].message
        else:
            rep.problem(e.diagnostics[0].message)
    return rep


def _new_eval_sets(phase: Phase, seen: set[str]) -> list[DataRef]:
    """The phase's eval sets not checked yet (every phase usually inherits the same ones)."""
    out = []
    for ref in phase.eval.sets if phase.eval is not None else []:
        key = json.dumps(to_data(ref), sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def preflight(plan: TrainingPlan, plugins: Plugins, *, per_source: int | None = 4,
              progress: ScanProgress | None = None) -> list[PhaseReport]:
    """Check every phase; ``per_source``: records read per source (None: every record)."""
    from seethink_core.run.rewards.checks import check_reward_maximum
    from seethink_core.run.rewards.combine import build_reward

    registry = plugins.registry
    reports = []
    seen_eval: set[str] = set()
    for phase in plan.phases:
        needs: set[str] = set()
        for ref in phase.rewards:
            spec = registry.find("reward", ref.name)
            needs |= set(spec.needs) if spec else set()
        # Seeded as the runner's stream seeds source k, so the samples shown are the ones trained on.
        sources = [_check_ref(phase.name, ref, registry, phase.seed + k, needs, per_source, progress)
                   for k, ref in enumerate(phase.data)]
        report = PhaseReport(phase, sources, eval_sets=[
            # Seeded as evaluation draws eval sets; graded with the phase's rewards, so they need the same columns.
            _check_ref(phase.name, ref, registry, eval_seed(plan), needs, per_source, progress)
            for ref in _new_eval_sets(phase, seen_eval)])
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
