"""The ``hf`` data source: a Hugging Face hub data set through ``datasets``, with a field mapping.

Offline (``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` set, or the hub unreachable) a data set already in
the Hugging Face cache loads from it (``datasets`` in offline mode); one that is not is one clear
``DataError`` that says how to go on. The hub is probed with a short timeout first so nothing hangs.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from seethink_core.errors import DataError
from seethink_data.options import HubOptions
from seethink_data.readers import Item
from seethink_data.records import RecordMapper, RecordSource

PROBE_TIMEOUT_S = 3.0


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def offline_reason() -> str | None:
    """Why the hub cannot be reached, or ``None`` when it can."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if _truthy(var):
            return f"{var} is set"
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = url.hostname or "huggingface.co"
    try:  # the endpoint's own port (a mirror may serve plain http on another one)
        port = url.port or (80 if url.scheme == "http" else 443)
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except (OSError, ValueError) as e:  # ValueError: HF_ENDPOINT names a port that is not a number
        return f"{host} is unreachable ({getattr(e, 'strerror', None) or e})"
    return None


def cache_dirs(dataset: str) -> list[Path]:
    """Where ``datasets`` and the hub client keep ``dataset`` once downloaded: the prepared data set
    (``HF_DATASETS_CACHE``, else ``HF_HOME/datasets``) and the hub's snapshot (``HF_HUB_CACHE``, else
    ``HF_HOME/hub``)."""
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    prepared = Path(os.environ.get("HF_DATASETS_CACHE") or home / "datasets")
    hub = Path(os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or home / "hub")
    return [prepared / dataset.replace("/", "___"), hub / f"datasets--{dataset.replace('/', '--')}"]


def is_cached(dataset: str) -> bool:
    """Whether a hub data set was downloaded before (so it loads offline)."""
    return "/" in dataset and any(d.is_dir() for d in cache_dirs(dataset))


class HubReader:
    """Records of one split of a hub data set."""

    base_dir: Path | None = None

    def __init__(self, source: str, dataset: str, split: str, config: str | None = None,
                 revision: str | None = None):
        self.where = f"{dataset} (split '{split}')"  # a record's location in messages: "... row N"
        reason = offline_reason()
        cached = reason is not None and is_cached(dataset)
        if reason is not None and not cached and not Path(dataset).exists():
            raise DataError(
                f"{source}: the Hugging Face data set '{dataset}' could not be reached: {reason}",
                hint=f"download it where the network is allowed (`hf download {dataset} --repo-type dataset "
                     f"--local-dir DIR`), then use `path: \"DIR\"` or point `parquet`/`jsonl` at the local copy")
        try:
            import datasets
        except ImportError:
            raise DataError(f"{source}: the `datasets` package is not installed",
                            hint="pip install 'seethink[data]'") from None
        if cached:  # read the cache without asking the hub (datasets would otherwise try and time out)
            datasets.config.HF_DATASETS_OFFLINE = True
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            self.ds = datasets.load_dataset(dataset, config, split=split, revision=revision)
        except Exception as e:  # datasets raises many types; the user needs one message
            raise DataError(f"{source}: loading '{dataset}' (split '{split}') failed: {type(e).__name__}: {e}",
                            hint="check the id and split, or use a local copy with `parquet`/`jsonl`") from None

    def __iter__(self) -> Iterator[Item]:
        # Arrow batches give image columns as their stored {"bytes", "path"} structs: checked, kept
        # encoded and decoded per served batch, instead of a PIL image per row held in memory.
        row = 0
        for batch in self.ds.with_format("arrow").iter(batch_size=256):
            for rec in batch.to_pylist():
                yield f"{self.where} row {row}", rec
                row += 1

    def fields(self) -> list[str]:
        return list(self.ds.column_names)

    def size(self) -> int:
        return len(self.ds)


def open_hf(options: HubOptions, *, seed: int, mapping: dict[str, str] | None = None) -> RecordSource:
    del seed
    reader = HubReader("hf", options.dataset, options.split, options.config, options.revision)
    mapper = RecordMapper("hf", dict(mapping or {}), None, options.decode_images)
    return RecordSource("hf", reader, mapper, on_error=options.on_error, limit=options.limit)
