"""The pass-rate cache and its keys: a re-run of an unchanged estimation costs nothing, and a
change to the model, an item, the rewards or the estimator settings never reuses a stale value.

- **model**: a checkpoint folder's small files by content and its weight files by name, size,
  modification time and a few sampled blocks (the header included) — cheap, and any rewrite
  changes it; a registered model by its name and build options; a hub id by name and, when it is
  in the local Hugging Face cache, its snapshot's commit;
- **item**: sample id, plus a hash of the prompt as the model sees it, the answer and the images;
- **settings**: the reward spec (names, weights, types, options), the grading component and
  threshold, k, temperature, top_p, max tokens and the prompt template.

One sqlite3 file holds ``(model, settings, item) -> (correct, k)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seethink_core.errors import SeethinkError
from seethink_core.hooks.backend import Checkpoint
from seethink_core.hooks.registry import Registry
from seethink_core.samples.prompting import render_prompt, render_system
from seethink_core.types.plan import RewardRef, canonical_json, to_data
from seethink_core.types.sample import Sample
from seethink_core.user_cache import user_cache_dir

CACHE_FORMAT = 1  # bump when the meaning of a cached value changes
CACHE_FILE = "pass_rates.sqlite"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt", ".npz")
_BLOCK = 64 * 1024  # bytes read per sampled block of a weight file
_SMALL = 4 * 1024 * 1024  # files below this (configs, tokenizers) are hashed whole


class DifficultyError(SeethinkError):
    """Pass rates could not be estimated (no generator, no rewards, an unreadable cache ...)."""


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _sampled_blocks(path: Path, size: int) -> str:
    """sha256 of the head (a safetensors header), three inner blocks and the tail of a large file."""
    h = hashlib.sha256()
    offsets = sorted({0, size // 4, size // 2, (3 * size) // 4, max(0, size - _BLOCK)})
    with path.open("rb") as f:
        for off in offsets:
            f.seek(off)
            h.update(f.read(_BLOCK))
    return h.hexdigest()


def folder_fingerprint(folder: Path) -> str:
    """A model folder's identity: small files by content, weight files by size, mtime and samples."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        st = p.stat()
        rel = p.relative_to(folder).as_posix()
        if p.suffix in WEIGHT_SUFFIXES or st.st_size >= _SMALL:
            h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{_sampled_blocks(p, st.st_size)}\n".encode())
        else:
            h.update(f"{rel}\0{_sha(p.read_bytes())}\n".encode())
    return h.hexdigest()


def model_key(model: Checkpoint, registry: Registry | None = None) -> str:
    """The cache key of a model (see the module docstring)."""
    path = Path(model.path)
    if path.is_dir():
        return "folder:" + folder_fingerprint(path)
    if registry is None:
        from seethink_core.hooks.manager import get_plugins

        registry = get_plugins().registry
    spec = registry.find("model", model.path) or registry.find("model", model.path.replace("-", "_"))
    if spec is not None:
        build = to_data(spec.options()) if dataclasses.is_dataclass(spec.options) else {}
        return "registered:" + _sha(canonical_json({"name": spec.name, "options": build}))
    return "name:" + model.path + _hub_revision(model.path)


def _hub_revision(repo_id: str) -> str:
    """``@<commit>`` of a hub model in the local Hugging Face cache, so an updated download misses."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # not installed, or not a valid repo id: the name alone is the key
        return ""
    return f"@{Path(found).parent.name}" if isinstance(found, str) else ""


def _image_key(image: Any) -> str:
    if isinstance(image, (str, os.PathLike)):
        return f"path:{os.fspath(image)}"
    if isinstance(image, (bytes, bytearray)):
        return "bytes:" + _sha(bytes(image))
    if isinstance(image, dict):
        return "bytes:" + _sha(image["bytes"]) if image.get("bytes") else f"path:{image.get('path')}"
    tobytes = getattr(image, "tobytes", None)
    if callable(tobytes):  # a PIL image
        return f"pixels:{getattr(image, 'mode', '')}:{getattr(image, 'size', '')}:{_sha(tobytes())}"
    return f"object:{type(image).__name__}"


def item_key(sample: Sample, prompt_template: str | None, system_prompt: str | None = None,
             image_bounds: Any = None) -> str:
    """Sample id plus a hash of what the model sees and what it is graded against (``image_bounds``: an
    active ``ImageBounds``, or None)."""
    seen: dict[str, Any] = {"prompt": render_prompt(prompt_template, sample), "answer": sample.answer,
                            "images": [_image_key(im) for im in sample.images]}
    system = render_system(system_prompt, sample)
    if system is not None:  # only then: the keys of items asked without one stay what they were
        seen["system"] = system
    if image_bounds is not None:  # likewise
        seen["pixels"] = [image_bounds.min_pixels, image_bounds.max_pixels]
    content = canonical_json(seen)
    return f"{sample.id}\0{_sha(content)}"


def reward_fingerprint(reward: Any) -> list[dict[str, Any]]:
    """Names, weights, types and options of a CombinedReward's components."""
    out = []
    for c in getattr(reward, "components", []):
        fn = c.fn
        options = getattr(fn, "options", None)
        if dataclasses.is_dataclass(options) and not isinstance(options, type):
            opts: Any = to_data(options)
        elif dataclasses.is_dataclass(fn) and not isinstance(fn, type):
            opts = {f.name: repr(getattr(fn, f.name)) for f in dataclasses.fields(fn)}
        else:
            opts = None
        out.append({"name": c.name, "weight": c.weight, "type": f"{type(fn).__module__}.{type(fn).__qualname__}",
                    "options": opts})
    return out


def settings_key(reward: Any, *, reward_spec: Sequence[RewardRef] | None, graded_by: str, threshold: float,
                 samples_k: int, temperature: float, top_p: float, max_new_tokens: int,
                 prompt_template: str | None) -> str:
    data = {
        "format": CACHE_FORMAT,
        "reward": reward_fingerprint(reward),
        "reward_spec": [to_data(r) for r in reward_spec] if reward_spec is not None else None,
        "graded_by": graded_by, "threshold": threshold, "k": samples_k, "temperature": temperature,
        "top_p": top_p, "max_new_tokens": max_new_tokens, "template": prompt_template,
    }
    return _sha(json.dumps(data, sort_keys=True, default=str))


# ------------------------------------------------------------------------------------------------
# The cache


@dataclass(frozen=True)
class CachedRate:
    correct: int
    k: int

    @property
    def pass_rate(self) -> float:
        return self.correct / self.k


class PassRateCache:
    """Pass rates on disk (sqlite3): ``(model, settings, item) -> (correct, k)``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            # WAL + synchronous=NORMAL: a commit costs no fsync, and a crashed process still loses
            # nothing committed (a power cut may lose the last batches: estimates, redone next time).
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS pass_rates (model TEXT NOT NULL, settings TEXT NOT NULL, "
                             "item TEXT NOT NULL, correct INTEGER NOT NULL, k INTEGER NOT NULL, "
                             "created REAL NOT NULL, PRIMARY KEY (model, settings, item))")
            self._db.commit()
        except (sqlite3.Error, OSError) as e:
            raise DifficultyError(f"the pass-rate cache {self.path} cannot be used: {e}",
                                  hint="delete it (it only holds estimates) or choose another --cache-dir") from None

    @classmethod
    def in_dir(cls, cache_dir: str | os.PathLike[str]) -> PassRateCache:
        return cls(Path(cache_dir) / CACHE_FILE)

    def get_many(self, model: str, settings: str, items: Sequence[str]) -> dict[str, CachedRate]:
        out: dict[str, CachedRate] = {}
        for start in range(0, len(items), 500):  # sqlite's limit on bound parameters
            chunk = list(items[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._query(f"SELECT item, correct, k FROM pass_rates WHERE model = ? AND settings = ? "
                               f"AND item IN ({marks})", (model, settings, *chunk))
            out.update({item: CachedRate(int(correct), int(k)) for item, correct, k in rows})
        return out

    def put_many(self, model: str, settings: str, rows: Iterable[tuple[str, int, int]]) -> None:
        now = time.time()
        try:
            self._db.executemany("INSERT OR REPLACE INTO pass_rates VALUES (?, ?, ?, ?, ?, ?)",
                                 [(model, settings, item, correct, k, now) for item, correct, k in rows])
            self._db.commit()
        except sqlite3.Error as e:
            raise DifficultyError(f"cannot write the pass-rate cache {self.path}: {e}") from None

    def __len__(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM pass_rates", ())[0][0])

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise DifficultyError(f"the pass-rate cache {self.path} is unreadable: {e}",
                                  hint="delete it (it only holds estimates)") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PassRateCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def default_cache_dir() -> Path:
    """``$SEETHINK_CACHE/difficulty``, else ``~/.cache/seethink/difficulty``."""
    return user_cache_dir("difficulty")
