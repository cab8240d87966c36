"""``seethink difficulty FILE``: estimate pass-rate difficulty of a curriculum's data, on its own.

For every phase whose difficulty source is ``pass_rate`` (or the one ``--phase`` names), k
completions per item come from the plan's backend (``generate``), are graded by the phase's
rewards and cached (a re-run costs nothing); a histogram per phase is printed and the values are
written to ``--out`` (``.json`` or ``.csv``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from seethink_core.cli.common import add_compile_args, parse_overrides
from seethink_core.errors import ConfigError, did_you_mean
from seethink_core.hooks.backend import Checkpoint, bound_options
from seethink_core.hooks.registry import Registry
from seethink_core.run.difficulty import (
    DifficultyError,
    EstimateStats,
    default_cache_dir,
    difficulty_for_phase,
    estimator_options,
    histogram,
    render_histogram,
)
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_core.types.sample import Sample


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("difficulty", help="estimate pass-rate difficulty of a curriculum's data (cached)")
    add_compile_args(p)
    p.add_argument("--phase", "-p", help="estimate this phase (default: every phase with difficulty pass_rate)")
    p.add_argument("--out", "-o", help="write the values here, .json or .csv (default: <curriculum>.difficulty.json)")
    p.add_argument("--cache-dir", help=f"pass-rate cache folder (default: {default_cache_dir()})")
    p.add_argument("--no-cache", action="store_true", help="estimate everything again and store nothing")
    p.add_argument("--run-dir", help="run directory whose finished phases are the starting checkpoints "
                                     "(needed for `model: phase_init` after the first phase)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


@dataclass
class PhaseDifficulty:
    phase: str
    model: str
    values: dict[str, float]  # sample id -> difficulty
    stats: EstimateStats = field(default_factory=EstimateStats)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from seethink_core.compiler import compile_path
    from seethink_core.hooks.manager import get_plugins

    plan = compile_path(args.file, curriculum=args.curriculum, backend=args.backend,
                        overrides=parse_overrides(args.overrides))
    console = Console()
    cache_dir = None if args.no_cache else Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    results = estimate_plan(plan, get_plugins().registry, phase_name=args.phase, cache_dir=cache_dir,
                            run_dir=Path(args.run_dir) if args.run_dir else None,
                            show_progress=not args.no_progress, console=console)
    out = Path(args.out) if args.out else Path(f"{plan.curriculum}.difficulty.json")
    write_values(out, plan, results)
    console.print(f"wrote {sum(len(r.values) for r in results)} difficulties to {out}")
    return 0


def select_phases(plan: TrainingPlan, phase_name: str | None) -> list[Phase]:
    if phase_name is not None:
        names = [p.name for p in plan.phases]
        if phase_name not in names:
            raise ConfigError(f"--phase: no phase '{phase_name}' in curriculum '{plan.curriculum}'",
                              hint=did_you_mean(phase_name, names) or f"its phases: {', '.join(names)}")
        return [plan.phase(phase_name)]
    phases = [p for p in plan.phases if p.difficulty.source == "pass_rate"]
    if not phases:
        raise DifficultyError(f"no phase of curriculum '{plan.curriculum}' estimates its difficulty",
                              hint="add `difficulty pass_rate(samples: 16)` to a stage, or name one with --phase")
    return phases


def open_generator(plan: TrainingPlan, registry: Registry) -> Any:
    """The plan's backend, checked to be able to ``generate``; built on its first ``generate`` call,
    so a re-run answered by the cache never imports torch."""
    spec = registry.get("backend", plan.backend.name)
    if "generate" not in spec.features:
        raise DifficultyError(_NO_GENERATE.format(spec.name), hint=_NO_GENERATE_HINT)
    options = bound_options(spec, plan.backend.options)
    return _LazyBackend(spec.name, lambda: spec.load()(options))


_NO_GENERATE = "backend '{}' cannot generate completions, so it cannot estimate pass rates"
_NO_GENERATE_HINT = "use a backend with the 'generate' feature (e.g. --backend local), or a difficulty column"


class _LazyBackend:
    def __init__(self, name: str, build: Callable[[], Any]):
        self.name, self._build, self._backend = name, build, None

    def generate(self, model: Checkpoint, samples: Sequence[Sample], **kwargs: Any) -> Any:
        if self._backend is None:
            backend = self._build()
            if not callable(getattr(backend, "generate", None)):
                _close(backend)
                raise DifficultyError(_NO_GENERATE.format(self.name), hint=_NO_GENERATE_HINT)
            self._backend = backend
        return self._backend.generate(model, samples, **kwargs)

    def close(self) -> None:
        if self._backend is not None:
            _close(self._backend)
            self._backend = None


def starting_checkpoint(phase: Phase, run_dir: Path | None) -> Checkpoint:
    """The checkpoint ``phase`` starts from: the base model, or a finished phase of ``run_dir``."""
    if phase.init_from == "base" or estimator_options(phase.difficulty).model == "base":
        return Checkpoint(phase.model)
    from seethink_core.run.rundir import RunDir

    state = RunDir(run_dir).load_state() if run_dir is not None else None
    prev = state.phases.get(phase.init_from) if state is not None else None
    if prev is None or prev.status != "done" or not prev.checkpoint:
        raise DifficultyError(f"phase '{phase.name}' estimates with its starting checkpoint (model: phase_init), "
                              f"the output of phase '{phase.init_from}', which has not finished"
                              + (f" in {run_dir}" if run_dir is not None else ""),
                              hint="train it first and pass --run-dir, or estimate with `model: base`")
    return Checkpoint(prev.checkpoint, phase.init_from)


def estimate_plan(plan: TrainingPlan, registry: Registry, *, phase_name: str | None = None,
                  cache_dir: Path | None = None, run_dir: Path | None = None, show_progress: bool = True,
                  console: Any = None, generator: Any = None, reward_timeout: float | None = 5.0,
                  ) -> list[PhaseDifficulty]:
    """Estimate the selected phases and print a histogram of each. ``generator``: use this instead
    of the plan's backend (tests, scripts)."""
    from rich.console import Console

    console = console or Console()
    phases = select_phases(plan, phase_name)
    for phase in phases:
        estimator_options(phase.difficulty)  # every bad option before any model is loaded
    own = generator is None
    generator = open_generator(plan, registry) if own else generator
    results: list[PhaseDifficulty] = []
    try:
        for phase in phases:
            opts = estimator_options(phase.difficulty)
            init = starting_checkpoint(phase, run_dir)
            model = phase.model if opts.model == "base" else init.path
            stats = EstimateStats()
            with _progress_bar(console, f"{phase.name}: pass rates", show_progress) as progress:
                values = difficulty_for_phase(plan, phase, init, generator, registry, cache_dir, progress=progress,
                                              stats=stats, reward_timeout=reward_timeout)
            results.append(PhaseDifficulty(phase.name, model, values, stats))
            console.print(f"[bold]{phase.name}[/bold]: {stats.items} items ({stats.cached} cached, "
                          f"{stats.estimated} estimated in {stats.seconds:.1f}s), k={opts.samples}, "
                          f"T={opts.temperature}, graded by {stats.graded_by}, model {model}")
            console.print(render_histogram(histogram(values.values())), markup=False, highlight=False)
    finally:
        if own:
            _close(generator)
    return results


def write_values(path: Path, plan: TrainingPlan, results: list[PhaseDifficulty]) -> None:
    """``.csv``: one row per (phase, sample); anything else: JSON by phase."""
    if path.suffix.lower() == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["phase", "id", "pass_rate", "difficulty"])
        for r in results:
            for sid, d in r.values.items():
                w.writerow([r.phase, sid, f"{1.0 - d:.6g}", f"{d:.6g}"])
        text = buf.getvalue()
    else:
        text = json.dumps({
            "curriculum": plan.curriculum, "plan": plan.hash(),
            "phases": {r.phase: {"model": r.model, "graded_by": r.stats.graded_by, "difficulty": r.values}
                       for r in results},
        }, indent=1) + "\n"
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ConfigError(f"--out: cannot write {path}: {e}") from None


class _progress_bar:  # noqa: N801 - used as a context manager like a function
    """A rich progress bar fed by ``(done, total)`` calls, or nothing when disabled."""

    def __init__(self, console: Any, description: str, enabled: bool):
        self.console, self.description, self.enabled = console, description, enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), console=self.console, transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task(self.description, total=None)
        return self.update

    def update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _close(backend: Any) -> None:
    close = getattr(backend, "close", None)
    if callable(close):
        close()
