"""The reference recipe's training data: the three ``UCSC-VLAA/VLM-CapCurriculum-*`` sets.

Layout (docs/reference.md §2, "Data"): one row per
item with ``index`` (int), ``problem`` (text, with ``<image>`` placeholders),
``answer`` (a letter for the perception MCQs, a math answer otherwise),
``images`` (a list: paths relative to the data file, or image structs
``{"bytes", "path"}`` as the hub's parquet stores them; ``[]`` for text) and
``pass_rate`` (the base model's mean correctness over 16 samples), plus
``predictions``/``correctness`` columns that are ignored. On the hub: parquet
files under ``data/``, split ``train``.

Difficulty = 1 - pass_rate; capability is set per data set; ``<image>`` is
stripped from the prompt; perception options go to ``meta["choices"]``.
"""

from __future__ import annotations

from seethink_data.adapters import Adapter, adapter_factory, multiple_choice, strip_markers

_MAPPING = {"id": "index", "prompt": "problem", "answer": "answer", "images": "images", "pass_rate": "pass_rate"}
_COLUMNS = frozenset({"id", "prompt", "answer", "images", "difficulty", "capability", "source"})

PERCEPTION = Adapter("capcurriculum_perception", "UCSC-VLAA/VLM-CapCurriculum-Perception-Data", "train",
                     "perception", _MAPPING, multiple_choice, _COLUMNS | {"meta"})
TEXT = Adapter("capcurriculum_text", "UCSC-VLAA/VLM-CapCurriculum-TextReasoning-Data", "train",
               "textual_reasoning", _MAPPING, strip_markers, _COLUMNS)
VISUAL = Adapter("capcurriculum_visual", "UCSC-VLAA/VLM-CapCurriculum-VisualReasoning-Data", "train",
                 "visual_reasoning", _MAPPING, strip_markers, _COLUMNS)

open_capcurriculum_perception = adapter_factory(PERCEPTION)
open_capcurriculum_text = adapter_factory(TEXT)
open_capcurriculum_visual = adapter_factory(VISUAL)
