"""A sample as the label a cluster backend carries beside its prompt, and back.

OpenRLHF and verl send a prompt's label (a JSON string) to the reward process untouched; seethink puts
there what its rewards read of the sample, so the reward process grades the sample the runner served
with no access to the data sources.
"""

from __future__ import annotations

import json
from typing import Any

from seethink_core.types.sample import Sample

LABEL_FIELDS = ("id", "prompt", "answer", "capability", "difficulty", "facts", "source")


def encode_label(sample: Sample, image_paths: list[str]) -> str:
    """The label of ``sample``, its images as the exported files' paths."""
    data: dict[str, Any] = {k: getattr(sample, k) for k in LABEL_FIELDS}
    data["images"] = image_paths
    # Round-trip through JSON so a label never fails to encode (odd meta values become strings).
    data["meta"] = json.loads(json.dumps(sample.meta if isinstance(sample.meta, dict) else {}, default=str))
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def decode_label(label: Any) -> Sample:
    """The ``Sample`` a label was made from; raises ``ValueError`` on a malformed label."""
    data = json.loads(label) if isinstance(label, (str, bytes)) else label
    if not isinstance(data, dict):
        raise ValueError(f"a label must be a JSON object, got {type(data).__name__}")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError("label field 'meta' must be an object")
    difficulty = data.get("difficulty")
    return Sample(id=str(data.get("id", "")), prompt=str(data.get("prompt") or ""),
                  images=list(data.get("images") or []),
                  answer=None if data.get("answer") is None else str(data["answer"]),
                  capability=data.get("capability"), difficulty=None if difficulty is None else float(difficulty),
                  facts=data.get("facts"), source=str(data.get("source") or ""), meta=meta)
