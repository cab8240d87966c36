"""The summary of a run (counts per kind and class, the slowest inputs) and the saved findings."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scripts.fuzz.generate import KINDS
from scripts.fuzz.harness import CLASSES, Outcome

SAVED_CLASSES = ("crash", "slow", "bad_message")  # what a person has to look at
DEFAULT_OUT = Path("build") / "fuzz"


@dataclass
class Summary:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, class) -> inputs
    slowest: list[Outcome] = field(default_factory=list)
    findings: list[Outcome] = field(default_factory=list)  # crashes, slow inputs, bad messages
    seconds: float = 0.0  # the whole run, wall clock
    saved: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, cls: str) -> int:
        return sum(n for (_, c), n in self.counts.items() if c == cls)


def summarize(outcomes: list[Outcome], seconds: float = 0.0, slowest: int = 10) -> Summary:
    summary = Summary(seconds=seconds)
    for o in outcomes:
        summary.counts[(o.input.kind, o.cls)] += 1
    summary.slowest = sorted(outcomes, key=lambda o: o.seconds, reverse=True)[:slowest]
    summary.findings = [o for o in outcomes if o.cls in SAVED_CLASSES]
    return summary


def save(summary: Summary, out: Path = DEFAULT_OUT) -> list[Path]:
    """Each finding as ``OUT/CLASS/LABEL.curr`` (the input's bytes) and ``LABEL.txt`` (what happened).
    The folder is emptied first so that it shows this run's findings only."""
    if out.exists():
        shutil.rmtree(out)
    saved = []
    for o in summary.findings:
        folder = out / o.cls
        folder.mkdir(parents=True, exist_ok=True)
        curr = folder / f"{o.input.label}.curr"
        curr.write_bytes(o.input.data)
        curr.with_suffix(".txt").write_text(
            f"{o.input.label}: {o.cls}, {o.seconds:.3f} s, {len(o.input.data)} bytes\n"
            f"made by: {o.input.note}\n"
            f"reproduce: python -m scripts.fuzz --replay {curr}\n\n{o.detail}\n", encoding="utf-8")
        saved.append(curr)
    summary.saved = saved
    return saved


def _first_line(text: str, width: int = 100) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    line = lines[-1] if lines and lines[0].startswith("Traceback") else (lines[0] if lines else "")
    return line if len(line) <= width else line[:width - 3] + "..."


def format_summary(summary: Summary) -> str:
    head = f"{'kind':<10}" + "".join(f"{c:>13}" for c in CLASSES) + f"{'total':>8}"
    rows = [f"fuzz: {summary.total} inputs in {summary.seconds:.1f} s", "", head]
    for kind in KINDS:
        cells = [summary.counts[(kind, c)] for c in CLASSES]
        rows.append(f"{kind:<10}" + "".join(f"{n:>13}" for n in cells) + f"{sum(cells):>8}")
    totals = [summary.count(c) for c in CLASSES]
    rows.append(f"{'all':<10}" + "".join(f"{n:>13}" for n in totals) + f"{summary.total:>8}")
    rows += ["", "slowest:"]
    rows += [f"  {o.seconds:8.3f} s  {o.input.label}  {o.cls:<11} {len(o.input.data):>9} B  {o.input.note[:60]}"
             for o in summary.slowest]
    if summary.findings:
        rows += ["", f"findings ({len(summary.findings)}):"]
        rows += [f"  {o.cls:<11} {o.input.label}  {_first_line(o.detail)}" for o in summary.findings[:30]]
    if summary.saved:
        folder = summary.saved[0].parent.parent
        rows += ["", f"saved under {folder}/; reproduce one with: python -m scripts.fuzz --replay FILE.curr"]
    return "\n".join(rows)
