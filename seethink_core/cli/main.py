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

# Each command and the module that defines it (``add_parser(subparsers)`` and ``run(args) -> int``), in the
# order ``--help`` lists them. A module that cannot be imported yet (an optional part) is skipped, not fatal.
COMMANDS = {
    "check": "check",
    "plan": "plan",
    "run": "run",
    "preflight": "preflight",
    "difficulty": "difficulty",
    "eval": "eval_cmd",
    "report": "report",
    "sweep": "sweep",
    "doctor": "doctor",
    "plugins": "plugins_cmd",
    "completion": "completion",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with ``only`` (a command name) just that command: what running one
    command needs, so ``seethink check`` does not import what ``run`` or ``report`` prints with."""
    parser = argparse.ArgumentParser(
        prog="seethink",
        description="Post-train vision-language models with RL in stages: perception, then reasoning.",
    )
    parser.add_argument("--version", action="version", version=f"seethink {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if only is not None and _add_command(sub, only):
        return parser
    for command in COMMANDS:  # the whole parser, also when ``only`` is an optional part not installed
        _add_command(sub, command)
    return parser


def _add_command(sub: argparse._SubParsersAction, command: str) -> bool:
    name = f"seethink_core.cli.{COMMANDS[command]}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return False
        raise
    module.add_parser(sub)
    return True


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs when nothing before it needs the whole parser, else None.

    Only ``--debug`` may come first: ``-h``, ``--version``, an abbreviated option, an unknown or a
    missing command all print something that lists or checks every command."""
    for arg in argv:
        if arg == "--debug":
            continue
        return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=chosen_command(argv))
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
