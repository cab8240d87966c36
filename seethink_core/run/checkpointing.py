"""In-phase checkpoints that are valid only when complete.

A checkpoint is written into a temporary folder, every file is fsynced, a ``COMPLETE.json``
marker (step, file sizes, the writer's metadata) goes in last, and only then is the folder
renamed to ``step-NNNNNNNN``. A reader takes the newest folder whose marker exists and whose
files have the recorded sizes; anything else is partial or corrupt and is skipped with a note.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from seethink_core.errors import RunError
from seethink_core.run.faults import fault_point

MARKER = "COMPLETE.json"
PREFIX = "step-"


@dataclass
class Found:
    path: Path
    step: int
    meta: dict[str, Any]
    skipped: list[str] = field(default_factory=list)  # why newer checkpoints were not used


def _fsync_tree(root: Path) -> None:
    for p in sorted(root.rglob("*")):
        if p.is_file():
            with p.open("rb") as f:
                os.fsync(f.fileno())
    for d in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_folder(path: Path) -> None:
    """Delete a checkpoint folder so that it is never seen half-deleted.

    The folder is first renamed to a hidden temporary name (one atomic step: under its own name it
    is either whole or gone), then removed. A Ctrl-C during the removal finishes it before going on,
    and what a SIGKILL leaves is a temporary folder that ``discard_after`` clears on resume.
    """
    if not path.exists():
        return
    gone = path.with_name(f".{path.name}.tmp-gone-{os.getpid()}")
    if gone.exists():
        shutil.rmtree(gone, ignore_errors=True)
    os.replace(path, gone)
    try:
        shutil.rmtree(gone, ignore_errors=True)
    except BaseException:
        shutil.rmtree(gone, ignore_errors=True)
        raise


def save_checkpoint(resume_dir: Path, step: int, write: Callable[[Path], None], *, meta: dict[str, Any] | None = None,
                    keep: int = 2) -> Path:
    """Write a checkpoint for ``step`` with ``write(folder)``; keep the newest ``keep`` complete ones.

    A full disk stops the run with a clear message; the last complete checkpoint stays usable.
    """
    resume_dir.mkdir(parents=True, exist_ok=True)
    final = resume_dir / f"{PREFIX}{step:08d}"
    tmp = resume_dir / f".{PREFIX}{step:08d}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
        write(tmp)
        fault_point("checkpoint_write", step)
        files = {str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / MARKER).write_text(json.dumps({"step": step, "files": files, "meta": meta or {}}, indent=1))
        _fsync_tree(tmp)
        remove_folder(final)
        os.replace(tmp, final)
        dfd = os.open(resume_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        last = latest_checkpoint(resume_dir)
        where = f"step {last.step}" if last else "the start of the phase"
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise RunError(f"disk full while writing the checkpoint of step {step} in {resume_dir}; "
                           f"the phase is resumable from {where}",
                           hint="free space, then run the same command again") from None
        raise RunError(f"could not write the checkpoint of step {step} in {resume_dir}: {e}; "
                       f"the phase is resumable from {where}") from None
    except BaseException:
        # Ctrl-C mid-write: the folder has no marker, so it could never pass for complete; removed so
        # that the run directory holds nothing half-written (a resume would remove it anyway).
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(resume_dir, keep)
    return final


def prune(resume_dir: Path, keep: int) -> None:
    complete = [c for c in _candidates(resume_dir) if (c / MARKER).exists()]
    for old in complete[keep:] if keep > 0 else []:
        remove_folder(old)  # an interrupted prune must not leave an old checkpoint half-deleted


def _candidates(resume_dir: Path) -> list[Path]:
    if not resume_dir.exists():
        return []
    dirs = [p for p in resume_dir.iterdir() if p.is_dir() and p.name.startswith(PREFIX)]
    return sorted(dirs, key=lambda p: p.name, reverse=True)


def validate_checkpoint(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    marker = path / MARKER
    if not marker.exists():
        return None, f"{path.name} is partial (no {MARKER})"
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None, f"{path.name} has an unreadable {MARKER}"
    for rel, size in info.get("files", {}).items():
        f = path / rel
        if not f.exists():
            return None, f"{path.name} is missing {rel}"
        if f.stat().st_size != size:
            return None, f"{path.name}: {rel} has {f.stat().st_size} bytes, {size} were written"
    return info, None


def latest_checkpoint(resume_dir: Path) -> Found | None:
    """The newest complete checkpoint, noting every newer one that was skipped and why."""
    skipped: list[str] = []
    for cand in _candidates(resume_dir):
        info, problem = validate_checkpoint(cand)
        if info is None:
            skipped.append(problem or cand.name)
            continue
        return Found(cand, int(info["step"]), info.get("meta", {}), skipped)
    return None


def checkpoint_steps(resume_dir: Path) -> list[int]:
    """The steps of the checkpoint folders in ``resume_dir``, valid or not (a folder only gets its
    name once complete, so its step was reached)."""
    return [int(c.name[len(PREFIX):]) for c in _candidates(resume_dir) if c.name[len(PREFIX):].isdigit()]


def foreign_entries(resume_dir: Path) -> list[Path]:
    """What a backend keeps in ``resume_dir`` by its own means (OpenRLHF's DeepSpeed checkpoints),
    as opposed to this module's folders and their temporary ones."""
    if not resume_dir.is_dir():
        return []
    return [p for p in resume_dir.iterdir() if not p.name.startswith((PREFIX, f".{PREFIX}"))]


def discard_after(resume_dir: Path, step: int) -> None:
    """Remove checkpoints newer than ``step`` (after falling back past a corrupt one)."""
    for cand in _candidates(resume_dir):
        if int(cand.name[len(PREFIX):]) > step:
            remove_folder(cand)
    for tmp in resume_dir.glob(f".{PREFIX}*.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
