"""Argument helpers shared by subcommands that compile a file."""

from __future__ import annotations

import argparse

from seethink_core.errors import ConfigError


def add_compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a .curr file")
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
