"""What a machine lacks to run the ``openrlhf`` backend (``seethink doctor --backend openrlhf``).

Each check is cheap and imports nothing heavy unless it is the thing checked: package versions
come from installed metadata, the command contract from OpenRLHF's source (``contract.py``), the
GPU count from torch only when torch is there.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from seethink_core.hooks.doctor import Check, package_check, pinned_check
from seethink_core.hooks.doctor import gpu_check as gpus
from seethink_core.types.methods import METHODS
from seethink_core.types.plan import Budget, Phase, RewardRef
from seethink_openrlhf.commands import ESTIMATORS, JobSettings, PhaseFiles, build_command
from seethink_openrlhf.options import OpenRLHFOptions

PINNED = "0.11.2"
# OpenRLHF 0.11.2 is published as binary wheels only; cp311 and cp312 manylinux x86_64 were checked.
PYTHONS = ((3, 11), (3, 12))


def sample_commands(options: OpenRLHFOptions) -> dict[str, list[str]]:
    """One representative command per supported method, with and without resume."""
    out: dict[str, list[str]] = {}
    root = Path("/run")
    files = PhaseFiles(root / "prompts.jsonl", root / "reward_func.py", root / "out", root / "ckpt", root / "tb")
    for method in sorted(ESTIMATORS):
        phase = Phase(index=0, name=method, stages=[method], capabilities=["perception"], model="model",
                      init_from="base", method=method, algorithm=METHODS[method](), data=[],
                      rewards=[RewardRef("accuracy")], budget=Budget(steps=10), freeze=["vision"])
        for resume in (False, True):
            job = JobSettings(init_path="model", n_prompts=1280, total_steps=10, max_images=1,
                              run_name=method, resume=resume)
            out[f"{method}{' (resume)' if resume else ''}"] = build_command(phase, options, files, job)[3:]
    return out


def contract_check(options: OpenRLHFOptions) -> Check:
    """The installed OpenRLHF's own parser and checks accept every command seethink generates."""
    from seethink_openrlhf.contract import ContractError, TrainPPOContract

    try:
        contract = TrainPPOContract.from_installed()
    except (ContractError, OSError, SyntaxError) as e:
        return Check("command contract", "fail", f"cannot read OpenRLHF's train_ppo_ray.py: {e}")
    for name, argv in sample_commands(options).items():
        try:
            contract.validate(argv)
        except ContractError as e:
            return Check("command contract", "fail", f"OpenRLHF rejects seethink's {name} command: {e}",
                         f"install openrlhf=={PINNED}")
    return Check("command contract", "ok", "OpenRLHF's parser accepts every seethink command (all methods, resume)")


def gpu_check(options: OpenRLHFOptions) -> Check:
    return gpus(options.gpus_per_node, "openrlhf", "set backend option gpus_per_node: {n} (and vllm_engines to match)")


def checks(options: OpenRLHFOptions | None = None) -> list[Check]:
    """Every prerequisite of the backend, in the order a user would fix them."""
    o = options or OpenRLHFOptions()
    out: list[Check] = []
    py = sys.version_info[:2]
    ok = py in PYTHONS and sys.platform == "linux"
    out.append(Check("python", "ok" if ok else "fail",
                     f"Python {py[0]}.{py[1]} on {sys.platform}" + ("" if ok else
                     f"; OpenRLHF {PINNED} has wheels for CPython 3.11/3.12 on Linux x86_64"),
                     "" if ok else "use a Python 3.11 or 3.12 environment on Linux for this backend"))
    check, v = pinned_check("openrlhf", PINNED, "openrlhf")
    out.append(check)
    if v is not None:
        out.append(contract_check(o))
    out.append(package_check("vllm", "rollouts run on vLLM engines", "pip install 'seethink[openrlhf]'"))
    out.append(package_check("ray", "jobs run on a Ray cluster", "pip install 'seethink[openrlhf]'"))
    out.append(package_check("deepspeed", "the actor trains with DeepSpeed", "pip install 'seethink[openrlhf]'"))
    if "flash_attention" in o.attn_implementation:
        out.append(package_check("flash-attn", f"attn_implementation is {o.attn_implementation}",
                            "pip install flash-attn, or set attn_implementation: sdpa", required=False))
    address = o.ray_address or os.environ.get("RAY_ADDRESS", "")
    if address:
        out.append(Check("ray cluster", "ok", f"jobs go to the existing cluster at {address}"))
    elif shutil.which("ray") or (Path(sys.executable).parent / "ray").is_file():
        out.append(Check("ray cluster", "ok", "no cluster given: a local head is started with `ray start --head`"))
    else:
        out.append(Check("ray cluster", "fail", "no cluster given and no `ray` command to start one",
                         "pip install 'ray[default]' or set RAY_ADDRESS"))
    out.append(gpu_check(o))
    if o.wandb_project and not os.environ.get("WANDB_API_KEY"):
        out.append(Check("wandb", "warn", f"wandb_project is {o.wandb_project!r} but $WANDB_API_KEY is not set",
                         "export WANDB_API_KEY=..."))
    return out
