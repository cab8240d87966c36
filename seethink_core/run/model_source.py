"""Where a plan's base model lives: a registered model, a local folder, or a Hugging Face hub id.

``locate_model`` answers in seconds, before anything loads, with one clear error when the model
cannot be had: ``seethink preflight`` reports it and the local backend raises it before a run
starts. Loading through transformers instead names a missing folder as a bad repo id ("Repo id
must be in the form 'repo_name'") and, with the hub unreachable, retries for minutes.

Rules, in order: a registered name (``tiny-vlm``); an existing folder; a name that looks like a path
(``./x``, ``../x``, ``/x``, ``~/x``, more than one ``/``, a backslash, or ``a/b`` whose ``a`` is a local
folder) is a local folder that does not exist; anything else is a hub id. A hub id is looked up
with one request and a short timeout (``HF_HUB_ETAG_TIMEOUT``, default ``HUB_TIMEOUT_S``) and no
retries; when the hub cannot be reached, or ``HF_HUB_OFFLINE`` is set, only the local Hugging Face
cache is looked at. The core imports no torch: huggingface_hub is imported only to look a hub id up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from seethink_core.errors import ConfigError, did_you_mean
from seethink_core.hooks.registry import Registry

HUB_TIMEOUT_S = 5.0  # one HEAD request; a reachable hub answers in well under a second
DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class ModelSource:
    """``path`` is what to load: the registered name, the folder, the hub id, or the cached snapshot."""

    name: str
    kind: Literal["registered", "folder", "hub", "cached"]
    path: str
    note: str | None = None  # e.g. why the cached copy is used, or why the hub was not asked


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def hub_endpoint() -> str:
    # Read at call time: huggingface_hub reads HF_ENDPOINT once, when it is first imported.
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def looks_like_path(name: str) -> bool:
    """True for a name meant as a local folder, whether or not it exists (see the module doc)."""
    if name in (".", "..") or name.startswith(("./", "../", "/", "~", ".\\", "..\\")) or os.path.isabs(name):
        return True
    if "\\" in name or (os.sep != "/" and os.sep in name) or name.count("/") > 1:
        return True  # hub ids are NAME or ORG/NAME
    head = name.split("/", 1)[0]
    return "/" in name and Path(head).is_dir()  # "ckpt/x" with a ckpt folder here: a partial path


def locate_model(name: str, registry: Registry | None) -> ModelSource:
    """Where ``name`` is, or a ``ConfigError`` saying why it cannot be had (no model is loaded)."""
    if registry is not None and registry.find("model", name) is not None:
        return ModelSource(name, "registered", name)
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ConfigError(f"model folder {name} has no config.json: it is not a Hugging Face model folder",
                              hint="point model at the folder that save_pretrained wrote (a phase's "
                                   "checkpoint/ folder is one)")
        return ModelSource(name, "folder", str(folder))
    if looks_like_path(name):
        relative = "" if folder.is_absolute() else \
            f"a relative model path is read from the working directory ({os.getcwd()}); "
        raise ConfigError(f"model folder {name} does not exist", hint=relative + _alternatives(registry))
    return _locate_on_hub(name, registry)


def _alternatives(registry: Registry | None, name: str | None = None) -> str:
    models = registry.names("model") if registry is not None else []
    close = did_you_mean(name, models) if name is not None else None
    if close:
        return close
    registered = f"a registered model ({', '.join(models)}), " if models else ""
    return f"give {registered}an existing Hugging Face model folder, or a hub id such as Qwen/Qwen2.5-VL-3B-Instruct"


def _typo(registry: Registry | None, name: str) -> str:
    """"; did you mean 'tiny-vlm'?" for a near miss of a registered model, else nothing."""
    close = did_you_mean(name, registry.names("model")) if registry is not None else None
    return f"; {close}" if close else ""


def _download_hint(name: str) -> str:
    return (f"download it where the network is allowed (`hf download {name}` fills the cache; or "
            f"`hf download {name} --local-dir DIR` and write model \"DIR\")")


def _locate_on_hub(name: str, registry: Registry | None) -> ModelSource:
    try:
        from huggingface_hub.utils import validate_repo_id  # with transformers; absent on a check-only machine
    except ImportError:
        return ModelSource(name, "hub", name, note="not looked up: huggingface_hub is not installed")
    try:
        validate_repo_id(name)
    except ValueError as e:  # HFValidationError
        raise ConfigError(f"model '{name}' is not a registered model, an existing folder or a valid hub id ({e})",
                          hint=_alternatives(registry, name)) from None
    cached = cached_snapshot(name)
    if _truthy("HF_HUB_OFFLINE"):
        if cached is not None:
            return ModelSource(name, "cached", cached, note="HF_HUB_OFFLINE is set: the local cache's copy")
        raise ConfigError(f"model '{name}' is not in the local Hugging Face cache, and HF_HUB_OFFLINE is set "
                          f"(offline mode looks only there)",
                          hint=_download_hint(name) + ", or unset HF_HUB_OFFLINE; " + _alternatives(registry, name))
    answer = hub_lookup(name, hub_endpoint(), _timeout())
    if answer is None:
        return ModelSource(name, "hub", name)
    refused, why = answer
    if refused:  # the hub answered: no such model, gated, not a transformers model
        raise ConfigError(why, hint=_alternatives(registry, name))
    if cached is not None:
        # Loading the hub id would make transformers retry the unreachable hub for minutes first.
        return ModelSource(name, "cached", cached, note=f"the hub cannot be reached ({why}): the local cache's copy")
    raise ConfigError(f"model '{name}': the Hugging Face hub ({hub_endpoint()}) cannot be reached ({why}), "
                      f"and the model is not in the local cache",
                      hint=_download_hint(name) + "; HF_HUB_OFFLINE=1 looks only at the cache, without the network"
                      + _typo(registry, name))


def _timeout() -> float:
    try:
        return float(os.environ.get("HF_HUB_ETAG_TIMEOUT", HUB_TIMEOUT_S))
    except ValueError:
        return HUB_TIMEOUT_S


def _hub_cache() -> str | None:
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None  # huggingface_hub's default


def cached_snapshot(name: str) -> str | None:
    """The folder of ``name``'s cached snapshot (its config.json is there), else None."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(name, "config.json", cache_dir=_hub_cache())
    except Exception:  # an id huggingface_hub refuses (bad characters): nothing cached under it
        return None
    return str(Path(found).parent) if isinstance(found, str) else None


@lru_cache(maxsize=32)
def hub_lookup(name: str, endpoint: str, timeout: float) -> tuple[bool, str] | None:
    """None when the hub has ``name``'s config.json, else ``(refused, why)``: refused when the hub answered
    no, else why it could not be reached. One request, no retries; cached, since a run asks for each phase."""
    from huggingface_hub import errors as hub_errors
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        get_hf_file_metadata(hf_hub_url(name, "config.json", endpoint=endpoint), timeout=timeout)
    except hub_errors.GatedRepoError:  # before RepositoryNotFoundError, its base class
        return True, (f"model '{name}' is gated on the Hugging Face hub: accept its terms on its page, then log "
                      f"in with `hf auth login` (or set HF_TOKEN)")
    except hub_errors.RepositoryNotFoundError:
        return True, (f"model '{name}' is not on the Hugging Face hub ({endpoint}): no such repository, or a "
                      f"private one (log in with `hf auth login`)")
    except hub_errors.EntryNotFoundError:
        return True, f"model '{name}' on the Hugging Face hub has no config.json: it is not a transformers model"
    except Exception as e:  # connection refused, DNS, timeout, TLS, a proxy's 5xx: the hub is unreachable
        return False, _reason(e)
    return None


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 160 else text[:157] + "..."
