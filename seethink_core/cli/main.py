"""``seethink`` entry point: builds the argument parser from the subcommand modules and is the
only place where errors become exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from seethink_core import __version__
from seethink_core.errors import SeethinkError, render_all

# Subcommand modules, each with ``add_parser(subparsers)`` and ``run(args) -> int``.
# A module that cannot be imported yet (an optional part) is skipped, not fatal.
SUBCOMMANDS = (
    "check",
    "plan",
    "run",
    "preflight",
    "difficulty",
    "eval_cmd",
    "report",
    "sweep",
    "doctor",
    "plugins_cmd",
    "completion",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seethink",
        description="Post-train vision-language models with RL in stages: perception, then reasoning.",
    )
    parser.add_argument("--version", action="version", version=f"seethink {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"seethink_core.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"seethink_core.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.debug:  # read where no args reach: a reward's first failure is shown with its traceback
        os.environ["SEETHINK_DEBUG"] = "1"
    try:
        return int(args.func(args) or 0)
    except SeethinkError as e:
        if args.debug:
            raise
        print(render_all(e), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("interrupted; finished phases and saved checkpoints are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `seethink plugins --options | head`: the reader is gone, nothing to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush fails quietly
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
