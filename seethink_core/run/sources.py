"""Opening a phase's data sources and cataloguing their samples (the input side of ``run.stream``).

``open_source`` binds a ``DataRef``'s options to the source's schema and calls its factory; a
``Catalogue`` holds one opened source's samples and difficulties for the stream to order;
``decode_image`` turns encoded image bytes into a PIL image as a sample is served.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from seethink_core.errors import DataError, SeethinkError
from seethink_core.hooks.registry import DataSourceSpec, Registry
from seethink_core.types.options import validate
from seethink_core.types.plan import DataRef
from seethink_core.types.sample import Sample


def open_source(ref: DataRef, registry: Registry, *, seed: int) -> Any:
    """Bind ``ref.options`` to the source's schema and call its factory."""
    spec: DataSourceSpec = registry.get("data_source", ref.source)
    what = f"data source '{ref.source}'"
    options, problems = validate(spec.options, dict(ref.options), what=what)
    if problems:
        raise DataError(problems)
    if ref.mapping and not spec.mappable:
        raise DataError(f"{what} reads no named record fields, so it takes no field mapping "
                        f"({', '.join(sorted(ref.mapping))})")
    factory = spec.load()
    try:
        source = factory(options, seed=seed, mapping=dict(ref.mapping))
    except SeethinkError:
        raise
    except Exception as e:  # a plugin's bug must still name the source
        raise DataError(f"{what} failed to open: {type(e).__name__}: {e}") from None
    if hasattr(source, "label"):
        # A source's messages name it as the curriculum does (`source geo = jsonl(...)` is "geo"),
        # which its factory cannot know: the factory contract passes options, not the definition.
        source.label = ref.label
    return source


def skip_note(label: str, source: Any) -> str | None:
    """One warning line for a source that skipped bad records in its latest pass, else None."""
    skipped = int(getattr(source, "skipped", 0) or 0)
    if not skipped:
        return None
    reasons = dict(getattr(source, "skip_reasons", {}) or {})
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    problems = list(getattr(source, "problems", []) or [])
    first = f"; the first: {problems[0].removeprefix(label + ': ')}" if problems else ""
    return f"warning: data source {label}: skipped {skipped} bad record(s)" + (f" ({counts})" if counts else "") + first



class Catalogue:
    """One source's samples: by random access when the source offers it, else read once and kept.

    Random access (``size()``, ``get(i)``, ``difficulty_at(i)`` and, for difficulty overrides,
    ``id_at(i)``) lets the synthetic world serve thousands of samples without drawing them
    before they are needed.
    """

    def __init__(self, ref: DataRef, source: Any, overrides: Mapping[str, float] | None):
        self.ref = ref
        self.source = source
        self.overrides = overrides
        size = source.size() if hasattr(source, "size") else None
        # Overrides are keyed by sample id, so random access then also needs ``id_at(i)``.
        self.random_access = (size is not None and hasattr(source, "get") and hasattr(source, "difficulty_at")
                              and (not overrides or hasattr(source, "id_at")))
        if self.random_access:
            self.items: list[Sample] | None = None
            self.difficulties = [source.difficulty_at(i) for i in range(size)]
            if overrides:
                for i in range(size):
                    sample_id = source.id_at(i)
                    if sample_id in overrides:
                        self.difficulties[i] = float(overrides[sample_id])
        else:
            self.items = [self._stamp(s) for s in source]
            self.difficulties = [s.difficulty for s in self.items]

    def _stamp(self, sample: Sample) -> Sample:
        if sample.capability is None and self.ref.capability is not None:
            sample.capability = self.ref.capability
        if self.overrides and sample.id in self.overrides:
            sample.difficulty = float(self.overrides[sample.id])
        return sample

    def get(self, i: int) -> Sample:
        if self.items is not None:
            return self.items[i]
        return self._stamp(self.source.get(i))

    def skipped(self) -> dict[str, int]:
        """Bad records the source skipped while it was read, by reason (empty when none)."""
        reasons = dict(getattr(self.source, "skip_reasons", {}) or {})
        n = int(getattr(self.source, "skipped", 0) or 0)
        return reasons or ({"bad record": n} if n else {})



def decode_image(image: Any, sample: Sample, label: str) -> Any:
    """Encoded image bytes become a PIL image for the model; paths, URLs and PIL pass through."""
    if isinstance(image, dict):
        image = image.get("bytes") or image.get("path")
    if isinstance(image, (bytes, bytearray)):
        from PIL import Image

        try:
            im = Image.open(io.BytesIO(bytes(image)))
            im.load()
        except Exception as e:  # a source that did not check its bytes: name the sample, not a PIL frame
            # The read-time check (PIL's verify) reads structure and checksums, not the pixels: data that
            # checks out but does not decompress is found only here.
            raise DataError(f"data source {label}: sample {sample.id!r}: image bytes do not decode: "
                            f"{e or type(e).__name__}") from None
        return im
    return image

