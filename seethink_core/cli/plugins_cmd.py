"""``seethink plugins``: every plugin, its version, and what it registers."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from seethink_core.options import describe
from seethink_core.plugins import get_plugins
from seethink_core.registry import KIND_WORDS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list plugins and what they register")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--options", action="store_true", help="also list each registered thing's options")
    p.set_defaults(func=run)


def collect() -> list[dict]:
    plugins = get_plugins()
    rows = []
    for name, info in sorted(plugins.info.items()):
        registers = []
        for kind, spec in plugins.registry.by_plugin(name):
            registers.append({
                "kind": kind,
                "name": spec.name,
                "doc": spec.doc,
                "options": [o.__dict__ for o in describe(spec.options)],
            })
        rows.append({"plugin": name, "version": info.version, "distribution": info.distribution,
                     "module": info.module, "first_party": info.first_party, "registers": registers})
    return rows


def run(args: argparse.Namespace) -> int:
    rows = collect()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    console = Console()
    table = Table(title="seethink plugins")
    table.add_column("plugin")
    table.add_column("version")
    table.add_column("from")
    table.add_column("registers")
    for row in rows:
        regs = "\n".join(f"{KIND_WORDS[r['kind']]} {r['name']}" for r in row["registers"]) or "-"
        table.add_row(row["plugin"], row["version"], row["distribution"], regs)
    console.print(table)
    if args.options:
        for row in rows:
            for r in row["registers"]:
                if r["options"]:
                    console.print(f"[bold]{KIND_WORDS[r['kind']]} {r['name']}[/bold]")
                    for o in r["options"]:
                        default = "required" if o["required"] else f"default {o['default']!r}"
                        console.print(f"  {o['name']}: {o['type']} ({default}) {o['doc']}")
    return 0
