"""The miniature's premise check (docs/results.md): is the starting model perception-limited?

Reads the evaluation after the warm-up of every seed of a `seethink sweep curricula/miniature.curr`
run root and prints, per seed and on average, the three pre-registered conditions:

- visual-reasoning accuracy ≤ 0.6 (room to learn);
- perception errors ≥ 60% of the visual-reasoning errors (wrong from the picture, right from the facts);
- reasoning from the gold facts clearly above reasoning from the picture: facts accuracy minus image
  accuracy on the visual-reasoning items ≥ 0.2.

    python scripts/miniature_premise.py runs/miniature [--curriculum staged] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

VISUAL_MAX, SHARE_MIN, GAP_MIN = 0.6, 0.6, 0.2


def warmup_metrics(run_dir: Path) -> dict[str, float] | None:
    path = next(iter(sorted(run_dir.glob("phases/*-warmup/eval.json"))), None)
    return json.loads(path.read_text())["metrics"] if path else None


def check(m: dict[str, float]) -> dict[str, float | bool]:
    visual = m["accuracy.capability.visual_reasoning"]
    share = m.get("split.perception_share.visual_reasoning", 0.0)
    gap = m["split.facts_accuracy.visual_reasoning"] - m["split.image_accuracy.visual_reasoning"]
    return {"perception": m["accuracy.capability.perception"], "textual": m["accuracy.capability.textual_reasoning"],
            "visual": visual, "facts": m["split.facts_accuracy.visual_reasoning"], "share": share, "gap": gap,
            "holds": visual <= VISUAL_MAX and share >= SHARE_MIN and gap >= GAP_MIN}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path, help="the sweep's run root (runs/miniature)")
    p.add_argument("--curriculum", default="staged", help="whose warm-up to read (all curricula of a seed share it)")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    rows = {}
    seed_dirs = [d for d in (args.root / args.curriculum).glob("seed-*") if d.is_dir() and d.name[5:].isdigit()]
    for seed_dir in sorted(seed_dirs, key=lambda d: int(d.name[5:])):
        m = warmup_metrics(seed_dir)
        if m is not None:
            rows[int(seed_dir.name[5:])] = check(m)
    if not rows:
        print(f"no warm-up evaluation under {args.root / args.curriculum}", file=sys.stderr)
        return 1
    keys = ("perception", "textual", "visual", "facts", "share", "gap")
    print("| seed | perception | textual | visual | visual from facts | perception share of visual errors "
          "| facts − picture | premise |")
    print("|---|---|---|---|---|---|---|---|")
    for seed, r in rows.items():
        print(f"| {seed} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + f" | {'holds' if r['holds'] else 'fails'} |")
    means = {k: statistics.fmean(float(r[k]) for r in rows.values()) for k in keys}
    stds = {k: statistics.stdev(float(r[k]) for r in rows.values()) if len(rows) > 1 else 0.0 for k in keys}
    held = sum(bool(r["holds"]) for r in rows.values())
    print("| mean ± std | " + " | ".join(f"{means[k]:.3f} ± {stds[k]:.3f}" for k in keys) + f" | {held}/{len(rows)} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "mean": means, "std": stds}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
