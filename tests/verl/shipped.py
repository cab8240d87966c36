"""Dry runs of the shipped curricula on verl (imported by path by the ``test_verl_shipped_*`` files, which
split the curricula so each file stays well under a minute).

Each curriculum compiles with ``--backend verl``'s override (every phase on verl: RL phases as ``main_ppo``
jobs, SFT phases as jobs of verl's SFT trainer). The runner's dry run writes every phase's files; each
distinct generated override list is composed over verl's own config and checked by verl's own code.
"""

from __future__ import annotations

import json
from pathlib import Path

from seethink_core.compiler import compile_path, list_curricula
from seethink_core.run.rundir import RunDir
from seethink_core.run.runner import Runner
from seethink_core.types.plan import TrainingPlan

CURRICULA = Path(__file__).parents[2] / "curricula"
# Values that name this run's files or models: they differ per phase and never change verl's checks.
PATH_KEYS = ("data.train_files", "data.val_files", "reward.custom_reward_function.path", "trainer.default_local_dir",
             "trainer.experiment_name", "actor_rollout_ref.model.path", "model.path", "trainer.resume_from_path")


def names(file: str) -> list[tuple[str, str]]:
    return [(file, name) for name in list_curricula(CURRICULA / file)]


def dry_run(file: str, name: str, root: Path) -> tuple[TrainingPlan, dict[str, dict]]:
    plan = compile_path(str(CURRICULA / file), curriculum=name, backend="verl")  # what `--backend verl` compiles
    assert {plan.backend_of(p).name for p in plan.phases} == {"verl"}
    Runner(plan, RunDir(root), dry_run=True).run()
    records = {p.name: json.loads((RunDir(root).phase_dir(p) / "verl" / "command.json").read_text())
               for p in plan.phases}
    return plan, records


def distinct(overrides_lists: list[list[str]]) -> list[list[str]]:
    out, seen = [], set()
    for overrides in overrides_lists:
        key = tuple(o if o.split("=", 1)[0] not in PATH_KEYS else o.split("=", 1)[0] for o in overrides)
        if key not in seen:
            seen.add(key)
            out.append(overrides)
    return out


NEEDS_GENERATE = "cannot estimate difficulty pass_rate"


def check_all(contract, file: str, tmp: Path, only: slice = slice(None)) -> int:
    """Dry-run every curriculum of ``file`` (``only`` a slice of them); check each distinct job; returns how many
    were checked. A curriculum that estimates pass-rate difficulty needs a backend that generates, which verl is
    not: it must fail to compile with that reason, and is not run."""
    from seethink_core.errors import SeethinkError

    rl, sft = [], []
    for _, name in names(file)[only]:
        try:
            plan, records = dry_run(file, name, tmp / name)
        except SeethinkError as e:
            assert NEEDS_GENERATE in str(e), f"{file}:{name}: {e}"
            continue
        for phase_name, record in records.items():
            phase = plan.phase(phase_name)
            argv = record["argv"]
            if phase.method == "sft":
                assert argv[1:3] == ["-m", "torch.distributed.run"]
                assert argv[8:10] == ["-m", "seethink_verl.ordered_sft"]
                overrides, model_key = argv[10:], "model.path"
                sft.append(overrides)
            else:
                assert argv[1:3] == ["-m", "verl.trainer.main_ppo"]
                overrides, model_key = argv[3:], "actor_rollout_ref.model.path"
                rl.append(overrides)
            if phase.init_from != "base":  # the previous phase's final folder, never its partial one
                prev = RunDir(tmp / name).checkpoint_dir(plan.phase(phase.init_from))
                assert f"{model_key}='{prev.absolute()}'" in overrides
    for overrides in distinct(rl):
        contract.check(overrides)
    for overrides in distinct(sft):
        contract.check_sft(overrides)
    return len(distinct(rl)) + len(distinct(sft))
