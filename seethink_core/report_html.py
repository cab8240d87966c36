"""The report's HTML page: one self-contained file (plots embedded as base64 PNG, no scripts,
no network), so it can be mailed, attached to a CI run or opened from any folder."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

CAPTIONS = {
    "curves": "Training reward and response length per optimizer step, phases laid end to end.",
    "eval": "Evaluation after each phase (row 0 = the base model): accuracy and mean response length in tokens.",
    "matrix": "Phase × capability accuracy. Second line of a cell: change from the row above; "
              "a drop on a capability trained earlier is forgetting.",
    "split": "Errors on samples with gold facts: wrong from the image but right from the facts = perception; "
             "wrong from both = reasoning.",
}

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px auto; max-width: 1180px;
       color: #222; padding: 0 16px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.muted { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
td.up { color: #1a7f37; } td.down { color: #c62828; }
figure { margin: 8px 0 24px; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _runs_table(summary: list[dict[str, Any]]) -> str:
    rows = []
    for run in summary:
        phases = ", ".join(f"{html.escape(p['name'])} ({html.escape(p['status'])}, {p['steps']} steps)"
                           for p in run["phases"])
        rows.append(f"<tr><td>{html.escape(run['run'])}</td><td>{html.escape(run['plan'])}</td>"
                    f"<td style='text-align:left'>{phases}</td><td style='text-align:left'>"
                    f"{html.escape(run['root'])}</td></tr>")
    return ("<table><tr><th>run</th><th>plan</th><th>phases</th><th>directory</th></tr>"
            + "".join(rows) + "</table>")


def _matrix_tables(matrix: dict[str, Any]) -> str:
    caps = matrix["capabilities"]
    parts = []
    for run in matrix["runs"]:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in caps)
        body = []
        for label, cells, deltas, overall in zip(run["rows"], run["cells"], run["delta"], run["overall"]):
            tds = []
            for v, d in zip(cells, deltas):
                cls = "" if d is None or abs(d) < 1e-9 else (" class='up'" if d > 0 else " class='down'")
                extra = f" ({d:+.3f})" if d is not None else ""
                tds.append(f"<td{cls}>{_fmt(v)}{extra}</td>")
            body.append(f"<tr><td>{html.escape(label)}</td>{''.join(tds)}<td>{_fmt(overall)}</td></tr>")
        forgot = "".join(f"<td>{_fmt(f)}</td>" for f in run["forgetting"])
        body.append(f"<tr><td><i>forgetting</i></td>{forgot}<td></td></tr>")
        parts.append(f"<h3>{html.escape(run['run'])}</h3><table><tr><th>after</th>{head}<th>overall</th></tr>"
                     + "".join(body) + "</table>")
    return "".join(parts)


def _eval_tables(eval_data: dict[str, Any], split: dict[str, Any]) -> str:
    splits = {(s["run"], r["label"]): r for s in split["runs"] for r in s["rows"]}
    rows = []
    for run in eval_data["runs"]:
        for row in run["rows"]:
            s = splits.get((run["run"], row["label"]), {})
            rows.append(f"<tr><td>{html.escape(run['run'])}</td><td>{html.escape(row['label'])}</td>"
                        f"<td>{_fmt(row['accuracy'])}</td><td>{_fmt(row['format_rate'])}</td>"
                        f"<td>{_fmt(row['length_mean'], 1)}</td><td>{_fmt(row['length_median'], 1)}</td>"
                        f"<td>{_fmt(s.get('perception_share'))}</td><td>{_fmt(s.get('reasoning_share'))}</td></tr>")
    return ("<table><tr><th>run</th><th>after</th><th>accuracy</th><th>format</th><th>length mean</th>"
            "<th>length median</th><th>perception share</th><th>reasoning share</th></tr>"
            + "".join(rows) + "</table>")


def render_html(title: str, summary: list[dict[str, Any]], data: dict[str, dict[str, Any]],
                images: dict[str, Path]) -> str:
    """The whole page. ``images``: plot name -> PNG path (absent plots are left out)."""
    figures = []
    for name in ("curves", "eval", "matrix", "split"):
        if name in images:
            figures.append(f"<figure>{_img(images[name])}<figcaption>{html.escape(CAPTIONS[name])} "
                           f"Data: <code>{html.escape(name)}.json</code>.</figcaption></figure>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="muted">seethink report · {len(summary)} run(s)</p>
<h2>Runs</h2>
{_runs_table(summary)}
<h2>Evaluation after each phase</h2>
{_eval_tables(data["eval"], data["split"])}
<h2>Phase × capability matrix</h2>
{_matrix_tables(data["matrix"])}
<h2>Plots</h2>
{''.join(figures) or '<p class="muted">plots were not drawn (--no-plots or matplotlib missing)</p>'}
</body></html>
"""
