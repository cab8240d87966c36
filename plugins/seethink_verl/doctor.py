"""What a machine lacks to run the ``verl`` backend (``seethink doctor --backend verl``).

Each check is cheap and imports nothing heavy unless it is the thing checked: versions come from installed
metadata; the configuration contract composes the installed verl's own Hydra config with a command seethink
generates for every method and runs verl's own checks (``contract.py``); the GPU count comes from torch.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from seethink_core.hooks.doctor import Check, package_check, pinned_check
from seethink_core.hooks.doctor import gpu_check as gpus
from seethink_core.types.methods import METHODS
from seethink_core.types.plan import Budget, Phase, RewardRef
from seethink_verl.options import VerlOptions
from seethink_verl.overrides import ESTIMATORS, JobSettings, PhaseFiles, build_overrides

PINNED = "0.9.1"
PYTHONS = ((3, 10), (3, 11), (3, 12))  # the wheel's Requires-Python: >=3.10, <3.13


def sample_overrides(options: VerlOptions) -> dict[str, list[str]]:
    """One representative job per supported method, fresh and resuming, sized to the options' GPUs."""
    root = Path("/run")
    files = PhaseFiles(root / "train.parquet", root / "val.parquet", root / "reward_fn.py", root / "ckpt",
                       root / "metrics.jsonl", root / "tb")
    out: dict[str, list[str]] = {}
    for method in sorted(ESTIMATORS):
        algo = METHODS[method](batch_size=options.gpus, rollout_batch_size=options.gpus * 4)
        phase = Phase(index=0, name=method, stages=[method], capabilities=["perception"], model="model",
                      init_from="base", method=method, algorithm=algo, data=[], rewards=[RewardRef("accuracy")],
                      budget=Budget(steps=8), freeze=["vision"])
        job = JobSettings(init_path="model", total_steps=8, experiment=method)
        out[method] = build_overrides(phase, options, files, job)
        out[f"{method} (resume)"] = build_overrides(phase, options, files,
                                                    replace(job, resume_from=root / "ckpt" / "global_step_4"))
    return out


def contract_check(options: VerlOptions) -> Check:
    """The installed verl composes and accepts every kind of job seethink generates."""
    from seethink_verl.contract import ContractError, VerlContract

    try:
        contract = VerlContract.from_installed()
        for name, overrides in sample_overrides(options).items():
            try:
                contract.check(overrides)
            except ContractError as e:
                return Check("configuration contract", "fail", f"verl rejects seethink's {name} job: {e}",
                             f"install verl=={PINNED}")
    except (ContractError, ImportError, OSError) as e:
        return Check("configuration contract", "fail", f"cannot run verl's configuration checks: {e}",
                     "pip install 'seethink[verl]' and 'hydra-core'")
    return Check("configuration contract", "ok",
                 "verl's Hydra config and its checks accept every seethink job (all methods, resume)")


def gpu_check(options: VerlOptions) -> Check:
    return gpus(options.gpus_per_node, "verl", "set backend option gpus_per_node: {n}")


def checks(options: VerlOptions | None = None) -> list[Check]:
    """Every prerequisite of the backend, in the order a user would fix them."""
    o = options or VerlOptions()
    out: list[Check] = []
    py = sys.version_info[:2]
    ok = py in PYTHONS and sys.platform == "linux"
    out.append(Check("python", "ok" if ok else "fail", f"Python {py[0]}.{py[1]} on {sys.platform}" + (
        "" if ok else f"; verl {PINNED} needs CPython 3.10–3.12 on Linux"),
        "" if ok else "use a Python 3.10–3.12 environment on Linux for this backend"))
    check, v = pinned_check("verl", PINNED, "verl")
    out.append(check)
    if v is not None:
        out.append(contract_check(o))
    engine = o.rollout_engine
    for dist, why in ((engine, f"rollouts run on {engine} (option rollout_engine)"), ("ray", "jobs run on Ray"),
                      ("hydra-core", "verl composes its configuration with Hydra")):
        out.append(package_check(dist, why, "pip install 'seethink[verl]'"))
    address = o.ray_address or os.environ.get("RAY_ADDRESS", "")
    out.append(Check("ray cluster", "ok", f"jobs go to the cluster at {address}" if address else
                     "no cluster given: the job's own ray.init starts a local one"))
    out.append(gpu_check(o))
    if o.wandb_project and not os.environ.get("WANDB_API_KEY"):
        out.append(Check("wandb", "warn", f"wandb_project is {o.wandb_project!r} but $WANDB_API_KEY is not set",
                         "export WANDB_API_KEY=..."))
    return out
