"""``seethink sweep FILE``: each curriculum × each seed, then a mean ± std table and a joint report."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run every curriculum of a file for several seeds and tabulate the evals")
    p.add_argument("file", help="a .curr file")
    p.add_argument("--curricula", help="comma-separated curricula (default: all in the file)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    p.add_argument("--jobs", "-j", type=int, default=1, help="runs at once (CPU threads are shared out)")
    p.add_argument("--run-root", help="where the runs go (default: runs/<file stem>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override passed to every run")
    p.add_argument("--baseline", action="append", default=[], metavar="CURRICULUM",
                   help="compare every other curriculum with this one, seed for seed (mean difference, bootstrap "
                        "interval, sign-flip test); repeatable (default: the first curriculum)")
    p.add_argument("--no-report", action="store_true", help="skip the side-by-side HTML report")
    p.add_argument("--no-share", action="store_true",
                   help="train every run from scratch (default: a phase whose plan prefix is identical to one "
                        "already finished by an earlier run of the same seed, e.g. a shared warm-up, is reused)")
    p.set_defaults(func=run)


def _ints(text: str) -> list[int]:
    from seethink_core.errors import ConfigError

    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--seeds expects comma-separated integers, got '{text}'") from None


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: building the parser (`seethink --help`, any other command) needs none.
    from rich.console import Console
    from rich.table import Table

    from seethink_core.cli.common import parse_overrides
    from seethink_core.compiler import compile_path, list_curricula
    from seethink_core.errors import ConfigError, did_you_mean
    from seethink_core.report.paired import Paired, fmt_paired
    from seethink_core.report.sweep import DEFAULT_COLUMNS, fmt_cell, run_sweep, write_results

    parse_overrides(args.overrides)  # fail early on a malformed KEY=VALUE
    names = list_curricula(args.file)
    chosen = [c.strip() for c in args.curricula.split(",")] if args.curricula else names
    for c in chosen:
        if c not in names:
            raise ConfigError(f"--curricula: no curriculum '{c}' in {args.file}", hint=did_you_mean(c, names))
    for c in chosen:  # every curriculum must compile before anything runs
        compile_path(args.file, curriculum=c)
    for b in args.baseline:
        if b not in chosen:
            raise ConfigError(f"--baseline: '{b}' is not among the curricula of this sweep",
                              hint=did_you_mean(b, chosen))
    baselines = args.baseline or chosen[:1]
    seeds = _ints(args.seeds)
    root = Path(args.run_root) if args.run_root else Path("runs") / Path(args.file).stem
    console = Console()
    if not console.is_terminal:  # piped (a sweep is often left running into a log): keep the tables readable
        console = Console(width=200)
    console.print(f"[bold]seethink sweep[/bold] {len(chosen)} curricula × {len(seeds)} seeds → {root} "
                  f"({args.jobs} at a time)")

    def done(o) -> None:
        status = "[green]ok[/green]" if o.returncode == 0 else f"[red]failed ({o.returncode})[/red], see {o.log}"
        console.print(f"  {o.spec.curriculum} seed {o.spec.seed}: {status} in {o.wall_s:.0f} s")

    result = run_sweep(args.file, chosen, seeds, root, jobs=args.jobs, overrides=args.overrides,
                       share=not args.no_share, on_done=done)
    json_path, md_path = write_results(result, root, baselines=baselines)
    table = Table(title=f"final evaluation, mean ± std over seeds ({result.wall_s / 60:.1f} min)")
    table.add_column("curriculum")
    table.add_column("seeds")
    for label, _ in DEFAULT_COLUMNS:
        table.add_column(label)
    for row in result.table:
        table.add_row(row["curriculum"], str(row["seeds"]),
                      *[fmt_cell(row[c], 1 if c == "length" else 3) for c, _ in DEFAULT_COLUMNS])
    console.print(table)
    for comparison in result.comparisons:
        paired = Table(title=f"paired over seeds: curriculum − {comparison[0]['baseline']}, mean difference "
                             "[95% bootstrap interval] p (wins/losses/ties)")
        paired.add_column("curriculum")
        for label, _ in DEFAULT_COLUMNS:
            paired.add_column(label)
        for row in comparison:
            paired.add_row(row["curriculum"], *[fmt_paired(Paired(**row[c]) if row[c] else None,
                                                           1 if c == "length" else 3) for c, _ in DEFAULT_COLUMNS])
        console.print(paired)
    console.print(f"table: {md_path}  data: {json_path}")
    if not args.no_report:
        from seethink_core.cli.report import make_report
        from seethink_core.errors import ConfigError
        from seethink_core.report.plots import plot_paired, plot_sweep

        try:
            console.print(f"plot: {plot_sweep(result.table, root / 'sweep.png')}")
            if any(result.comparisons):
                console.print(f"plot: {plot_paired(result.comparisons, root / 'paired.png')}")
        except ConfigError as e:  # matplotlib missing: the table is still there
            console.print(f"[yellow]no plot:[/yellow] {e}")

        finished = [o.spec.run_dir for o in result.outcomes if o.returncode == 0]
        if finished:
            files = make_report(finished, root / "report", title=f"sweep of {args.file}")
            console.print(f"report: {files.html}")
    return 0 if all(o.returncode == 0 for o in result.outcomes) else 1
