"""The judge's answers on disk, so a second evaluation of the same answers asks the judge nothing.

One small JSON file per answer under ``<seethink cache>/judge/<key[:2]>/<key>.json``; the key is the
sha256 of the judge model, the prompt (its tag and the digest of its text, so editing a prompt file
without a new version still misses), the decoding settings and the inputs. The file holds the raw
reply, not the parsed label: a better parser reads old replies anew.

Concurrent writers are safe: each writes a temporary file in the same folder and renames it into
place (``os.replace`` is atomic on one file system), so a reader sees a whole answer or none; two
writers of one key write the same answer, and the last rename wins. An unreadable file is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seethink_core.user_cache import user_cache_dir

FORMAT = 1


def cache_key(model: str, prompt_tag: str, prompt_digest: str, settings: Mapping[str, Any],
              inputs: Mapping[str, Any]) -> str:
    blob = json.dumps({"format": FORMAT, "model": model, "prompt": prompt_tag, "digest": prompt_digest,
                       "settings": dict(settings), "inputs": dict(inputs)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgeCache:
    """``get(key) -> reply | None`` and ``put(key, reply, meta)``; ``root`` defaults to the user cache."""

    def __init__(self, root: Path | None = None):
        self.root = root if root is not None else user_cache_dir("judge")
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        reply = data.get("reply") if isinstance(data, dict) else None
        if not isinstance(reply, str):
            self.misses += 1
            return None
        self.hits += 1
        return reply

    def put(self, key: str, reply: str, meta: Mapping[str, Any] | None = None) -> None:
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}.", suffix=".tmp", dir=target.parent)
        except OSError:
            return  # a cache that cannot be written costs a repeat question, not the evaluation
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "reply": reply, **dict(meta or {})}, f, ensure_ascii=False)
            os.replace(tmp, target)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass


class NoCache:
    """The cache turned off: every question goes to the judge."""

    hits = 0
    misses = 0

    def get(self, key: str) -> str | None:
        return None

    def put(self, key: str, reply: str, meta: Mapping[str, Any] | None = None) -> None:
        pass
