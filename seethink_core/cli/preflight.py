"""``seethink preflight FILE``: check data and rewards of every phase before training."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape

from seethink_core.cli.common import add_compile_args, parse_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preflight", help="materialise a few samples per source and check every reward")
    add_compile_args(p)
    p.add_argument("--samples", type=int, default=4, help="samples checked per source (default 4)")
    p.set_defaults(func=run)


def _short(text: str | None, n: int = 100) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def run(args: argparse.Namespace) -> int:
    from seethink_core.compiler import compile_path
    from seethink_core.plugins import get_plugins
    from seethink_core.preflight import preflight

    plan = compile_path(args.file, curriculum=args.curriculum, backend=args.backend,
                        overrides=parse_overrides(args.overrides))
    console = Console(highlight=False)
    reports = preflight(plan, get_plugins(), per_source=args.samples)
    problems: list[str] = []
    for rep in reports:
        console.print(f"[bold]phase {rep.phase.index}: {rep.phase.name}[/bold] ({rep.phase.method})")
        for src in rep.sources:
            if src.unreachable:
                console.print(f"  {src.source}: [yellow]could not be reached[/yellow]: "
                              f"{escape(_short(src.unreachable, 160))}")
                continue
            status = "[green]ok[/green]" if not src.problems else f"[red]{len(src.problems)} problem(s)[/red]"
            console.print(f"  {src.source}: {src.checked} samples checked, {status}")
            if src.example is not None:
                ex = src.example
                difficulty = "-" if ex.difficulty is None else f"{ex.difficulty:.2f}"
                console.print(escape(f"    e.g. {ex.id}: {_short(ex.prompt)!r} → {_short(ex.answer, 40)!r} "
                                     f"[{ex.capability or '-'}, difficulty {difficulty}, {len(ex.images)} image(s)]"))
        problems += rep.problems
    for line in problems:
        console.print(f"[red]problem:[/red] {escape(line)}")
    unreachable = sum(1 for r in reports for s in r.sources if s.unreachable)
    console.print(f"preflight: {len(problems)} problem(s)"
                  + (f", {unreachable} source(s) could not be reached (offline?)" if unreachable else ""))
    # An unreachable source is a problem too: the run could not start. It is reported apart because
    # the fix differs (go online, or point a jsonl/parquet source at a local copy).
    return 1 if problems or unreachable else 0
