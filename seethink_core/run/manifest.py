"""``env.json`` of a run directory: the package versions, platform and git revision a run was made with."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

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
