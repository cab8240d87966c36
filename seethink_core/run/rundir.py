"""The run directory (docs/architecture.md §12): layout, atomic writes, phase state, and the plan check.

    runs/<curriculum>/
      plan.json            the compiled plan (the reproducibility manifest)
      env.json             package versions, platform, git revision
      state.json           phase status, written atomically
      phases/<nn>-<name>/  data.json, data_order.jsonl, checkpoint/, metrics.jsonl, rollouts.jsonl, eval.json
      report/              plots and report.html
      README.md            this layout in words, for whoever opens the folder (``RUN_README``)
"""

from __future__ import annotations

import difflib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from seethink_core.errors import RunError
from seethink_core.types.plan import Phase, TrainingPlan, hashed_data

# 2: checkpoint paths inside the run directory are stored relative to it (format 1 stored them
# absolute; such files are still read, see ``read_stored_path``).
STATE_FORMAT = 2
# The fields of a phase's state that hold paths, converted when state.json is written and read.
_PATH_FIELDS = ("checkpoint", "optimizer_state")


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over ``path``.

    A crash at any moment leaves either the old file or the new one, never half of either.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; ours are ordinary outputs
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


# The README.md of every new run directory: the one place its layout is explained to someone who
# opens the folder rather than the docs. Nothing reads it back; keep it in step with the module docstring.
RUN_README = """# seethink run: {curriculum}

Written by `seethink run` when it created this folder (plan {plan_hash}). Phases: {phases}.

| path | what it is |
|---|---|
| `plan.json` | the compiled plan; a re-run with a different plan is refused |
| `env.json` | package versions, platform, git revision |
| `state.json` | each phase's status (pending, running, done) and checkpoint |
| `eval/00-base.json` | the base model's evaluation, before any training (row 0 of the report) |
| `phases/NN-name/` | one folder per phase, numbered from 00 in plan order |
| `NN-name/metrics.jsonl`, `tensorboard/` | one row per optimizer step; steps count from 1 in every phase |
| `NN-name/data.json`, `data_order.jsonl` | the data served, and the sample ids of each step (from step 1) |
| `NN-name/rollouts.jsonl` | sampled completions and their rewards, every few RL steps |
| `NN-name/resume/step-N/` | in-phase checkpoints taken after step N (for resuming a cut-off phase) |
| `NN-name/checkpoint/` | the phase's model, a Hugging Face folder; the next phase starts from it |
| `NN-name/eval.json` | the evaluation after the phase |
| `report/` | what `seethink report` writes: report.html, PNG plots and their JSON |

Resume (finished phases are skipped; add the same `--set` flags as the first run):

    seethink run {source} --curriculum {curriculum} --run-dir {root}

Report:

    seethink report {root}

Evaluate one phase's checkpoint (the result goes to eval/<run>-<NN-name>.json):

    seethink eval {root}/phases/NN-name/checkpoint
"""


def run_readme(plan: TrainingPlan, root: Path) -> str:
    phases = ", ".join(f"{p.index:02d}-{p.name} ({p.method})" for p in plan.phases)
    return RUN_README.format(curriculum=plan.curriculum, plan_hash=plan.hash()[:12], phases=phases,
                             source=plan.source or "FILE.curr", root=root)


# -- paths in run-directory files (docs/resume.md, "Moving a run directory") ---------------------


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


class RunDir:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    @property
    def plan_path(self) -> Path:
        return self.root / "plan.json"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    def phase_dir(self, phase: Phase) -> Path:
        return self.root / "phases" / f"{phase.index:02d}-{phase.name}"

    def checkpoint_dir(self, phase: Phase) -> Path:
        return self.phase_dir(phase) / "checkpoint"

    def report_dir(self) -> Path:
        return self.root / "report"

    # -- plan ---------------------------------------------------------------------------------

    def open_for(self, plan: TrainingPlan) -> RunState:
        """Create the run directory for ``plan``, or reopen it if it holds the same plan.

        A directory holding a different plan is refused with a readable diff: a silent fresh start
        would mix two experiments' checkpoints and metrics.
        """
        new_hash = plan.hash()
        if self.plan_path.exists():
            try:
                old = TrainingPlan.from_json(self.plan_path.read_text(encoding="utf-8"))
            except (ValueError, KeyError, TypeError) as e:
                raise RunError(f"{self.plan_path} is not a readable plan ({e}); refusing to overwrite it",
                               hint="use another --run-dir") from None
            if old.hash() == new_hash:
                state = self.load_state()
                if state is None:
                    state = RunState(new_hash, {p.name: PhaseState() for p in plan.phases})
                    self.save_state(state)
                return state
            if not self._untrained():
                raise PlanMismatch(self.root, old, plan)
            # Only a dry run was here: nothing of the old plan to keep; made afresh below.
            shutil.rmtree(self.root / "phases", ignore_errors=True)
        if self.root.exists() and any(p for p in self.root.iterdir() if not p.name.startswith(".")):
            if not self.state_path.exists():
                raise RunError(f"{self.root} exists and is not a seethink run directory; refusing to write into it",
                               hint="use another --run-dir")
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.plan_path, plan.to_json() + "\n")
        write_json_atomic(self.root / "env.json", environment_manifest())
        write_atomic(self.root / "README.md", run_readme(plan, self.root))
        state = RunState(new_hash, {p.name: PhaseState() for p in plan.phases})
        self.save_state(state)
        return state

    def _untrained(self) -> bool:
        """No phase ever started here and the phase folders hold only dry runs' ``dry_run.json``: what a
        dry run leaves. Such a directory takes a changed plan, so dry run, edit, run does not refuse."""
        state = self.load_state()
        if state is None or any(p.status != "pending" for p in state.phases.values()):
            return False
        top = {p.name for p in self.root.iterdir() if not p.name.startswith(".")}
        if not top <= {"plan.json", "env.json", "state.json", "README.md", "phases"}:  # eval/: the base was scored
            return False
        phases = self.root / "phases"
        return not phases.exists() or all(f.name == "dry_run.json" for f in phases.rglob("*") if not f.is_dir())

    def load_state(self) -> RunState | None:
        if not self.state_path.exists():
            return None
        try:
            return RunState.from_dict(json.loads(self.state_path.read_text(encoding="utf-8")), self.root)
        except (ValueError, KeyError, TypeError) as e:
            raise RunError(f"{self.state_path} is unreadable ({e})") from None

    def save_state(self, state: RunState) -> None:
        write_json_atomic(self.state_path, state.to_dict(self.root))

    def load_plan(self) -> TrainingPlan:
        if not self.plan_path.exists():
            raise RunError(f"{self.root} is not a seethink run directory (no plan.json)")
        return TrainingPlan.from_json(self.plan_path.read_text(encoding="utf-8"))

    def reset_phase_dir(self, phase: Phase, keep: tuple[str, ...] = ()) -> Path:
        """Clear an unfinished phase's leftovers except the entries named in ``keep``
        (never called for a finished phase)."""
        d = self.phase_dir(phase)
        if d.exists():
            for entry in d.iterdir():
                if entry.name in keep:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        d.mkdir(parents=True, exist_ok=True)
        return d


class PlanMismatch(RunError):
    """A run directory holds another plan. Says which fields differ (execution-only options never do:
    they are not hashed) and, when the plan came from another file, which one; ``seethink run`` adds
    the command that starts the new plan beside it (``with_command``)."""

    def __init__(self, root: Path, old: TrainingPlan, new: TrainingPlan, command: str | None = None):
        self.root, self.old, self.new = root, old, new
        changes = plan_changes(old, new)
        shown = "".join(f"\n    {c}" for c in changes[:MAX_CHANGES_SHOWN])
        more = f"\n    and {len(changes) - MAX_CHANGES_SHOWN} more" if len(changes) > MAX_CHANGES_SHOWN else ""
        made = ""
        if old.source and new.source and not _same_file(old.source, new.source):
            made = (f" (it was made from {old.source}, another file with a curriculum '{old.curriculum}'; "
                    "two files must not share a run directory)")
        start = f"start it beside the old run (finished phases of an identical prefix are reused): {command}" \
            if command else "use another --run-dir"
        super().__init__(f"run directory {root} holds a different plan{made}:{shown}{more}",
                         hint=f"{start}; or undo the change to resume")

    def with_command(self, command: str) -> "PlanMismatch":
        return PlanMismatch(self.root, self.old, self.new, command)


MAX_CHANGES_SHOWN = 4


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is gone or was moved: the recorded path is all there is
        return os.path.abspath(a) == os.path.abspath(b)


def plan_changes(old: TrainingPlan, new: TrainingPlan) -> list[str]:
    """The hashed fields that differ, as ``phase 'p': budget.steps 4 → 5``, in plan order."""
    a, b = hashed_data(old), hashed_data(new)
    out: list[str] = []
    names_a = [p["name"] for p in a.pop("phases")]
    names_b = [p["name"] for p in b.pop("phases")]
    _changes(a, b, "", out)
    if names_a != names_b:
        out.append(f"phases {', '.join(names_a) or '-'} → {', '.join(names_b) or '-'}")
        return out
    for name, pa, pb in zip(names_a, hashed_data(old)["phases"], hashed_data(new)["phases"]):
        found: list[str] = []
        _changes(pa, pb, "", found)
        out.extend(f"phase '{name}': {c}" for c in found)
    return out


def _changes(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            _changes(a.get(key), b.get(key), f"{path}.{key}" if path else str(key), out)
    elif a != b:
        out.append(f"{path or 'plan'} {_short(a)} → {_short(b)}")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def plan_diff(old: TrainingPlan, new: TrainingPlan, max_lines: int = 60) -> str:
    a = old.to_yaml().splitlines()
    b = new.to_yaml().splitlines()
    diff = [line for line in difflib.unified_diff(a, b, "existing plan", "new plan", lineterm="", n=2)]
    if len(diff) > max_lines:
        diff = diff[:max_lines] + [f"... ({len(diff) - max_lines} more lines)"]
    return "\n".join("    " + line for line in diff)


_MANIFEST_PACKAGES = ("seethink", "torch", "transformers", "peft", "trl", "numpy", "pillow", "lark", "pluggy",
                      "datasets", "pyarrow", "math-verify", "mathruler", "openrlhf", "vllm", "ray", "deepspeed")


def environment_manifest() -> dict[str, Any]:
    versions = {}
    for name in _MANIFEST_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": versions,
        "git": _git_revision(),
        "argv": sys.argv,
    }


def _git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
