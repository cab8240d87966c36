"""An ``sft`` phase → one job of verl 0.9.1's own SFT trainer (``verl/trainer/sft_trainer.py``), which takes images.

Data: one parquet row per sample, what ``MultiTurnSFTDataset`` reads with ``data.messages_key=messages``:
``messages`` ``[system?, {"role": "user", "content": "<image>…TEXT"}, {"role": "assistant", "content":
TARGET}]`` (the loss covers the assistant turn) and ``images`` as in the RL export (``export.py``). The
target is the local backend's: the answer, the facts (a caption, asked with ``caption_prompt`` and no
template), or a ``<think>`` trace and ``\\boxed{answer}``.

The job: ``torchrun --standalone --nnodes 1 --nproc_per_node G -m seethink_verl.ordered_sft OVERRIDES``
(``sft_trainer.run_sft`` initialises ``torch.distributed`` from torchrun's environment), composed over
``verl/trainer/config/sft_trainer_engine.yaml``. Units: ``data.train_batch_size`` counts samples, as
seethink's SFT ``batch_size`` does; ``data.micro_batch_size_per_gpu`` too (memory only); a step is one
optimizer update, as in seethink, so ``trainer.total_training_steps`` is the phase's step budget.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from seethink_core.errors import DataError
from seethink_core.hooks.backend import SampleStream
from seethink_core.samples.images import ImageBounds
from seethink_core.samples.prompting import render_prompt, render_system
from seethink_core.samples.targets import sft_target
from seethink_core.types.methods import SFTOptions
from seethink_core.types.plan import Phase
from seethink_core.types.sample import Sample
from seethink_verl.export import IMAGE, ExportSummary, save_image, write_parquet
from seethink_verl.options import VerlOptions
from seethink_verl.overrides import SCHEDULERS, PhaseFiles, value

MODULE = "seethink_verl.ordered_sft"


def sft_row(phase: Phase, sample: Sample, images_dir: Path, index: int) -> dict[str, Any]:
    algo = phase.algorithm
    assert isinstance(algo, SFTOptions)
    bounds = ImageBounds.of(algo)
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(sample.id))[:80]
    try:
        paths = [save_image(img, images_dir / f"{index:07d}-{safe_id}-{k}.png", bounds)
                 for k, img in enumerate(sample.images)]
    except DataError as e:
        raise DataError(f"phase '{phase.name}', sample '{sample.id}': {e.diagnostics[0].message}") from None
    caption = algo.target == "facts"
    # A caption asks its own question: the phase's template and system prompt are for answers.
    text = algo.caption_prompt if caption else render_prompt(phase.prompt, sample)
    system = None if caption else render_system(phase.system, sample)
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": IMAGE * len(paths) + text},
        {"role": "assistant", "content": sft_target(sample, algo.target)}]
    extra = {k: v for k, v in (("min_pixels", bounds.min_pixels), ("max_pixels", bounds.max_pixels)) if v}
    return {"messages": messages, "images": [{"image": p, **extra} for p in paths]}


def export_sft(phase: Phase, stream: SampleStream, *, n_samples: int, out_dir: Path) -> ExportSummary:
    """``n_samples`` of the phase in the runner's order (pulled step by step) as ``out_dir/sft.parquet``."""
    batch = max(1, phase.algorithm.batch_size)
    rows: list[dict[str, Any]] = []
    for step in range(math.ceil(n_samples / batch)):
        want = min(batch, n_samples - len(rows))
        samples = stream.next_batch(want, step)[:want]
        if not samples:
            break
        rows.extend(sft_row(phase, s, out_dir / "images", len(rows) + i) for i, s in enumerate(samples))
    if not rows:
        raise DataError(f"phase '{phase.name}': its data stream gave no samples to export")
    path = out_dir / "sft.parquet"
    digest = write_parquet(rows, path)
    return ExportSummary(path, len(rows), max(len(r["images"]) for r in rows), digest)


def build_sft_overrides(phase: Phase, options: VerlOptions, files: PhaseFiles, *, init_path: str, total_steps: int,
                        experiment: str, resume_from: Path | None) -> list[str]:
    algo = phase.algorithm
    assert isinstance(algo, SFTOptions)
    o = options
    out: list[str] = []

    def put(key: str, v: object) -> None:
        out.append(f"{key}={value(v)}")

    put("trainer.nnodes", 1)
    put("trainer.n_gpus_per_node", o.gpus_per_node)
    put("engine.strategy", o.strategy)
    put("engine.param_offload", o.param_offload)
    put("engine.optimizer_offload", o.optimizer_offload)
    put("model.path", init_path)
    put("model.enable_gradient_checkpointing", o.gradient_checkpointing)
    put("data.train_files", [str(files.train)])
    put("data.val_files", None)
    put("data.messages_key", "messages")
    put("data.train_batch_size", algo.batch_size)  # samples per optimizer step, as seethink counts SFT batches
    put("data.use_dynamic_bsz", False)
    put("data.micro_batch_size_per_gpu", o.micro_batch_per_gpu)
    put("data.max_length", o.sft_max_length)
    put("data.truncation", "right")
    put("data.num_workers", o.dataloader_workers)
    put("optim.lr", float(algo.lr))
    put("optim.weight_decay", float(algo.weight_decay))
    put("optim.betas", [float(algo.adam_beta1), float(algo.adam_beta2)])
    put("optim.clip_grad", float(algo.max_grad_norm))
    put("optim.lr_scheduler_type", SCHEDULERS.get(algo.schedule, algo.schedule))
    put("optim.lr_warmup_steps", algo.warmup_steps or -1)
    put("checkpoint.save_contents", ["model", "optimizer", "extra", "hf_model"])
    put("trainer.total_epochs", 1)  # the export holds the whole budget
    put("trainer.total_training_steps", max(1, total_steps) if total_steps > 0 else None)
    put("trainer.project_name", "seethink")
    put("trainer.experiment_name", experiment)
    put("trainer.logger", ["console", "file"] + (["tensorboard"] if o.tensorboard else [])
        + (["wandb"] if o.wandb_project else []))
    put("trainer.seed", phase.seed)
    put("trainer.default_local_dir", str(files.ckpt_dir))
    put("trainer.save_freq", o.save_steps or max(1, total_steps))
    put("trainer.max_ckpt_to_keep", o.keep_checkpoints or None)
    put("trainer.test_freq", -1)
    if resume_from is not None:
        put("trainer.resume_mode", "resume_path")
        put("trainer.resume_from_path", str(resume_from))
    else:
        put("trainer.resume_mode", "disable")
    out.extend(o.extra_sft_overrides)
    return out


def build_sft_command(phase: Phase, options: VerlOptions, files: PhaseFiles, *, python: str, **job: Any) -> list[str]:
    return [python, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
            "--nproc_per_node", str(options.gpus_per_node), "-m", MODULE,
            *build_sft_overrides(phase, options, files, **job)]
