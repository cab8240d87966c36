"""Argument helpers shared by subcommands that compile a file."""

from __future__ import annotations

import argparse

from seethink_core.errors import ConfigError

# What shtab completes a path argument with (shtab.FILE, shtab.DIRECTORY), kept here so building the parser
# does not import shtab: only `seethink completion` needs it.
FILE = {"bash": "_shtab_compgen_files", "zsh": "_files"}
DIRECTORY = {"bash": "_shtab_compgen_dirs", "zsh": "_files -/"}


def add_compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a .curr file").complete = FILE  # type: ignore[attr-defined]
    p.add_argument("--curriculum", "-c", help="which curriculum of the file (default: the first one defined)")
    p.add_argument("--backend", "-b", help="override the file's backend")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a plan value, e.g. --set algorithm.lr=1e-5 (repeatable)")


def parse_overrides(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got '{item}'")
        out[key.strip()] = value.strip()
    return out
