"""The run directory (docs/architecture.md §12): its layout and the ``RunDir`` that opens,
checks and resets it. Atomic writes are ``run.atomic``'s, state.json ``run.run_state``'s, the plan
check ``run.plan_check``'s and env.json ``run.manifest``'s.

    runs/<curriculum>/
      plan.json            the compiled plan (the reproducibility manifest)
      env.json             package versions, platform, git revision
      state.json           phase status, written atomically
      phases/<nn>-<name>/  data.json, data_order.jsonl, checkpoint/, metrics.jsonl, rollouts.jsonl, eval.json
      report/              plots and report.html
      README.md            this layout in words, for whoever opens the folder (``RUN_README``)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from seethink_core.errors import RunError
from seethink_core.run.atomic import write_atomic, write_json_atomic
from seethink_core.run.manifest import environment_manifest
from seethink_core.run.plan_check import PlanMismatch
from seethink_core.run.run_state import PhaseState, RunState
from seethink_core.types.plan import Phase, TrainingPlan

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
