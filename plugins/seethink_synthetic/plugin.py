"""Entry point of the seethink first-party plugin 'synthetic'. Imports nothing heavy (no PIL)."""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import DataSourceSpec
from seethink_synthetic.options import SyntheticOptions


@hookimpl
def register_data_sources(register: Callable[..., None]) -> None:
    register(DataSourceSpec(
        name="synthetic",
        options=SyntheticOptions,
        columns=frozenset({"id", "prompt", "images", "answer", "capability", "difficulty", "facts",
                           "source", "meta"}),
        factory="seethink_synthetic.source:open_synthetic",
        vocabulary="seethink_synthetic.corpus:vocabulary",
        doc="A procedurally drawn 2D shape world (shapes, colours, numbers, bar charts) with gold facts: "
            "perception, visual reasoning and textual reasoning items at difficulty levels 0-3.",
    ))
