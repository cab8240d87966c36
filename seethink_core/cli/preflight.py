"""``seethink preflight FILE``: check data and rewards of every phase before training."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from seethink_core.cli.common import add_compile_args, parse_overrides

if TYPE_CHECKING:
    from rich.console import Console

    from seethink_core.run.preflight import ModelReport, SourceReport


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preflight", help="materialise a few samples per source and check every reward")
    add_compile_args(p)
    p.add_argument("--samples", type=_samples, default=4, metavar="N|all",
                   help="records checked per source (default 4); `all` scans every record and lists every "
                        "bad one")
    p.set_defaults(func=run)


def _samples(text: str) -> int | None:
    """``--samples``: a positive count, or ``all`` (None: no limit)."""
    if text.strip().lower() == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {n}")
    return n


class _Bar:
    """A rich progress bar per source scanned, on stderr and only on a terminal (logs stay clean)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=console, transient=True,
                                  disable=not console.is_terminal)
        self._task: Any = None

    def __enter__(self) -> "_Bar":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, what: str, total: int | None) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(escape(what), total=total)

    def advance(self) -> None:
        self._progress.advance(self._task)


def escape(text: str) -> str:
    """rich's markup escape, imported on first use: building the parser (any command) needs no rich."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _short(text: str | None, n: int = 100) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def _print_models(console: Console, models: list[ModelReport]) -> list[str]:
    """One line per base model; the problems (a missing folder, a hub model that cannot be had)."""
    problems = []
    for m in models:
        if m.problem:
            console.print(f"model {escape(m.model)}: [red]cannot be had[/red]")
            problems.append(f"model: {m.problem}" + (f" (hint: {m.hint})" if m.hint else ""))
            continue
        where = {"registered": "a registered model", "folder": f"the folder {m.source.path}",
                 "hub": "on the Hugging Face hub", "cached": f"in the local cache ({m.source.path})"}
        note = f" ({m.source.note})" if m.source.note else ""
        console.print(escape(f"model {m.model}: {where[m.source.kind]}{note}"))
    return problems


def _print_source(console: Console, src: SourceReport, kind: str) -> None:
    if src.unreachable:
        console.print(f"  {kind}{escape(src.source)}: [yellow]could not be reached[/yellow]: "
                      f"{escape(_short(src.unreachable, 160))}")
        return
    status = "[green]ok[/green]" if not src.problems else f"[red]{src.problem_count} problem(s)[/red]"
    skipped = f", [yellow]{src.skipped_count} bad record(s) skipped[/yellow] (on_error: skip)" \
        if src.skipped_count else ""
    console.print(f"  {kind}{escape(src.source)}: {src.checked} samples checked, {status}{skipped}")
    for line in src.skipped:
        console.print(f"    [yellow]skipped:[/yellow] {escape(line)}")
    if src.more_skipped:
        console.print(f"    [yellow]skipped:[/yellow] … and {src.more_skipped} more")
    if src.example is not None:
        ex = src.example
        difficulty = "-" if ex.difficulty is None else f"{ex.difficulty:.2f}"
        console.print(escape(f"    e.g. {ex.id}: {_short(ex.prompt)!r} → {_short(ex.answer, 40)!r} "
                             f"[{ex.capability or '-'}, difficulty {difficulty}, {len(ex.images)} image(s)]"))


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from seethink_core.compiler import compile_path
    from seethink_core.hooks.manager import get_plugins
    from seethink_core.run.preflight import check_models, preflight

    plan = compile_path(args.file, curriculum=args.curriculum, backend=args.backend,
                        overrides=parse_overrides(args.overrides))
    console = Console(highlight=False)
    plugins = get_plugins()
    models = check_models(plan, plugins)
    problems = _print_models(console, models)
    with _Bar() as bar:
        reports = preflight(plan, plugins, per_source=args.samples, progress=bar)
    for rep in reports:
        console.print(f"[bold]phase {rep.phase.index}: {rep.phase.name}[/bold] ({rep.phase.method})")
        for src in rep.sources:
            _print_source(console, src, "")
        for src in rep.eval_sets:
            _print_source(console, src, "eval set ")
        problems += rep.problems
    for line in problems:
        console.print(f"[red]problem:[/red] {escape(line)}")
    unreachable = sum(1 for r in reports for s in r.sources + r.eval_sets if s.unreachable)
    count = sum(r.problem_count for r in reports) - unreachable + sum(1 for m in models if m.problem)
    console.print(f"preflight: {count} problem(s)"
                  + (f", {unreachable} source(s) could not be reached (offline?)" if unreachable else ""))
    # An unreachable source is a problem too: the run could not start. It is reported apart because
    # the fix differs (go online, or point a jsonl/parquet source at a local copy).
    return 1 if count or unreachable else 0
