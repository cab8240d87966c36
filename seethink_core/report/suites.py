"""Suites side by side: the reference's table (or any suite's) for every run and every evaluation row.

``suites_data(runs)`` gathers the ``suite.<name>.*`` metrics that the suite evaluators wrote into
eval.json (``seethink eval --suite``, or a run whose phases are evaluated with a suite) and lays them
out as the suite's table, one row per (run, evaluation): the benchmarks in the suite's order, each
group's average, the overall, in points (0–100). The layout comes from the suite as registered; a
suite no plugin registers any more keeps the order its metrics were written in.
``suite_html`` and ``suite_tables`` show it in the report page and the terminal.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from seethink_core.run.eval_suites import Suite, find_suite

if TYPE_CHECKING:
    from rich.table import Table

    from seethink_core.report.data import RunData

SUITES_FORMAT = 1
PREFIX = "suite."


def _names(runs: list[RunData]) -> list[str]:
    found: dict[str, None] = {}
    for run in runs:
        for e in run.evals:
            for k in e.metrics:
                if k.startswith(PREFIX) and k.count(".") == 2:
                    found[k.split(".")[1]] = None
    return list(found)


def _layout(name: str, runs: list[RunData]) -> Suite:
    try:
        from seethink_core.hooks.manager import get_plugins

        suite = find_suite(get_plugins().registry, name)
    except Exception:  # no plugins to ask (a bare report machine): the metrics' own order
        suite = None
    if suite is not None:
        return suite
    keys = [k.split(".")[2] for run in runs for e in run.evals for k in e.metrics if k.startswith(f"{PREFIX}{name}.")]
    members = tuple(dict.fromkeys(k for k in keys if k not in ("overall", "benchmarks")))
    return Suite(name, {"": members})


def suites_data(runs: list[RunData]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _names(runs):
        suite = _layout(name, runs)
        columns: list[tuple[str, str]] = []  # (metric key, column title)
        for group, members in suite.groups.items():
            columns.extend((b, b) for b in members)
            if group:
                columns.append((group, f"{group} average"))
        columns.append(("overall", "overall"))
        rows = []
        for run in runs:
            for e in run.evals:
                values = [e.metrics.get(f"{PREFIX}{name}.{key}") for key, _ in columns]
                if any(v is not None for v in values):
                    rows.append({"run": run.name, "label": e.label, "title": e.title or e.label,
                                 "values": [None if v is None else round(100.0 * v, 2) for v in values]})
        out[name] = {"groups": {g: list(m) for g, m in suite.groups.items()},
                     "columns": [title for _, title in columns], "rows": rows}
    return {"format": SUITES_FORMAT, "suites": out}


def _cell(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def suite_html(data: dict[str, Any]) -> str:
    """One table per suite: a row per run and evaluation, a column per benchmark, average and overall."""
    parts = []
    for name, body in data["suites"].items():
        head = "".join(f"<th>{html.escape(c)}</th>" for c in body["columns"])
        rows = "".join(f"<tr><td>{html.escape(r['run'])}</td><td>{html.escape(r['title'])}</td>"
                       + "".join(f"<td>{_cell(v)}</td>" for v in r["values"]) + "</tr>" for r in body["rows"])
        parts.append(f"<h3>{html.escape(name)}</h3><table><tr><th>run</th><th>after</th>{head}</tr>{rows}</table>")
    return "".join(parts) or ('<p class="muted">no evaluation ran a suite '
                              '(<code>seethink eval --suite reference</code>)</p>')


def suite_tables(data: dict[str, Any]) -> list[Table]:
    """The same tables for the terminal (rich)."""
    from rich.table import Table

    tables = []
    for name, body in data["suites"].items():
        table = Table(title=f"suite '{name}' (points)")
        for col in ("run", "after", *body["columns"]):
            table.add_column(col, justify="left" if col in ("run", "after") else "right")
        for r in body["rows"]:
            table.add_row(r["run"], r["title"], *(_cell(v) for v in r["values"]))
        tables.append(table)
    return tables
