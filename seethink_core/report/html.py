"""The report's HTML page: one self-contained file (plots embedded as base64 PNG, no scripts,
no network), so it can be mailed, attached to a CI run or opened from any folder."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from seethink_core.report.suites import suite_html

CAPTIONS = {
    "curves": "Training reward, response length and SFT loss per optimizer step, phases laid end to end "
              "(phases numbered from 1; a panel nothing logged is left out).",
    "eval": "Evaluation after each phase (row 0 = the base model): accuracy and mean response length in tokens.",
    "sets": "Accuracy on each eval set, by its name, after each phase (row 0 = the base model).",
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
table.rollouts td { text-align: left; vertical-align: top; max-width: 420px; white-space: pre-wrap;
                    word-break: break-word; font-family: ui-monospace, monospace; font-size: 0.85em; }
table.rollouts td.num { text-align: right; font-family: inherit; white-space: nowrap; }
table.rollouts td.id { white-space: nowrap; }
table.rollouts th { text-align: left; }
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


_NO_EVAL = '<p class="muted">no evaluation ran (no eval sets, or the backend cannot generate)</p>'


def _matrix_tables(matrix: dict[str, Any]) -> str:
    caps = matrix["capabilities"]
    if not caps or not any(run["rows"] for run in matrix["runs"]):
        return _NO_EVAL  # a table of headers alone reads as a broken report
    parts = []
    for run in matrix["runs"]:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in caps)
        body = []
        for label, cells, deltas, overall in zip(run.get("titles") or run["rows"], run["cells"], run["delta"],
                                                 run["overall"]):
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


def _sets_table(sets: dict[str, Any]) -> str:
    """Accuracy per eval set (columns, by name) after each phase (rows), every run."""
    if not sets["sets"] or not any(run["rows"] for run in sets["runs"]):
        return '<p class="muted">no evaluation reported a per-set accuracy</p>'
    head = "".join(f"<th>{html.escape(n)}</th>" for n in sets["sets"])
    rows = [f"<tr><td>{html.escape(run['run'])}</td><td>{html.escape(title)}</td>"
            + "".join(f"<td>{_fmt(v)}</td>" for v in cells) + "</tr>"
            for run in sets["runs"] for title, cells in zip(run["titles"], run["cells"])]
    return f"<table><tr><th>run</th><th>after</th>{head}</tr>{''.join(rows)}</table>"


_CLIP = 400  # characters of a prompt or completion shown; the whole text is in rollouts.json


def _clip(text: Any) -> str:
    s = "" if text is None else str(text)
    return html.escape(s if len(s) <= _CLIP else s[:_CLIP] + "…")


def _rollout_rows(kind: str, rows: list[dict[str, Any]]) -> str:
    return "".join(f"<tr><td class='num'>{html.escape(kind)}</td><td class='num'>{_fmt(r['step'])}</td>"
                   f"<td class='num'>{_fmt(r['reward'], 2)}</td><td class='id'>{_clip(r['id'])}</td>"
                   f"<td>{_clip(r['prompt'])}</td>"
                   f"<td>{_clip(r['completion'])}</td><td>{_clip(r['answer'])}</td></tr>" for r in rows)


def _rollouts_section(rollouts: dict[str, Any]) -> str:
    """The best and worst dumped training rollouts of each phase, by reward."""
    parts = []
    for run in rollouts["runs"]:
        for phase in run["phases"]:
            if phase["ranked"]:
                which = f"the {rollouts['k']} best and worst by reward"
            elif phase["reward"] is not None:
                which = f"every one has reward {phase['reward']:.2f}, so these are the first ones"
            else:
                which = "no reward was dumped, so these are the first ones"
            parts.append(f"<h3>{html.escape(run['run'])} / {html.escape(phase['title'])}</h3>"
                         f"<p class='muted'>{phase['rows']} dumped rollouts; {which}</p>"
                         "<table class='rollouts'><tr><th></th><th>step</th><th>reward</th><th>id</th><th>prompt</th>"
                         "<th>completion</th><th>answer</th></tr>"
                         + _rollout_rows("best" if phase["ranked"] else "", phase["best"])
                         + _rollout_rows("worst", phase["worst"]) + "</table>")
    return "".join(parts) or ('<p class="muted">no phase dumped rollouts (the local backend writes them every '
                              '<code>rollout_dump_every</code> RL steps into rollouts.jsonl)</p>')


def _eval_tables(eval_data: dict[str, Any], split: dict[str, Any]) -> str:
    if not any(run["rows"] for run in eval_data["runs"]):
        return _NO_EVAL
    splits = {(s["run"], r["label"]): r for s in split["runs"] for r in s["rows"]}
    rows = []
    for run in eval_data["runs"]:
        for row in run["rows"]:
            s = splits.get((run["run"], row["label"]), {})
            after = row.get("title") or row["label"]
            rows.append(f"<tr><td>{html.escape(run['run'])}</td><td>{html.escape(after)}</td>"
                        f"<td>{_fmt(row['accuracy'])}</td><td>{_fmt(row['format_rate'])}</td>"
                        f"<td>{_fmt(row['length_mean'], 1)}</td><td>{_fmt(row['length_median'], 1)}</td>"
                        f"<td>{_fmt(s.get('perception_share'))}</td><td>{_fmt(s.get('reasoning_share'))}</td></tr>")
    return ("<table><tr><th>run</th><th>after</th><th>accuracy</th><th>format</th><th>length mean</th>"
            "<th>length median</th><th>perception share</th><th>reasoning share</th></tr>"
            + "".join(rows) + "</table>")


def render_html(title: str, summary: list[dict[str, Any]], data: dict[str, dict[str, Any]],
                images: dict[str, Path], skipped: dict[str, str] | None = None) -> str:
    """The whole page. ``images``: plot name -> PNG path (absent plots are left out); ``skipped``: plot
    name -> why it was not drawn, said in one line where it would have been."""
    figures = []
    for name in CAPTIONS:
        if name in images:
            figures.append(f"<figure>{_img(images[name])}<figcaption>{html.escape(CAPTIONS[name])} "
                           f"Data: <code>{html.escape(name)}.json</code>.</figcaption></figure>")
        elif skipped and name in skipped:
            figures.append(f'<p class="muted">No <b>{html.escape(name)}</b> plot: {html.escape(skipped[name])}.</p>')
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
<h2>Accuracy per eval set</h2>
{_sets_table(data["sets"])}
{"<h2>Benchmark suites (points)</h2>" + suite_html(data["suites"]) if data.get("suites", {}).get("suites") else ""}
<h2>Phase × capability matrix</h2>
{_matrix_tables(data["matrix"])}
<h2>Plots</h2>
{''.join(figures) or '<p class="muted">plots were not drawn (--no-plots or matplotlib missing)</p>'}
<h2>Example rollouts</h2>
{_rollouts_section(data["rollouts"])}
</body></html>
"""
