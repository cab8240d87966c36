"""``seethink run FILE``: compile a curriculum and train its phases in order, resumably."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from seethink_core.cli.common import add_compile_args, parse_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="train a curriculum, phase by phase (re-running resumes)")
    add_compile_args(p)
    p.add_argument("--run-dir", help="run directory (default: runs/<curriculum>)")
    p.add_argument("--from-phase", help="re-run from this phase on (earlier phases are kept)")
    p.add_argument("--reuse", action="append", default=[], metavar="RUN_DIR",
                   help="take finished phases from another run directory whose plan is identical up to them")
    p.add_argument("--dry-run", action="store_true",
                   help="backends that support it write data, reward files and commands without training")
    p.add_argument("--no-progress", action="store_true", help="plain output instead of progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seethink_core.compiler import compile_path
    from seethink_core.rundir import RunDir
    from seethink_core.runner import Runner, summary_rows

    overrides = parse_overrides(args.overrides)
    if args.dry_run:
        overrides.setdefault("backend.dry_run", "true")
    plan = compile_path(args.file, curriculum=args.curriculum, backend=args.backend, overrides=overrides)
    run_dir = RunDir(Path(args.run_dir) if args.run_dir else Path("runs") / plan.curriculum)
    # Off a terminal (CI, a log file) rich would wrap the summary at 80 columns; a log can be wide.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(f"[bold]seethink run[/bold] {plan.curriculum}: {len(plan.phases)} phases on backend "
                  f"'{plan.backend.name}' → {run_dir.root}  (plan {plan.hash()[:12]})")
    reports = Runner(plan, run_dir, from_phase=args.from_phase, reuse=[Path(r) for r in args.reuse],
                     show_progress=not args.no_progress).run()
    table = Table(title=f"{plan.curriculum}: summary (first 20% → last 20% of each phase's steps)")
    for col in ("phase", "method", "steps", "stopped by", "reward", "accuracy", "loss", "length", "eval acc.",
                "time (s)"):
        table.add_column(col)
    for row in summary_rows(reports, run_dir):
        table.add_row(row["phase"], row["method"], str(row["steps"]), row["stopped_by"], _trend(row["reward"]),
                      _trend(row["accuracy"]), _trend(row["loss"]), _trend(row["length"], 1),
                      _fmt(row["eval_accuracy"]), _fmt(row["wall_s"], 1))
    console.print(table)
    console.print(f"run directory: {run_dir.root}")
    return 0


def _trend(pair: tuple[float, float] | None, digits: int = 2) -> str:
    return "-" if pair is None else f"{pair[0]:.{digits}f} → {pair[1]:.{digits}f}"


def _fmt(v: object, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, (int, float)) else str(v)
