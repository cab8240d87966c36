"""``seethink plan FILE``: compile one curriculum and print its training plan (table, YAML or JSON)."""

from __future__ import annotations

import argparse
from typing import Any

from seethink_core.cli.common import add_compile_args, parse_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="compile a curriculum and show its training plan",
                       description="Compile one curriculum (the file's first unless --curriculum names one) "
                                   "and print the plan. --set keys are listed in docs/dsl.md.")
    add_compile_args(p)
    p.add_argument("--format", choices=("table", "yaml", "json"), default="table", help="output format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seethink_core.compiler import compile_path

    plan = compile_path(args.file, curriculum=args.curriculum, backend=args.backend,
                        overrides=parse_overrides(args.overrides))
    if args.format == "json":
        print(plan.to_json())
    elif args.format == "yaml":
        print(plan.to_yaml(), end="")
    else:
        print_table(plan)
    return 0


def _num(x: float) -> str:
    return f"{x:g}"


def _budget(phase: Any) -> str:
    b = phase.budget
    text = (f"{b.steps} steps" if b.steps is not None else f"{_num(b.epochs)} epochs" if b.epochs is not None
            else f"{b.samples} samples")
    if phase.transition is not None:
        conds = " or ".join(f"{c.metric} {c.op} {_num(c.value)}" for c in phase.transition.any_of)
        text += f"\nuntil {conds}"
    return text


def _difficulty(d: Any) -> str:
    if d.source == "none":
        return "-"
    parts = [d.source, d.order]
    if (d.min, d.max) != (0.0, 1.0):
        parts.append(f"{_num(d.min)}..{_num(d.max)}")
    if d.level:
        parts.append(f"level {d.level}")
    if d.pacing is not None:
        parts.append(f"pacing {d.pacing.kind}")
    return " ".join(parts)


def _data(ref: Any) -> str:
    name = ref.name or ref.source
    return f"{name} ×{_num(ref.weight)}"


def _replay(phase: Any) -> list[str]:
    r = phase.replay
    return [] if r is None else [f"replay {r.share * 100:g}%: {', '.join(r.stages)}"]


def print_table(plan: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    backend = plan.backend.name  # its options (all of them, defaults filled in) are in --format yaml
    table = Table(title=f"curriculum {plan.curriculum}", caption=f"model {plan.model} · backend {backend} · "
                                                                   f"seed {plan.seed}")
    for col in ("#", "phase", "capability", "method", "data", "rewards", "budget", "init from", "freeze",
                "difficulty"):
        table.add_column(col)
    for p in plan.phases:
        table.add_row(
            str(p.index), p.name, ", ".join(p.capabilities) or "-", p.method,
            "\n".join([_data(d) for d in p.data] + _replay(p)),
            "\n".join(f"{r.name} ×{_num(r.weight)}" for r in p.rewards) or "-",
            _budget(p), p.init_from, ", ".join(p.freeze) or "-", _difficulty(p.difficulty))
    console = Console()
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(width=200)
    console.print(table)
    console.print(f"plan hash {plan.hash()}")
