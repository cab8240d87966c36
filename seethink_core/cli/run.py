"""``seethink run FILE``: compile a curriculum and train its phases in order, resumably."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable

from seethink_core.cli.common import DIRECTORY, add_compile_args, parse_overrides

if TYPE_CHECKING:
    from rich.console import Console


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="train a curriculum, phase by phase (re-running resumes)")
    add_compile_args(p)
    p.add_argument("--run-dir", help="run directory (default: runs/<curriculum>)").complete = DIRECTORY  # type: ignore[attr-defined]
    p.add_argument("--from-phase", help="re-run from this phase on (earlier phases are kept)")
    p.add_argument("--reuse", action="append", default=[], metavar="RUN_DIR",
                   help="take finished phases from another run directory whose plan is identical up to them")
    p.add_argument("--dry-run", action="store_true",
                   help="train nothing: say what every phase would run; backends that support it write data, "
                        "reward files and commands (data that cannot be opened here is reported, not needed)")
    p.add_argument("--no-progress", action="store_true",
                   help="plain lines (every 30 s) instead of progress bars, as off a terminal")
    p.add_argument("--verbose", action="store_true",
                   help="also show the libraries' own output (transformers warnings, Hugging Face loading bars)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: building the parser (`seethink --help`, any other command) needs none.
    from rich.console import Console

    from seethink_core.compiler import compile_path
    from seethink_core.report.progress import RunProgress
    from seethink_core.report.summary import stop_notes, summary_rows, summary_table
    from seethink_core.run.plan_check import PlanMismatch
    from seethink_core.run.rundir import RunDir
    from seethink_core.run.runner import Runner

    if args.verbose:  # read by backends (seethink_local.quiet) and by any process this run starts
        os.environ["SEETHINK_VERBOSE"] = "1"
    overrides = parse_overrides(args.overrides)
    plan = compile_path(args.file, curriculum=args.curriculum, backend=args.backend, overrides=overrides)
    run_dir = RunDir(Path(args.run_dir) if args.run_dir else Path("runs") / plan.curriculum)
    # Off a terminal (CI, a log file) rich would wrap the summary at 80 columns; a log can be wide.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    backends = ", ".join(f"'{b.name}'" for b in plan.backends() if any(plan.backend_of(p) == b for p in plan.phases))
    console.print(f"[bold]seethink run[/bold] {plan.curriculum}: {len(plan.phases)} phases on backend "
                  f"{backends or repr(plan.backend.name)} → {run_dir.root}  (plan {plan.hash()[:12]})"
                  + ("  (dry run)" if args.dry_run else ""))  # not "[dry run]": rich would read it as markup
    runner = Runner(plan, run_dir, from_phase=args.from_phase, reuse=[Path(r) for r in args.reuse],
                    progress=lambda plan, state: RunProgress(not args.no_progress, plan=plan, state=state),
                    dry_run=args.dry_run)
    resume = resume_command(args, run_dir.root)
    with Interrupts(lambda: f"interrupted {runner.position.describe()}; resume with: {resume}") as interrupts:
        try:
            reports = runner.run()
        except PlanMismatch as e:
            raise e.with_command(beside_command(args, run_dir.root)) from None
        except KeyboardInterrupt:
            if getattr(args, "debug", False):
                raise
            interrupts.say()
            return 130
    if args.dry_run:
        return _dry_run_summary(console, reports, run_dir)
    rows = summary_rows(reports, run_dir)
    console.print(summary_table(plan.curriculum, rows))
    for line in stop_notes(rows):
        console.print(line, markup=False)
    console.print(f"run directory: {run_dir.root}")
    return 0


def resume_command(args: argparse.Namespace, run_dir: Path) -> str:
    """The command that continues this run: the same file and compile flags (the plan must be identical),
    the run directory spelled out, ``--reuse`` kept (a phase not reached yet may still come from there),
    and no ``--from-phase`` (it would reset those phases again)."""
    words = ["seethink", "run", args.file]
    if args.curriculum:
        words += ["--curriculum", args.curriculum]
    if args.backend:
        words += ["--backend", args.backend]
    for item in args.overrides:
        words += ["--set", item]
    words += ["--run-dir", str(run_dir)]
    for other in args.reuse:
        words += ["--reuse", other]
    if args.dry_run:
        words.append("--dry-run")
    return shlex.join(words)


def beside_command(args: argparse.Namespace, run_dir: Path) -> str:
    """The command that runs a changed plan next to ``run_dir`` (in the first free ``NAME-2``, ``NAME-3``
    ...), taking the phases the two plans share from it with ``--reuse``."""
    n = 2
    while (fresh := run_dir.with_name(f"{run_dir.name}-{n}")).exists():
        n += 1
    words = shlex.split(resume_command(args, fresh))
    if str(run_dir) not in args.reuse:
        words += ["--reuse", str(run_dir)]
    return shlex.join(words)


class Interrupts:
    """Ctrl-C during ``seethink run``: one line that says where the run stopped and how to resume it,
    exit status 130, never a traceback.

    The first Ctrl-C raises KeyboardInterrupt, so the runner's ``finally`` blocks close the logs and stop
    the reward workers (state.json and checkpoints are written atomically, so nothing is left
    half-written). A second one during that shutdown ends the process at once: a KeyboardInterrupt
    raised inside the cleanup, or in the interpreter's exit, would print a traceback instead.
    """

    def __init__(self, line: Callable[[], str]):
        self._line = line
        self.hit = False
        self._said = False
        self._installed = False
        self._previous: Any = None

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        # After an interrupt the handler stays: a Ctrl-C while the interpreter exits stays quiet too.
        if self._installed and not self.hit:
            # None: the previous handler was not set from Python; Python's own is the usual one.
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.hit:
            self.hit = True
            raise KeyboardInterrupt
        self.say()
        os._exit(130)

    def say(self) -> None:
        """Print the line, once."""
        if self._said:
            return
        self._said = True
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        print(self._line(), file=sys.stderr, flush=True)


def _dry_run_summary(console: Console, reports: list, run_dir: Any) -> int:
    import json

    from rich.table import Table

    table = Table(title="dry run: what each phase would run (nothing was trained)")
    for col in ("phase", "backend", "method", "steps", "starts from", "written", "data"):
        table.add_column(col)
    missing = []
    for r in reports:
        path = run_dir.phase_dir(r.phase) / "dry_run.json"
        if r.skipped or not path.exists():
            table.add_row(r.phase.name, "", r.phase.method, str(r.state.steps), "", "done earlier", "")
            continue
        d = json.loads(path.read_text(encoding="utf-8"))
        work = run_dir.phase_dir(r.phase) / d["backend"]
        written = "command" if (work / "command.sh").exists() else "dry_run.json"
        table.add_row(d["phase"], d["backend"], d["method"], str(d["total_steps"] or "unknown"),
                      "base model" if r.phase.init_from == "base" else f"phase {r.phase.init_from}", written,
                      "MISSING" if d["data_missing"] else "ok")
        if d["data_missing"]:
            missing.append((d["phase"], ", ".join(d["data"]), d["data_missing"]))
    console.print(table)
    for phase, labels, why in missing:
        console.print(f"[yellow]data missing[/yellow] for phase {phase} ({labels}): {why}")
    if missing:
        console.print("the commands above are complete; the data files they name are written once the data "
                      "can be opened (re-run the dry run, or run, on a machine that has it)")
    console.print(f"run directory: {run_dir.root}")
    return 0
