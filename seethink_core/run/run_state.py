"""``state.json`` of a run directory: each phase's status, with the paths it holds stored relative to
the run directory, so the directory can be moved."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# 2: checkpoint paths inside the run directory are stored relative to it (format 1 stored them
# absolute; such files are still read, see ``read_stored_path``).
STATE_FORMAT = 2
# The fields of a phase's state that hold paths, converted when state.json is written and read.
_PATH_FIELDS = ("checkpoint", "optimizer_state")


def stored_path(root: Path, path: str | None) -> str | None:
    """How a path is written into state.json or eval.json: relative to the run directory when it is
    an existing file or folder inside it, so a moved or copied run directory stays valid; anything
    else (an external checkpoint, a model name or hub id) as given."""
    if not path:
        return path
    p = Path(path)
    if not p.exists():  # a model name such as "tiny-vlm" is no path, even if cwd is the run directory
        return path
    for base, target in ((Path(os.path.abspath(root)), Path(os.path.abspath(p))), (root.resolve(), p.resolve())):
        if target.is_relative_to(base):
            return target.relative_to(base).as_posix() or "."
    return str(p.absolute())  # a relative path outside the run directory would break with another cwd


def read_stored_path(root: Path, text: str | None) -> str | None:
    """The path a run-directory file means, as a usable path on this machine.

    A relative path is relative to the run directory. An absolute path (state.json of format 1, or a
    path outside the run directory) is kept, except when it names a run directory's own file by way
    of a ``phases/`` component and that tail exists under ``root``: the directory was moved or
    copied, and its own files win over the original's (which may be gone, or another run's).
    """
    if not text:
        return text
    p = Path(text)
    if not p.is_absolute():
        return str(root / p)
    if p.is_relative_to(Path(os.path.abspath(root))):
        return text
    parts = p.parts
    if "phases" in parts:
        at = len(parts) - 1 - parts[::-1].index("phases")
        tail = root.joinpath(*parts[at:])
        if tail.exists():
            return str(tail)
    return text


@dataclass
class PhaseState:
    status: str = "pending"  # pending | running | done
    checkpoint: str | None = None
    optimizer_state: str | None = None
    steps: int = 0
    samples_seen: int = 0
    stopped_by: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    started: float | None = None
    finished: float | None = None
    wall_s: float | None = None


@dataclass
class RunState:
    plan_hash: str
    phases: dict[str, PhaseState]

    def to_dict(self, root: Path | None = None) -> dict[str, Any]:
        """As written to state.json; with ``root``, paths inside it become relative to it."""
        return {"format": STATE_FORMAT, "plan_hash": self.plan_hash,
                "phases": {k: _convert_paths(v.__dict__, root, stored_path) for k, v in self.phases.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], root: Path | None = None) -> "RunState":
        """From state.json; with ``root``, stored paths become usable ones (``read_stored_path``)."""
        return cls(data["plan_hash"], {k: PhaseState(**_convert_paths(v, root, read_stored_path))
                                       for k, v in data["phases"].items()})


def _convert_paths(fields: dict[str, Any], root: Path | None,
                   convert: Callable[[Path, str | None], str | None]) -> dict[str, Any]:
    if root is None:
        return dict(fields)
    return {k: convert(root, v) if k in _PATH_FIELDS else v for k, v in fields.items()}
