#!/usr/bin/env python3
"""One-GPU check of the local backend (issue 7): the demo in bf16, then 3 GRPO steps on a randomly
initialised ~3B-parameter Qwen2.5-VL-shaped model with LoRA and gradient checkpointing, then that
model's rollout decoding with and without CUDA graphs (backend option ``cuda_graphs``), in tokens/s.

    python scripts/gpu_check.py                 # on a machine with one CUDA GPU, offline
    python scripts/gpu_check.py --cpu-smoke     # the same path, scaled down, on a CPU (seconds)

Needs seethink installed (``pip install -e .``), torch, transformers and peft; nothing is
downloaded. Prints wall time, peak GPU memory (``torch.cuda.max_memory_allocated``), tokens per
second and step time; ``--json PATH`` writes the same figures. docs/gpu.md explains the output.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GIB = 1024 ** 3


class CheckError(Exception):
    """A problem the check reports in one line (no traceback)."""


@dataclass(frozen=True)
class Shape:
    """A Qwen2.5-VL-shaped model: the language model and the vision tower."""

    vocab: int | None  # None: the tiny tokenizer's own size
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vision_depth: int
    vision_hidden: int
    vision_intermediate: int
    vision_heads: int
    fullatt: tuple[int, ...]
    image_size: int


# Qwen2.5-VL-3B-Instruct's config.json: 36 layers of width 2048 (16 heads, 2 KV heads, MLP 11008),
# its 151,936-token vocabulary (only the first few hundred ids decode with the byte tokenizer) and the
# standard 32-block, 1280-wide vision tower with full attention every 8th block.
QWEN25_VL_3B = Shape(vocab=151936, hidden=2048, layers=36, heads=16, kv_heads=2, intermediate=11008,
                     vision_depth=32, vision_hidden=1280, vision_intermediate=3420, vision_heads=16,
                     fullatt=(7, 15, 23, 31), image_size=448)
SMOKE = Shape(vocab=None, hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128, vision_depth=2,
              vision_hidden=32, vision_intermediate=64, vision_heads=2, fullatt=(1,), image_size=56)

PROMPT = "{{question}} Think inside <think> </think>, then put the final answer in \\\\boxed{{}}."

BUILTIN_DEMO = """
curriculum gpu_check_demo {{
    model     "tiny-vlm"
    backend   local
    seed      1
    algorithm grpo(group: {group}, lr: 5e-5, batch_size: {batch}, rollout_batch_size: {batch},
                   max_response_tokens: {tokens})
    prompt    "PROMPT"
    reward    accuracy weight 0.9
    reward    format   weight 0.1
    stage warmup {{
        method sft(target: "reasoned", lr: 5e-4, batch_size: {sft_batch})
        data   synthetic(count: 64, level: "mixed")
        steps  {sft_steps}
    }}
    stage perception {{
        capability perception
        data   synthetic(capability: "perception", count: 64, level: "mixed", mcq: true)
        steps  {rl_steps}
    }}
}}
""".replace("PROMPT", PROMPT)

GRPO_TEXT = """
curriculum gpu_check_grpo {{
    model     "{model}"
    backend   local(device: "{device}", dtype: "{dtype}", lora_rank: {lora_rank},
                    gradient_checkpointing: true, rollout_dump_every: 0)
    seed      1
    algorithm grpo(group: {group}, lr: 1e-5, kl: 0.01, batch_size: {batch}, rollout_batch_size: {batch},
                   temperature: 1.0, max_prompt_tokens: 2048, max_response_tokens: {tokens})
    prompt    "PROMPT"
    reward    accuracy weight 0.9
    reward    format   weight 0.1
    stage grpo {{
        capability visual_reasoning
        data   synthetic(capability: "visual_reasoning", count: 64, level: "mixed", image_size: {image_size})
        steps  {steps}
    }}
}}
""".replace("PROMPT", PROMPT)


# ------------------------------------------------------------------------------------------------
# Environment


def environment(cpu_smoke: bool) -> dict[str, Any]:
    """Versions and the device; a missing CUDA device is one clear error unless ``cpu_smoke``."""
    from importlib import metadata, util

    missing = [name for name in ("torch", "transformers", "peft") if util.find_spec(name) is None]
    if missing:
        raise CheckError(f"missing package: {', '.join(missing)} (the check needs torch, transformers and peft)")
    import torch
    try:
        from seethink_core.hooks.manager import get_plugins
    except ImportError:
        raise CheckError(f"seethink is not installed: pip install -e {REPO} (offline: add --no-deps)") from None
    if get_plugins().registry.find("backend", "local") is None:
        raise CheckError("seethink's local backend is not registered: reinstall seethink (pip install -e .)")
    cuda = torch.cuda.is_available()
    if not cuda and not cpu_smoke:
        raise CheckError("no CUDA device is available (torch.cuda.is_available() is False): run this on a "
                         "machine with one NVIDIA GPU, or pass --cpu-smoke for the scaled-down CPU check")
    device = torch.cuda.get_device_name(0) if cuda and not cpu_smoke else "cpu"
    versions = {name: metadata.version(name) for name in ("torch", "transformers", "peft")}
    return {"python": platform.python_version(), **versions, "device": device}


def reset_peak(gpu: bool) -> None:
    import torch

    if gpu:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_gib(gpu: bool) -> dict[str, float] | None:
    import torch

    if not gpu:
        return None
    return {"allocated_gib": torch.cuda.max_memory_allocated() / GIB,
            "reserved_gib": torch.cuda.max_memory_reserved() / GIB}


# ------------------------------------------------------------------------------------------------
# Running a curriculum


def run_curriculum(path: Path, run_dir: Path, overrides: dict[str, str]) -> tuple[Any, float]:
    """Compile ``path`` with ``overrides`` (``--set`` pairs) and run it; (plan, wall seconds)."""
    from seethink_core.compiler import compile_path
    from seethink_core.report.progress import RunProgress
    from seethink_core.run.rundir import RunDir
    from seethink_core.run.runner import Runner

    plan = compile_path(path, overrides=overrides)
    started = time.perf_counter()
    # Plain lines as it goes (no bars: the device tool returns the output's tail).
    Runner(plan, RunDir(run_dir), progress=lambda p, s: RunProgress(False, plan=p, state=s)).run()
    return plan, time.perf_counter() - started


def train_rows(run_dir: Path, plan: Any, phase_index: int) -> list[dict[str, Any]]:
    from seethink_core.run.metrics import read_metrics
    from seethink_core.run.rundir import RunDir

    phase = plan.phases[phase_index]
    rows = read_metrics(RunDir(run_dir).phase_dir(phase) / "metrics.jsonl")
    return [r for r in rows if r.get("kind") == "train"]


def demo_check(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """curricula/demo.curr (or a built-in small curriculum) in bf16 on the GPU; its wall time."""
    demo = REPO / "curricula" / "demo.curr"
    if args.cpu_smoke or not demo.exists():
        demo = work / "gpu_check_demo.curr"
        sizes = dict(group=2, batch=1, tokens=4, sft_batch=2, sft_steps=1, rl_steps=1) if args.cpu_smoke else \
            dict(group=4, batch=8, tokens=96, sft_batch=16, sft_steps=30, rl_steps=20)
        demo.write_text(BUILTIN_DEMO.format(**sizes), encoding="utf-8")
    overrides = {"backend.device": "cuda", "backend.dtype": "bfloat16"} if not args.cpu_smoke else \
        {"backend.device": "cpu", "backend.dtype": "float32"}
    print(f"[1/3] {demo.name}: {' '.join(f'--set {k}={v}' for k, v in overrides.items())}", flush=True)
    reset_peak(not args.cpu_smoke)
    plan, wall = run_curriculum(demo, work / "demo-run", overrides)
    steps = sum(len(train_rows(work / "demo-run", plan, i)) for i in range(len(plan.phases)))
    print(f"      {len(plan.phases)} phases, {steps} logged steps in {wall:.1f} s wall", flush=True)
    return {"curriculum": str(demo), "phases": len(plan.phases), "steps": steps, "wall_s": wall,
            "peak_memory": peak_memory_gib(not args.cpu_smoke)}


# ------------------------------------------------------------------------------------------------
# The ~3B model


def qwen_config(shape: Shape, tokenizer: Any) -> Any:
    from seethink_local.processing import SPECIAL_TOKENS
    from transformers import Qwen2_5_VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    half = shape.hidden // shape.heads // 2
    t = max(1, half // 4)
    h = (half - t) // 2  # Qwen's 1 : 1.5 : 1.5 split of the rotary frequencies (3B: 16, 24, 24)
    text = dict(
        vocab_size=shape.vocab or len(tokenizer), hidden_size=shape.hidden, intermediate_size=shape.intermediate,
        num_hidden_layers=shape.layers, num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
        max_position_embeddings=32768, rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [t, h, half - t - h]},
        bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )
    vision = dict(
        depth=shape.vision_depth, hidden_size=shape.vision_hidden, intermediate_size=shape.vision_intermediate,
        num_heads=shape.vision_heads, out_hidden_size=shape.hidden, patch_size=14, spatial_merge_size=2,
        temporal_patch_size=2, window_size=112, fullatt_block_indexes=list(shape.fullatt),
    )
    cfg = Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
                           video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
                           vision_end_token_id=ids["<|vision_end|>"], tie_word_embeddings=True)
    cfg.eos_token_id = ids["<|im_end|>"]
    cfg.pad_token_id = ids["<|endoftext|>"]
    return cfg


def build_random_model(shape: Shape, dest: Path, device: str) -> int:
    """A seeded random Qwen2.5-VL of ``shape`` with the tiny model's processor, saved in
    bf16 to ``dest``; returns its parameter count."""
    import torch
    from seethink_local.tiny_model import build_processor
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    processor = build_processor(shape.image_size)
    config = qwen_config(shape, processor.tokenizer)
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration(config)
    model = model.to(torch.bfloat16)
    model.generation_config = GenerationConfig(eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id,
                                               do_sample=False)
    count = sum(p.numel() for p in model.parameters())
    model.save_pretrained(dest)
    processor.save_pretrained(dest)
    del model
    reset_peak(device == "cuda")
    return count


def grpo_check(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    shape = SMOKE if args.cpu_smoke else QWEN25_VL_3B
    device = "cuda" if not args.cpu_smoke else "cpu"
    label = "scaled-down" if args.cpu_smoke else "~3B"
    print(f"[2/3] random {label} Qwen2.5-VL-shaped model: building on {device}", flush=True)
    started = time.perf_counter()
    model_dir = work / "random-qwen2.5-vl"
    params = build_random_model(shape, model_dir, device)
    size = f"{params / 1e9:.2f}B" if params >= 1e8 else f"{params / 1e6:.2f}M"
    print(f"      {size} parameters, saved in {time.perf_counter() - started:.1f} s", flush=True)
    curr = work / "gpu_check_grpo.curr"
    curr.write_text(GRPO_TEXT.format(
        model=model_dir.as_posix(), device=device, dtype="bfloat16" if device == "cuda" else "float32",
        lora_rank=args.lora_rank, group=args.group, batch=args.batch, tokens=args.response_tokens,
        image_size=shape.image_size, steps=args.steps), encoding="utf-8")
    reset_peak(device == "cuda")
    plan, wall = run_curriculum(curr, work / "grpo-run", {})
    rows = train_rows(work / "grpo-run", plan, 0)
    if len(rows) < args.steps:
        raise CheckError(f"the GRPO phase logged {len(rows)} steps, not {args.steps}")
    steps = [step_figures(r) for r in rows]
    for i, s in enumerate(steps, 1):
        print(f"      step {i}: {s['step_s']:.2f} s, {s['tokens_per_s']:.0f} tokens/s (rollout "
              f"{s['rollout_s']:.2f} s, {s['rollout_tokens_per_s']:.0f} generated tokens/s)", flush=True)
    memory = peak_memory_gib(device == "cuda")
    if memory is not None:
        print(f"      peak GPU memory: {memory['allocated_gib']:.2f} GiB allocated "
              f"(max_memory_allocated), {memory['reserved_gib']:.2f} GiB reserved", flush=True)
    later = steps[1:] or steps  # the first step also pays for CUDA kernels' first launch
    mean_step = sum(s["step_s"] for s in later) / len(later)
    mean_tps = sum(s["tokens_per_s"] for s in later) / len(later)
    print(f"      steps {'2..' + str(len(steps)) if len(steps) > 1 else '1'}: {mean_step:.2f} s per step, "
          f"{mean_tps:.0f} tokens/s on average", flush=True)
    print(f"      phase wall time {wall:.1f} s (includes loading, LoRA merge and saving the checkpoint)", flush=True)
    return {"shape": asdict(shape), "parameters": params, "lora_rank": args.lora_rank, "group": args.group,
            "batch_prompts": args.batch, "max_response_tokens": args.response_tokens, "steps": steps,
            "mean_step_s_after_first": mean_step, "mean_tokens_per_s_after_first": mean_tps,
            "peak_memory": memory, "wall_s": wall}


def _picture_prompts(n: int, size: int) -> list[Any]:
    """The first ``n`` visual-reasoning items of the synthetic world at ``size`` pixels, as part 2 trains on."""
    from seethink_synthetic.options import SyntheticOptions
    from seethink_synthetic.source import open_synthetic

    source = open_synthetic(SyntheticOptions(capability="visual_reasoning", image_size=size, count=n), seed=0)
    return list(source)


def decode_check(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from seethink_local.quiet import quiet_hf

    with quiet_hf():  # no loading bars or deprecation notices between the figures
        return _decode_check(args, work)


def _decode_check(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The rollout's decoding with and without CUDA graphs (``cuda_graphs``) on the random model with
    LoRA adapters as in the GRPO part (B matrices random: peft starts them at zero)."""
    import torch
    from seethink_local import modeling
    from seethink_local.graph_decode import graphs_problem
    from seethink_local.options import LocalOptions
    from seethink_local.rollout import base_model, encode_prompts, generate
    from seethink_local.session import Session

    shape = SMOKE if args.cpu_smoke else QWEN25_VL_3B
    device_name = "cpu" if args.cpu_smoke else "cuda"
    model_dir = work / "random-qwen2.5-vl"
    if not (model_dir / "config.json").exists():
        build_random_model(shape, model_dir, device_name)
    options = LocalOptions(device=device_name, dtype="bfloat16" if device_name == "cuda" else "float32",
                           memory_estimate=False)
    device = modeling.pick_device(options)
    loaded = modeling.load_model(str(model_dir), options, device)
    model = loaded.model
    if args.lora_rank:
        model = modeling.add_lora(model, LocalOptions(lora_rank=args.lora_rank))
        torch.manual_seed(0)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_B" in name:
                    param.normal_(std=0.02)
    model.eval()
    session = Session(model, loaded.processor, device, options, modeling.autocast_dtype(options, device))
    batch = encode_prompts(loaded.processor, _picture_prompts(args.batch, shape.image_size), None, device=device)
    rows = args.batch * args.group
    problem = graphs_problem(base_model(model), device)
    modes = ["eager"] + (["cuda graphs"] if problem is None else [])
    print(f"[3/3] decoding {rows} rows x {args.response_tokens} tokens: {' vs '.join(modes)}"
          + ("" if problem is None else f" (cuda graphs: {problem})"), flush=True)

    def rollout(graphs: bool, temperature: float, seed: int) -> tuple[Any, float]:
        gen = torch.Generator(device=device).manual_seed(seed)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with session.amp():
            ro = generate(model, batch, group=args.group, max_new_tokens=args.response_tokens,
                          temperature=temperature, top_p=1.0, eos_ids=[-1], pad_id=session.pad_id(),
                          generator=gen, cuda_graphs=graphs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return ro, time.perf_counter() - start

    figures: dict[str, Any] = {"rows": rows, "tokens_per_row": args.response_tokens, "lora_rank": args.lora_rank}
    greedy = {}
    for mode in modes:
        graphs = mode == "cuda graphs"
        greedy[mode], _ = rollout(graphs, 0.0, 0)  # also the warm-up: first launches, cuBLAS handles
        times = []
        for seed in range(3):
            ro, seconds = rollout(graphs, 1.0, seed)
            times.append(seconds)
        best = min(times)
        tokens = int(ro.lengths.sum())
        figures[mode] = {"best_s": best, "seconds": times, "tokens_per_s": tokens / best}
        print(f"      {mode}: {tokens / best:.0f} generated tokens/s (best of 3: {best:.2f} s; "
              f"{', '.join(f'{t:.2f}' for t in times)})", flush=True)
    if len(modes) > 1:
        speedup = figures["cuda graphs"]["tokens_per_s"] / figures["eager"]["tokens_per_s"]
        # Greedy decoding on both paths: the same tokens up to where bf16 sums in another order break a tie.
        same = (greedy["eager"].tokens == greedy["cuda graphs"].tokens).float().mean().item()
        figures.update(speedup=speedup, greedy_tokens_equal=same)
        print(f"      cuda graphs / eager = {speedup:.2f}x; greedy tokens equal: {same:.1%}", flush=True)
    return figures


def step_figures(row: dict[str, Any]) -> dict[str, float]:
    return {"step_s": float(row.get("time.step_s", 0.0)), "tokens_per_s": float(row.get("tokens_per_s", 0.0)),
            "rollout_s": float(row.get("time.rollout_s", 0.0)),
            "rollout_tokens_per_s": float(row.get("rollout.tokens_per_s", 0.0)),
            "response_length": float(row.get("response_length.mean", row.get("response_length", 0.0)))}


# ------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cpu-smoke", action="store_true", help="scaled-down run on the CPU (tests the script)")
    p.add_argument("--skip-demo", action="store_true", help="only the ~3B GRPO check")
    p.add_argument("--skip-grpo", action="store_true", help="no GRPO steps on the ~3B model")
    p.add_argument("--skip-decode", action="store_true", help="no decoding check (eager against CUDA graphs)")
    p.add_argument("--steps", type=int, default=3, help="GRPO steps on the ~3B model (default 3)")
    p.add_argument("--group", type=int, default=4, help="completions per prompt (default 4)")
    p.add_argument("--batch", type=int, default=4, help="prompts per step (default 4)")
    p.add_argument("--response-tokens", type=int, default=256, help="max new tokens per completion (default 256)")
    p.add_argument("--lora-rank", type=int, default=16, help="LoRA rank (default 16)")
    p.add_argument("--workdir", type=Path, help="where models and runs go (default: a temporary folder, removed)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    for name in ("steps", "group", "batch", "response_tokens", "lora_rank"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="seethink-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        env = environment(args.cpu_smoke)
        print("seethink gpu check: " + " · ".join(f"{k} {v}" for k, v in env.items()), flush=True)
        result: dict[str, Any] = {"environment": env, "cpu_smoke": args.cpu_smoke}
        if not args.skip_demo:
            result["demo"] = demo_check(args, work)
        if not args.skip_grpo:
            result["grpo"] = grpo_check(args, work)
        if not args.skip_decode:
            result["decode"] = decode_check(args, work)
    except CheckError as e:
        print(f"gpu_check: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a SeethinkError (bad plan, backend failure) or a bug: one line, then the type
        from seethink_core.errors import SeethinkError

        if not isinstance(e, SeethinkError):
            raise
        print(f"gpu_check: {e}", file=sys.stderr)
        return 2
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("gpu check: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
