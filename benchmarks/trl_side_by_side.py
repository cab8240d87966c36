"""seethink's local backend vs TRL's GRPOTrainer on the same work, on this machine.

Same tiny VLM folder, same prompts and images, group size, completion length, optimizer (AdamW, same
lr), no KL (β = 0), one update per rollout. Each engine runs in its own process so peak memory
(max RSS, or CUDA peak) is its own.

    python benchmarks/trl_side_by_side.py                 # tiny-vlm and tiny-vlm-10m, both engines
    python benchmarks/trl_side_by_side.py --model tiny --steps 4 --prompts 8 --group 4 --max-new 32
    python benchmarks/trl_side_by_side.py --method all    # every RL method against its closest TRL setup

TRL has no REINFORCE++: `reinforce_pp` and `reinforce_pp_baseline` are timed against GRPOTrainer with
`scale_rewards="batch"` (group-mean baseline, batch-std scaling), the same work per completion.
`rloo` runs against TRL's RLOOTrainer; `dapo` against GRPOTrainer(loss_type="dapo", epsilon_high=0.28)
with seethink's dynamic sampling and overlong shaping off, since TRL does neither.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "How many squares?"
RL_METHODS = ("grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline")
# TRL's closest setup for each method: (trainer, extra config fields).
TRL_SETUP: dict[str, tuple[str, dict]] = {
    "grpo": ("grpo", {"loss_type": "grpo"}),
    "dr_grpo": ("grpo", {"loss_type": "dr_grpo", "scale_rewards": "none"}),
    "dapo": ("grpo", {"loss_type": "dapo", "epsilon_high": 0.28}),
    "rloo": ("rloo", {"normalize_advantages": False}),
    "reinforce_pp": ("grpo", {"loss_type": "grpo", "scale_rewards": "batch"}),
    "reinforce_pp_baseline": ("grpo", {"loss_type": "grpo", "scale_rewards": "batch"}),
}


def _samples(n: int, seed: int = 0):
    import random

    from PIL import Image, ImageDraw

    from seethink_core.types.sample import Sample

    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(1, 3)
        img = Image.new("RGB", (112, 112), "white")
        draw = ImageDraw.Draw(img)
        for c in rng.sample(range(9), k):
            x, y = (c % 3) * 37 + 6, (c // 3) * 37 + 6
            draw.rectangle([x, y, x + 24, y + 24], fill="red")
        out.append(Sample(id=str(i), prompt=QUESTION, images=[img], answer=str(k)))
    return out


def _accuracy(completions, answers) -> list[float]:
    return [1.0 if str(c).strip().startswith(a) else 0.0 for c, a in zip(completions, answers)]


def _peak_mb() -> float:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20
    except ImportError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def build(model: str, dest: Path) -> Path:
    from seethink_local.tiny_model import build_tiny_vlm, build_tiny_vlm_10m

    if (dest / "config.json").exists():
        return dest
    return (build_tiny_vlm_10m if model == "10m" else build_tiny_vlm)(None, dest)


def run_seethink(folder: Path, a: argparse.Namespace) -> dict:
    from seethink_local.backend import LocalBackend
    from seethink_local.options import LocalOptions

    from seethink_core.hooks.backend import Checkpoint, PhaseContext, RewardBatch
    from seethink_core.types.methods import METHODS
    from seethink_core.types.plan import BackendRef, Budget, Phase, TrainingPlan

    samples = _samples(a.prompts * a.steps)
    extra = {"dynamic_sampling": False, "overlong_buffer": 0} if a.method == "dapo" else {}
    algo = METHODS[a.method](lr=a.lr, batch_size=a.prompts, rollout_batch_size=a.prompts, group=a.group,
                             max_response_tokens=a.max_new, kl=0.0, temperature=1.0, weight_decay=0.0, **extra)
    phase = Phase(index=0, name="bench", stages=["bench"], capabilities=[], model=str(folder), init_from="base",
                  method=a.method, algorithm=algo, data=[], rewards=[], budget=Budget(steps=a.steps))
    logs: list[dict] = []
    pos = {"i": 0}

    class Stream:
        def next_batch(self, n, step):
            out = samples[pos["i"]:pos["i"] + n]
            pos["i"] += n
            return out

        def state_dict(self):
            return {}

        def load_state_dict(self, s):
            pass

        def total_samples(self):
            return len(samples)

    def reward(prompts, completions, samples_, **_):
        acc = _accuracy(completions, [s.answer for s in samples_])
        return RewardBatch(acc, {"accuracy": acc})

    tmp = Path(tempfile.mkdtemp())
    plan = TrainingPlan(curriculum="bench", model=str(folder), backend=BackendRef("local"), phases=[phase])
    ctx = PhaseContext(plan=plan, run_dir=tmp, phase_dir=tmp / "p", checkpoint_dir=tmp / "p" / "ckpt",
                       data=Stream(), reward=reward, total_steps=a.steps, reference=None,
                       log=lambda s, m: logs.append(m), should_stop=lambda s, m: None,
                       dump_rollouts=lambda s, r: None)
    backend = LocalBackend(LocalOptions(memory_estimate=False, rollout_dump_every=0))
    t0 = time.perf_counter()
    backend.run_phase(phase, Checkpoint(str(folder)), ctx)
    wall = time.perf_counter() - t0
    train_s = sum(m["time.step_s"] for m in logs)
    gen_s = sum(m.get("time.rollout_s", 0.0) for m in logs)
    gen_tokens = sum(m.get("rollout.tokens_per_s", 0.0) * m.get("time.rollout_s", 0.0) for m in logs)
    return {"engine": "seethink", "wall_s": wall, "train_s": train_s,
            "completions_per_s": a.steps * a.prompts * a.group / train_s,
            "rollout_tokens_per_s": gen_tokens / gen_s if gen_s else 0.0, "peak_mb": _peak_mb()}


def run_trl(folder: Path, a: argparse.Namespace) -> dict:
    import seethink_local.processing  # noqa: F401  (registers the tiny VLM's processor)
    import torch
    from datasets import Dataset
    from transformers import AutoModelForImageTextToText, AutoProcessor, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    samples = _samples(a.prompts * a.steps)
    rows = [{"prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}],
             "image": s.images[0], "answer": s.answer} for s in samples]
    data = Dataset.from_list(rows)

    def accuracy(prompts, completions, answer, **_):
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return _accuracy(texts, answer)

    trainer_name, extra = TRL_SETUP[a.method]
    Config, Trainer = (RLOOConfig, RLOOTrainer) if trainer_name == "rloo" else (GRPOConfig, GRPOTrainer)
    if trainer_name == "grpo":
        extra = {"loss_type": "grpo", **extra}
    cfg = Config(
        output_dir=tempfile.mkdtemp(), per_device_train_batch_size=a.prompts * a.group, num_generations=a.group,
        max_completion_length=a.max_new, learning_rate=a.lr, weight_decay=0.0, beta=0.0, max_steps=a.steps,
        logging_steps=1, report_to=[], use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available(),
        gradient_accumulation_steps=1, temperature=1.0, save_strategy="no", shuffle_dataset=False,
        lr_scheduler_type="constant", warmup_steps=0, seed=0, dataloader_num_workers=0, **extra,
    )
    model = AutoModelForImageTextToText.from_pretrained(folder, dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(folder)
    processor.tokenizer.padding_side = "left"
    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter() - self.t)

    trainer = Trainer(model=model, reward_funcs=[accuracy], args=cfg, train_dataset=data,
                          processing_class=processor, callbacks=[Timer()])
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    train_s = sum(times) or wall
    return {"engine": "trl", "wall_s": wall, "train_s": train_s,
            "completions_per_s": a.steps * a.prompts * a.group / train_s, "rollout_tokens_per_s": None,
            "peak_mb": _peak_mb()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["tiny", "10m", "both"], default="both")
    p.add_argument("--engine", choices=["seethink", "trl", "both"], default="both")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--group", type=int, default=4)
    p.add_argument("--max-new", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "seethink-bench-models"))
    p.add_argument("--method", default="grpo", help=f"one of {', '.join(RL_METHODS)}, or 'all'")
    p.add_argument("--repeats", type=int, default=1,
                   help="run each engine this many times, alternating, and compare each one's best run "
                        "(a busy machine only ever slows a run down)")
    p.add_argument("--json", action="store_true", help="(internal) run one engine and print one JSON line")
    a = p.parse_args()
    methods = list(RL_METHODS) if a.method == "all" else [a.method]
    if any(m not in RL_METHODS for m in methods):
        p.error(f"--method must be one of {', '.join(RL_METHODS)} or 'all'")
    if a.json:
        folder = build(a.model, Path(a.cache) / a.model)
        result = (run_seethink if a.engine == "seethink" else run_trl)(folder, a)
        print(json.dumps({"model": a.model, "method": a.method, **result}))
        return
    models = ["tiny", "10m"] if a.model == "both" else [a.model]
    engines = ["seethink", "trl"] if a.engine == "both" else [a.engine]
    results = []
    header = (f"{'model':6} {'method':22} {'engine':9} {'compl/s':>9} {'rollout tok/s':>14} {'peak MB':>9} "
              f"{'train s':>8}")
    print(header, flush=True)
    for m in models:
        build(m, Path(a.cache) / m)
        for method in methods:
            for e in [e for _ in range(max(1, a.repeats)) for e in engines]:
                cmd = [sys.executable, __file__, "--json", "--model", m, "--engine", e, "--method", method,
                       "--steps", str(a.steps), "--prompts", str(a.prompts), "--group", str(a.group),
                       "--max-new", str(a.max_new), "--lr", str(a.lr), "--cache", a.cache]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                if proc.returncode or not lines:
                    print(f"{m}/{method}/{e} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
                    continue
                r = json.loads(lines[-1])
                results.append(r)
                # One row as soon as it is measured: a run cut short still leaves its rows.
                tok = f"{r['rollout_tokens_per_s']:.0f}" if r["rollout_tokens_per_s"] else "-"
                print(f"{r['model']:6} {r['method']:22} {r['engine']:9} {r['completions_per_s']:9.2f} {tok:>14} "
                      f"{r['peak_mb']:9.0f} {r['train_s']:8.2f}", flush=True)
    for m in models:
        for method in methods:
            by: dict[str, dict] = {}
            for r in results:  # each engine's best run
                if r["model"] == m and r["method"] == method and (
                        r["engine"] not in by or r["completions_per_s"] > by[r["engine"]]["completions_per_s"]):
                    by[r["engine"]] = r
            if {"seethink", "trl"} <= set(by):
                ratio = by["seethink"]["completions_per_s"] / by["trl"]["completions_per_s"]
                print(f"{m} {method}: seethink / TRL completions per second = {ratio:.2f}x "
                      f"(best of {max(1, a.repeats)}; peak MB {by['seethink']['peak_mb']:.0f} / "
                      f"{by['trl']['peak_mb']:.0f})")


if __name__ == "__main__":
    main()
