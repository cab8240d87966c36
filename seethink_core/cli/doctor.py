"""``seethink doctor [--backend NAME]``: what this machine has, and lacks, to train.

The core checks (Python, torch, transformers, a GPU, the plugins) import only what they check.
For ``--backend NAME``, a backend whose package has a ``doctor`` module with
``checks(options) -> list`` adds its own checks (objects with ``name``, ``status`` — "ok", "warn"
or "fail" — ``detail`` and ``fix``); the core never imports a backend by name.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import asdict
from typing import Any

from seethink_core import __version__
from seethink_core.errors import ConfigError
from seethink_core.hooks.doctor import Check, installed_version

MARKS = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check this machine's prerequisites (optionally for one backend)")
    p.add_argument("--backend", "-b", help="also check what this backend needs (e.g. openrlhf)")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="a backend option to check with, e.g. --set gpus_per_node=4 (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def core_checks() -> list[Check]:
    import platform  # here, as metadata in installed_version (hooks/doctor.py): `seethink --help` needs neither

    out = [Check("python", "ok" if sys.version_info >= (3, 11) else "fail",
                 f"Python {platform.python_version()} ({sys.executable})",
                 "" if sys.version_info >= (3, 11) else "seethink needs Python 3.11 or newer"),
           Check("seethink", "ok", f"seethink {__version__}")]
    for dist, why in (("torch", "the local backend trains with it"),
                      ("transformers", "models load through it")):
        v = installed_version(dist)
        out.append(Check(dist, "ok", f"{dist} {v}") if v else
                   Check(dist, "warn", f"{dist} is not installed ({why})", "pip install 'seethink[local]'"))
    out.append(_gpu())
    try:
        from seethink_core.hooks.manager import get_plugins

        plugins = get_plugins()
        out.append(Check("plugins", "ok", f"{len(plugins.info)} loaded; backends: "
                         f"{', '.join(plugins.registry.names('backend')) or 'none'}"))
    except Exception as e:  # a broken plugin is reported, not raised: this is the diagnosis command
        out.append(Check("plugins", "fail", f"{type(e).__name__}: {e}", "see `seethink plugins`"))
    return out


def _gpu() -> Check:
    if installed_version("torch") is None:
        return Check("GPU", "warn", "unknown (torch is not installed)")
    try:
        import torch
    except Exception as e:  # a broken torch install
        return Check("GPU", "fail", f"torch does not import: {type(e).__name__}: {e}")
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return Check("GPU", "ok", f"{n} CUDA device(s): {', '.join(torch.cuda.get_device_name(i) for i in range(n))}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Check("GPU", "ok", "Apple MPS")
    return Check("GPU", "warn", "none: the local backend runs on the CPU (fine for tiny models)")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def backend_checks(name: str, raw_options: list[str]) -> list[Any]:
    from seethink_core.hooks.backend import bound_options
    from seethink_core.hooks.manager import get_plugins

    spec = get_plugins().registry.get("backend", name)
    values: dict[str, Any] = {}
    for item in raw_options:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE, got '{item}'")
        values[key.strip()] = _parse_value(value.strip())
    options = bound_options(spec, values)
    factory = spec.factory if isinstance(spec.factory, str) else f"{spec.factory.__module__}:"
    package = factory.partition(":")[0].rpartition(".")[0]
    found: list[Any] = []
    try:
        spec.load()
        found.append(Check(f"backend {name}", "ok", f"{factory} imports"))
    except Exception as e:
        found.append(Check(f"backend {name}", "fail", str(e).splitlines()[0], "install the extra it needs"))
    if package:
        try:
            module = importlib.import_module(f"{package}.doctor")
        except ModuleNotFoundError:
            module = None
        if module is not None and hasattr(module, "checks"):
            found.extend(module.checks(options))
    return found


def run(args: argparse.Namespace) -> int:
    results: list[Any] = core_checks()
    if args.backend:
        results.extend(backend_checks(args.backend, args.options))
    failed = any(c.status == "fail" for c in results)
    if args.json:
        print(json.dumps([asdict(c) if hasattr(c, "__dataclass_fields__") else vars(c) for c in results], indent=2))
        return 1 if failed else 0
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for c in results:
        console.print(f"{MARKS.get(c.status, escape(c.status))}  [bold]{escape(c.name)}[/bold]: {escape(c.detail)}",
                      highlight=False)
        if c.fix and c.status != "ok":
            console.print(f"      fix: {escape(c.fix)}", highlight=False)
    what = f"backend '{args.backend}'" if args.backend else "seethink"
    console.print(f"\n{'not ready' if failed else 'ready'} for {what}")
    return 1 if failed else 0
