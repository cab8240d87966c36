"""Entry point of the seethink first-party plugin 'data'. Imports nothing heavy.

Factories are "module:attr" strings, so pyarrow, datasets and PIL load only when a
source is opened.
"""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import DataSourceSpec
from seethink_data.options import AdapterOptions, FileOptions, HubOptions

# What a mapped source can fill; the real set depends on the file and the mapping.
_MAPPED = frozenset({"id", "prompt", "images", "answer", "capability", "difficulty", "facts", "source", "meta"})
_REF = frozenset({"id", "prompt", "answer", "images", "difficulty", "capability", "source"})
_BENCH = frozenset({"id", "prompt", "answer", "images", "capability", "source", "meta"})

# name, factory, columns, doc
_ADAPTERS = (
    ("capcurriculum_perception", "seethink_data.reference:open_capcurriculum_perception", _REF | {"meta"},
     "UCSC-VLAA/VLM-CapCurriculum-Perception-Data: 4-option perception MCQs (DOCCI), difficulty 1 - pass_rate"),
    ("capcurriculum_text", "seethink_data.reference:open_capcurriculum_text", _REF,
     "UCSC-VLAA/VLM-CapCurriculum-TextReasoning-Data: text-only math (ORZ), difficulty 1 - pass_rate"),
    ("capcurriculum_visual", "seethink_data.reference:open_capcurriculum_visual", _REF,
     "UCSC-VLAA/VLM-CapCurriculum-VisualReasoning-Data: visual math, difficulty 1 - pass_rate"),
    ("geometry3k", "seethink_data.benchmarks:open_geometry3k", _BENCH - {"meta"},
     "hiyouga/geometry3k (test split by default): geometry problems with a diagram"),
    ("mmstar", "seethink_data.benchmarks:open_mmstar", _BENCH,
     "Lin-Chen/MMStar (val): vision-indispensable multiple choice, answer a letter"),
    ("pope", "seethink_data.benchmarks:open_pope", _BENCH,
     "lmms-lab/POPE (test): object hallucination, yes/no answers"),
    ("mathvista", "seethink_data.benchmarks_math:open_mathvista", _BENCH,
     "AI4Math/MathVista (testmini): visual math, multiple choice and free answers with an answer type"),
    ("mathvision", "seethink_data.benchmarks_math:open_mathvision", _BENCH,
     "MathLLMs/MathVision (testmini): competition math with a figure, options or a free answer"),
    ("mathverse", "seethink_data.benchmarks_math:open_mathverse", _BENCH,
     "AI4Math/MathVerse (testmini, the Vision Intensive version): diagram math"),
    ("wemath", "seethink_data.benchmarks_math:open_wemath", _BENCH,
     "We-Math/We-Math (testmini): multi-step visual math, sub-problems and composites (multiple choice)"),
    ("aokvqa", "seethink_data.benchmarks_perception:open_aokvqa", _BENCH,
     "HuggingFaceM4/A-OKVQA (validation): multiple choice over four options, answer a letter"),
    ("realworldqa", "seethink_data.benchmarks_perception:open_realworldqa", _BENCH,
     "xai-org/RealworldQA (test): real-world spatial questions, a letter or a short answer"),
)


@hookimpl
def register_data_sources(register: Callable[..., None]) -> None:
    register(DataSourceSpec(
        name="jsonl", options=FileOptions, columns=_MAPPED, mappable=True,
        factory="seethink_data.jsonl:open_jsonl",
        doc="JSON Lines or JSON files; map Sample fields onto record fields (prompt: \"problem\")"))
    register(DataSourceSpec(
        name="parquet", options=FileOptions, columns=_MAPPED, mappable=True,
        factory="seethink_data.parquet:open_parquet",
        doc="Parquet files (a file or a folder in the hub layout); map Sample fields onto columns"))
    register(DataSourceSpec(
        name="hf", options=HubOptions, columns=_MAPPED, mappable=True, needs_network=True,
        factory="seethink_data.hf:open_hf",
        doc="A Hugging Face hub data set through `datasets`; map Sample fields onto its columns"))
    for name, factory, columns, doc in _ADAPTERS:
        register(DataSourceSpec(name=name, options=AdapterOptions, columns=columns, mappable=True,
                                needs_network=True, factory=factory,
                                doc=doc + "; `path:` reads a local copy in the hub layout"))
