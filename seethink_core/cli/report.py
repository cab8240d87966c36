"""``seethink report RUN [RUN...]``: plots (PNG + their data as JSON), an HTML page and a terminal table
for one run or several side by side (staged vs merged)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="plots, an HTML page and a table for one run or several side by side")
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="run directories (as `seethink run` writes them) or `seethink eval` result files")
    p.add_argument("--out", help="output folder (default: RUN/report for one run, ./report for several)")
    p.add_argument("--no-plots", action="store_true", help="write the JSON data and the table only")
    p.add_argument("--no-html", action="store_true", help="skip report.html")
    p.add_argument("--title", help="the page title (default: the run names)")
    p.set_defaults(func=run)


@dataclass
class ReportFiles:
    out: Path
    data: dict[str, Path] = field(default_factory=dict)  # plot name -> its JSON
    plots: dict[str, Path] = field(default_factory=dict)  # plot name -> its PNG
    skipped: dict[str, str] = field(default_factory=dict)  # plot name -> why it was not drawn (no data)
    html: Path | None = None
    tables: dict[str, Any] = field(default_factory=dict)  # the data itself, for the terminal table


def make_report(roots: list[Path | str], out: Path | None = None, *, plots: bool = True, html: bool = True,
                title: str | None = None) -> ReportFiles:
    """Read the runs and write ``<plot>.json``, ``<plot>.png``, ``runs.json`` and ``report.html`` into ``out``.

    A plot with no data is not drawn (an empty axes reads as a broken report); ``skipped`` says why, and
    so does the page. A PNG left from an earlier report of the same runs is removed with it."""
    # Imported here, not at the top: building the parser (`seethink --help`, any other command) needs none.
    from seethink_core.report.data import load_runs, report_data, runs_summary
    from seethink_core.run.atomic import write_atomic, write_json_atomic

    runs = load_runs(list(roots))
    if out is None:
        out = runs[0].root / "report" if len(runs) == 1 else Path("report")
    out.mkdir(parents=True, exist_ok=True)
    data = report_data(runs)
    summary = runs_summary(runs)
    files = ReportFiles(out, tables=data)
    write_json_atomic(out / "runs.json", summary)
    for name, payload in data.items():
        files.data[name] = out / f"{name}.json"
        write_json_atomic(files.data[name], payload)
    if plots:
        from seethink_core.report.plots import PLOTTERS, empty_reason

        for name, draw in PLOTTERS.items():
            reason = empty_reason(name, data[name])
            if reason is None:
                files.plots[name] = draw(data[name], out / f"{name}.png")
            else:
                files.skipped[name] = reason
                (out / f"{name}.png").unlink(missing_ok=True)
    if html:
        from seethink_core.report.html import render_html

        page = render_html(title or " vs ".join(r.name for r in runs), summary, data, files.plots, files.skipped)
        files.html = out / "report.html"
        write_atomic(files.html, page)
    return files


def terminal_table(data: dict[str, dict[str, Any]]) -> Table:
    """Accuracy per capability, overall accuracy, length and the perception share, per run and row."""
    from rich.table import Table

    matrix, ev, split = data["matrix"], data["eval"], data["split"]
    caps = matrix["capabilities"]
    table = Table(title="evaluation after each phase (row 0 = base)")
    for col in ("run", "after", *caps, "accuracy", "length", "format", "perception share"):
        table.add_column(col, justify="left" if col in ("run", "after") else "right")
    lengths = {(r["run"], row["label"]): row for r in ev["runs"] for row in r["rows"]}
    shares = {(r["run"], row["label"]): row.get("perception_share") for r in split["runs"] for row in r["rows"]}
    for run in matrix["runs"]:
        for label, cells, deltas, overall in zip(run["rows"], run["cells"], run["delta"], run["overall"]):
            shown = []
            for v, d in zip(cells, deltas):
                text = _fmt(v)
                if d is not None and abs(d) >= 1e-9:
                    text += f" [{'green' if d > 0 else 'red'}]{d:+.2f}[/]"
                shown.append(text)
            row = lengths.get((run["run"], label), {})
            table.add_row(run["run"], label, *shown, _fmt(overall), _fmt(row.get("length_mean"), 1),
                          _fmt(row.get("format_rate")), _fmt(shares.get((run["run"], label))))
    return table


def _fmt(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    files = make_report(args.runs, Path(args.out) if args.out else None, plots=not args.no_plots,
                        html=not args.no_html, title=args.title)
    from seethink_core.report.suites import suite_tables

    console = Console()
    if not console.is_terminal:  # piped: a suite's dozen columns must not be squeezed into 80
        console = Console(width=200)

    console.print(terminal_table(files.tables))
    for table in suite_tables(files.tables.get("suites") or {"suites": {}}):  # `seethink eval --suite` files
        console.print(table)
    console.print(f"report: {files.html or files.out}")
    return 0
