"""The phase's sample stream as the trainer sees it, with the order recorded (data_order.jsonl, data.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from seethink_core.hooks.backend import SampleStream
from seethink_core.types.sample import Sample


class RecordingStream:
    """Wraps a phase's sample stream and records the order in which samples reach the trainer."""

    def __init__(self, inner: SampleStream, path: Path):
        self.inner = inner
        self.path = path
        self._hash = hashlib.sha256()
        self.count = 0
        # A phase resumed in place keeps the rows up to its checkpoint: count them into the order
        # hash, so data.json describes the whole phase and not only the part after the resume.
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            for i in json.loads(line)["ids"]:
                self._hash.update(i.encode() + b"\n")
                self.count += 1
        self._file = path.open("a", encoding="utf-8")

    def next_batch(self, n: int, step: int) -> list[Sample]:
        batch = self.inner.next_batch(n, step)
        ids = [s.id for s in batch]
        for i in ids:
            self._hash.update(i.encode() + b"\n")
        self.count += len(ids)
        # ``step`` is how many steps are done; a row names the first step its batch feeds, counted from 1
        # like metrics.jsonl, so a batch and the metrics row of the step that trained on it agree.
        self._file.write(json.dumps({"step": step + 1, "ids": ids}) + "\n")
        self._file.flush()
        return batch

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)

    def total_samples(self) -> int | None:
        return self.inner.total_samples()

    @property
    def order_hash(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:  # set_total_steps and other extras of the real stream
        return getattr(self.inner, name)
