"""A finished verl job → the phase's Hugging Face folder, the next phase's model.

verl 0.9.1 saves under ``trainer.default_local_dir``: ``global_step_N/actor/`` (FSDP shards, optimizer,
``fsdp_config.json``) with ``huggingface/`` beside them — the model config and the processor always, and
the full weights when ``actor.checkpoint.save_contents`` holds ``hf_model``
(``FSDPCheckpointManager.save_checkpoint``: ``should_save_hf_model``), which every seethink command asks
for — plus ``data.pt`` (the loader's state) and ``latest_checkpointed_iteration.txt`` naming N, written
last (``find_latest_ckpt_path`` reads it). The last step always saves (``save_freq > 0``).

verl's SFT trainer (``CheckpointHandler.save_checkpoint``) writes the same without the ``actor/`` level:
``global_step_N/huggingface/``, ``global_step_N/data_<rank>.pt``.

The phase's checkpoint is a copy of that ``huggingface/`` folder. Where it holds no weights (a job run
with other ``save_contents``), verl's own model merger makes them from the shards:
``python -m verl.model_merger merge --backend fsdp --local_dir …/actor --target_dir CHECKPOINT``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from seethink_core.errors import BackendError

TRACKER = "latest_checkpointed_iteration.txt"
WEIGHTS = ("*.safetensors", "pytorch_model*.bin", "model*.safetensors.index.json")


def latest_step_dir(ckpt_dir: Path) -> Path | None:
    """``global_step_N`` named by verl's tracker file, when both exist (a save cut short leaves no tracker)."""
    tracker = ckpt_dir / TRACKER
    try:
        step = int(tracker.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    folder = ckpt_dir / f"global_step_{step}"
    return folder if folder.is_dir() else None


def model_dir(step_dir: Path) -> Path:
    """The folder holding the model's shards: ``actor/`` for an RL job, the step folder for an SFT job."""
    return step_dir / "actor" if (step_dir / "actor").is_dir() else step_dir


def has_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(any(folder.glob(p)) for p in WEIGHTS)


def merge_command(python: str, actor_dir: Path, target: Path) -> list[str]:
    return [python, "-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir", str(actor_dir),
            "--target_dir", str(target)]


def hand_off(ckpt_dir: Path, target: Path, *, python: str, phase: str, log: Path) -> int:
    """Put the job's final model at ``target``; returns the verl step it comes from."""
    step_dir = latest_step_dir(ckpt_dir)
    if step_dir is None:
        raise BackendError(f"phase '{phase}': the verl job ended but left no checkpoint in {ckpt_dir} "
                           f"({TRACKER} names none)", hint=f"see {log}")
    shards = model_dir(step_dir)
    hf = shards / "huggingface"
    if target.exists():
        shutil.rmtree(target)
    if has_weights(hf):
        shutil.copytree(hf, target)
    else:
        with log.open("a", encoding="utf-8") as out:
            proc = subprocess.run(merge_command(python, shards, target), stdout=out,
                                  stderr=subprocess.STDOUT, text=True, check=False)
        if proc.returncode != 0 or not has_weights(target):
            raise BackendError(f"phase '{phase}': {hf} holds no weights and verl's model merger could not make "
                               f"them (exit status {proc.returncode})", hint=f"see {log}")
        for extra in hf.glob("*"):  # the processor and chat template the merger may not write
            if extra.is_file() and not (target / extra.name).exists():
                shutil.copy2(extra, target / extra.name)
    return int(step_dir.name.rsplit("_", 1)[1])
