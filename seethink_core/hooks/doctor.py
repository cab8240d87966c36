"""What ``seethink doctor`` checks are made of, for the core's checks and a backend's ``doctor`` module.

A check is a ``Check`` (name, status "ok" | "warn" | "fail", detail, fix). The pieces every backend of a
cluster engine checks the same way are here: an installed distribution's version, a pinned release, a
package the backend needs, and the GPUs its options ask for. Nothing heavy is imported until a check
needs it (``importlib.metadata`` costs ``seethink --help`` tens of ms; torch only for the GPUs).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def installed_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def package_check(dist: str, why: str, fix: str, *, required: bool = True) -> Check:
    """``dist`` is installed (else a failure, or a warning when not ``required``, saying ``why``)."""
    v = installed_version(dist)
    if v:
        return Check(dist, "ok", f"{dist} {v}")
    return Check(dist, "fail" if required else "warn", f"{dist} is not installed ({why})", fix)


def pinned_check(dist: str, pinned: str, extra: str) -> tuple[Check, str | None]:
    """``dist`` is installed at the release seethink is tested against; and its installed version."""
    v = installed_version(dist)
    if v is None:
        return Check(dist, "fail", f"{dist} is not installed", f"pip install 'seethink[{extra}]'"), None
    if v != pinned:
        return Check(dist, "warn", f"{dist} {v} installed; seethink is tested against {pinned}",
                     f"pip install {dist}=={pinned}"), v
    return Check(dist, "ok", f"{dist} {v}"), v


def gpu_check(need: int, extra: str, fix: str) -> Check:
    """CUDA GPUs here, at least ``need`` of them (the backend's ``gpus_per_node``); ``fix`` when fewer."""
    try:
        import torch
    except ImportError:
        return Check("GPUs", "fail", "torch is not installed", f"pip install 'seethink[{extra}]' (a CUDA torch)")
    if not torch.cuda.is_available():
        return Check("GPUs", "fail", f"no CUDA GPU visible (torch {torch.__version__})",
                     "run on a GPU node with a CUDA build of torch")
    n = torch.cuda.device_count()
    names = sorted({torch.cuda.get_device_name(i) for i in range(n)})
    if n < need:
        return Check("GPUs", "warn", f"{n} GPU(s) here ({', '.join(names)}); the options ask for {need} per node",
                     fix.format(n=n))
    return Check("GPUs", "ok", f"{n} × {', '.join(names)}")
