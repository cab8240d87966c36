"""``seethink plugins``: every plugin, its version, and what it registers; ``--options [NAME]`` also
the options of each registered thing and of each training method (``grpo``, ``sft``, ...)."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import textwrap
from typing import Any

from seethink_core.errors import ConfigError, did_you_mean
from seethink_core.hooks.registry import KIND_WORDS, Spec
from seethink_core.types.options import OptionInfo, describe

# The width options are wrapped to off a terminal (a pipe, a log): wide enough for one option a line.
DEFAULT_WIDTH = 100


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list plugins and what they register")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--options", nargs="?", const="", default=None, metavar="NAME",
                   help="also list the options of every registered thing and training method; with NAME, "
                        "only that plugin, data source, reward, backend, evaluator, model or method")
    p.set_defaults(func=run)


def collect() -> list[dict]:
    # Imported here, not at the top: building the parser (`seethink --help`, any other command) needs none.
    from seethink_core.hooks.manager import get_plugins
    from seethink_core.types.plan import EXECUTION_ONLY_BACKEND_OPTIONS

    plugins = get_plugins()
    rows = []
    for name, info in sorted(plugins.info.items()):
        registers = []
        for kind, spec in plugins.registry.by_plugin(name):
            registers.append({
                "kind": kind,
                "name": spec.name,
                "doc": spec.doc or class_doc(spec.options),
                **columns_of(spec),
                "options": option_rows(spec.options, EXECUTION_ONLY_BACKEND_OPTIONS.get(spec.name, frozenset())
                                       if kind == "backend" else frozenset()),
            })
        rows.append({"plugin": name, "version": info.version, "distribution": info.distribution,
                     "module": info.module, "first_party": info.first_party, "registers": registers})
    return rows


def collect_methods() -> list[dict]:
    """The training methods, each with its options (they are core data, not a plugin's)."""
    from seethink_core.types.methods import METHODS
    from seethink_core.types.plan import EXECUTION_ONLY_ALGORITHM_OPTIONS

    return [{"kind": "method", "name": name, "doc": class_doc(schema),
             "options": option_rows(schema, EXECUTION_ONLY_ALGORITHM_OPTIONS)} for name, schema in METHODS.items()]


def option_rows(schema: type, execution_only: frozenset[str]) -> list[dict]:
    """A schema's options; ``execution_only``: changing it resumes a run (not in the plan hash)."""
    return [{**o.__dict__, "execution_only": o.name in execution_only} for o in describe(schema)]


def class_doc(schema: type) -> str:
    """A schema's own docstring, first paragraph (a dataclass without one gets its signature: not shown)."""
    doc = schema.__doc__ or ""
    if doc.startswith(f"{schema.__name__}(") or doc.startswith("Schema of a component"):
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def columns_of(spec: Spec) -> dict[str, list[str]]:
    """The ``Sample`` columns a spec fills (a data source) or needs (a reward, an evaluator)."""
    if hasattr(spec, "columns"):
        return {"fills": sorted(spec.columns)}
    if hasattr(spec, "needs"):
        return {"needs": sorted(spec.needs)}
    return {}


def pick(rows: list[dict], methods: list[dict], name: str) -> tuple[list[dict], list[dict]]:
    """What ``--options NAME`` shows: a plugin's registrations, every registered thing of that name (a
    reward and an evaluator may share one), or a method; a miss is an error with the nearest name."""
    if not name:
        return rows, methods
    plugin = [r for r in rows if r["plugin"] == name]
    if plugin:
        return plugin, []
    things = [{**r, "registers": [x for x in r["registers"] if x["name"] == name]} for r in rows]
    things = [r for r in things if r["registers"]]
    chosen = [m for m in methods if m["name"] == name]
    if things or chosen:
        return things, chosen
    known = [r["plugin"] for r in rows] + [x["name"] for r in rows for x in r["registers"]] + \
        [m["name"] for m in methods]
    raise ConfigError(f"no plugin, registered thing or method is named '{name}'",
                      hint=did_you_mean(name, known) or "`seethink plugins` lists them")


def dsl_value(value: Any) -> str:
    """A default as a .curr file writes it: ``"text"`` (escaped once, as the parser reads it back),
    ``true``, ``none``, ``[a, b]``; never Python's repr, which doubles every backslash."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return '"' + _escape(value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dsl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {dsl_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _escape(text: str) -> str:
    """The DSL's escapes are ``\\\\``, ``\\"``, ``\\n`` and ``\\t``; any other backslash stays as written
    (``\\boxed``), so a backslash is doubled only where it would otherwise start one of them."""
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch == "\\":
            # Also before a quote, newline or tab: each is written with a backslash of its own.
            out.append("\\\\" if nxt in ("\\", '"', "n", "t", "\n", "\t", "") else ch)
        else:
            out.append({'"': '\\"', "\n": "\\n", "\t": "\\t"}.get(ch, ch))
    return "".join(out)


def option_lines(o: dict, width: int) -> list[str]:
    """One option: ``name: type = default`` and its doc, wrapped at word boundaries under it."""
    info = OptionInfo(**{k: v for k, v in o.items() if k != "execution_only"})
    default = " (required)" if info.required else f" = {dsl_value(info.default)}"
    head = f"  {info.name}: {_type_text(info.type)}{default}"
    if o.get("execution_only"):
        head += "  [execution-only: changing it resumes the run]"
    lines = textwrap.wrap(head, width, subsequent_indent="      ", break_long_words=False, break_on_hyphens=False)
    if info.doc:
        lines += textwrap.wrap(info.doc, width, initial_indent="      ", subsequent_indent="      ",
                               break_long_words=False, break_on_hyphens=False)
    return lines


_WORDS = re.compile(r"^'[A-Za-z0-9_]+'( \| '[A-Za-z0-9_]+')*$")


def _type_text(text: str) -> str:
    """``'skip' | 'stop'`` as a .curr file writes the choice: bare words, ``skip | stop``."""
    return text.replace("'", "") if _WORDS.match(text) else text


def thing_lines(kind_word: str, r: dict, width: int) -> list[str]:
    lines = [f"{kind_word} {r['name']}"]
    wrap = dict(width=width, initial_indent="  ", subsequent_indent="  ", break_long_words=False,
                break_on_hyphens=False)
    if r.get("doc"):
        lines += textwrap.wrap(r["doc"], **wrap)
    for key, word in (("fills", "fills columns"), ("needs", "needs columns")):
        if key in r:
            lines += textwrap.wrap(f"{word}: {', '.join(r[key]) or 'none'}", **wrap)
    for o in r["options"]:
        lines += option_lines(o, width)
    if not r["options"]:
        lines.append("  (no options)")
    return lines


def print_options(rows: list[dict], methods: list[dict], width: int) -> None:
    blocks = [thing_lines(KIND_WORDS[r["kind"]], r, width) for row in rows for r in row["registers"]]
    if methods:
        blocks.append(textwrap.wrap("methods: `algorithm NAME(...)` at curriculum level, `method NAME(...)` in a "
                                    "stage; unnamed values bind to options in the order listed", width))
        blocks += [thing_lines("method", m, width) for m in methods]
    print("\n\n".join("\n".join(b) for b in blocks))


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    rows = collect()
    methods = collect_methods()
    if args.options is not None:
        rows, methods = pick(rows, methods, args.options)
    if args.json:
        print(json.dumps(rows + methods if args.options is not None else rows, indent=2, default=str))
        return 0
    if args.options:  # one thing asked for: its options only, no table
        print_options(rows, methods, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
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
    if args.options is not None:
        print_options(rows, methods, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return 0
