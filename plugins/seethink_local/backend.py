"""LocalBackend: one phase at a time in this process (CPU or one GPU), plus ``generate`` for evaluation."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from seethink_core.errors import BackendError
from seethink_core.hooks.backend import Checkpoint, Completion, PhaseContext, PhaseResult
from seethink_core.samples.images import ImageBounds
from seethink_core.types.methods import is_rl
from seethink_core.types.plan import Phase, TrainingPlan
from seethink_core.types.sample import Sample
from seethink_local import cpu_allocator, modeling
from seethink_local.graph_decode import graphs_problem
from seethink_local.options import LocalOptions
from seethink_local.quiet import quiet_hf
from seethink_local.resume import PhaseCheckpoints, StopCheck
from seethink_local.rollout import base_model, encode_prompts, generate
from seethink_local.session import Session, make_optimizer
from seethink_local.sft import run_sft
from seethink_local.trainer import run_rl

GENERATE_BATCH = 16  # prompts per generate() call: bounded memory, still batched


def _threads(option: int) -> int:
    """The option, else a share the caller asked for (``seethink sweep --jobs`` sets SEETHINK_THREADS or
    OMP_NUM_THREADS so parallel runs do not oversubscribe the cores), else every core."""
    if option:
        return option
    for var in ("SEETHINK_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return max(1, os.cpu_count() or 1)


class LocalBackend:
    def __init__(self, options: LocalOptions | None = None):
        self.options = options or LocalOptions()
        self.device = modeling.pick_device(self.options)
        self.autocast = modeling.autocast_dtype(self.options, self.device)
        self._gen_cache: tuple[tuple[str, tuple], modeling.Loaded] | None = None
        torch.set_num_threads(_threads(self.options.threads))
        if self.device.type == "cpu":
            cpu_allocator.keep_freed_memory()  # process-wide, as the thread count is
        if self.options.deterministic:
            _deterministic_mode()

    @quiet_hf()  # the libraries' loading bars and deprecation notices stay out of the run (quiet.py)
    def prepare(self, plan: TrainingPlan, run_dir: Path) -> None:
        # Build registered models now, so the first phase does not pay for it mid-progress bar; a base
        # model that cannot be had (a missing folder, an unreachable hub) stops the run before anything loads.
        for model in dict.fromkeys([plan.model, *(p.model for p in plan.phases)]):
            modeling.resolve_model_path(model, self.options)

    def close(self) -> None:
        self._gen_cache = None

    # ------------------------------------------------------------ training

    @quiet_hf()
    def run_phase(self, phase: Phase, init: Checkpoint, ctx: PhaseContext) -> PhaseResult:
        _seed_all(phase.seed)
        loaded = modeling.load_model(init.path, self.options, self.device)
        model = loaded.model
        modeling.apply_freeze(model, phase.freeze)
        if self.options.gradient_checkpointing:
            modeling.set_checkpointing(model, True)
        reference: Any | None = None
        rl = is_rl(phase.method)
        algo = phase.algorithm
        wants_ref = rl and ctx.reference is not None and algo.kl > 0 and algo.kl_mode != "none"
        if self.options.lora_rank:
            model = modeling.add_lora(model, self.options)
            if wants_ref and _same_model(ctx.reference.path, init.path, self.options):
                reference = "adapters"
        if wants_ref and reference is None:
            ref = modeling.load_model(ctx.reference.path, self.options, self.device).model
            ref.eval().requires_grad_(False)
            reference = ref
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise BackendError(f"phase '{phase.name}': every parameter is frozen; nothing to train")
        if self.options.memory_estimate:
            est = modeling.estimate_memory(model, sum(p.numel() for p in params), self.autocast)
            print(f"[local] phase {phase.name}: {est['params'] / 1e6:.2f}M params, {est['trainable'] / 1e6:.2f}M "
                  f"trainable; weights+grads+AdamW ≈ {est['total_gib']:.3f} GiB on {self.device.type}",
                  file=sys.stderr)
        if self.options.cuda_graphs and rl and (why := graphs_problem(base_model(model), self.device)) is not None:
            print(f"[local] phase {phase.name}: cuda_graphs is set but {why}; decoding without graphs",
                  file=sys.stderr)
        opt, sched = make_optimizer(params, algo, ctx.total_steps)
        if ctx.carry_optimizer is not None and ctx.resume_from is None:  # a resumed phase has its own
            _load_optimizer(opt, ctx.carry_optimizer)
        gen = torch.Generator(device=self.device).manual_seed(phase.seed)
        session = Session(model, loaded.processor, self.device, self.options, self.autocast, reference, gen)
        ckpt = PhaseCheckpoints(ctx, phase, model, opt, sched, gen, self.options.checkpoint_every,
                                self.options.keep_checkpoints, StopCheck(ctx.should_stop, phase.transition))
        outcome = (run_rl if rl else run_sft)(session, phase, ctx, params, opt, sched, ckpt)
        self._save(session, ctx.checkpoint_dir)
        opt_path = ctx.phase_dir / "optimizer.pt"
        ctx.phase_dir.mkdir(parents=True, exist_ok=True)
        torch.save(opt.state_dict(), opt_path)
        self._gen_cache = None
        return PhaseResult(checkpoint=Checkpoint(str(ctx.checkpoint_dir), phase.name), steps=outcome.steps,
                           samples_seen=outcome.samples_seen, stopped_by=outcome.stopped_by,
                           metrics=outcome.metrics, optimizer_state=str(opt_path))

    def _save(self, session: Session, dest: Path) -> None:
        model = session.model
        if self.options.lora_rank:
            model = model.merge_and_unload()  # the checkpoint is a plain HF folder for the next phase
        if self.options.gradient_checkpointing:
            modeling.set_checkpointing(model, False)
        dest.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(dest)
        session.processor.save_pretrained(dest)

    # ------------------------------------------------------------ sampling

    @torch.no_grad()
    @quiet_hf()
    def generate(self, model: Checkpoint, samples: Sequence[Sample], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 256, prompt_template: str | None = None,
                 use_facts: bool = False, image_bounds: ImageBounds | None = None,
                 system_prompt: str | None = None) -> list[list[Completion]]:
        loaded = self._load_for_generation(model.path)
        tok = getattr(loaded.processor, "tokenizer", loaded.processor)
        session = Session(loaded.model, loaded.processor, self.device, self.options, self.autocast)
        out: list[list[Completion]] = []
        for start in range(0, len(samples), GENERATE_BATCH):
            chunk = list(samples[start:start + GENERATE_BATCH])
            batch = encode_prompts(loaded.processor, chunk, prompt_template, use_facts=use_facts, device=self.device,
                                   image_bounds=image_bounds, system=system_prompt)
            with session.packed(), session.amp():
                ro = generate(loaded.model, batch, group=n, max_new_tokens=max_new_tokens, temperature=temperature,
                              top_p=top_p, eos_ids=session.eos_ids(), pad_id=session.pad_id(),
                              cuda_graphs=self.options.cuda_graphs)
            texts = tok.batch_decode(ro.tokens, skip_special_tokens=True)
            lengths = ro.lengths.tolist()
            for i in range(len(chunk)):
                out.append([Completion(texts[i * n + j], int(lengths[i * n + j])) for j in range(n)])
        return out

    def _load_for_generation(self, path: str) -> modeling.Loaded:
        # Keyed by the folder's contents as well as its path: the runner's in-phase evaluation rewrites
        # one snapshot folder every N steps, and a path-only key would keep scoring the first snapshot.
        key = (path, _folder_stamp(path))
        if self._gen_cache is None or self._gen_cache[0] != key:
            self._gen_cache = None  # free the old model before loading the new one
            loaded = modeling.load_model(path, self.options, self.device)
            loaded.model.eval()
            self._gen_cache = (key, loaded)
        return self._gen_cache[1]


def _folder_stamp(path: str) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime) of a local model folder's files; empty for a hub id or registered name."""
    folder = Path(path)
    if not folder.is_dir():
        return ()
    return tuple(sorted((f.name, st.st_size, st.st_mtime_ns) for f in folder.iterdir() if f.is_file()
                        for st in (f.stat(),)))


def _seed_all(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass


def _deterministic_mode() -> None:
    """Deterministic kernels where torch has them (a warning names any op that has none).

    cuBLAS needs a fixed workspace to reduce in a fixed order; the variable is read when the CUDA
    context starts, so it is set before anything touches the GPU.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def _same_model(a: str, b: str, options: LocalOptions) -> bool:
    return modeling.resolve_model_path(a, options) == modeling.resolve_model_path(b, options)


def _load_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        opt.load_state_dict(state)
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        raise BackendError(f"cannot carry the optimizer state from {path}: {e}",
                           hint="the previous phase trained a different set of parameters; use "
                                "handoff optimizer reset") from None
