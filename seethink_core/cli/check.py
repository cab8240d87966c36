"""``seethink check FILE...``: compile every curriculum of each file and report every problem."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="compile every curriculum of .curr files and report all problems",
                       description="Compile every curriculum in each file. Prints 'ok: FILE (N curricula, "
                                   "M phases)' or every error, and exits non-zero on errors. Warnings (what "
                                   "the backend cannot honour but can run) are printed and do not fail.")
    p.add_argument("files", nargs="+", metavar="FILE", help=".curr files")
    p.add_argument("--backend", metavar="NAME", help="check against this backend instead of each file's own")
    p.set_defaults(func=run)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def run(args: argparse.Namespace) -> int:
    from seethink_core.compiler import check_paths
    from seethink_core.errors import render

    failed = 0
    for result in check_paths(args.files, backend=args.backend):
        errors, warnings = result.errors, result.warnings
        for d in result.diagnostics:
            print(render(d), file=sys.stderr)
        noted = f", {_plural(len(warnings), 'warning', 'warnings')}" if warnings else ""
        if errors:
            failed += 1
            print(f"failed: {result.path} ({_plural(len(errors), 'error', 'errors')}{noted})", file=sys.stderr)
        else:
            print(f"ok: {result.path} ({_plural(result.curricula, 'curriculum', 'curricula')}, "
                  f"{_plural(result.phases, 'phase', 'phases')}{noted})")
    return 2 if failed else 0
