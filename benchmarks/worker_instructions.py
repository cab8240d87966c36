"""The reward worker's cost counted in instructions, which a shared machine's load cannot distort.

The GRPO mix of ``bench_rewards.py`` (500 prompts x 8 completions a call) goes through
``build_reward`` twice: in the calling thread (``timeout=None``) and through its worker process, as
training runs it. Each runs under valgrind's cachegrind with ``--trace-children=yes`` (the worker
is counted too), once with ``--calls`` calls and once with none; the difference is what the calls
cost, imports and start-up left out. Wall-clock medians on a shared 2-core VM move by several
percent from one run to the next; these counts move by a fraction of one.

    python benchmarks/worker_instructions.py [--calls 2] [--seeds 0 1 2] [--functions 20]

Prints, for each hash seed, the instructions of the inline path, of the worker path (caller and
workers together) and the worker's cost, and with ``--functions`` where the two differ most. About
half a minute a seed.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(mode: str, calls: int) -> None:
    """What runs under valgrind: ``calls`` graded mixes through the inline path (``i``) or the worker (``w``)."""
    sys.path.insert(0, str(HERE))
    from bench_rewards import REGISTRY, _accuracy_options, grpo_mix

    from seethink_core.run.rewards.combine import build_reward
    from seethink_core.types.plan import RewardRef

    refs = [RewardRef("accuracy", 1.0, _accuracy_options())]
    mixes = [grpo_mix(1000 + k) for k in range(calls)]
    reward = build_reward(refs, REGISTRY, timeout=None if mode == "i" else 5.0)
    warm = grpo_mix(0, prompts=1)
    reward(warm[0], warm[1], warm[2], completion_tokens=warm[3])  # started, and the graders imported
    for prompts, texts, samples, tokens in mixes:
        reward(prompts, texts, samples, completion_tokens=tokens)
    pool = reward._pool
    if pool is not None:  # closed pipes make the workers exit normally: a killed one writes no counts
        workers = pool._workers + ([pool._spare] if pool._spare is not None else [])
        for w in workers:
            w.conn.close()
            if getattr(w, "sock", None) is not None:  # (older versions wrote through conn alone)
                w.sock.close()
        for w in workers:
            w.process.wait()
        pool._workers, pool._spare = [], None


def _counts(path: Path) -> collections.Counter:
    """Instructions per (object file, function) of one cachegrind output file."""
    counts: collections.Counter = collections.Counter()
    where = fn = ""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("fl="):
            where = line[3:].rsplit("/", 1)[-1]
        elif line.startswith("fn="):
            fn = line[3:]
        elif line[:1].isdigit():
            parts = line.split()
            if len(parts) >= 2:
                counts[(where, fn)] += int(parts[1])
    return counts


def _run(out: Path, mode: str, calls: int, seed: int) -> subprocess.Popen:
    # One hash seed for every run (the workers inherit it): string hashes decide how dictionaries
    # probe, which moves the counts by a percent or two from one seed to another.
    return subprocess.Popen(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
                             f"--cachegrind-out-file={out}/{mode}{calls}.%p", sys.executable, __file__,
                             "--child", mode, str(calls)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONHASHSEED": str(seed)})


def _total(out: Path, mode: str, calls: int) -> collections.Counter:
    total: collections.Counter = collections.Counter()
    for f in out.glob(f"{mode}{calls}.*"):  # the caller and each worker process
        total.update(_counts(f))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2, help="graded mixes of 4,000 completions per run")
    parser.add_argument("--functions", type=int, default=0, help="show the functions that differ most")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="PYTHONHASHSEED values: the cost is given for each, the functions for the first")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CALLS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    n = 4000 * args.calls
    for k, seed in enumerate(args.seeds):
        with tempfile.TemporaryDirectory(prefix="seethink-instructions-") as tmp:
            out = Path(tmp)
            runs = [(m, c) for m in ("i", "w") for c in (0, args.calls)]
            for pair in (runs[:2], runs[2:]):  # two at a time: one per core
                procs = [_run(out, m, c, seed) for m, c in pair]
                if any(p.wait() != 0 for p in procs):
                    print("a valgrind run failed", file=sys.stderr)
                    return 1
            inline = _total(out, "i", args.calls)
            inline.subtract(_total(out, "i", 0))
            worker = _total(out, "w", args.calls)
            worker.subtract(_total(out, "w", 0))
        i_sum, w_sum = sum(inline.values()), sum(worker.values())
        print(f"hash seed {seed}: inline {i_sum / 1e6:7.1f} M instructions ({i_sum / n:,.0f} a completion), "
              f"worker path {w_sum / 1e6:7.1f} M ({w_sum / n:,.0f}): worker cost {w_sum / i_sum - 1:+.1%}",
              flush=True)
        if args.functions and k == 0:
            keys = sorted(set(inline) | set(worker), key=lambda key: -abs(worker[key] - inline[key]))
            for key in keys[:args.functions]:
                print(f"  {(worker[key] - inline[key]) / 1e6:+8.2f} M  inline {inline[key] / 1e6:8.2f}  "
                      f"worker {worker[key] / 1e6:8.2f}  {key[1]} ({key[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
