"""Where seethink keeps what it can rebuild: ``$SEETHINK_CACHE``, else ``~/.cache/seethink``."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(*parts: str) -> Path:
    """``$SEETHINK_CACHE/<parts>``, else ``~/.cache/seethink/<parts>`` (``Path.home`` raises
    ``RuntimeError`` where there is no home folder)."""
    env = os.environ.get("SEETHINK_CACHE")
    return (Path(env) if env else Path.home() / ".cache" / "seethink").joinpath(*parts)
