"""``python -m scripts.fuzz --inputs 20000 --seed 0 --limit 2``: run the fuzzer and print its summary.

``--replay FILE`` checks one saved input in this process and prints its class, time and traceback.
Exits 1 when the run found a crash, a slow input or a bad message.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from scripts.fuzz.generate import KINDS, make_inputs
from scripts.fuzz.harness import Outcome, run_inputs
from scripts.fuzz.report import DEFAULT_OUT, SAVED_CLASSES, format_summary, save, summarize


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scripts.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--inputs", type=int, default=3000, help="how many inputs, the kinds in turn (default 3000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=float, default=2.0, help="seconds over which an input is slow (default 2)")
    p.add_argument("--kill-after", type=float, default=None, help="seconds before a hung input is killed "
                                                                   "(default 3 x limit + 2)")
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where findings go (default {DEFAULT_OUT})")
    p.add_argument("--replay", type=Path, metavar="FILE", help="check one saved input here and print the result")
    return p


def replay(path: Path) -> int:
    from scripts.fuzz.worker import check_file

    result = check_file(str(path))
    print(f"{path}: {result['cls']} in {result['seconds']:.3f} s")
    if result["detail"]:
        print(result["detail"])
    return 1 if result["cls"] in SAVED_CLASSES else 0


def _progress(done: list[int], total: int) -> Callable[[Outcome], None]:
    def note(outcome: Outcome) -> None:
        done[0] += 1
        if outcome.cls in SAVED_CLASSES:
            print(f"  {outcome.cls}: {outcome.input.label} ({outcome.seconds:.2f} s)", file=sys.stderr)
        if done[0] % 1000 == 0:
            print(f"  {done[0]}/{total}", file=sys.stderr)
    return note


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.replay is not None:
        return replay(args.replay)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        _parser().error(f"--kinds takes {', '.join(KINDS)}, not {', '.join(unknown) or 'nothing'}")
    start = time.monotonic()
    outcomes = run_inputs(make_inputs(args.inputs, args.seed, kinds), limit=args.limit, kill_after=args.kill_after,
                          on_outcome=_progress([0], args.inputs))
    summary = summarize(outcomes, time.monotonic() - start)
    save(summary, args.out)
    print(format_summary(summary))
    return 1 if summary.findings else 0


if __name__ == "__main__":
    sys.exit(main())
